// virtql's libvirt binding: calls async on threads of their own per connection (others on the libuv pool), events from libvirt's own loop.
#include "events.h"

namespace virtql {

void InitConnect(Napi::Env env, Exports exports);
void InitDomain(Napi::Env env, Exports exports);
void InitNetwork(Napi::Env env, Exports exports);
void InitInterface(Napi::Env env, Exports exports);
void InitStorage(Napi::Env env, Exports exports);
void InitSnapshot(Napi::Env env, Exports exports);
void InitBlockJob(Napi::Env env, Exports exports);
void InitBackup(Napi::Env env, Exports exports);
void InitStream(Napi::Env env, Exports exports);
void InitVolumeStream(Napi::Env env, Exports exports);
void InitNodeDevice(Napi::Env env, Exports exports);
void InitSecret(Napi::Env env, Exports exports);
void InitXmlTree(Napi::Env env, Exports exports);
void InitXmlSchema(Napi::Env env, Exports exports);

namespace {

// libvirt prints every error to stderr by default; errors reach JS as rejections instead.
void Quiet(void*, virErrorPtr) {}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (virInitialize() < 0) throw Napi::Error::New(env, "libvirt failed to initialize");
  virSetErrorFunc(nullptr, Quiet);
  StartEventLoop();
  InitConnect(env, exports);
  InitDomain(env, exports);
  InitNetwork(env, exports);
  InitInterface(env, exports);
  InitStorage(env, exports);
  InitSnapshot(env, exports);
  InitBlockJob(env, exports);
  InitBackup(env, exports);
  InitStream(env, exports);
  InitVolumeStream(env, exports);
  InitNodeDevice(env, exports);
  InitSecret(env, exports);
  InitXmlTree(env, exports);
  InitXmlSchema(env, exports);
  InitEvents(env, exports);
  unsigned long version = 0;
  virGetVersion(&version, nullptr, nullptr);
  exports.Set("libraryVersion", Napi::Number::New(env, static_cast<double>(version)));
  return exports;
}

}  // namespace virtql

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return virtql::Init(env, exports); }

NODE_API_MODULE(virtql_native, InitAddon)
