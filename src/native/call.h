// Async calls onto per-connection threads (lanes) or the libuv pool, with libvirt's error captured on the calling thread.
#pragma once
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace virtql {

struct VirError {
  int code = VIR_ERR_INTERNAL_ERROR;
  int domain = VIR_FROM_NONE;
  int level = VIR_ERR_ERROR;
  std::string message;

  // Must run right after the failing call: the next libvirt call, even a free, resets it.
  static VirError Capture();
  static VirError Of(int code, std::string message);
};

Napi::Value ToJs(Napi::Env env, const VirError& err);

// Builds the JS result on the main thread from data gathered on the pool.
using Build = std::function<Napi::Value(Napi::Env)>;
// Runs on the pool; returns nullptr when libvirt failed (the error is captured then).
using Work = std::function<Build()>;

// Threads of their own for the calls of one libvirt connection (or one open), off the libuv pool.
// A host whose daemon hangs (stopped, restarting, unreachable until keepalive gives up) then ties
// up only its own lane's threads, never the pool other hosts' calls and Node's fs/crypto need.
// At most `maxThreads` run at once; the rest queue. libvirtd serves 5 calls of a client at once
// (max_client_requests), so more threads would only wait inside libvirt.
class Lane;
std::shared_ptr<Lane> NewLane(int maxThreads);

// Queues work and returns a promise. `release` runs after the error is captured, on the same
// thread as the work: the libuv pool, or the lane's threads when a lane is given.
Napi::Value Run(Napi::Env env, Work work, std::function<void()> release = nullptr,
                std::shared_ptr<Lane> lane = nullptr);
Napi::Value Rejected(Napi::Env env, const VirError& err);

// Builders for the common shapes of libvirt return values.
Build Void(int rc);
Build Tri(int rc);  // 1 / 0 / -1 → true / false / failure
Build Int(long long rc);  // negative → failure
Build Num(double v);      // any number, never a failure
Build Owned(char* s);  // takes a malloc'd string; nullptr → failure
Build Text(std::string s);
Build Big(unsigned long long v);
Build Fail(VirError err);        // rejects with an error captured earlier
Build ErrorValue(VirError err);  // resolves to the error as a value (a slot of a batch)
Napi::Value BigOf(Napi::Env env, unsigned long long v);

// Argument readers: throw a TypeError naming the argument when it has the wrong type.
// Every string argument goes through NoNul: a TypeError when it contains a NUL byte.
std::string NoNul(Napi::Env env, std::string s, const std::string& name);
std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string OptStrArg(const Napi::CallbackInfo& info, size_t i, const char* name);
unsigned int FlagsArg(const Napi::CallbackInfo& info, size_t i);
int IntArg(const Napi::CallbackInfo& info, size_t i, const char* name);
unsigned long long U64Arg(const Napi::CallbackInfo& info, size_t i, const char* name);
bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace virtql

namespace virtql {
// Copies libvirt typed parameters (the caller still frees them) into a builder of a plain
// object: int/uint/double → number, llong/ullong → bigint, boolean, string.
Build CopyParams(virTypedParameterPtr params, int n);
}  // namespace virtql
