// Domain, network and storage-pool lifecycle events, the other domain events (reboot, devices,
// block jobs, balloon, migration iterations, agent, metadata, tray, watchdog, I/O errors) and
// the connection close callback.
//
// libvirt calls us on the event-loop thread; each event goes through a ThreadSafeFunction
// to JS. The sink's thread count is one for the registrar plus one per registration, each
// released by libvirt's free callback, so the function outlives every callback that can
// still fire. At environment teardown (process.exit) the sink is closed under its lock
// before Node frees the function, and then deliberately leaked: libvirt may still call it.
#include "events.h"

#include <mutex>
#include <optional>
#include <string>
#include <vector>
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
  std::vector<int> domainOtherCbs;  // the typed domain events besides lifecycle
  int networkCb = -1;
  int poolCb = -1;
  bool closeCb = false;
};

namespace {

enum class Kind { kDomain, kNetwork, kStoragePool, kClose };

struct EventMsg {
  EventMsg(Kind k, int e, int d, void* o) : kind(k), event(e), detail(d), object(o) {}
  Kind kind;
  int event;
  int detail;
  void* object;  // a referenced virDomainPtr / virNetworkPtr / virStoragePoolPtr
  // Domains: which VIR_DOMAIN_EVENT_ID_* it is (LIFECYCLE = 0), its strings copied out of the
  // callback (libvirt frees them when it returns) and the balloon's size.
  int id = VIR_DOMAIN_EVENT_ID_LIFECYCLE;
  std::vector<std::optional<std::string>> strings;
  unsigned long long big = 0;
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

std::optional<std::string> Str(const char* s) {
  if (s == nullptr) return std::nullopt;
  return std::string(s);
}

// A typed domain event: `event` and `detail` carry its integers in the callback's order.
void PushDomain(void* opaque, virDomainPtr d, int id, int event, int detail,
                std::vector<std::optional<std::string>> strings = {}, unsigned long long big = 0) {
  virDomainRef(d);
  auto* m = new EventMsg{Kind::kDomain, event, detail, d};
  m->id = id;
  m->strings = std::move(strings);
  m->big = big;
  Push(static_cast<EventSink*>(opaque), m);
}

void OnReboot(virConnectPtr, virDomainPtr d, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_REBOOT, 0, 0);
}

void OnWatchdog(virConnectPtr, virDomainPtr d, int action, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_WATCHDOG, action, 0);
}

void OnIOErrorReason(virConnectPtr, virDomainPtr d, const char* srcPath, const char* devAlias, int action,
                     const char* reason, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, action, 0, {Str(srcPath), Str(devAlias), Str(reason)});
}

void OnTrayChange(virConnectPtr, virDomainPtr d, const char* devAlias, int reason, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, reason, 0, {Str(devAlias)});
}

void OnBalloonChange(virConnectPtr, virDomainPtr d, unsigned long long actual, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, 0, 0, {}, actual);
}

void OnDeviceRemoved(virConnectPtr, virDomainPtr d, const char* devAlias, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, 0, 0, {Str(devAlias)});
}

void OnDeviceAdded(virConnectPtr, virDomainPtr d, const char* devAlias, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, 0, 0, {Str(devAlias)});
}

void OnBlockJob2(virConnectPtr, virDomainPtr d, const char* disk, int type, int status, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, type, status, {Str(disk)});
}

void OnAgentLifecycle(virConnectPtr, virDomainPtr d, int state, int reason, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, state, reason);
}

void OnMigrationIteration(virConnectPtr, virDomainPtr d, int iteration, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, iteration, 0);
}

void OnMetadataChange(virConnectPtr, virDomainPtr d, int type, const char* nsuri, void* opaque) {
  PushDomain(opaque, d, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, type, 0, {Str(nsuri)});
}

struct TypedDomainEvent {
  int id;
  virConnectDomainEventGenericCallback cb;
};

const TypedDomainEvent kOtherDomainEvents[] = {
    {VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(OnReboot)},
    {VIR_DOMAIN_EVENT_ID_WATCHDOG, VIR_DOMAIN_EVENT_CALLBACK(OnWatchdog)},
    {VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, VIR_DOMAIN_EVENT_CALLBACK(OnIOErrorReason)},
    {VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnTrayChange)},
    {VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnBalloonChange)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceRemoved)},
    {VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK(OnBlockJob2)},
    {VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnAgentLifecycle)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceAdded)},
    {VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, VIR_DOMAIN_EVENT_CALLBACK(OnMigrationIteration)},
    {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnMetadataChange)},
};

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
  if (m->kind == Kind::kDomain) {
    payload.Set("id", m->id);
    Napi::Array strings = Napi::Array::New(env, m->strings.size());
    for (uint32_t i = 0; i < m->strings.size(); i++) {
      const auto& s = m->strings[i];
      strings.Set(i, s ? Napi::Value(Napi::String::New(env, *s)) : env.Null());
    }
    payload.Set("strings", strings);
    if (m->id == VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE) payload.Set("big", Napi::BigInt::New(env, static_cast<uint64_t>(m->big)));
  }
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
// Registers every event of the connection. On failure it deregisters what it had registered
// (releasing the sink, which may then be freed) and sets `*ok` false.
Build Register(virConnectPtr c, EventSink* s, bool* ok) {
  *ok = false;
  Acquire(s);
  s->domainCb = virConnectDomainEventRegisterAny(c, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                 VIR_DOMAIN_EVENT_CALLBACK(OnDomain), s, ReleaseOne);
  // The other domain events: a driver that does not know one (an older libvirt) still gives
  // lifecycle events, so a refused registration is skipped rather than failing them all.
  for (const auto& e : kOtherDomainEvents) {
    if (s->domainCb < 0) break;
    Acquire(s);
    int id = virConnectDomainEventRegisterAny(c, nullptr, e.id, e.cb, s, ReleaseOne);
    if (id >= 0) s->domainOtherCbs.push_back(id);
    else ReleaseOne(s);
  }
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
  *ok = true;
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
  std::weak_ptr<ConnState> weak = conn;
  return Run(
      env,
      [p, sink, weak]() -> Build {
        bool ok = false;
        Build result = Register(p, sink, &ok);
        if (ok) return result;
        // The failed registration deregistered itself: the connection forgets its sink, so a
        // close does not deregister it again (a double release, then a freed sink: an abort
        // when a daemon died during registration) and a later subscribe may register afresh.
        return [result, sink, weak](Napi::Env env) -> Napi::Value {
          if (ConnRef c = weak.lock(); c && c->events == sink) c->events = nullptr;
          return result(env);
        };
      },
      [p] { virConnectClose(p); }, conn->lane);
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
  // Its own thread: deregistering talks to the daemon, which may be the one that hangs.
  return Run(
      info.Env(),
      [p, sink] {
        if (sink != nullptr) DeregisterEvents(p, sink);
        return Void(virConnectClose(p));
      },
      nullptr, NewLane(1));
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
  for (int id : s->domainOtherCbs) virConnectDomainEventDeregisterAny(c, id);
  s->domainOtherCbs.clear();
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
