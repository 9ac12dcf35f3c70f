// virNodeDevice*: the host's devices (PCI, USB, network, storage…) as libvirt's node device driver sees them.
#include "handles.h"

namespace virtql {

namespace {

using ND = virNodeDevicePtr;

// virConnectListAllNodeDevices: the flags select capabilities (any of them), or 0 for every device.
Napi::Value ListAll(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnConn(info, [flags](virConnectPtr c, ConnRef conn) {
    ND* items = nullptr;
    int n = virConnectListAllNodeDevices(c, &items, flags);
    return DescribeAll(conn, items, n, DescribeNodeDevice);
  });
}

Napi::Value LookupByName(const Napi::CallbackInfo& info) {
  std::string name = StrArg(info, 1, "name");
  return OnConn(info, [name](virConnectPtr c, ConnRef conn) {
    return DescribeNodeDevice(conn, virNodeDeviceLookupByName(c, name.c_str()));
  });
}

Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<ND>(info, [flags](ND d) { return Owned(virNodeDeviceGetXMLDesc(d, flags)); });
}

Napi::Value GetXMLDescMany(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnMany<ND>(info, [flags](ND d) { return Owned(virNodeDeviceGetXMLDesc(d, flags)); });
}

}  // namespace

void InitNodeDevice(Napi::Env env, Exports e) {
  Export(env, e, "connectListAllNodeDevices", ListAll);
  Export(env, e, "nodeDeviceLookupByName", LookupByName);
  Export(env, e, "nodeDeviceGetXMLDesc", GetXMLDesc);
  Export(env, e, "nodeDeviceGetXMLDescMany", GetXMLDescMany);
}

}  // namespace virtql
