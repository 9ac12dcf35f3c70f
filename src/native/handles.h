// Connection and object handles handed to JS as type-tagged externals.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "call.h"
#include "definition-cache.h"

namespace virtql {

struct EventSink;

// Calls of one connection at once on its lane: libvirtd's max_client_requests (5), so a batch's
// four chunks and the request's other calls (bulk stats, lists) all run at once.
constexpr int kLaneThreads = 5;

struct ConnState {
  explicit ConnState(virConnectPtr p) : ptr(p) {}
  ~ConnState();
  virConnectPtr ptr;
  std::shared_ptr<Lane> lane = NewLane(kLaneThreads);
  std::atomic<bool> closed{false};
  EventSink* events = nullptr;  // owned through its thread-safe function, see events.cc
  DefinitionCache definitions;  // dropped with the connection: a reconnect starts afresh
};
using ConnRef = std::shared_ptr<ConnState>;

// Runs a release (virXxxFree, virConnectClose) off the JS thread: a free can be the last
// reference on a remote connection, which then talks to the daemon.
void Reap(std::function<void()> fn);

template <typename P>
struct Traits;

template <>
struct Traits<virDomainPtr> {
  static constexpr const char* kind = "domain";
  static int Ref(virDomainPtr p) { return virDomainRef(p); }
  static int Free(virDomainPtr p) { return virDomainFree(p); }
};
template <>
struct Traits<virNetworkPtr> {
  static constexpr const char* kind = "network";
  static int Ref(virNetworkPtr p) { return virNetworkRef(p); }
  static int Free(virNetworkPtr p) { return virNetworkFree(p); }
};
template <>
struct Traits<virInterfacePtr> {
  static constexpr const char* kind = "interface";
  static int Ref(virInterfacePtr p) { return virInterfaceRef(p); }
  static int Free(virInterfacePtr p) { return virInterfaceFree(p); }
};
template <>
struct Traits<virStoragePoolPtr> {
  static constexpr const char* kind = "storage pool";
  static int Ref(virStoragePoolPtr p) { return virStoragePoolRef(p); }
  static int Free(virStoragePoolPtr p) { return virStoragePoolFree(p); }
};
template <>
struct Traits<virStorageVolPtr> {
  static constexpr const char* kind = "storage volume";
  static int Ref(virStorageVolPtr p) { return virStorageVolRef(p); }
  static int Free(virStorageVolPtr p) { return virStorageVolFree(p); }
};

template <>
struct Traits<virDomainSnapshotPtr> {
  static constexpr const char* kind = "domain snapshot";
  static int Ref(virDomainSnapshotPtr p) { return virDomainSnapshotRef(p); }
  static int Free(virDomainSnapshotPtr p) { return virDomainSnapshotFree(p); }
};

template <>
struct Traits<virNodeDevicePtr> {
  static constexpr const char* kind = "node device";
  static int Ref(virNodeDevicePtr p) { return virNodeDeviceRef(p); }
  static int Free(virNodeDevicePtr p) { return virNodeDeviceFree(p); }
};

template <>
struct Traits<virSecretPtr> {
  static constexpr const char* kind = "secret";
  static int Ref(virSecretPtr p) { return virSecretRef(p); }
  static int Free(virSecretPtr p) { return virSecretFree(p); }
};

template <typename P>
struct Handle {
  ConnRef conn;
  P ptr;
};

const napi_type_tag& TagOf(const char* kind);

Napi::Value WrapConn(Napi::Env env, ConnRef conn);
ConnRef UnwrapConn(const Napi::Value& v);

template <typename P>
Napi::Value Wrap(Napi::Env env, const ConnRef& conn, P ptr) {
  auto ext = Napi::External<Handle<P>>::New(env, new Handle<P>{conn, ptr}, [](Napi::Env, Handle<P>* h) {
    P p = h->ptr;
    delete h;
    Reap([p] { Traits<P>::Free(p); });
  });
  napi_type_tag_object(env, ext, &TagOf(Traits<P>::kind));
  return ext;
}

template <typename P>
Handle<P>* Unwrap(const Napi::Value& v) {
  bool ok = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &TagOf(Traits<P>::kind), &ok);
  if (!ok) throw Napi::TypeError::New(v.Env(), std::string("expected a ") + Traits<P>::kind + " handle");
  return v.As<Napi::External<Handle<P>>>().Data();
}

VirError ClosedError();

// Runs work on a connection, holding a reference for the duration of the call.
Napi::Value OnConn(const Napi::CallbackInfo& info, std::function<Build(virConnectPtr, ConnRef)> work);

// Runs work on an object handle (argument 0), holding a reference for the duration of the call.
template <typename P>
Napi::Value OnHandle(const Napi::CallbackInfo& info, std::function<Build(P, ConnRef)> work) {
  Handle<P>* h = Unwrap<P>(info[0]);
  if (h->conn->closed) return Rejected(info.Env(), ClosedError());
  P p = h->ptr;
  ConnRef conn = h->conn;
  Traits<P>::Ref(p);
  return Run(info.Env(), [p, conn, work] { return work(p, conn); }, [p] { Traits<P>::Free(p); }, conn->lane);
}

// OnHandle for work that needs only the object.
template <typename P>
Napi::Value OnObject(const Napi::CallbackInfo& info, std::function<Build(P)> work) {
  return OnHandle<P>(info, [work](P p, ConnRef) { return work(p); });
}

// Runs work on each handle of an array (argument 0) in one pool job. Each slot of the
// resulting array holds that call's result, or its own libvirt error as an Error value.
template <typename P>
Napi::Value OnMany(const Napi::CallbackInfo& info, std::function<Build(P)> work) {
  if (!info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "handles must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  struct Item {
    P ptr;
    bool closed;
  };
  std::vector<Item> items;
  items.reserve(arr.Length());
  std::shared_ptr<Lane> lane;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Handle<P>* h = Unwrap<P>(arr.Get(i));
    if (i == 0) lane = h->conn->lane;
    bool closed = h->conn->closed;
    if (!closed) Traits<P>::Ref(h->ptr);
    items.push_back({h->ptr, closed});
  }
  return Run(
      info.Env(),
      [items, work]() -> Build {
        std::vector<Build> slots;
        slots.reserve(items.size());
        for (const Item& it : items) {
          Build b = it.closed ? nullptr : work(it.ptr);
          slots.push_back(b ? b : ErrorValue(it.closed ? ClosedError() : VirError::Capture()));
        }
        return [slots](Napi::Env env) {
          Napi::Array out = Napi::Array::New(env, slots.size());
          for (size_t i = 0; i < slots.size(); i++) {
            try {
              out.Set(static_cast<uint32_t>(i), slots[i](env));
            } catch (const Napi::Error& e) {
              out.Set(static_cast<uint32_t>(i), e.Value());
            }
          }
          return out;
        };
      },
      [items] {
        for (const Item& it : items)
          if (!it.closed) Traits<P>::Free(it.ptr);
      },
      lane);
}

// Descriptions gathered on the pool: the handle plus the identity fields libvirt keeps locally.
Build DescribeDomain(const ConnRef& conn, virDomainPtr d);
Build DescribeNetwork(const ConnRef& conn, virNetworkPtr n);
Build DescribeInterface(const ConnRef& conn, virInterfacePtr i);
Build DescribePool(const ConnRef& conn, virStoragePoolPtr p);
Build DescribeVolume(const ConnRef& conn, virStorageVolPtr v);  // also reads the path (a call)
Build DescribeSnapshot(const ConnRef& conn, virDomainSnapshotPtr s);
Build DescribeNodeDevice(const ConnRef& conn, virNodeDevicePtr d);
Build DescribeSecret(const ConnRef& conn, virSecretPtr s);

// Takes ownership of a libvirt-allocated array of handles and describes each one.
template <typename P>
Build DescribeAll(const ConnRef& conn, P* items, int n, Build (*describe)(const ConnRef&, P)) {
  if (n < 0) return nullptr;
  std::vector<Build> builds;
  for (int i = 0; i < n; i++) {
    Build b = describe(conn, items[i]);
    if (b) builds.push_back(std::move(b));
  }
  free(items);
  return [builds = std::move(builds)](Napi::Env env) {
    Napi::Array arr = Napi::Array::New(env, builds.size());
    for (size_t i = 0; i < builds.size(); i++) arr.Set(static_cast<uint32_t>(i), builds[i](env));
    return arr;
  };
}

using Exports = Napi::Object;
using Fn = Napi::Value (*)(const Napi::CallbackInfo&);
void Export(Napi::Env env, Exports exports, const char* name, Fn fn);

}  // namespace virtql
