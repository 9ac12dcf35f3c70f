// virInterface*: host network interfaces (netcf-style XML).
#include "handles.h"

namespace virtql {

namespace {

using I = virInterfacePtr;

Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<I>(info, [flags](I i) { return Owned(virInterfaceGetXMLDesc(i, flags)); });
}

Napi::Value GetXMLDescMany(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnMany<I>(info, [flags](I i) { return Owned(virInterfaceGetXMLDesc(i, flags)); });
}

Napi::Value IsActive(const Napi::CallbackInfo& info) {
  return OnObject<I>(info, [](I i) { return Tri(virInterfaceIsActive(i)); });
}

Napi::Value Create(const Napi::CallbackInfo& info) {
  return OnObject<I>(info, [](I i) { return Void(virInterfaceCreate(i, 0)); });
}

Napi::Value Destroy(const Napi::CallbackInfo& info) {
  return OnObject<I>(info, [](I i) { return Void(virInterfaceDestroy(i, 0)); });
}

Napi::Value Undefine(const Napi::CallbackInfo& info) {
  return OnObject<I>(info, [](I i) { return Void(virInterfaceUndefine(i)); });
}

}  // namespace

void InitInterface(Napi::Env env, Exports e) {
  Export(env, e, "interfaceGetXMLDesc", GetXMLDesc);
  Export(env, e, "interfaceGetXMLDescMany", GetXMLDescMany);
  Export(env, e, "interfaceIsActive", IsActive);
  Export(env, e, "interfaceCreate", Create);
  Export(env, e, "interfaceDestroy", Destroy);
  Export(env, e, "interfaceUndefine", Undefine);
}

}  // namespace virtql
