// Push-mode backups and the checkpoints incremental backups start from.
// https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainBackupBegin
// https://libvirt.org/html/libvirt-libvirt-domain-checkpoint.html
#include <vector>

#include "handles.h"

namespace virtql {

namespace {

using D = virDomainPtr;
using C = virDomainCheckpointPtr;

// virDomainBackupBegin; checkpointXml empty for none (the backup then starts no checkpoint).
Napi::Value BackupBegin(const Napi::CallbackInfo& info) {
  std::string xml = StrArg(info, 1, "backupXml");
  std::string checkpoint = OptStrArg(info, 2, "checkpointXml");
  unsigned int flags = FlagsArg(info, 3);
  return OnObject<D>(info, [xml, checkpoint, flags](D d) {
    return Void(virDomainBackupBegin(d, xml.c_str(), checkpoint.empty() ? nullptr : checkpoint.c_str(), flags));
  });
}

Napi::Value BackupGetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<D>(info, [flags](D d) { return Owned(virDomainBackupGetXMLDesc(d, flags)); });
}

// Every checkpoint of a domain with its XML, in one job: [{ name, xml }].
Napi::Value CheckpointDetails(const Napi::CallbackInfo& info) {
  unsigned int flags = FlagsArg(info, 1);
  return OnObject<D>(info, [flags](D d) -> Build {
    C* items = nullptr;
    int n = virDomainListAllCheckpoints(d, &items, 0);
    if (n < 0) return nullptr;
    std::vector<std::pair<std::string, std::string>> details;
    Build failed;
    for (int i = 0; i < n; i++) {
      if (!failed) {
        char* xml = virDomainCheckpointGetXMLDesc(items[i], flags);
        if (xml == nullptr) {
          VirError err = VirError::Capture();
          if (err.code != VIR_ERR_NO_DOMAIN_CHECKPOINT) failed = Fail(err);
        } else {
          details.emplace_back(virDomainCheckpointGetName(items[i]), xml);
        }
        free(xml);
      }
      virDomainCheckpointFree(items[i]);
    }
    free(items);
    if (failed) return failed;
    return [details = std::move(details)](Napi::Env env) {
      Napi::Array out = Napi::Array::New(env, details.size());
      for (size_t i = 0; i < details.size(); i++) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", details[i].first);
        o.Set("xml", details[i].second);
        out.Set(static_cast<uint32_t>(i), o);
      }
      return out;
    };
  });
}

// Looks the checkpoint up and deletes it in one job, so JS holds no checkpoint handle.
Napi::Value CheckpointDelete(const Napi::CallbackInfo& info) {
  std::string name = StrArg(info, 1, "name");
  unsigned int flags = FlagsArg(info, 2);
  return OnObject<D>(info, [name, flags](D d) -> Build {
    C c = virDomainCheckpointLookupByName(d, name.c_str(), 0);
    if (c == nullptr) return nullptr;
    int rc = virDomainCheckpointDelete(c, flags);
    Build result = rc < 0 ? Fail(VirError::Capture()) : Void(rc);
    virDomainCheckpointFree(c);
    return result;
  });
}

}  // namespace

void InitBackup(Napi::Env env, Exports e) {
  Export(env, e, "domainBackupBegin", BackupBegin);
  Export(env, e, "domainBackupGetXMLDesc", BackupGetXMLDesc);
  Export(env, e, "domainCheckpointDetails", CheckpointDetails);
  Export(env, e, "domainCheckpointDelete", CheckpointDelete);
}

}  // namespace virtql
