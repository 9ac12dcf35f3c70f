// Domain, network and storage-pool lifecycle events plus the connection close callback.
//
// libvirt calls us on the event-loop thread; each event goes through a ThreadSafeFunction
// to JS. The sink's thread count is one for the registrar plus one per registration, each
// released by libvirt's free callback, so the function outlives every callback that can
// still fire. At environment teardown (process.exit) the sink is closed under its lock
// before Node frees the function, and then deliberately leaked: libvirt may still call it.
#include "events.h"

#include <mutex>
#include <thread>

namespace virtql {

struct EventSink {
  std::mutex mu;
  bool open = true;
  bool tearingDown = false;
  napi_threadsafe_function tsfn = nullptr;
  napi_ref connObject = nullptr;  // keeps the connection alive while events can arrive
  std::weak_ptr<ConnState> conn;
  int domainCb = -1;
  int networkCb = -1;
  int poolCb = -1;
  bool closeCb = false;
};

namespace {

enum class Kind { kDomain, kNetwork, kStoragePool, kClose };

struct EventMsg {
  Kind kind;
  int event;
  int detail;
  void* object;  // a referenced virDomainPtr / virNetworkPtr / virStoragePoolPtr
};

void FreeObject(const EventMsg* m) {
  if (m->object == nullptr) return;
  if (m->kind == Kind::kDomain) virDomainFree(static_cast<virDomainPtr>(m->object));
  if (m->kind == Kind::kNetwork) virNetworkFree(static_cast<virNetworkPtr>(m->object));
  if (m->kind == Kind::kStoragePool) virStoragePoolFree(static_cast<virStoragePoolPtr>(m->object));
}

void Push(EventSink* sink, EventMsg* m) {
  std::lock_guard<std::mutex> lock(sink->mu);
  if (sink->open && napi_call_threadsafe_function(sink->tsfn, m, napi_tsfn_nonblocking) == napi_ok) return;
  FreeObject(m);
  delete m;
}

int OnDomain(virConnectPtr, virDomainPtr d, int event, int detail, void* opaque) {
  virDomainRef(d);
  Push(static_cast<EventSink*>(opaque), new EventMsg{Kind::kDomain, event, detail, d});
  return 0;
}

void OnNetwork(virConnectPtr, virNetworkPtr n, int event, int detail, void* opaque) {
  virNetworkRef(n);
  Push(static_cast<EventSink*>(opaque), new EventMsg{Kind::kNetwork, event, detail, n});
}

void OnPool(virConnectPtr, virStoragePoolPtr p, int event, int detail, void* opaque) {
  virStoragePoolRef(p);
  Push(static_cast<EventSink*>(opaque), new EventMsg{Kind::kStoragePool, event, detail, p});
}

void OnClose(virConnectPtr, int reason, void* opaque) {
  Push(static_cast<EventSink*>(opaque), new EventMsg{Kind::kClose, reason, 0, nullptr});
}

void ReleaseOne(void* opaque) {
  auto* sink = static_cast<EventSink*>(opaque);
  std::lock_guard<std::mutex> lock(sink->mu);
  if (sink->open) napi_release_threadsafe_function(sink->tsfn, napi_tsfn_release);
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kDomain: return "domain";
    case Kind::kNetwork: return "network";
    case Kind::kStoragePool: return "storagePool";
    case Kind::kClose: return "close";
  }
  return "unknown";
}

void CallJs(napi_env raw, napi_value callback, void* context, void* data) {
  auto* m = static_cast<EventMsg*>(data);
  auto* sink = static_cast<EventSink*>(context);
  ConnRef conn = sink->conn.lock();
  if (raw == nullptr || !conn) {
    FreeObject(m);
    delete m;
    return;
  }
  Napi::Env env(raw);
  Napi::HandleScope scope(env);
  Build subject;
  if (m->kind == Kind::kDomain) subject = DescribeDomain(conn, static_cast<virDomainPtr>(m->object));
  if (m->kind == Kind::kNetwork) subject = DescribeNetwork(conn, static_cast<virNetworkPtr>(m->object));
  if (m->kind == Kind::kStoragePool) subject = DescribePool(conn, static_cast<virStoragePoolPtr>(m->object));
  Napi::Object payload = Napi::Object::New(env);
  payload.Set("kind", KindName(m->kind));
  payload.Set("event", m->event);
  payload.Set("detail", m->detail);
  if (subject) payload.Set("subject", subject(env));
  delete m;
  napi_value argv[] = {payload};
  napi_call_function(raw, env.Undefined(), callback, 1, argv, nullptr);
}

void Teardown(void* arg) {
  auto* sink = static_cast<EventSink*>(arg);
  std::lock_guard<std::mutex> lock(sink->mu);
  sink->open = false;
  sink->tearingDown = true;
}

void Finalize(napi_env env, void* data, void*) {
  auto* sink = static_cast<EventSink*>(data);
  {
    std::lock_guard<std::mutex> lock(sink->mu);
    sink->open = false;
    if (sink->tearingDown) return;
  }
  napi_remove_env_cleanup_hook(env, Teardown, sink);
  napi_delete_reference(env, sink->connObject);
  delete sink;
}

bool Acquire(EventSink* s) { return napi_acquire_threadsafe_function(s->tsfn) == napi_ok; }

// Registers every callback; on failure undoes what it did and keeps libvirt's error.
Build Register(virConnectPtr c, EventSink* s) {
  Acquire(s);
  s->domainCb = virConnectDomainEventRegisterAny(c, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                 VIR_DOMAIN_EVENT_CALLBACK(OnDomain), s, ReleaseOne);
  if (s->domainCb >= 0) {
    Acquire(s);
    s->networkCb = virConnectNetworkEventRegisterAny(c, nullptr, VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                                     VIR_NETWORK_EVENT_CALLBACK(OnNetwork), s, ReleaseOne);
  }
  if (s->networkCb >= 0) {
    Acquire(s);
    s->poolCb = virConnectStoragePoolEventRegisterAny(c, nullptr, VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                                      VIR_STORAGE_POOL_EVENT_CALLBACK(OnPool), s, ReleaseOne);
  }
  if (s->poolCb < 0) {
    VirError err = VirError::Capture();
    ReleaseOne(s);  // the registration that failed never took its count
    DeregisterEvents(c, s);
    return Fail(err);
  }
  // No free callback here: drivers without a transport accept the registration but never
  // call it back, so its count is released by DeregisterEvents once unregistered.
  Acquire(s);
  s->closeCb = virConnectRegisterCloseCallback(c, OnClose, s, nullptr) == 0;
  if (!s->closeCb) ReleaseOne(s);
  virResetLastError();
  return Void(0);
}

Napi::Value RegisterEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConnRef conn = UnwrapConn(info[0]);
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  if (conn->closed) return Rejected(env, ClosedError());
  if (conn->events != nullptr) {
    return Rejected(env, VirError::Of(VIR_ERR_OPERATION_INVALID, "events are already registered on this connection"));
  }
  auto* sink = new EventSink();
  sink->conn = conn;
  napi_create_reference(env, info[0], 1, &sink->connObject);
  napi_value name = Napi::String::New(env, "virtql:events");
  napi_status st = napi_create_threadsafe_function(env, info[1], nullptr, name, 0, 1, sink, Finalize, sink, CallJs,
                                                   &sink->tsfn);
  if (st != napi_ok) {
    napi_delete_reference(env, sink->connObject);
    delete sink;
    throw Napi::Error::New(env, "could not create the event dispatcher");
  }
  napi_add_env_cleanup_hook(env, Teardown, sink);
  conn->events = sink;
  virConnectPtr p = conn->ptr;
  virConnectRef(p);
  return Run(env, [p, sink] { return Register(p, sink); }, [p] { virConnectClose(p); });
}

// Lets the process exit while events are registered (Node's ref/unref convention).
Napi::Value SetEventsRef(const Napi::CallbackInfo& info) {
  ConnRef conn = UnwrapConn(info[0]);
  bool ref = BoolArg(info, 1, "ref");
  if (conn->events != nullptr) {
    if (ref) napi_ref_threadsafe_function(info.Env(), conn->events->tsfn);
    else napi_unref_threadsafe_function(info.Env(), conn->events->tsfn);
  }
  return info.Env().Undefined();
}

Napi::Value ConnectClose(const Napi::CallbackInfo& info) {
  ConnRef conn = UnwrapConn(info[0]);
  if (conn->closed.exchange(true)) return Run(info.Env(), [] { return Void(0); });
  EventSink* sink = conn->events;
  conn->events = nullptr;
  virConnectPtr p = conn->ptr;
  return Run(info.Env(), [p, sink] {
    if (sink != nullptr) DeregisterEvents(p, sink);
    return Void(virConnectClose(p));
  });
}

}  // namespace

void StartEventLoop() {
  static std::once_flag once;
  std::call_once(once, [] {
    virEventRegisterDefaultImpl();
    // Detached, not a static std::thread: a joinable static would abort at process exit.
    std::thread([] {
      for (;;) virEventRunDefaultImpl();
    }).detach();
  });
}

void DeregisterEvents(virConnectPtr c, EventSink* s) {
  if (s->domainCb >= 0) virConnectDomainEventDeregisterAny(c, s->domainCb);
  if (s->networkCb >= 0) virConnectNetworkEventDeregisterAny(c, s->networkCb);
  if (s->poolCb >= 0) virConnectStoragePoolEventDeregisterAny(c, s->poolCb);
  if (s->closeCb) {
    virConnectUnregisterCloseCallback(c, OnClose);
    ReleaseOne(s);
  }
  s->domainCb = s->networkCb = s->poolCb = -1;
  s->closeCb = false;
  ReleaseOne(s);  // the registrar's own count
}

void InitEvents(Napi::Env env, Exports e) {
  Export(env, e, "connectRegisterEvents", RegisterEvents);
  Export(env, e, "connectSetEventsRef", SetEventsRef);
  Export(env, e, "connectClose", ConnectClose);
}

}  // namespace virtql
