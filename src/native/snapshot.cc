// virDomainSnapshot*: create, list, read, revert and delete a domain's snapshots.
// https://libvirt.org/html/libvirt-libvirt-domain-snapshot.html
#include <vector>

#include "handles.h"

namespace virtql {

namespace {

using D = virDomainPtr;
using S = virDomainSnapshotPtr;

Napi::Value CreateXML(const Napi::CallbackInfo& info) {
  std::string xml = StrArg(info, 1, "xml");
  unsigned int flags = FlagsArg(info, 2);
  return OnHandle<D>(info, [xml, flags](D d, ConnRef conn) {
    return DescribeSnapshot(conn, virDomainSnapshotCreateXML(d, xml.c_str(), flags));
  });
}

// A domain's snapshots (virDomainListAllSnapshots) or a snapshot's children
// (virDomainSnapshotListAllChildren): the same list of the same objects from a different parent.
template <typename H, int (*List)(H, S**, unsigned int)>
Napi::Value ListSnapshots(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnHandle<H>(info, [flags](H h, ConnRef conn) {
    S* items = nullptr;
    int n = List(h, &items, flags);
    return DescribeAll(conn, items, n, DescribeSnapshot);
  });
}

Napi::Value LookupByName(const Napi::CallbackInfo& info) {
  std::string name = StrArg(info, 1, "name");
  return OnHandle<D>(info, [name](D d, ConnRef conn) {
    return DescribeSnapshot(conn, virDomainSnapshotLookupByName(d, name.c_str(), 0));
  });
}

Napi::Value Current(const Napi::CallbackInfo& info) {
  return OnHandle<D>(info, [](D d, ConnRef conn) { return DescribeSnapshot(conn, virDomainSnapshotCurrent(d, 0)); });
}

Napi::Value HasCurrent(const Napi::CallbackInfo& info) {
  return OnObject<D>(info, [](D d) { return Tri(virDomainHasCurrentSnapshot(d, 0)); });
}

struct Detail {
  std::string name;
  std::string xml;
  bool current;
};

// Every snapshot of a domain with its XML and whether it is current, in one pool job. A snapshot
// deleted between the list and its read is left out: it no longer exists.
Build DetailsOf(D d, unsigned int xmlFlags) {
  S* items = nullptr;
  int n = virDomainListAllSnapshots(d, &items, 0);
  if (n < 0) return nullptr;
  std::vector<Detail> details;
  Build failed;
  for (int i = 0; i < n; i++) {
    S s = items[i];
    if (!failed) {
      char* xml = virDomainSnapshotGetXMLDesc(s, xmlFlags);
      int current = xml == nullptr ? -1 : virDomainSnapshotIsCurrent(s, 0);
      if (xml == nullptr || current < 0) {
        VirError err = VirError::Capture();
        if (err.code != VIR_ERR_NO_DOMAIN_SNAPSHOT) failed = Fail(err);
      } else {
        details.push_back({virDomainSnapshotGetName(s), xml, current == 1});
      }
      free(xml);
    }
    virDomainSnapshotFree(s);
  }
  free(items);
  if (failed) return failed;
  return [details = std::move(details)](Napi::Env env) {
    Napi::Array out = Napi::Array::New(env, details.size());
    for (size_t i = 0; i < details.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", details[i].name);
      o.Set("xml", details[i].xml);
      o.Set("current", details[i].current);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  };
}

Napi::Value DetailsMany(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnMany<D>(info, [flags](D d) { return DetailsOf(d, flags); });
}

Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<S>(info, [flags](S s) { return Owned(virDomainSnapshotGetXMLDesc(s, flags)); });
}

Napi::Value GetParent(const Napi::CallbackInfo& info) {
  return OnHandle<S>(info, [](S s, ConnRef conn) { return DescribeSnapshot(conn, virDomainSnapshotGetParent(s, 0)); });
}

Napi::Value IsCurrent(const Napi::CallbackInfo& info) {
  return OnObject<S>(info, [](S s) { return Tri(virDomainSnapshotIsCurrent(s, 0)); });
}

Napi::Value Revert(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<S>(info, [flags](S s) { return Void(virDomainRevertToSnapshot(s, flags)); });
}

Napi::Value Delete(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<S>(info, [flags](S s) { return Void(virDomainSnapshotDelete(s, flags)); });
}

}  // namespace

void InitSnapshot(Napi::Env env, Exports e) {
  Export(env, e, "domainSnapshotCreateXML", CreateXML);
  Export(env, e, "domainListAllSnapshots", ListSnapshots<D, virDomainListAllSnapshots>);
  Export(env, e, "domainSnapshotLookupByName", LookupByName);
  Export(env, e, "domainSnapshotCurrent", Current);
  Export(env, e, "domainHasCurrentSnapshot", HasCurrent);
  Export(env, e, "domainSnapshotDetailsMany", DetailsMany);
  Export(env, e, "domainSnapshotGetXMLDesc", GetXMLDesc);
  Export(env, e, "domainSnapshotGetParent", GetParent);
  Export(env, e, "domainSnapshotIsCurrent", IsCurrent);
  Export(env, e, "domainSnapshotListAllChildren", ListSnapshots<S, virDomainSnapshotListAllChildren>);
  Export(env, e, "domainRevertToSnapshot", Revert);
  Export(env, e, "domainSnapshotDelete", Delete);
}

}  // namespace virtql
