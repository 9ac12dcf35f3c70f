// virStream for consoles (virDomainOpenConsole), plus virDomainOpenGraphicsFD and virDomainScreenshot.
// https://libvirt.org/html/libvirt-libvirt-stream.html
//
// A console stream is non-blocking (VIR_STREAM_NONBLOCK) and driven by libvirt's event loop
// thread (events.cc): its callback reads whatever is ready and hands each chunk to JS through a
// ThreadSafeFunction. Reading stops (READABLE leaves the event mask) while JS asked for a pause
// or while the chunks handed over but not yet delivered reach `cap` bytes; it starts again once
// JS has taken them. Writes, pauses and closes are libvirt calls, so they run on the libuv pool;
// a write that meets EAGAIN returns how much went through and asks for WRITABLE, which comes
// back to JS as a "writable" event. Nothing here blocks Node's thread.
#include <mutex>
#include <string>

#include "handles.h"

namespace virtql {

namespace {

const napi_type_tag kStreamTag = {0x7669727471000009ULL, 0x73747265616d3031ULL};

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxScreenshot = 64 * 1024 * 1024;

struct Stream {
  ConnRef conn;
  virStreamPtr st = nullptr;
  napi_threadsafe_function tsfn = nullptr;

  std::mutex mu;        // the fields below
  bool tsfnOpen = true;  // false once released or torn down
  bool tearingDown = false;
  bool registered = false;
  bool ended = false;  // EOF or error seen, or closed: no more reads
  bool closed = false;
  bool paused = false;
  bool autoPaused = false;
  bool wantWritable = false;
  bool eof = false;
  size_t inflight = 0;
  size_t cap = 256 * 1024;

  std::mutex eventsMu;  // serializes computing and applying the event mask

  ~Stream() {
    virStreamPtr p = st;
    if (p != nullptr) Reap([p] { virStreamFree(p); });
  }
};
using StreamRef = std::shared_ptr<Stream>;

enum class MsgType { kData, kEnd, kError, kWritable };

struct Msg {
  MsgType type;
  std::string data;
  VirError err;
};

void Push(Stream* s, Msg* m) {
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->tsfnOpen && napi_call_threadsafe_function(s->tsfn, m, napi_tsfn_nonblocking) == napi_ok) return;
  delete m;
}

// Applies the event mask the state asks for. Runs on the event thread or the pool, never on JS's.
void UpdateEvents(Stream* s) {
  std::lock_guard<std::mutex> events(s->eventsMu);
  int mask = VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->registered) return;
    if (!s->paused && !s->autoPaused && !s->ended) mask |= VIR_STREAM_EVENT_READABLE;
    if (s->wantWritable) mask |= VIR_STREAM_EVENT_WRITABLE;
  }
  virStreamEventUpdateCallback(s->st, mask);
}

// Drops the event callback (its free callback then releases the holder); the caller owns eventsMu.
void Unregister(Stream* s) {
  bool was;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    was = s->registered;
    s->registered = false;
  }
  if (was) virStreamEventRemoveCallback(s->st);
}

// Called by libvirt on its event loop thread.
void OnEvent(virStreamPtr st, int events, void* opaque) {
  Stream* s = static_cast<StreamRef*>(opaque)->get();
  if (events & VIR_STREAM_EVENT_WRITABLE) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->wantWritable = false;
    }
    UpdateEvents(s);
    Push(s, new Msg{MsgType::kWritable, {}, {}});
  }
  if (!(events & (VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_HANGUP | VIR_STREAM_EVENT_ERROR))) return;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->ended || s->paused) break;
      if (s->inflight >= s->cap) {
        s->autoPaused = true;
        break;
      }
    }
    std::string buf(kChunk, '\0');
    int n = virStreamRecv(st, buf.data(), buf.size());
    if (n == -2) break;  // nothing more for now
    if (n > 0) {
      buf.resize(static_cast<size_t>(n));
      {
        std::lock_guard<std::mutex> lock(s->mu);
        s->inflight += static_cast<size_t>(n);
      }
      Push(s, new Msg{MsgType::kData, std::move(buf), {}});
      continue;
    }
    Msg* m = n == 0 ? new Msg{MsgType::kEnd, {}, {}} : new Msg{MsgType::kError, {}, VirError::Capture()};
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->ended = true;
      s->eof = n == 0;
    }
    Push(s, m);  // before Unregister: libvirt may free the callback (and release the TSFN) at once
    {
      std::lock_guard<std::mutex> ev(s->eventsMu);
      Unregister(s);
    }
    return;
  }
  UpdateEvents(s);
}

void FreeHolder(void* opaque) {
  auto* holder = static_cast<StreamRef*>(opaque);
  {
    Stream* s = holder->get();
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->tsfnOpen) napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
    s->tsfnOpen = false;  // the queue still delivers what it holds; nothing new may enter
  }
  delete holder;
}

void CallJs(napi_env raw, napi_value callback, void* context, void* data) {
  auto* m = static_cast<Msg*>(data);
  Stream* s = static_cast<StreamRef*>(context)->get();
  if (raw == nullptr) {
    delete m;
    return;
  }
  Napi::Env env(raw);
  Napi::HandleScope scope(env);
  bool resume = false;
  if (m->type == MsgType::kData) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->inflight -= m->data.size();
    if (s->autoPaused && s->inflight <= s->cap / 2) {
      s->autoPaused = false;
      resume = !s->paused && s->registered;
    }
  }
  Napi::Object event = Napi::Object::New(env);
  switch (m->type) {
    case MsgType::kData:
      event.Set("type", "data");
      event.Set("data", Napi::Buffer<char>::Copy(env, m->data.data(), m->data.size()));
      break;
    case MsgType::kEnd:
      event.Set("type", "end");
      break;
    case MsgType::kError:
      event.Set("type", "error");
      event.Set("error", ToJs(env, m->err));
      break;
    case MsgType::kWritable:
      event.Set("type", "writable");
      break;
  }
  delete m;
  if (resume) {
    StreamRef keep = *static_cast<StreamRef*>(context);
    Run(env, [keep]() -> Build {
      UpdateEvents(keep.get());
      return Void(0);
    });
  }
  napi_value argv[] = {event};
  napi_call_function(raw, env.Undefined(), callback, 1, argv, nullptr);
}

// At environment teardown the TSFN goes away under libvirt's feet: mark it unusable first.
void TeardownHook(void* arg) {
  Stream* s = static_cast<StreamRef*>(arg)->get();
  std::lock_guard<std::mutex> lock(s->mu);
  s->tsfnOpen = false;
  s->tearingDown = true;
}

// The TSFN's context holds a reference on the stream; its finalizer drops it.
void FinalizeTsfn(napi_env env, void* data, void*) {
  auto* ref = static_cast<StreamRef*>(data);
  Stream* s = ref->get();
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->tsfnOpen = false;
    if (s->tearingDown) return;  // leaked on purpose: libvirt may still call the event callback
  }
  napi_remove_env_cleanup_hook(env, TeardownHook, ref);
  delete ref;
}

Napi::Value WrapStream(Napi::Env env, StreamRef s) {
  auto ext = Napi::External<StreamRef>::New(env, new StreamRef(std::move(s)), [](Napi::Env, StreamRef* r) { delete r; });
  napi_type_tag_object(env, ext, &kStreamTag);
  return ext;
}

StreamRef UnwrapStream(const Napi::Value& v) {
  bool ok = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &kStreamTag, &ok);
  if (!ok) throw Napi::TypeError::New(v.Env(), "expected a stream handle");
  return *v.As<Napi::External<StreamRef>>().Data();
}

// domainOpenConsole(domain, device | null, flags, onEvent, cap) → stream handle.
Napi::Value OpenConsole(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle<virDomainPtr>* h = Unwrap<virDomainPtr>(info[0]);
  std::string dev = OptStrArg(info, 1, "device");
  unsigned int flags = FlagsArg(info, 2);
  if (!info[3].IsFunction()) throw Napi::TypeError::New(env, "onEvent must be a function");
  double cap = info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : 256 * 1024;
  if (h->conn->closed) return Rejected(env, ClosedError());
  auto s = std::make_shared<Stream>();
  s->conn = h->conn;
  s->cap = cap < kChunk ? kChunk : static_cast<size_t>(cap);
  napi_value name = Napi::String::New(env, "virtql:stream");
  auto* context = new StreamRef(s);
  napi_status st = napi_create_threadsafe_function(env, info[3], nullptr, name, 0, 1, context, FinalizeTsfn, context,
                                                   CallJs, &s->tsfn);
  if (st != napi_ok) {
    delete context;
    throw Napi::Error::New(env, "could not create the stream dispatcher");
  }
  napi_add_env_cleanup_hook(env, TeardownHook, context);
  virDomainPtr d = h->ptr;
  virDomainRef(d);
  virConnectPtr c = h->conn->ptr;
  Napi::Value handle = WrapStream(env, s);
  auto ref = std::make_shared<Napi::Reference<Napi::Value>>(Napi::Persistent(handle));
  return Run(
      env,
      [s, d, c, dev, flags, ref]() -> Build {
        s->st = virStreamNew(c, VIR_STREAM_NONBLOCK);
        if (s->st == nullptr) return nullptr;
        if (virDomainOpenConsole(d, dev.empty() ? nullptr : dev.c_str(), s->st, flags) < 0) return nullptr;
        auto* holder = new StreamRef(s);
        {
          std::lock_guard<std::mutex> lock(s->mu);
          s->registered = true;
        }
        int events = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
        if (virStreamEventAddCallback(s->st, events, OnEvent, holder, FreeHolder) < 0) {
          VirError err = VirError::Capture();
          {
            std::lock_guard<std::mutex> lock(s->mu);
            s->registered = false;
          }
          delete holder;
          virStreamAbort(s->st);
          return Fail(err);
        }
        return [ref](Napi::Env) { return ref->Value(); };
      },
      [s, d] {
        virDomainFree(d);
        // A failed open leaves the TSFN with its one thread count: release it, the handle then only waits for GC.
        std::lock_guard<std::mutex> lock(s->mu);
        if (!s->registered && s->tsfnOpen) {
          napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
          s->tsfnOpen = false;
        }
      });
}

// streamSend(stream, buffer) → bytes accepted (fewer than given on EAGAIN: wait for "writable").
Napi::Value Send(const Napi::CallbackInfo& info) {
  StreamRef s = UnwrapStream(info[0]);
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(info.Env(), "data must be a Buffer");
  auto buf = info[1].As<Napi::Buffer<char>>();
  std::string data(buf.Data(), buf.Length());
  return Run(info.Env(), [s, data]() -> Build {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->closed || s->ended) return Fail(VirError::Of(VIR_ERR_OPERATION_INVALID, "the stream is closed"));
    }
    size_t sent = 0;
    while (sent < data.size()) {
      int n = virStreamSend(s->st, data.data() + sent, data.size() - sent);
      if (n == -2) {
        {
          std::lock_guard<std::mutex> lock(s->mu);
          s->wantWritable = true;
        }
        UpdateEvents(s.get());
        break;
      }
      if (n < 0) return nullptr;
      sent += static_cast<size_t>(n);
    }
    return Num(static_cast<double>(sent));
  });
}

// streamSetPaused(stream, paused): stops or restarts reading from libvirt.
Napi::Value SetPaused(const Napi::CallbackInfo& info) {
  StreamRef s = UnwrapStream(info[0]);
  bool paused = BoolArg(info, 1, "paused");
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->paused = paused;  // the event callback checks it before each read, so a pause holds at once
  }
  return Run(info.Env(), [s]() -> Build {
    UpdateEvents(s.get());
    return Void(0);
  });
}

// streamInfo(stream) → { paused, autoPaused, inflight, cap }: what the tests check.
Napi::Value Info(const Napi::CallbackInfo& info) {
  StreamRef s = UnwrapStream(info[0]);
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(s->mu);
  Napi::Object o = Napi::Object::New(env);
  o.Set("paused", s->paused);
  o.Set("autoPaused", s->autoPaused);
  o.Set("inflight", static_cast<double>(s->inflight));
  o.Set("cap", static_cast<double>(s->cap));
  return o;
}

// streamClose(stream, abort): finishes the stream after EOF, aborts it otherwise. Idempotent.
Napi::Value Close(const Napi::CallbackInfo& info) {
  StreamRef s = UnwrapStream(info[0]);
  bool abort = BoolArg(info, 1, "abort");
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->closed) return Run(info.Env(), [] { return Void(0); });
    s->closed = true;
    // Nothing may keep the process alive once the stream is closed, even if libvirt never frees the callback.
    if (s->tsfnOpen) napi_unref_threadsafe_function(info.Env(), s->tsfn);
  }
  return Run(info.Env(), [s, abort]() -> Build {
    if (s->st == nullptr) return Void(0);
    bool eof;
    {
      std::lock_guard<std::mutex> ev(s->eventsMu);
      Unregister(s.get());
      std::lock_guard<std::mutex> lock(s->mu);
      eof = s->eof;
      s->ended = true;
    }
    // After EOF libvirt expects a finish; an abort tells the daemon we are gone. Errors on the way out do not matter.
    if (eof && !abort) virStreamFinish(s->st);
    else virStreamAbort(s->st);
    virResetLastError();
    return Void(0);
  });
}

// domainOpenGraphicsFD(domain, idx, flags) → a file descriptor connected to the display server.
Napi::Value OpenGraphicsFD(const Napi::CallbackInfo& info) {
  unsigned int idx = static_cast<unsigned int>(IntArg(info, 1, "idx"));
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<virDomainPtr>(info, [idx, flags](virDomainPtr d) { return Int(virDomainOpenGraphicsFD(d, idx, flags)); });
}

// domainScreenshot(domain, screen) → { mime, data }: a blocking stream read to its end on the pool.
Napi::Value Screenshot(const Napi::CallbackInfo& info) {
  unsigned int screen = static_cast<unsigned int>(IntArg(info, 1, "screen"));
  return OnHandle<virDomainPtr>(info, [screen](virDomainPtr d, ConnRef conn) -> Build {
    virStreamPtr st = virStreamNew(conn->ptr, 0);
    if (st == nullptr) return nullptr;
    char* mime = virDomainScreenshot(d, st, screen, 0);
    if (mime == nullptr) {
      VirError err = VirError::Capture();
      virStreamFree(st);
      return Fail(err);
    }
    std::string type(mime);
    free(mime);
    std::string data;
    std::string buf(kChunk, '\0');
    for (;;) {
      int n = virStreamRecv(st, buf.data(), buf.size());
      if (n < 0) {
        VirError err = VirError::Capture();
        virStreamAbort(st);
        virStreamFree(st);
        return Fail(err);
      }
      if (n == 0) break;
      data.append(buf.data(), static_cast<size_t>(n));
      if (data.size() > kMaxScreenshot) {
        virStreamAbort(st);
        virStreamFree(st);
        return Fail(VirError::Of(VIR_ERR_INTERNAL_ERROR, "the screenshot is larger than 64 MiB"));
      }
    }
    int rc = virStreamFinish(st);
    VirError err = rc < 0 ? VirError::Capture() : VirError();
    virStreamFree(st);
    if (rc < 0) return Fail(err);
    return [type, data = std::move(data)](Napi::Env env) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("mime", type);
      o.Set("data", Napi::Buffer<char>::Copy(env, data.data(), data.size()));
      return o;
    };
  });
}

}  // namespace

void InitStream(Napi::Env env, Exports e) {
  Export(env, e, "domainOpenConsole", OpenConsole);
  Export(env, e, "domainOpenGraphicsFD", OpenGraphicsFD);
  Export(env, e, "domainScreenshot", Screenshot);
  Export(env, e, "streamSend", Send);
  Export(env, e, "streamSetPaused", SetPaused);
  Export(env, e, "streamInfo", Info);
  Export(env, e, "streamClose", Close);
}

}  // namespace virtql
