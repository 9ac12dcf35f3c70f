// Volume data through libvirt streams: virStorageVolUpload and virStorageVolDownload.
// https://libvirt.org/html/libvirt-libvirt-storage.html#virStorageVolUpload
//
// A transfer's stream is blocking, and each call below is one job on the connection's lane: a
// send of one buffer, or a receive of up to one buffer. JS issues the next job only once the
// previous one settled and the other side (the HTTP body or response) is ready, so the memory
// a transfer holds is one buffer whatever the volume's size, and Node's thread never waits.
// Holes: upload turns runs of zero blocks into virStreamSendHole (sparse flag), download stops at
// holes (VIR_STREAM_RECV_STOP_AT_HOLE) and hands JS their length instead of their zeros. Both
// read and write JS's buffers in place: nothing is allocated or copied per job.
// Each job also feeds a SHA-256 of the bytes (holes as zeros) with Node's own OpenSSL, so the
// digest the audit records costs Node's thread nothing.
#include <openssl/evp.h>

#include <atomic>
#include <cstring>
#include <string>

#include "handles.h"

namespace virtql {

namespace {

const napi_type_tag kTransferTag = {0x7669727471000011ULL, 0x7472616e73666572ULL};

// libvirt's own stream buffer (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX): one message per send.
constexpr size_t kPiece = 256 * 1024;
// Zero runs shorter than this go as data: a hole costs the daemon a seek and a truncate.
constexpr size_t kMinHole = 64 * 1024;
constexpr size_t kBlock = 4096;
constexpr size_t kMaxRecv = 16 * 1024 * 1024;

const char kZeros[kPiece] = {};

struct Transfer {
  ConnRef conn;
  virStreamPtr st = nullptr;
  std::atomic<bool> done{false};  // finished or aborted: no more calls
  bool eof = false;                // only the one job in flight touches it (as `md`, `zerosToHash`)
  EVP_MD_CTX* md = EVP_MD_CTX_new();

  Transfer() { EVP_DigestInit_ex(md, EVP_sha256(), nullptr); }

  // Zeros of holes received but not hashed yet: the job that reads a hole hands it to JS at once,
  // and the next job hashes them while JS writes the hole's zeros out.
  unsigned long long zerosToHash = 0;

  static void HashZeros(EVP_MD_CTX* ctx, unsigned long long n) {
    while (n > 0) {
      size_t k = n < kPiece ? static_cast<size_t>(n) : kPiece;
      EVP_DigestUpdate(ctx, kZeros, k);
      n -= k;
    }
  }

  void FlushZeros() {
    HashZeros(md, zerosToHash);
    zerosToHash = 0;
  }

  ~Transfer() {
    EVP_MD_CTX_free(md);
    virStreamPtr p = st;
    if (p == nullptr) return;
    bool open = !done;
    // Dropped without finish or abort (a bug, or process exit): abort, or the daemon keeps waiting.
    Reap([p, open] {
      if (open) virStreamAbort(p);
      virStreamFree(p);
    });
  }
};
using TransferRef = std::shared_ptr<Transfer>;

Napi::Value WrapTransfer(Napi::Env env, TransferRef t) {
  auto ext =
      Napi::External<TransferRef>::New(env, new TransferRef(std::move(t)), [](Napi::Env, TransferRef* r) { delete r; });
  napi_type_tag_object(env, ext, &kTransferTag);
  return ext;
}

TransferRef UnwrapTransfer(const Napi::Value& v) {
  bool ok = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &kTransferTag, &ok);
  if (!ok) throw Napi::TypeError::New(v.Env(), "expected a volume transfer handle");
  return *v.As<Napi::External<TransferRef>>().Data();
}

bool IsZero(const char* p, size_t n) { return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0); }

// virStreamSend until all of it went, one libvirt message at a time.
bool SendAll(virStreamPtr st, const char* p, size_t n) {
  while (n > 0) {
    int sent = virStreamSend(st, p, n < kPiece ? n : kPiece);
    if (sent < 0) return false;
    p += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

bool SendZeros(virStreamPtr st, size_t n) {
  while (n > 0) {
    size_t k = n < kPiece ? n : kPiece;
    if (!SendAll(st, kZeros, k)) return false;
    n -= k;
  }
  return true;
}

// Opens an upload or a download: (volume, offset, length, flags[, previous]) → transfer handle.
// `previous` (a finished transfer) hands its SHA-256 on: a download read window by window hashes
// as one transfer.
Napi::Value Open(const Napi::CallbackInfo& info, bool upload) {
  unsigned long long offset = U64Arg(info, 1, "offset");
  unsigned long long length = U64Arg(info, 2, "length");
  unsigned int flags = FlagsArg(info, 3);
  TransferRef previous = info.Length() > 4 && !info[4].IsUndefined() ? UnwrapTransfer(info[4]) : nullptr;
  return OnHandle<virStorageVolPtr>(
      info, [offset, length, flags, upload, previous](virStorageVolPtr v, ConnRef conn) -> Build {
        auto t = std::make_shared<Transfer>();
        t->conn = conn;
        // No job of `previous` runs: its caller opens the next window only once it ended.
        if (previous) {
          EVP_MD_CTX_copy_ex(t->md, previous->md);
          t->zerosToHash = previous->zerosToHash;
        }
        t->st = virStreamNew(conn->ptr, 0);
        if (t->st == nullptr) return nullptr;
        int rc = upload ? virStorageVolUpload(v, t->st, offset, length, flags)
                        : virStorageVolDownload(v, t->st, offset, length, flags);
        if (rc < 0) {
          VirError err = VirError::Capture();
          t->done = true;  // never started: nothing to abort
          return Fail(err);
        }
        return [t](Napi::Env env) { return WrapTransfer(env, t); };
      });
}

Napi::Value Upload(const Napi::CallbackInfo& info) { return Open(info, true); }
Napi::Value Download(const Napi::CallbackInfo& info) { return Open(info, false); }

Napi::Value Closed(Napi::Env env) {
  return Rejected(env, VirError::Of(VIR_ERR_OPERATION_INVALID, "the volume transfer is over"));
}

// transferSend(t, data, sparse, heldZeros) → the zero bytes at the end of `data` not sent yet.
// `data` is read on the lane as it is: it must stay alive and unchanged until the promise settles.
// With `sparse`, zero runs of kMinHole or more become holes; a trailing run is held back (its
// length returned), to join the next buffer's leading zeros or be sent by the caller at the end:
// a hole makes the daemon truncate the file where it ends, so the last one must be the volume's end.
// `heldZeros` (what the previous call returned) precede `data`.
Napi::Value Send(const Napi::CallbackInfo& info) {
  TransferRef t = UnwrapTransfer(info[0]);
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(info.Env(), "data must be a Buffer");
  auto buf = info[1].As<Napi::Buffer<char>>();
  bool sparse = BoolArg(info, 2, "sparse");
  double held = info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : 0;
  if (t->done) return Closed(info.Env());
  // Read in place, not copied: the caller keeps `data` alive and unchanged until the promise settles.
  const char* p = buf.Data();
  size_t n = buf.Length();
  auto zeros0 = static_cast<size_t>(held < 0 ? 0 : held);
  return Run(
      info.Env(),
      [t, p, n, sparse, zeros0]() -> Build {
        virStreamPtr st = t->st;
        EVP_DigestUpdate(t->md, p, n);
        if (!sparse) {
          if (!SendZeros(st, zeros0) || !SendAll(st, p, n)) return nullptr;
          return Num(0);
        }
        size_t zeros = zeros0;  // zero bytes not sent, just before block i
        size_t ds = 0, de = 0;  // the data run not sent yet: [ds, de)
        bool haveData = false;
        for (size_t i = 0; i < n; i += kBlock) {
          size_t len = n - i < kBlock ? n - i : kBlock;
          if (IsZero(p + i, len)) {
            zeros += len;
            continue;
          }
          if (zeros >= kMinHole) {
            if (haveData && !SendAll(st, p + ds, de - ds)) return nullptr;
            if (virStreamSendHole(st, static_cast<long long>(zeros), 0) < 0) return nullptr;
            haveData = false;
          } else if (zeros > 0 && !haveData) {
            if (!SendZeros(st, zeros)) return nullptr;  // held or leading zeros, too short for a hole
          }
          if (!haveData) {
            ds = i;
            haveData = true;
          }
          de = i + len;  // a short zero run between data stays in the run
          zeros = 0;
        }
        if (haveData && !SendAll(st, p + ds, de - ds)) return nullptr;
        return Num(static_cast<double>(zeros));
      },
      nullptr, t->conn->lane);
}

// transferSendHole(t, length): a hole of `length` bytes (the volume's tail).
Napi::Value SendHole(const Napi::CallbackInfo& info) {
  TransferRef t = UnwrapTransfer(info[0]);
  unsigned long long length = U64Arg(info, 1, "length");
  if (t->done) return Closed(info.Env());
  return Run(
      info.Env(), [t, length] { return Void(virStreamSendHole(t->st, static_cast<long long>(length), 0)); }, nullptr,
      t->conn->lane);
}

// transferRecv(t, into) → the number of bytes read into `into` (at least 1), a hole's length
// (bigint), or null at the end. `into` is written on the lane in place: the caller keeps it alive
// and untouched until the promise settles, and reuses it after, so a download allocates nothing
// per read.
Napi::Value Recv(const Napi::CallbackInfo& info) {
  TransferRef t = UnwrapTransfer(info[0]);
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(info.Env(), "into must be a Buffer");
  auto into = info[1].As<Napi::Buffer<char>>();
  if (into.Length() < 1 || into.Length() > kMaxRecv) {
    throw Napi::RangeError::New(info.Env(), "into must hold 1 byte to 16 MiB");
  }
  char* buf = into.Data();
  size_t max = into.Length();
  if (t->done) return Closed(info.Env());
  return Run(
      info.Env(),
      [t, buf, max]() -> Build {
        t->FlushZeros();
        if (t->eof) return [](Napi::Env env) { return env.Null(); };
        size_t got = 0;
        long long hole = -1;
        while (got < max) {
          int n = virStreamRecvFlags(t->st, buf + got, max - got, VIR_STREAM_RECV_STOP_AT_HOLE);
          if (n > 0) {
            got += static_cast<size_t>(n);
            continue;
          }
          if (n == 0) {
            t->eof = true;
            break;
          }
          if (n == -3) {
            if (got > 0) break;  // the hole comes next time
            if (virStreamRecvHole(t->st, &hole, 0) < 0) return nullptr;
            break;
          }
          return nullptr;
        }
        if (got > 0) {
          EVP_DigestUpdate(t->md, buf, got);
          return Num(static_cast<double>(got));
        }
        if (hole >= 0) {
          t->zerosToHash += static_cast<unsigned long long>(hole);
          return Big(static_cast<unsigned long long>(hole));
        }
        return [](Napi::Env env) { return env.Null(); };
      },
      nullptr, t->conn->lane);
}

// transferEnd(t, abort): virStreamFinish (all sent or received) or virStreamAbort. Idempotent.
Napi::Value End(const Napi::CallbackInfo& info) {
  TransferRef t = UnwrapTransfer(info[0]);
  bool abort = BoolArg(info, 1, "abort");
  if (t->done.exchange(true)) return Run(info.Env(), [] { return Void(0); });
  return Run(
      info.Env(),
      [t, abort]() -> Build {
        if (abort) {
          virStreamAbort(t->st);
          virResetLastError();
          return Void(0);
        }
        t->FlushZeros();
        return Void(virStreamFinish(t->st));
      },
      nullptr, t->conn->lane);
}

// transferSha256(t) → hex: the SHA-256 of every byte sent or received so far (holes as zeros).
// Synchronous: call it only while no job of the transfer is in flight.
Napi::Value Sha256(const Napi::CallbackInfo& info) {
  TransferRef t = UnwrapTransfer(info[0]);
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX_copy_ex(copy, t->md);
  Transfer::HashZeros(copy, t->zerosToHash);  // none once the transfer ended
  EVP_DigestFinal_ex(copy, digest, &len);
  EVP_MD_CTX_free(copy);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; i++) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return Napi::String::New(info.Env(), hex);
}

}  // namespace

void InitVolumeStream(Napi::Env env, Exports e) {
  Export(env, e, "storageVolUpload", Upload);
  Export(env, e, "storageVolDownload", Download);
  Export(env, e, "transferSend", Send);
  Export(env, e, "transferSendHole", SendHole);
  Export(env, e, "transferRecv", Recv);
  Export(env, e, "transferEnd", End);
  Export(env, e, "transferSha256", Sha256);
}

}  // namespace virtql
