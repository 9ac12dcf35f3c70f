#include "call.h"

#include <cstdlib>
#include <memory>
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

Napi::Value Run(Napi::Env env, Work work, std::function<void()> release) {
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
