// virConnect* and virNode*: open/close, host facts, lists and lookups of every object kind.
#include <cstring>

#include "handles.h"

namespace virtql {

namespace {

struct Credentials {
  std::string username;
  std::string password;
};

// Answers libvirt's credential prompts from what the caller gave; anything else is refused.
int AuthCallback(virConnectCredentialPtr cred, unsigned int ncred, void* cbdata) {
  auto* c = static_cast<Credentials*>(cbdata);
  for (unsigned int i = 0; i < ncred; i++) {
    const std::string* value = nullptr;
    if (cred[i].type == VIR_CRED_AUTHNAME && !c->username.empty()) value = &c->username;
    if (cred[i].type == VIR_CRED_PASSPHRASE && !c->password.empty()) value = &c->password;
    if (value == nullptr) return -1;
    cred[i].result = strdup(value->c_str());
    cred[i].resultlen = static_cast<unsigned int>(value->size());
  }
  return 0;
}

Napi::Value ConnectOpen(const Napi::CallbackInfo& info) {
  std::string uri = StrArg(info, 0, "uri");
  Credentials creds{OptStrArg(info, 1, "username"), OptStrArg(info, 2, "password")};
  unsigned int flags = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value() ? VIR_CONNECT_RO : 0;
  return Run(info.Env(), [uri, creds, flags]() mutable -> Build {
    int types[] = {VIR_CRED_AUTHNAME, VIR_CRED_PASSPHRASE};
    virConnectAuth auth{types, 2, AuthCallback, &creds};
    virConnectPtr c = virConnectOpenAuth(uri.c_str(), &auth, flags);
    if (c == nullptr) return nullptr;
    auto conn = std::make_shared<ConnState>(c);
    return [conn](Napi::Env env) { return WrapConn(env, conn); };
  }, nullptr, NewLane(1));  // its own thread: an open that hangs (a daemon still starting) holds no pool thread
}

Napi::Value ConnectIsAlive(const Napi::CallbackInfo& info) {
  ConnRef conn = UnwrapConn(info[0]);
  if (conn->closed) return Run(info.Env(), [] { return Tri(0); });
  return OnConn(info, [](virConnectPtr c, ConnRef) { return Tri(virConnectIsAlive(c)); });
}

Napi::Value ConnectGetHostname(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) { return Owned(virConnectGetHostname(c)); });
}

Napi::Value ConnectGetURI(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) { return Owned(virConnectGetURI(c)); });
}

Napi::Value ConnectGetType(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) -> Build {
    const char* t = virConnectGetType(c);
    return t ? Text(t) : nullptr;
  });
}

Napi::Value ConnectGetVersion(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) -> Build {
    unsigned long v = 0;
    return virConnectGetVersion(c, &v) < 0 ? nullptr : Int(static_cast<long long>(v));
  });
}

Napi::Value ConnectGetLibVersion(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) -> Build {
    unsigned long v = 0;
    return virConnectGetLibVersion(c, &v) < 0 ? nullptr : Int(static_cast<long long>(v));
  });
}

Napi::Value ConnectGetCapabilities(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) { return Owned(virConnectGetCapabilities(c)); });
}

// What the hypervisor offers guests of one kind (firmware, CPU modes, devices); empty strings
// leave the choice to libvirt (the default emulator, arch, machine and virt type).
Napi::Value ConnectGetDomainCapabilities(const Napi::CallbackInfo& info) {
  std::string arch = OptStrArg(info, 1, "arch");
  std::string machine = OptStrArg(info, 2, "machine");
  std::string virttype = OptStrArg(info, 3, "virttype");
  return OnConn(info, [arch, machine, virttype](virConnectPtr c, ConnRef) {
    auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    return Owned(virConnectGetDomainCapabilities(c, nullptr, opt(arch), opt(machine), opt(virttype), 0));
  });
}

Napi::Value NodeGetInfo(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) -> Build {
    virNodeInfo n;
    if (virNodeGetInfo(c, &n) < 0) return nullptr;
    return [n](Napi::Env env) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("model", Napi::String::New(env, n.model));
      o.Set("memoryKiB", BigOf(env, n.memory));
      o.Set("cpus", n.cpus);
      o.Set("mhz", n.mhz);
      o.Set("nodes", n.nodes);
      o.Set("sockets", n.sockets);
      o.Set("cores", n.cores);
      o.Set("threads", n.threads);
      return o;
    };
  });
}

Napi::Value NodeGetFreeMemory(const Napi::CallbackInfo& info) {
  return OnConn(info, [](virConnectPtr c, ConnRef) -> Build {
    unsigned long long bytes = virNodeGetFreeMemory(c);
    // 0 is both "no free memory" and the failure value; only an error report tells them apart.
    if (bytes == 0 && virGetLastError() != nullptr) return nullptr;
    return Big(bytes);
  });
}

// virNodeGetCPUStats / virNodeGetMemoryStats: ask the count, then the fields; each becomes name → bigint.
template <typename S>
Build NodeStats(virConnectPtr c, int (*get)(virConnectPtr, int, S*, int*, unsigned int), int which) {
  int n = 0;
  if (get(c, which, nullptr, &n, 0) < 0) return nullptr;
  std::vector<S> stats(static_cast<size_t>(n));
  if (n > 0 && get(c, which, stats.data(), &n, 0) < 0) return nullptr;
  std::vector<std::pair<std::string, unsigned long long>> fields;
  for (int i = 0; i < n; i++) fields.emplace_back(stats[i].field, stats[i].value);
  return [fields = std::move(fields)](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    for (const auto& [name, value] : fields) o.Set(name, BigOf(env, value));
    return o;
  };
}

Napi::Value NodeGetCPUStats(const Napi::CallbackInfo& info) {
  int cpu = IntArg(info, 1, "cpuNum");
  return OnConn(info, [cpu](virConnectPtr c, ConnRef) { return NodeStats<virNodeCPUStats>(c, virNodeGetCPUStats, cpu); });
}

Napi::Value NodeGetMemoryStats(const Napi::CallbackInfo& info) {
  int cell = IntArg(info, 1, "cellNum");
  return OnConn(info,
                [cell](virConnectPtr c, ConnRef) { return NodeStats<virNodeMemoryStats>(c, virNodeGetMemoryStats, cell); });
}

Napi::Value NodeGetCellsFreeMemory(const Napi::CallbackInfo& info) {
  int start = IntArg(info, 1, "startCell");
  int max = IntArg(info, 2, "maxCells");
  return OnConn(info, [start, max](virConnectPtr c, ConnRef) -> Build {
    std::vector<unsigned long long> free(static_cast<size_t>(max > 0 ? max : 0));
    int n = virNodeGetCellsFreeMemory(c, free.data(), start, max);
    if (n < 0) return nullptr;
    free.resize(static_cast<size_t>(n));
    return [free = std::move(free)](Napi::Env env) {
      Napi::Array arr = Napi::Array::New(env, free.size());
      for (size_t i = 0; i < free.size(); i++) arr.Set(static_cast<uint32_t>(i), BigOf(env, free[i]));
      return arr;
    };
  });
}

Napi::Value ConnectSetKeepAlive(const Napi::CallbackInfo& info) {
  int interval = IntArg(info, 1, "interval");
  unsigned int count = static_cast<unsigned int>(IntArg(info, 2, "count"));
  return OnConn(info, [interval, count](virConnectPtr c, ConnRef) {
    int rc = virConnectSetKeepAlive(c, interval, count);
    return Tri(rc == 0 ? 1 : rc);  // 1 means the driver has no keepalive: not an error
  });
}

Napi::Value ConnectGetAllDomainStats(const Napi::CallbackInfo& info) {
  unsigned int stats = FlagsArg(info, 1);
  unsigned int flags = FlagsArg(info, 2);
  return OnConn(info, [stats, flags](virConnectPtr c, ConnRef conn) -> Build {
    virDomainStatsRecordPtr* records = nullptr;
    int n = virConnectGetAllDomainStats(c, stats, &records, flags);
    if (n < 0) return nullptr;
    std::vector<std::pair<Build, Build>> rows;
    for (int i = 0; i < n; i++) {
      virDomainRef(records[i]->dom);
      rows.emplace_back(DescribeDomain(conn, records[i]->dom), CopyParams(records[i]->params, records[i]->nparams));
    }
    virDomainStatsRecordListFree(records);
    return [rows = std::move(rows)](Napi::Env env) {
      Napi::Array arr = Napi::Array::New(env, rows.size());
      for (size_t i = 0; i < rows.size(); i++) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("domain", rows[i].first(env));
        o.Set("params", rows[i].second(env));
        arr.Set(static_cast<uint32_t>(i), o);
      }
      return arr;
    };
  });
}

// virConnectListAll*(conn, &items, flags): every object of one kind, described.
template <typename P>
Napi::Value ListAll(const Napi::CallbackInfo& info, int (*list)(virConnectPtr, P**, unsigned int),
                    Build (*describe)(const ConnRef&, P)) {
  unsigned int flags = FlagsArg(info, 1);
  return OnConn(info, [flags, list, describe](virConnectPtr c, ConnRef conn) {
    P* items = nullptr;
    int n = list(c, &items, flags);
    return DescribeAll(conn, items, n, describe);
  });
}

Napi::Value ListAllDomains(const Napi::CallbackInfo& info) {
  return ListAll<virDomainPtr>(info, virConnectListAllDomains, DescribeDomain);
}

Napi::Value ListAllNetworks(const Napi::CallbackInfo& info) {
  return ListAll<virNetworkPtr>(info, virConnectListAllNetworks, DescribeNetwork);
}

Napi::Value ListAllInterfaces(const Napi::CallbackInfo& info) {
  return ListAll<virInterfacePtr>(info, virConnectListAllInterfaces, DescribeInterface);
}

Napi::Value ListAllStoragePools(const Napi::CallbackInfo& info) {
  return ListAll<virStoragePoolPtr>(info, virConnectListAllStoragePools, DescribePool);
}

// Lookups and definitions that take one string argument and return a described handle.
#define VIRTQL_BY_STRING(NAME, ARG, CALL, DESCRIBE)                                          \
  Napi::Value NAME(const Napi::CallbackInfo& info) {                                         \
    std::string arg = StrArg(info, 1, ARG);                                                  \
    return OnConn(info, [arg](virConnectPtr c, ConnRef conn) { return DESCRIBE(conn, CALL); }); \
  }
#define VIRTQL_BY_STRING_FLAGS(NAME, ARG, CALL, DESCRIBE)                                                \
  Napi::Value NAME(const Napi::CallbackInfo& info) {                                                     \
    std::string arg = StrArg(info, 1, ARG);                                                              \
    unsigned int flags = FlagsArg(info, 2);                                                              \
    return OnConn(info, [arg, flags](virConnectPtr c, ConnRef conn) { return DESCRIBE(conn, CALL); }); \
  }

VIRTQL_BY_STRING(DomainLookupByName, "name", virDomainLookupByName(c, arg.c_str()), DescribeDomain)
VIRTQL_BY_STRING(DomainLookupByUUID, "uuid", virDomainLookupByUUIDString(c, arg.c_str()), DescribeDomain)
VIRTQL_BY_STRING_FLAGS(DomainDefineXML, "xml", virDomainDefineXMLFlags(c, arg.c_str(), flags), DescribeDomain)
VIRTQL_BY_STRING_FLAGS(DomainCreateXML, "xml", virDomainCreateXML(c, arg.c_str(), flags), DescribeDomain)
VIRTQL_BY_STRING(NetworkLookupByName, "name", virNetworkLookupByName(c, arg.c_str()), DescribeNetwork)
VIRTQL_BY_STRING(NetworkLookupByUUID, "uuid", virNetworkLookupByUUIDString(c, arg.c_str()), DescribeNetwork)
VIRTQL_BY_STRING_FLAGS(NetworkDefineXML, "xml", virNetworkDefineXMLFlags(c, arg.c_str(), flags), DescribeNetwork)
VIRTQL_BY_STRING_FLAGS(NetworkCreateXML, "xml", virNetworkCreateXMLFlags(c, arg.c_str(), flags), DescribeNetwork)
VIRTQL_BY_STRING(InterfaceLookupByName, "name", virInterfaceLookupByName(c, arg.c_str()), DescribeInterface)
VIRTQL_BY_STRING(InterfaceLookupByMAC, "mac", virInterfaceLookupByMACString(c, arg.c_str()), DescribeInterface)
VIRTQL_BY_STRING_FLAGS(InterfaceDefineXML, "xml", virInterfaceDefineXML(c, arg.c_str(), flags), DescribeInterface)
VIRTQL_BY_STRING(StoragePoolLookupByName, "name", virStoragePoolLookupByName(c, arg.c_str()), DescribePool)
VIRTQL_BY_STRING(StoragePoolLookupByUUID, "uuid", virStoragePoolLookupByUUIDString(c, arg.c_str()), DescribePool)
VIRTQL_BY_STRING_FLAGS(StoragePoolDefineXML, "xml", virStoragePoolDefineXML(c, arg.c_str(), flags), DescribePool)
VIRTQL_BY_STRING_FLAGS(StoragePoolCreateXML, "xml", virStoragePoolCreateXML(c, arg.c_str(), flags), DescribePool)
VIRTQL_BY_STRING(StorageVolLookupByPath, "path", virStorageVolLookupByPath(c, arg.c_str()), DescribeVolume)
VIRTQL_BY_STRING(StorageVolLookupByKey, "key", virStorageVolLookupByKey(c, arg.c_str()), DescribeVolume)

Napi::Value DomainLookupByID(const Napi::CallbackInfo& info) {
  int id = IntArg(info, 1, "id");
  return OnConn(info, [id](virConnectPtr c, ConnRef conn) { return DescribeDomain(conn, virDomainLookupByID(c, id)); });
}

}  // namespace

void InitConnect(Napi::Env env, Exports e) {
  Export(env, e, "connectOpen", ConnectOpen);
  Export(env, e, "connectIsAlive", ConnectIsAlive);
  Export(env, e, "connectGetHostname", ConnectGetHostname);
  Export(env, e, "connectGetURI", ConnectGetURI);
  Export(env, e, "connectGetType", ConnectGetType);
  Export(env, e, "connectGetVersion", ConnectGetVersion);
  Export(env, e, "connectGetLibVersion", ConnectGetLibVersion);
  Export(env, e, "connectGetCapabilities", ConnectGetCapabilities);
  Export(env, e, "connectGetDomainCapabilities", ConnectGetDomainCapabilities);
  Export(env, e, "nodeGetInfo", NodeGetInfo);
  Export(env, e, "nodeGetFreeMemory", NodeGetFreeMemory);
  Export(env, e, "nodeGetCPUStats", NodeGetCPUStats);
  Export(env, e, "nodeGetMemoryStats", NodeGetMemoryStats);
  Export(env, e, "nodeGetCellsFreeMemory", NodeGetCellsFreeMemory);
  Export(env, e, "connectSetKeepAlive", ConnectSetKeepAlive);
  Export(env, e, "connectGetAllDomainStats", ConnectGetAllDomainStats);
  Export(env, e, "connectListAllDomains", ListAllDomains);
  Export(env, e, "connectListAllNetworks", ListAllNetworks);
  Export(env, e, "connectListAllInterfaces", ListAllInterfaces);
  Export(env, e, "connectListAllStoragePools", ListAllStoragePools);
  Export(env, e, "domainLookupByName", DomainLookupByName);
  Export(env, e, "domainLookupByUUID", DomainLookupByUUID);
  Export(env, e, "domainLookupByID", DomainLookupByID);
  Export(env, e, "domainDefineXML", DomainDefineXML);
  Export(env, e, "domainCreateXML", DomainCreateXML);
  Export(env, e, "networkLookupByName", NetworkLookupByName);
  Export(env, e, "networkLookupByUUID", NetworkLookupByUUID);
  Export(env, e, "networkDefineXML", NetworkDefineXML);
  Export(env, e, "networkCreateXML", NetworkCreateXML);
  Export(env, e, "interfaceLookupByName", InterfaceLookupByName);
  Export(env, e, "interfaceLookupByMAC", InterfaceLookupByMAC);
  Export(env, e, "interfaceDefineXML", InterfaceDefineXML);
  Export(env, e, "storagePoolLookupByName", StoragePoolLookupByName);
  Export(env, e, "storagePoolLookupByUUID", StoragePoolLookupByUUID);
  Export(env, e, "storagePoolDefineXML", StoragePoolDefineXML);
  Export(env, e, "storagePoolCreateXML", StoragePoolCreateXML);
  Export(env, e, "storageVolLookupByPath", StorageVolLookupByPath);
  Export(env, e, "storageVolLookupByKey", StorageVolLookupByKey);
}

}  // namespace virtql
