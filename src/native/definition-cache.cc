#include "definition-cache.h"

#include <cstring>

namespace virtql {

namespace {
// An entry no read touched for this long goes at the next sweep (domains undefined, or never read again).
constexpr auto kIdle = std::chrono::minutes(10);
}  // namespace

DefinitionCache::Seen DefinitionCache::Record(const std::string& key, const char* xml, size_t size, uint64_t known) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.xml.size() == size && std::memcmp(it->second.xml.data(), xml, size) == 0) {
    it->second.used = now;
    return {it->second.generation, it->second.generation == known};
  }
  const uint64_t generation = next_++;
  if (it != entries_.end()) {
    it->second.xml.assign(xml, size);
    it->second.generation = generation;
    it->second.used = now;
  } else {
    entries_.emplace(key, Entry{std::string(xml, size), generation, now});
    if (entries_.size() >= sweepAt_) SweepLocked(now);
  }
  return {generation, false};
}

// Bounded by what is read: idle entries go, and the next sweep waits until the map doubles.
void DefinitionCache::SweepLocked(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now - it->second.used > kIdle ? entries_.erase(it) : std::next(it);
  }
  sweepAt_ = std::max<size_t>(4096, entries_.size() * 2);
}

}  // namespace virtql
