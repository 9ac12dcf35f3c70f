// virStoragePool* and virStorageVol*: pools, their lifecycle and their volumes.
#include "handles.h"

namespace virtql {

namespace {

using P = virStoragePoolPtr;
using V = virStorageVolPtr;

Build PoolInfoOf(P p) {
  virStoragePoolInfo i;
  if (virStoragePoolGetInfo(p, &i) < 0) return nullptr;
  return [i](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("state", i.state);
    o.Set("capacityBytes", BigOf(env, i.capacity));
    o.Set("allocationBytes", BigOf(env, i.allocation));
    o.Set("availableBytes", BigOf(env, i.available));
    return o;
  };
}

Napi::Value PoolGetInfo(const Napi::CallbackInfo& info) { return OnObject<P>(info, PoolInfoOf); }

Napi::Value PoolGetInfoMany(const Napi::CallbackInfo& info) { return OnMany<P>(info, PoolInfoOf); }

Napi::Value PoolGetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<P>(info, [flags](P p) { return Owned(virStoragePoolGetXMLDesc(p, flags)); });
}

Napi::Value PoolGetXMLDescMany(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnMany<P>(info, [flags](P p) { return Owned(virStoragePoolGetXMLDesc(p, flags)); });
}

Napi::Value PoolIsActive(const Napi::CallbackInfo& info) {
  return OnObject<P>(info, [](P p) { return Tri(virStoragePoolIsActive(p)); });
}

Napi::Value PoolIsPersistent(const Napi::CallbackInfo& info) {
  return OnObject<P>(info, [](P p) { return Tri(virStoragePoolIsPersistent(p)); });
}

Napi::Value PoolGetAutostart(const Napi::CallbackInfo& info) {
  return OnObject<P>(info, [](P p) -> Build {
    int on = 0;
    return virStoragePoolGetAutostart(p, &on) < 0 ? nullptr : Tri(on);
  });
}

Napi::Value PoolSetAutostart(const Napi::CallbackInfo& info) {
  bool on = BoolArg(info, 1, "autostart");
  return OnObject<P>(info, [on](P p) { return Void(virStoragePoolSetAutostart(p, on ? 1 : 0)); });
}

// Pool actions of the form virStoragePoolX(pool, flags) → int.
#define VIRTQL_POOL_ACTION(NAME, CALL)                                   \
  Napi::Value NAME(const Napi::CallbackInfo& info) {                     \
    unsigned int flags = FlagsArg(info, 1);                              \
    return OnObject<P>(info, [flags](P p) { return Void(CALL(p, flags)); });  \
  }

VIRTQL_POOL_ACTION(PoolCreate, virStoragePoolCreate)
VIRTQL_POOL_ACTION(PoolBuild, virStoragePoolBuild)
VIRTQL_POOL_ACTION(PoolRefresh, virStoragePoolRefresh)
VIRTQL_POOL_ACTION(PoolDelete, virStoragePoolDelete)

Napi::Value PoolDestroy(const Napi::CallbackInfo& info) {
  return OnObject<P>(info, [](P p) { return Void(virStoragePoolDestroy(p)); });
}

Napi::Value PoolUndefine(const Napi::CallbackInfo& info) {
  return OnObject<P>(info, [](P p) { return Void(virStoragePoolUndefine(p)); });
}

Build VolumesOf(P p, const ConnRef& conn) {
  virStorageVolPtr* items = nullptr;
  int n = virStoragePoolListAllVolumes(p, &items, 0);
  return DescribeAll(conn, items, n, DescribeVolume);
}

Napi::Value PoolListAllVolumes(const Napi::CallbackInfo& info) { return OnHandle<P>(info, VolumesOf); }

Napi::Value PoolListAllVolumesMany(const Napi::CallbackInfo& info) {
  if (!info[0].IsArray() || info[0].As<Napi::Array>().Length() == 0) return OnMany<P>(info, nullptr);
  Napi::Array pools = info[0].As<Napi::Array>();
  ConnRef conn = Unwrap<P>(pools.Get(0u))->conn;
  for (uint32_t i = 1; i < pools.Length(); i++) {
    if (Unwrap<P>(pools.Get(i))->conn != conn) throw Napi::TypeError::New(info.Env(), "pools must share one connection");
  }
  return OnMany<P>(info, [conn](P p) { return VolumesOf(p, conn); });
}

Napi::Value VolLookupByName(const Napi::CallbackInfo& info) {
  std::string name = StrArg(info, 1, "name");
  return OnHandle<P>(info, [name](P p, ConnRef conn) {
    return DescribeVolume(conn, virStorageVolLookupByName(p, name.c_str()));
  });
}

Napi::Value VolCreateXML(const Napi::CallbackInfo& info) {
  std::string xml = StrArg(info, 1, "xml");
  unsigned int flags = FlagsArg(info, 2);
  return OnHandle<P>(info, [xml, flags](P p, ConnRef conn) {
    return DescribeVolume(conn, virStorageVolCreateXML(p, xml.c_str(), flags));
  });
}

Build VolInfoOf(V v) {
  virStorageVolInfo i;
  if (virStorageVolGetInfo(v, &i) < 0) return nullptr;
  return [i](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", i.type);
    o.Set("capacityBytes", BigOf(env, i.capacity));
    o.Set("allocationBytes", BigOf(env, i.allocation));
    return o;
  };
}

Build VolXMLOf(V v) { return Owned(virStorageVolGetXMLDesc(v, 0)); }

Napi::Value VolGetInfo(const Napi::CallbackInfo& info) { return OnObject<V>(info, VolInfoOf); }

// The bytes the volume's storage holds as a file or device (virStorageVolGetInfoFlags with
// VIR_STORAGE_VOL_GET_PHYSICAL): what virStorageVolDownload reads, which for a qcow2 is not its capacity.
Napi::Value VolGetPhysical(const Napi::CallbackInfo& info) {
  return OnObject<V>(info, [](V v) -> Build {
    virStorageVolInfo i;
    if (virStorageVolGetInfoFlags(v, &i, VIR_STORAGE_VOL_GET_PHYSICAL) < 0) return nullptr;
    return Big(i.allocation);
  });
}

Napi::Value VolGetInfoMany(const Napi::CallbackInfo& info) { return OnMany<V>(info, VolInfoOf); }

Napi::Value VolGetXMLDesc(const Napi::CallbackInfo& info) { return OnObject<V>(info, VolXMLOf); }

Napi::Value VolGetXMLDescMany(const Napi::CallbackInfo& info) { return OnMany<V>(info, VolXMLOf); }

Napi::Value VolGetPath(const Napi::CallbackInfo& info) {
  return OnObject<V>(info, [](V v) { return Owned(virStorageVolGetPath(v)); });
}

Napi::Value VolDelete(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<V>(info, [flags](V v) { return Void(virStorageVolDelete(v, flags)); });
}

Napi::Value VolGetPool(const Napi::CallbackInfo& info) {
  return OnHandle<V>(info, [](V v, ConnRef conn) { return DescribePool(conn, virStoragePoolLookupByVolume(v)); });
}

// virStorageVolCreateXMLFrom: a new volume in this pool (argument 0) with the contents of `from`.
Napi::Value VolCreateXMLFrom(const Napi::CallbackInfo& info) {
  std::string xml = StrArg(info, 1, "xml");
  Handle<V>* from = Unwrap<V>(info[2]);
  unsigned int flags = FlagsArg(info, 3);
  V source = from->ptr;
  virStorageVolRef(source);
  return OnHandle<P>(
      info,
      [xml, source, flags](P p, ConnRef conn) {
        Build b = DescribeVolume(conn, virStorageVolCreateXMLFrom(p, xml.c_str(), source, flags));
        if (!b) {
          VirError err = VirError::Capture();
          virStorageVolFree(source);
          return Fail(err);
        }
        virStorageVolFree(source);
        return b;
      });
}

Napi::Value VolResize(const Napi::CallbackInfo& info) {
  unsigned long long capacity = U64Arg(info, 1, "capacity");
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<V>(info, [capacity, flags](V v) { return Void(virStorageVolResize(v, capacity, flags)); });
}

Napi::Value VolWipe(const Napi::CallbackInfo& info) {
  unsigned int algorithm = static_cast<unsigned int>(IntArg(info, 1, "algorithm"));
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<V>(info, [algorithm, flags](V v) { return Void(virStorageVolWipePattern(v, algorithm, flags)); });
}

}  // namespace

void InitStorage(Napi::Env env, Exports e) {
  Export(env, e, "storagePoolGetInfo", PoolGetInfo);
  Export(env, e, "storagePoolGetInfoMany", PoolGetInfoMany);
  Export(env, e, "storagePoolGetXMLDescMany", PoolGetXMLDescMany);
  Export(env, e, "storagePoolListAllVolumesMany", PoolListAllVolumesMany);
  Export(env, e, "storageVolGetInfoMany", VolGetInfoMany);
  Export(env, e, "storageVolGetXMLDescMany", VolGetXMLDescMany);
  Export(env, e, "storagePoolGetXMLDesc", PoolGetXMLDesc);
  Export(env, e, "storagePoolIsActive", PoolIsActive);
  Export(env, e, "storagePoolIsPersistent", PoolIsPersistent);
  Export(env, e, "storagePoolGetAutostart", PoolGetAutostart);
  Export(env, e, "storagePoolSetAutostart", PoolSetAutostart);
  Export(env, e, "storagePoolCreate", PoolCreate);
  Export(env, e, "storagePoolBuild", PoolBuild);
  Export(env, e, "storagePoolRefresh", PoolRefresh);
  Export(env, e, "storagePoolDelete", PoolDelete);
  Export(env, e, "storagePoolDestroy", PoolDestroy);
  Export(env, e, "storagePoolUndefine", PoolUndefine);
  Export(env, e, "storagePoolListAllVolumes", PoolListAllVolumes);
  Export(env, e, "storageVolLookupByName", VolLookupByName);
  Export(env, e, "storageVolCreateXML", VolCreateXML);
  Export(env, e, "storageVolGetInfo", VolGetInfo);
  Export(env, e, "storageVolGetPhysical", VolGetPhysical);
  Export(env, e, "storageVolGetXMLDesc", VolGetXMLDesc);
  Export(env, e, "storageVolGetPath", VolGetPath);
  Export(env, e, "storageVolDelete", VolDelete);
  Export(env, e, "storageVolGetPool", VolGetPool);
  Export(env, e, "storageVolCreateXMLFrom", VolCreateXMLFrom);
  Export(env, e, "storageVolResize", VolResize);
  Export(env, e, "storageVolWipe", VolWipe);
}

}  // namespace virtql
