// Per connection: the last document libvirt gave for each object and flavour of its XML, so that a
// definition is parsed once per change, not once per request. Every read still asks libvirt for
// the document (nothing is served that libvirt did not just say); only an unchanged one skips the
// parse and the trip of its text and tree through JS.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace virtql {

class DefinitionCache {
 public:
  // What a read of `key` found: the document's generation, and whether it is the one the caller
  // already holds parsed (`known`), in which case nothing more is needed.
  struct Seen {
    uint64_t generation;
    bool unchanged;
  };

  // Records the document libvirt just gave for `key`; a new generation when it differs from the last.
  Seen Record(const std::string& key, const char* xml, size_t size, uint64_t known);

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string xml;
    uint64_t generation;
    Clock::time_point used;
  };
  void SweepLocked(Clock::time_point now);

  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  uint64_t next_ = 1;
  size_t sweepAt_ = 4096;
};

}  // namespace virtql
