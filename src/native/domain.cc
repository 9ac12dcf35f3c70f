// virDomain*: state, XML, lifecycle, devices, memory and vCPUs, migration and jobs.
#include "handles.h"

namespace virtql {

namespace {

using D = virDomainPtr;

Build InfoOf(D d) {
  virDomainInfo i;
  if (virDomainGetInfo(d, &i) < 0) return nullptr;
  return [i](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("state", static_cast<int>(i.state));
    o.Set("maxMemKiB", BigOf(env, i.maxMem));
    o.Set("memoryKiB", BigOf(env, i.memory));
    o.Set("vcpus", i.nrVirtCpu);
    o.Set("cpuTimeNs", BigOf(env, i.cpuTime));
    return o;
  };
}

Napi::Value GetInfo(const Napi::CallbackInfo& info) { return OnObject<D>(info, InfoOf); }

Napi::Value GetInfoMany(const Napi::CallbackInfo& info) { return OnMany<D>(info, InfoOf); }

Napi::Value GetState(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) -> Build {
    int state = 0, reason = 0;
    if (virDomainGetState(d, &state, &reason, 0) < 0) return nullptr;
    return [state, reason](Napi::Env env) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("state", state);
      o.Set("reason", reason);
      return o;
    };
  });
}

Napi::Value GetID(const Napi::CallbackInfo& info) {
  // The id cached in the handle is stale once the domain starts or stops: look it up afresh.
  return OnObject<D>(info, [](D d) -> Build {
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(d, uuid) < 0) return nullptr;
    virDomainPtr fresh = virDomainLookupByUUIDString(virDomainGetConnect(d), uuid);
    if (fresh == nullptr) return nullptr;
    unsigned int id = virDomainGetID(fresh);
    virDomainFree(fresh);
    return Num(id == static_cast<unsigned int>(-1) ? -1.0 : static_cast<double>(id));
  });
}

Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<D>(info, [flags](D d) { return Owned(virDomainGetXMLDesc(d, flags)); });
}

Napi::Value GetXMLDescMany(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnMany<D>(info, [flags](D d) { return Owned(virDomainGetXMLDesc(d, flags)); });
}

Napi::Value GetOSType(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) { return Owned(virDomainGetOSType(d)); });
}

Napi::Value IsActive(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) { return Tri(virDomainIsActive(d)); });
}

Napi::Value IsPersistent(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) { return Tri(virDomainIsPersistent(d)); });
}

Napi::Value GetAutostart(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) -> Build {
    int on = 0;
    return virDomainGetAutostart(d, &on) < 0 ? nullptr : Tri(on);
  });
}

Napi::Value SetAutostart(const Napi::CallbackInfo& info) {
  bool on = BoolArg(info, 1, "autostart");
  return OnObject<D>(info, [on](D d) { return Void(virDomainSetAutostart(d, on ? 1 : 0)); });
}

// Actions of the form virDomainX(domain, flags) → int.
#define VIRTQL_FLAGS_ACTION(NAME, CALL)                                  \
  Napi::Value NAME(const Napi::CallbackInfo& info) {                     \
    unsigned int flags = FlagsArg(info, 1);                              \
    return OnObject<D>(info, [flags](D d) { return Void(CALL(d, flags)); }); \
  }

VIRTQL_FLAGS_ACTION(Create, virDomainCreateWithFlags)
VIRTQL_FLAGS_ACTION(Shutdown, virDomainShutdownFlags)
VIRTQL_FLAGS_ACTION(Reboot, virDomainReboot)
VIRTQL_FLAGS_ACTION(Destroy, virDomainDestroyFlags)
VIRTQL_FLAGS_ACTION(Undefine, virDomainUndefineFlags)
VIRTQL_FLAGS_ACTION(AbortJob, virDomainAbortJobFlags)

Napi::Value Suspend(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) { return Void(virDomainSuspend(d)); });
}

Napi::Value Resume(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) { return Void(virDomainResume(d)); });
}

// Device changes of the form virDomainXDeviceFlags(domain, xml, flags) → int.
#define VIRTQL_DEVICE_ACTION(NAME, CALL)                                                \
  Napi::Value NAME(const Napi::CallbackInfo& info) {                                    \
    std::string xml = StrArg(info, 1, "xml");                                           \
    unsigned int flags = FlagsArg(info, 2);                                             \
    return OnObject<D>(info, [xml, flags](D d) { return Void(CALL(d, xml.c_str(), flags)); }); \
  }

VIRTQL_DEVICE_ACTION(AttachDevice, virDomainAttachDeviceFlags)
VIRTQL_DEVICE_ACTION(DetachDevice, virDomainDetachDeviceFlags)
VIRTQL_DEVICE_ACTION(UpdateDevice, virDomainUpdateDeviceFlags)

Napi::Value SetMemory(const Napi::CallbackInfo& info) {
  unsigned long kib = static_cast<unsigned long>(U64Arg(info, 1, "memoryKiB"));
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [kib, flags](D d) { return Void(virDomainSetMemoryFlags(d, kib, flags)); });
}

Napi::Value SetMaxMemory(const Napi::CallbackInfo& info) {
  unsigned long kib = static_cast<unsigned long>(U64Arg(info, 1, "memoryKiB"));
  unsigned int flags = FlagsArg(info, 2) | VIR_DOMAIN_MEM_MAXIMUM;
  return OnObject<D>(info, [kib, flags](D d) { return Void(virDomainSetMemoryFlags(d, kib, flags)); });
}

Napi::Value SetVcpus(const Napi::CallbackInfo& info) {
  unsigned int n = static_cast<unsigned int>(IntArg(info, 1, "vcpus"));
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [n, flags](D d) { return Void(virDomainSetVcpusFlags(d, n, flags)); });
}

Napi::Value GetVcpus(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<D>(info, [flags](D d) { return Int(virDomainGetVcpusFlags(d, flags)); });
}

Napi::Value GetJobStats(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<D>(info, [flags](D d) -> Build {
    int type = 0;
    virTypedParameterPtr params = nullptr;
    int n = 0;
    if (virDomainGetJobStats(d, &type, &params, &n, flags) < 0) return nullptr;
    Build fields = CopyParams(params, n);
    virTypedParamsFree(params, n);
    return [type, fields](Napi::Env env) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", type);
      o.Set("fields", fields(env));
      return o;
    };
  });
}

struct MigrateParam {
  std::string name;
  enum { kString, kInt, kULLong } type;
  std::string s;
  long long n;
};

// Migration parameters from a plain object: string → string, number → int, bigint → ullong.
std::vector<MigrateParam> MigrateParamsArg(const Napi::CallbackInfo& info, size_t i) {
  std::vector<MigrateParam> out;
  if (info[i].IsUndefined() || info[i].IsNull()) return out;
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), "params must be an object");
  Napi::Object o = info[i].As<Napi::Object>();
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t k = 0; k < keys.Length(); k++) {
    std::string name = NoNul(info.Env(), keys.Get(k).As<Napi::String>().Utf8Value(), "migration parameter name");
    Napi::Value v = o.Get(name);
    if (v.IsString()) {
      out.push_back({name, MigrateParam::kString, NoNul(info.Env(), v.As<Napi::String>().Utf8Value(), "migration parameter " + name), 0});
    } else if (v.IsNumber()) {
      out.push_back({name, MigrateParam::kInt, "", v.As<Napi::Number>().Int32Value()});
    } else if (v.IsBigInt()) {
      bool lossless = true;
      out.push_back({name, MigrateParam::kULLong, "", static_cast<long long>(v.As<Napi::BigInt>().Uint64Value(&lossless))});
    } else if (!v.IsUndefined()) {
      throw Napi::TypeError::New(info.Env(), "migration parameter " + name + " must be a string, number or bigint");
    }
  }
  return out;
}

// Builds libvirt typed parameters; returns false (error set by libvirt) when one is refused.
bool BuildParams(const std::vector<MigrateParam>& in, virTypedParameterPtr* params, int* n) {
  int max = 0;
  for (const MigrateParam& p : in) {
    int rc = 0;
    if (p.type == MigrateParam::kString) rc = virTypedParamsAddString(params, n, &max, p.name.c_str(), p.s.c_str());
    if (p.type == MigrateParam::kInt) rc = virTypedParamsAddInt(params, n, &max, p.name.c_str(), static_cast<int>(p.n));
    if (p.type == MigrateParam::kULLong)
      rc = virTypedParamsAddULLong(params, n, &max, p.name.c_str(), static_cast<unsigned long long>(p.n));
    if (rc < 0) return false;
  }
  return true;
}

// Peer-to-peer (or direct) migration: the source daemon connects to dconnuri itself.
Napi::Value MigrateToURI(const Napi::CallbackInfo& info) {
  std::string dconnuri = StrArg(info, 1, "destination URI");
  std::vector<MigrateParam> in = MigrateParamsArg(info, 2);
  unsigned int flags = FlagsArg(info, 3);
  return OnObject<D>(info, [dconnuri, in, flags](D d) -> Build {
    virTypedParameterPtr params = nullptr;
    int n = 0;
    if (!BuildParams(in, &params, &n)) return nullptr;
    int rc = virDomainMigrateToURI3(d, dconnuri.c_str(), params, n, flags);
    if (rc < 0) {
      VirError err = VirError::Capture();
      virTypedParamsFree(params, n);
      return Fail(err);
    }
    virTypedParamsFree(params, n);
    return Void(rc);
  });
}

// Client-managed migration: this process drives both connections; returns the new domain.
Napi::Value Migrate(const Napi::CallbackInfo& info) {
  ConnRef dest = UnwrapConn(info[1]);
  if (dest->closed) return Rejected(info.Env(), ClosedError());
  std::vector<MigrateParam> in = MigrateParamsArg(info, 2);
  unsigned int flags = FlagsArg(info, 3);
  virConnectRef(dest->ptr);
  return OnObject<D>(info, [dest, in, flags](D d) -> Build {
    virTypedParameterPtr params = nullptr;
    int n = 0;
    Build result;
    if (BuildParams(in, &params, &n)) {
      virDomainPtr moved = virDomainMigrate3(d, dest->ptr, params, n, flags);
      if (moved == nullptr) {
        VirError err = VirError::Capture();
        result = Fail(err);
      } else {
        result = DescribeDomain(dest, moved);
      }
    } else {
      VirError err = VirError::Capture();
      result = Fail(err);
    }
    virTypedParamsFree(params, n);
    virConnectClose(dest->ptr);
    return result;
  });
}

}  // namespace

void InitDomain(Napi::Env env, Exports e) {
  Export(env, e, "domainGetInfo", GetInfo);
  Export(env, e, "domainGetInfoMany", GetInfoMany);
  Export(env, e, "domainGetXMLDescMany", GetXMLDescMany);
  Export(env, e, "domainGetState", GetState);
  Export(env, e, "domainGetID", GetID);
  Export(env, e, "domainGetXMLDesc", GetXMLDesc);
  Export(env, e, "domainGetOSType", GetOSType);
  Export(env, e, "domainIsActive", IsActive);
  Export(env, e, "domainIsPersistent", IsPersistent);
  Export(env, e, "domainGetAutostart", GetAutostart);
  Export(env, e, "domainSetAutostart", SetAutostart);
  Export(env, e, "domainCreate", Create);
  Export(env, e, "domainShutdown", Shutdown);
  Export(env, e, "domainReboot", Reboot);
  Export(env, e, "domainDestroy", Destroy);
  Export(env, e, "domainUndefine", Undefine);
  Export(env, e, "domainSuspend", Suspend);
  Export(env, e, "domainResume", Resume);
  Export(env, e, "domainAttachDevice", AttachDevice);
  Export(env, e, "domainDetachDevice", DetachDevice);
  Export(env, e, "domainUpdateDevice", UpdateDevice);
  Export(env, e, "domainSetMemory", SetMemory);
  Export(env, e, "domainSetMaxMemory", SetMaxMemory);
  Export(env, e, "domainSetVcpus", SetVcpus);
  Export(env, e, "domainGetVcpus", GetVcpus);
  Export(env, e, "domainGetJobStats", GetJobStats);
  Export(env, e, "domainAbortJob", AbortJob);
  Export(env, e, "domainMigrateToURI", MigrateToURI);
  Export(env, e, "domainMigrate", Migrate);
}

}  // namespace virtql
