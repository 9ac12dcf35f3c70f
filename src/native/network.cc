// virNetwork*: XML, flags and lifecycle of virtual networks.
#include "handles.h"

namespace virtql {

namespace {

using N = virNetworkPtr;

Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<N>(info, [flags](N n) { return Owned(virNetworkGetXMLDesc(n, flags)); });
}

Napi::Value GetXMLDescMany(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnMany<N>(info, [flags](N n) { return Owned(virNetworkGetXMLDesc(n, flags)); });
}

Napi::Value GetBridgeName(const Napi::CallbackInfo& info) {
  return OnObject<N>(info, [](N n) { return Owned(virNetworkGetBridgeName(n)); });
}

Napi::Value IsActive(const Napi::CallbackInfo& info) {
  return OnObject<N>(info, [](N n) { return Tri(virNetworkIsActive(n)); });
}

Napi::Value IsPersistent(const Napi::CallbackInfo& info) {
  return OnObject<N>(info, [](N n) { return Tri(virNetworkIsPersistent(n)); });
}

Napi::Value GetAutostart(const Napi::CallbackInfo& info) {
  return OnObject<N>(info, [](N n) -> Build {
    int on = 0;
    return virNetworkGetAutostart(n, &on) < 0 ? nullptr : Tri(on);
  });
}

Napi::Value SetAutostart(const Napi::CallbackInfo& info) {
  bool on = BoolArg(info, 1, "autostart");
  return OnObject<N>(info, [on](N n) { return Void(virNetworkSetAutostart(n, on ? 1 : 0)); });
}

Napi::Value Create(const Napi::CallbackInfo& info) {
  return OnObject<N>(info, [](N n) { return Void(virNetworkCreate(n)); });
}

Napi::Value Destroy(const Napi::CallbackInfo& info) {
  return OnObject<N>(info, [](N n) { return Void(virNetworkDestroy(n)); });
}

Napi::Value Undefine(const Napi::CallbackInfo& info) {
  return OnObject<N>(info, [](N n) { return Void(virNetworkUndefine(n)); });
}

}  // namespace

void InitNetwork(Napi::Env env, Exports e) {
  Export(env, e, "networkGetXMLDesc", GetXMLDesc);
  Export(env, e, "networkGetXMLDescMany", GetXMLDescMany);
  Export(env, e, "networkGetBridgeName", GetBridgeName);
  Export(env, e, "networkIsActive", IsActive);
  Export(env, e, "networkIsPersistent", IsPersistent);
  Export(env, e, "networkGetAutostart", GetAutostart);
  Export(env, e, "networkSetAutostart", SetAutostart);
  Export(env, e, "networkCreate", Create);
  Export(env, e, "networkDestroy", Destroy);
  Export(env, e, "networkUndefine", Undefine);
}

}  // namespace virtql
