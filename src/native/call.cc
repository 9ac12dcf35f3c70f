#include "call.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace virtql {

VirError VirError::Capture() {
  VirError e;
  virErrorPtr last = virGetLastError();
  if (last == nullptr) {
    e.message = "libvirt call failed without an error report";
    return e;
  }
  e.code = last->code;
  e.domain = last->domain;
  e.level = last->level;
  e.message = last->message ? last->message : "unknown libvirt error";
  return e;
}

VirError VirError::Of(int code, std::string message) {
  VirError e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

Napi::Value ToJs(Napi::Env env, const VirError& err) {
  Napi::Error js = Napi::Error::New(env, err.message);
  Napi::Object o = js.Value();
  o.Set("libvirtCode", Napi::Number::New(env, err.code));
  o.Set("libvirtDomain", Napi::Number::New(env, err.domain));
  o.Set("libvirtLevel", Napi::Number::New(env, err.level));
  return o;
}

namespace {

class Call : public Napi::AsyncWorker {
 public:
  Call(Napi::Env env, Work work, std::function<void()> release)
      : Napi::AsyncWorker(env, "virtql:libvirt"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        release_(std::move(release)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    build_ = work_();
    if (!build_) error_ = VirError::Capture();
    if (release_) release_();
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!build_) {
      deferred_.Reject(ToJs(env, error_));
      return;
    }
    try {
      deferred_.Resolve(build_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  std::function<void()> release_;
  Build build_;
  VirError error_;
};

}  // namespace

// A call run on a lane: gathered on a lane thread, settled on the main thread.
struct LaneJob {
  Napi::Promise::Deferred deferred;
  Work work;
  std::function<void()> release;
  Build build;
  VirError error;
};

namespace {

void Settle(Napi::Env env, Napi::Function, std::nullptr_t*, LaneJob* job);
using Done = Napi::TypedThreadSafeFunction<std::nullptr_t, LaneJob, Settle>;

// Per JS environment (thread): the function lane threads hand finished jobs to, referenced
// (keeping the process alive) only while jobs are under way.
struct Completion {
  Done done;
  long pending = 0;
};
thread_local Completion* completion = nullptr;

Completion& CompletionFor(Napi::Env env) {
  if (completion == nullptr) {
    auto* c = new Completion();
    c->done = Done::New(env, "virtql:lane", 0, 1, nullptr);
    c->done.Unref(env);
    completion = c;
    napi_add_env_cleanup_hook(
        env,
        [](void* arg) {
          auto* c = static_cast<Completion*>(arg);
          c->done.Abort();
          if (completion == c) completion = nullptr;
        },
        c);
  }
  return *completion;
}

void Settle(Napi::Env env, Napi::Function, std::nullptr_t*, LaneJob* job) {
  std::unique_ptr<LaneJob> owned(job);
  if (env == nullptr) return;  // the environment is going away
  Completion& c = CompletionFor(env);
  if (--c.pending == 0) c.done.Unref(env);
  if (!job->build) {
    job->deferred.Reject(ToJs(env, job->error));
    return;
  }
  try {
    job->deferred.Resolve(job->build(env));
  } catch (const Napi::Error& e) {
    job->deferred.Reject(e.Value());
  }
}

}  // namespace

class Lane : public std::enable_shared_from_this<Lane> {
 public:
  explicit Lane(int maxThreads) : max_(maxThreads) {}

  void Push(LaneJob* job, Done done) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({job, done});
    if (idle_ > 0) {
      cv_.notify_one();
    } else if (threads_ < max_) {
      threads_ += 1;
      // Detached: a thread still inside a hung libvirt call must not hold up process exit.
      std::thread([self = shared_from_this()] { self->Loop(); }).detach();
    }
  }

 private:
  struct Item {
    LaneJob* job;
    Done done;
  };

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (queue_.empty()) {
        idle_ += 1;
        // An idle thread ends after a while: a lane costs no thread while its host is quiet.
        bool woke = cv_.wait_for(lock, std::chrono::seconds(10), [this] { return !queue_.empty(); });
        idle_ -= 1;
        if (!woke) {
          threads_ -= 1;
          return;
        }
      }
      Item item = queue_.front();
      queue_.pop_front();
      lock.unlock();
      LaneJob* job = item.job;
      job->build = job->work();
      if (!job->build) job->error = VirError::Capture();
      if (job->release) job->release();
      job->work = nullptr;
      job->release = nullptr;
      item.done.NonBlockingCall(job);
      lock.lock();
    }
  }

  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  int threads_ = 0;
  int idle_ = 0;
};

std::shared_ptr<Lane> NewLane(int maxThreads) { return std::make_shared<Lane>(maxThreads); }

Napi::Value Run(Napi::Env env, Work work, std::function<void()> release, std::shared_ptr<Lane> lane) {
  if (lane) {
    Completion& c = CompletionFor(env);
    auto* job = new LaneJob{Napi::Promise::Deferred::New(env), std::move(work), std::move(release), nullptr, {}};
    Napi::Promise promise = job->deferred.Promise();
    if (c.pending++ == 0) c.done.Ref(env);
    lane->Push(job, c.done);
    return promise;
  }
  auto* call = new Call(env, std::move(work), std::move(release));
  Napi::Promise promise = call->Promise();
  call->Queue();
  return promise;
}

Napi::Value Rejected(Napi::Env env, const VirError& err) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(ToJs(env, err));
  return deferred.Promise();
}

Build Void(int rc) {
  if (rc < 0) return nullptr;
  return [](Napi::Env env) { return env.Undefined(); };
}

Build Tri(int rc) {
  if (rc < 0) return nullptr;
  return [rc](Napi::Env env) { return Napi::Boolean::New(env, rc != 0); };
}

Build Int(long long rc) {
  if (rc < 0) return nullptr;
  return [rc](Napi::Env env) { return Napi::Number::New(env, static_cast<double>(rc)); };
}

Build Num(double v) {
  return [v](Napi::Env env) { return Napi::Number::New(env, v); };
}

Build Owned(char* s) {
  if (s == nullptr) return nullptr;
  std::string copy(s);
  free(s);
  return Text(std::move(copy));
}

Build Text(std::string s) {
  return [s = std::move(s)](Napi::Env env) { return Napi::String::New(env, s); };
}

Build Fail(VirError err) {
  return [err](Napi::Env env) -> Napi::Value { throw Napi::Error(env, ToJs(env, err)); };
}

Build ErrorValue(VirError err) {
  return [err](Napi::Env env) { return ToJs(env, err); };
}

Napi::Value BigOf(Napi::Env env, unsigned long long v) {
  return Napi::BigInt::New(env, static_cast<uint64_t>(v));
}

Build Big(unsigned long long v) {
  return [v](Napi::Env env) { return BigOf(env, v); };
}

std::string NoNul(Napi::Env env, std::string s, const std::string& name) {
  // libvirt takes C strings: "victim\0../x" would reach it as "victim".
  if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(env, name + " must not contain a NUL byte");
  return s;
}

std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return NoNul(info.Env(), info[i].As<Napi::String>().Utf8Value(), name);
}

std::string OptStrArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return std::string();
  return StrArg(info, i, name);
}

unsigned int FlagsArg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined()) return 0;
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "flags must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

unsigned long long U64Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsBigInt()) {
    bool lossless = true;
    uint64_t v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(info.Env(), std::string(name) + " is out of range");
    return v;
  }
  if (info[i].IsNumber()) {
    double d = info[i].As<Napi::Number>().DoubleValue();
    if (d < 0 || d > 9007199254740991.0) throw Napi::RangeError::New(info.Env(), std::string(name) + " is out of range");
    return static_cast<unsigned long long>(d);
  }
  throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a bigint or number");
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

}  // namespace virtql

namespace virtql {

Build CopyParams(virTypedParameterPtr params, int n) {
  struct Param {
    std::string name;
    int type;
    virTypedParameter value;
    std::string text;
  };
  std::vector<Param> copy;
  copy.reserve(n);
  for (int i = 0; i < n; i++) {
    Param p{params[i].field, params[i].type, params[i], ""};
    if (p.type == VIR_TYPED_PARAM_STRING && params[i].value.s) p.text = params[i].value.s;
    p.value.value.s = nullptr;
    if (p.type != VIR_TYPED_PARAM_STRING) p.value.value = params[i].value;
    copy.push_back(std::move(p));
  }
  return [copy = std::move(copy)](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    for (const Param& p : copy) {
      const auto& v = p.value.value;
      switch (p.type) {
        case VIR_TYPED_PARAM_INT: o.Set(p.name, Napi::Number::New(env, v.i)); break;
        case VIR_TYPED_PARAM_UINT: o.Set(p.name, Napi::Number::New(env, v.ui)); break;
        case VIR_TYPED_PARAM_LLONG: o.Set(p.name, Napi::BigInt::New(env, static_cast<int64_t>(v.l))); break;
        case VIR_TYPED_PARAM_ULLONG: o.Set(p.name, Napi::BigInt::New(env, static_cast<uint64_t>(v.ul))); break;
        case VIR_TYPED_PARAM_DOUBLE: o.Set(p.name, Napi::Number::New(env, v.d)); break;
        case VIR_TYPED_PARAM_BOOLEAN: o.Set(p.name, Napi::Boolean::New(env, v.b != 0)); break;
        case VIR_TYPED_PARAM_STRING: o.Set(p.name, Napi::String::New(env, p.text)); break;
        default: break;
      }
    }
    return o;
  };
}

}  // namespace virtql
