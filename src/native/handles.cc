#include "handles.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace virtql {

namespace {

struct Reaper {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool started = false;
};

Reaper& reaper() {
  static Reaper* r = new Reaper();  // never destroyed: the thread outlives static destructors
  return *r;
}

const napi_type_tag kTags[] = {
    {0x7669727471000001ULL, 0x636f6e6e65637431ULL},  // connection
    {0x7669727471000002ULL, 0x646f6d61696e3031ULL},  // domain
    {0x7669727471000003ULL, 0x6e6574776f726b31ULL},  // network
    {0x7669727471000004ULL, 0x6966616365303031ULL},  // interface
    {0x7669727471000005ULL, 0x706f6f6c30303031ULL},  // storage pool
    {0x7669727471000006ULL, 0x766f6c756d653031ULL},  // storage volume
    {0x7669727471000007ULL, 0x736e617073686f74ULL},  // domain snapshot
    {0x7669727471000008ULL, 0x6e6f646564657631ULL},  // node device
    {0x7669727471000009ULL, 0x7365637265743031ULL},  // secret
};

}  // namespace

void Reap(std::function<void()> fn) {
  Reaper& r = reaper();
  std::lock_guard<std::mutex> lock(r.mu);
  r.queue.push_back(std::move(fn));
  if (!r.started) {
    r.started = true;
    std::thread([&r] {
      for (;;) {
        std::function<void()> next;
        {
          std::unique_lock<std::mutex> lk(r.mu);
          r.cv.wait(lk, [&r] { return !r.queue.empty(); });
          next = std::move(r.queue.front());
          r.queue.pop_front();
        }
        next();
      }
    }).detach();
  }
  r.cv.notify_one();
}

ConnState::~ConnState() {
  if (!closed.exchange(true)) {
    virConnectPtr p = ptr;
    Reap([p] { virConnectClose(p); });
  }
}

const napi_type_tag& TagOf(const char* kind) {
  if (std::strcmp(kind, "domain") == 0) return kTags[1];
  if (std::strcmp(kind, "network") == 0) return kTags[2];
  if (std::strcmp(kind, "interface") == 0) return kTags[3];
  if (std::strcmp(kind, "storage pool") == 0) return kTags[4];
  if (std::strcmp(kind, "storage volume") == 0) return kTags[5];
  if (std::strcmp(kind, "domain snapshot") == 0) return kTags[6];
  if (std::strcmp(kind, "node device") == 0) return kTags[7];
  if (std::strcmp(kind, "secret") == 0) return kTags[8];
  return kTags[0];
}

Napi::Value WrapConn(Napi::Env env, ConnRef conn) {
  auto ext = Napi::External<ConnRef>::New(env, new ConnRef(std::move(conn)), [](Napi::Env, ConnRef* c) { delete c; });
  napi_type_tag_object(env, ext, &kTags[0]);
  return ext;
}

ConnRef UnwrapConn(const Napi::Value& v) {
  bool ok = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &kTags[0], &ok);
  if (!ok) throw Napi::TypeError::New(v.Env(), "expected a connection handle");
  return *v.As<Napi::External<ConnRef>>().Data();
}

VirError ClosedError() { return VirError::Of(VIR_ERR_INVALID_CONN, "the connection is closed"); }

Napi::Value OnConn(const Napi::CallbackInfo& info, std::function<Build(virConnectPtr, ConnRef)> work) {
  ConnRef conn = UnwrapConn(info[0]);
  if (conn->closed) return Rejected(info.Env(), ClosedError());
  virConnectPtr p = conn->ptr;
  virConnectRef(p);
  return Run(info.Env(), [p, conn, work] { return work(p, conn); }, [p] { virConnectClose(p); }, conn->lane);
}

namespace {

std::string UuidOf(int rc, const char* buf) { return rc == 0 ? std::string(buf) : std::string(); }

}  // namespace

using Fields = std::vector<std::pair<const char*, std::string>>;

// The JS description of a handle: { handle, ...fields }, built on the main thread.
template <typename P>
Build Described(const ConnRef& conn, P p, Fields fields,
                std::function<void(Napi::Env, Napi::Object&)> extra = nullptr) {
  return [conn, p, fields, extra](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("handle", Wrap(env, conn, p));
    for (const auto& [key, value] : fields) o.Set(key, value);
    if (extra) extra(env, o);
    return o;
  };
}

Build DescribeDomain(const ConnRef& conn, virDomainPtr d) {
  if (d == nullptr) return nullptr;
  char uuid[VIR_UUID_STRING_BUFLEN];
  Fields fields{{"name", virDomainGetName(d)}, {"uuid", UuidOf(virDomainGetUUIDString(d, uuid), uuid)}};
  unsigned int num = virDomainGetID(d);
  double id = num == static_cast<unsigned int>(-1) ? -1.0 : static_cast<double>(num);
  return Described(conn, d, fields, [id](Napi::Env env, Napi::Object& o) { o.Set("id", Napi::Number::New(env, id)); });
}

Build DescribeNetwork(const ConnRef& conn, virNetworkPtr n) {
  if (n == nullptr) return nullptr;
  char uuid[VIR_UUID_STRING_BUFLEN];
  return Described(conn, n, {{"name", virNetworkGetName(n)}, {"uuid", UuidOf(virNetworkGetUUIDString(n, uuid), uuid)}});
}

Build DescribeInterface(const ConnRef& conn, virInterfacePtr i) {
  if (i == nullptr) return nullptr;
  const char* mac = virInterfaceGetMACString(i);
  return Described(conn, i, {{"name", virInterfaceGetName(i)}, {"mac", mac ? mac : ""}});
}

Build DescribePool(const ConnRef& conn, virStoragePoolPtr p) {
  if (p == nullptr) return nullptr;
  char uuid[VIR_UUID_STRING_BUFLEN];
  return Described(conn, p,
                   {{"name", virStoragePoolGetName(p)}, {"uuid", UuidOf(virStoragePoolGetUUIDString(p, uuid), uuid)}});
}

Build DescribeVolume(const ConnRef& conn, virStorageVolPtr v) {
  if (v == nullptr) return nullptr;
  char* path = virStorageVolGetPath(v);
  if (path == nullptr) {
    VirError err = VirError::Capture();
    virStorageVolFree(v);
    return Fail(err);
  }
  Fields fields{{"name", virStorageVolGetName(v)}, {"key", virStorageVolGetKey(v)}, {"path", path}};
  free(path);
  return Described(conn, v, fields);
}

Build DescribeSnapshot(const ConnRef& conn, virDomainSnapshotPtr s) {
  if (s == nullptr) return nullptr;
  return Described(conn, s, {{"name", virDomainSnapshotGetName(s)}});
}

Build DescribeNodeDevice(const ConnRef& conn, virNodeDevicePtr d) {
  if (d == nullptr) return nullptr;
  const char* name = virNodeDeviceGetName(d);
  return Described(conn, d, {{"name", name ? name : ""}});
}

// The usage type and id are kept in the handle: no call to the daemon.
Build DescribeSecret(const ConnRef& conn, virSecretPtr s) {
  if (s == nullptr) return nullptr;
  char uuid[VIR_UUID_STRING_BUFLEN];
  const char* usage = virSecretGetUsageID(s);
  int type = virSecretGetUsageType(s);
  return Described(conn, s, {{"uuid", UuidOf(virSecretGetUUIDString(s, uuid), uuid)}, {"usageId", usage ? usage : ""}},
                   [type](Napi::Env env, Napi::Object& o) { o.Set("usageType", Napi::Number::New(env, type)); });
}

void Export(Napi::Env env, Exports exports, const char* name, Fn fn) {
  exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace virtql
