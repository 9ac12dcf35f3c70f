// Block jobs of a running domain's disks: resize, copy, commit, pull, their progress and their end.
// https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainBlockCopy
#include "handles.h"

namespace virtql {

namespace {

using D = virDomainPtr;

// NULL for an empty string: libvirt reads a NULL base/top as "the default layer".
const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

Napi::Value Resize(const Napi::CallbackInfo& info) {
  std::string disk = StrArg(info, 1, "disk");
  unsigned long long size = U64Arg(info, 2, "size");
  unsigned int flags = FlagsArg(info, 3);
  return OnObject<D>(info, [disk, size, flags](D d) { return Void(virDomainBlockResize(d, disk.c_str(), size, flags)); });
}

// virDomainBlockCopy into the image a <disk> XML describes, with an optional bandwidth limit in
// bytes/s (0: none).
Napi::Value Copy(const Napi::CallbackInfo& info) {
  std::string disk = StrArg(info, 1, "disk");
  std::string xml = StrArg(info, 2, "destXml");
  unsigned long long bandwidth = U64Arg(info, 3, "bandwidth");
  unsigned int flags = FlagsArg(info, 4);
  return OnObject<D>(info, [disk, xml, bandwidth, flags](D d) -> Build {
    virTypedParameterPtr params = nullptr;
    int n = 0;
    int max = 0;
    if (bandwidth > 0 && virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_BLOCK_COPY_BANDWIDTH, bandwidth) < 0) {
      return nullptr;
    }
    int rc = virDomainBlockCopy(d, disk.c_str(), xml.c_str(), params, n, flags);
    // A failure's error is captured before the free, which may reset it.
    Build result = rc < 0 ? Fail(VirError::Capture()) : Void(rc);
    virTypedParamsFree(params, n);
    return result;
  });
}

Napi::Value Commit(const Napi::CallbackInfo& info) {
  std::string disk = StrArg(info, 1, "disk");
  std::string base = OptStrArg(info, 2, "base");
  std::string top = OptStrArg(info, 3, "top");
  unsigned int flags = FlagsArg(info, 4);
  return OnObject<D>(info, [disk, base, top, flags](D d) {
    return Void(virDomainBlockCommit(d, disk.c_str(), OrNull(base), OrNull(top), 0, flags));
  });
}

Napi::Value Pull(const Napi::CallbackInfo& info) {
  std::string disk = StrArg(info, 1, "disk");
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [disk, flags](D d) { return Void(virDomainBlockPull(d, disk.c_str(), 0, flags)); });
}

// The disk's job, or null when it has none (libvirt answers 0 then).
Napi::Value GetInfo(const Napi::CallbackInfo& info) {
  std::string disk = StrArg(info, 1, "disk");
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [disk, flags](D d) -> Build {
    virDomainBlockJobInfo job{};
    int rc = virDomainGetBlockJobInfo(d, disk.c_str(), &job, flags);
    if (rc < 0) return nullptr;
    if (rc == 0) return [](Napi::Env env) { return env.Null(); };
    return [job](Napi::Env env) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", job.type);
      o.Set("bandwidth", BigOf(env, job.bandwidth));
      o.Set("cur", BigOf(env, job.cur));
      o.Set("end", BigOf(env, job.end));
      return o;
    };
  });
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  std::string disk = StrArg(info, 1, "disk");
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [disk, flags](D d) { return Void(virDomainBlockJobAbort(d, disk.c_str(), flags)); });
}

}  // namespace

void InitBlockJob(Napi::Env env, Exports e) {
  Export(env, e, "domainBlockResize", Resize);
  Export(env, e, "domainBlockCopy", Copy);
  Export(env, e, "domainBlockCommit", Commit);
  Export(env, e, "domainBlockPull", Pull);
  Export(env, e, "domainGetBlockJobInfo", GetInfo);
  Export(env, e, "domainBlockJobAbort", Abort);
}

}  // namespace virtql
