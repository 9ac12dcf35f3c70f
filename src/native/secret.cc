// virSecret*: libvirt's secrets (volume passphrases, Ceph and iSCSI keys, TLS and vTPM secrets).
// virSecretGetValue is deliberately absent: a value set through the gateway is never read back.
#include <cstring>
#include <memory>
#include <vector>

#include "handles.h"

namespace virtql {

namespace {

using S = virSecretPtr;

// Bytes that are wiped when the last copy of the work that holds them goes away.
struct Wiped {
  std::vector<unsigned char> bytes;
  ~Wiped() {
    if (!bytes.empty()) {
      volatile unsigned char* p = bytes.data();
      for (size_t i = 0; i < bytes.size(); i++) p[i] = 0;
    }
  }
};

Napi::Value ListAll(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnConn(info, [flags](virConnectPtr c, ConnRef conn) {
    S* items = nullptr;
    int n = virConnectListAllSecrets(c, &items, flags);
    return DescribeAll(conn, items, n, DescribeSecret);
  });
}

Napi::Value LookupByUUID(const Napi::CallbackInfo& info) {
  std::string uuid = StrArg(info, 1, "uuid");
  return OnConn(info, [uuid](virConnectPtr c, ConnRef conn) {
    return DescribeSecret(conn, virSecretLookupByUUIDString(c, uuid.c_str()));
  });
}

Napi::Value LookupByUsage(const Napi::CallbackInfo& info) {
  int type = IntArg(info, 1, "usageType");
  std::string usage = StrArg(info, 2, "usageId");
  return OnConn(info, [type, usage](virConnectPtr c, ConnRef conn) {
    return DescribeSecret(conn, virSecretLookupByUsage(c, type, usage.c_str()));
  });
}

Napi::Value DefineXML(const Napi::CallbackInfo& info) {
  std::string xml = StrArg(info, 1, "xml");
  unsigned int flags = FlagsArg(info, 2);
  return OnConn(info, [xml, flags](virConnectPtr c, ConnRef conn) {
    return DescribeSecret(conn, virSecretDefineXML(c, xml.c_str(), flags));
  });
}

Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<S>(info, [flags](S s) { return Owned(virSecretGetXMLDesc(s, flags)); });
}

Napi::Value GetXMLDescMany(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnMany<S>(info, [flags](S s) { return Owned(virSecretGetXMLDesc(s, flags)); });
}

// The value is copied out of the Buffer here, on Node's thread, and wiped once the call is done.
Napi::Value SetValue(const Napi::CallbackInfo& info) {
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(info.Env(), "value must be a Buffer");
  auto buf = info[1].As<Napi::Buffer<unsigned char>>();
  auto value = std::make_shared<Wiped>();
  value->bytes.assign(buf.Data(), buf.Data() + buf.Length());
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<S>(info, [value, flags](S s) {
    return Void(virSecretSetValue(s, value->bytes.data(), value->bytes.size(), flags));
  });
}

Napi::Value Undefine(const Napi::CallbackInfo& info) {
  return OnObject<S>(info, [](S s) { return Void(virSecretUndefine(s)); });
}

}  // namespace

void InitSecret(Napi::Env env, Exports e) {
  Export(env, e, "connectListAllSecrets", ListAll);
  Export(env, e, "secretLookupByUUID", LookupByUUID);
  Export(env, e, "secretLookupByUsage", LookupByUsage);
  Export(env, e, "secretDefineXML", DefineXML);
  Export(env, e, "secretGetXMLDesc", GetXMLDesc);
  Export(env, e, "secretGetXMLDescMany", GetXMLDescMany);
  Export(env, e, "secretSetValue", SetValue);
  Export(env, e, "secretUndefine", Undefine);
}

}  // namespace virtql
