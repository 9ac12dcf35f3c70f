// virDomain*: state, XML, lifecycle, devices, memory and vCPUs, migration and jobs.
#include <vector>

#include "definitions.h"
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

// domainDefinitionsMany(handles, known, flags): see DefinitionsMany.
Napi::Value DefinitionsOf(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 2);
  return DefinitionsMany<D>(
      info, "/" + std::to_string(flags), [flags](D d) { return virDomainGetXMLDesc(d, flags); },
      [](D d, std::string& key) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virDomainGetUUIDString(d, uuid) < 0) return false;
        key.assign(uuid);
        return true;
      });
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
// https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainMigrateStartPostCopy
VIRTQL_FLAGS_ACTION(MigrateStartPostCopy, virDomainMigrateStartPostCopy)

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

// Managed save, save/restore, reset, rename, PM wakeup, keys, metadata, guest addresses and info.
VIRTQL_FLAGS_ACTION(ManagedSave, virDomainManagedSave)
VIRTQL_FLAGS_ACTION(ManagedSaveRemove, virDomainManagedSaveRemove)
VIRTQL_FLAGS_ACTION(Reset, virDomainReset)
VIRTQL_FLAGS_ACTION(PMWakeup, virDomainPMWakeup)

Napi::Value HasManagedSaveImage(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) { return Tri(virDomainHasManagedSaveImage(d, 0)); });
}

Napi::Value Save(const Napi::CallbackInfo& info) {
  std::string path = StrArg(info, 1, "path");
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [path, flags](D d) { return Void(virDomainSaveFlags(d, path.c_str(), nullptr, flags)); });
}

// virDomainRestoreFlags: the domain comes back from a file virDomainSave wrote.
Napi::Value Restore(const Napi::CallbackInfo& info) {
  std::string path = StrArg(info, 1, "path");
  unsigned int flags = FlagsArg(info, 2);
  return OnConn(info, [path, flags](virConnectPtr c, ConnRef) {
    return Void(virDomainRestoreFlags(c, path.c_str(), nullptr, flags));
  });
}

// virDomainSaveImageGetXMLDesc: the domain definition a save file holds.
Napi::Value SaveImageGetXMLDesc(const Napi::CallbackInfo& info) {
  std::string path = StrArg(info, 1, "path");
  unsigned int flags = FlagsArg(info, 2);
  return OnConn(info, [path, flags](virConnectPtr c, ConnRef) {
    return Owned(virDomainSaveImageGetXMLDesc(c, path.c_str(), flags));
  });
}

Napi::Value Rename(const Napi::CallbackInfo& info) {
  std::string name = StrArg(info, 1, "name");
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [name, flags](D d) { return Void(virDomainRename(d, name.c_str(), flags)); });
}

Napi::Value SendKey(const Napi::CallbackInfo& info) {
  unsigned int codeset = static_cast<unsigned int>(IntArg(info, 1, "codeset"));
  unsigned int holdtime = static_cast<unsigned int>(IntArg(info, 2, "holdtime"));
  if (!info[3].IsArray()) throw Napi::TypeError::New(info.Env(), "keycodes must be an array");
  Napi::Array arr = info[3].As<Napi::Array>();
  std::vector<unsigned int> keys;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value k = arr.Get(i);
    if (!k.IsNumber()) throw Napi::TypeError::New(info.Env(), "keycodes must be numbers");
    keys.push_back(k.As<Napi::Number>().Uint32Value());
  }
  unsigned int flags = FlagsArg(info, 4);
  return OnObject<D>(info, [codeset, holdtime, keys, flags](D d) {
    std::vector<unsigned int> k = keys;
    return Void(virDomainSendKey(d, codeset, holdtime, k.data(), static_cast<int>(k.size()), flags));
  });
}

// virDomainSetMetadata: description, title or an element in a namespace; null metadata removes it.
Napi::Value SetMetadata(const Napi::CallbackInfo& info) {
  int type = IntArg(info, 1, "type");
  bool clear = info[2].IsNull() || info[2].IsUndefined();
  std::string metadata = OptStrArg(info, 2, "metadata");
  std::string key = OptStrArg(info, 3, "key");
  std::string uri = OptStrArg(info, 4, "uri");
  unsigned int flags = FlagsArg(info, 5);
  return OnObject<D>(info, [type, clear, metadata, key, uri, flags](D d) {
    return Void(virDomainSetMetadata(d, type, clear ? nullptr : metadata.c_str(), key.empty() ? nullptr : key.c_str(),
                                     uri.empty() ? nullptr : uri.c_str(), flags));
  });
}

Napi::Value InterfaceAddresses(const Napi::CallbackInfo& info) {
  unsigned int source = static_cast<unsigned int>(IntArg(info, 1, "source"));
  return OnObject<D>(info, [source](D d) -> Build {
    virDomainInterfacePtr* ifaces = nullptr;
    int n = virDomainInterfaceAddresses(d, &ifaces, source, 0);
    if (n < 0) return nullptr;
    struct Addr {
      int type;
      std::string addr;
      unsigned int prefix;
    };
    struct Iface {
      std::string name;
      std::string hwaddr;
      std::vector<Addr> addrs;
    };
    std::vector<Iface> out;
    for (int i = 0; i < n; i++) {
      Iface f{ifaces[i]->name ? ifaces[i]->name : "", ifaces[i]->hwaddr ? ifaces[i]->hwaddr : "", {}};
      for (unsigned int j = 0; j < ifaces[i]->naddrs; j++) {
        const virDomainIPAddress& a = ifaces[i]->addrs[j];
        f.addrs.push_back({a.type, a.addr ? a.addr : "", a.prefix});
      }
      out.push_back(std::move(f));
      virDomainInterfaceFree(ifaces[i]);
    }
    free(ifaces);
    return [out = std::move(out)](Napi::Env env) {
      Napi::Array arr = Napi::Array::New(env, out.size());
      for (size_t i = 0; i < out.size(); i++) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", out[i].name);
        o.Set("hwaddr", out[i].hwaddr);
        Napi::Array addrs = Napi::Array::New(env, out[i].addrs.size());
        for (size_t j = 0; j < out[i].addrs.size(); j++) {
          Napi::Object a = Napi::Object::New(env);
          a.Set("type", out[i].addrs[j].type);
          a.Set("addr", out[i].addrs[j].addr);
          a.Set("prefix", out[i].addrs[j].prefix);
          addrs.Set(static_cast<uint32_t>(j), a);
        }
        o.Set("addrs", addrs);
        arr.Set(static_cast<uint32_t>(i), o);
      }
      return arr;
    };
  });
}

// virDomainGetGuestInfo, with the guest agent's response timeout bounded to `timeoutSeconds` for
// this call (virDomainAgentSetResponseTimeout; drivers without one are asked without it) and put
// back to libvirt's default afterwards.
Napi::Value GetGuestInfo(const Napi::CallbackInfo& info) {
  unsigned int types = static_cast<unsigned int>(IntArg(info, 1, "types"));
  int timeout = IntArg(info, 2, "timeoutSeconds");
  unsigned int flags = FlagsArg(info, 3);
  return OnObject<D>(info, [types, timeout, flags](D d) -> Build {
    bool bounded = virDomainAgentSetResponseTimeout(d, timeout, 0) == 0;
    virTypedParameterPtr params = nullptr;
    int n = 0;
    int rc = virDomainGetGuestInfo(d, types, &params, &n, flags);
    VirError err;
    if (rc < 0) err = VirError::Capture();
    if (bounded) virDomainAgentSetResponseTimeout(d, VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_DEFAULT, 0);
    if (rc < 0) return Fail(err);
    Build fields = CopyParams(params, n);
    virTypedParamsFree(params, n);
    return fields;
  });
}

}  // namespace

void InitDomain(Napi::Env env, Exports e) {
  Export(env, e, "domainGetInfo", GetInfo);
  Export(env, e, "domainGetInfoMany", GetInfoMany);
  Export(env, e, "domainGetXMLDescMany", GetXMLDescMany);
  Export(env, e, "domainDefinitionsMany", DefinitionsOf);
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
  Export(env, e, "domainMigrateStartPostCopy", MigrateStartPostCopy);
  Export(env, e, "domainMigrate", Migrate);
  Export(env, e, "domainManagedSave", ManagedSave);
  Export(env, e, "domainManagedSaveRemove", ManagedSaveRemove);
  Export(env, e, "domainHasManagedSaveImage", HasManagedSaveImage);
  Export(env, e, "domainSave", Save);
  Export(env, e, "domainRestore", Restore);
  Export(env, e, "domainSaveImageGetXMLDesc", SaveImageGetXMLDesc);
  Export(env, e, "domainReset", Reset);
  Export(env, e, "domainRename", Rename);
  Export(env, e, "domainPMWakeup", PMWakeup);
  Export(env, e, "domainSendKey", SendKey);
  Export(env, e, "domainSetMetadata", SetMetadata);
  Export(env, e, "domainInterfaceAddresses", InterfaceAddresses);
  Export(env, e, "domainGetGuestInfo", GetGuestInfo);
}

}  // namespace virtql
