#pragma once
// Pins: key prefixes whose warm objects eviction must never take, each with an optional expiry.
// Kept in the tier's state db (key space 'p'), so they survive restarts; an expired pin is dropped
// the next time it is looked at. Thread-safe; lookups are in memory.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tier/state_db.h"

namespace ember::tier {

struct Pin {
  std::string bucket;
  std::string prefix;
  int64_t createdMs = 0;
  int64_t expiresMs = 0;  // 0 = until unpinned
};

class PinSet {
 public:
  explicit PinSet(StateDb& db) : db_(db) {}
  // Loads the pins from the state db (dropping expired ones). Blocking.
  Status load();
  // Adds a pin, or replaces the expiry of an existing one. Blocking (a synced write).
  Status add(const std::string& bucket, const std::string& prefix, int64_t expiresMs);
  // Removes a pin; kNotFound when there is none for exactly this bucket and prefix.
  Status remove(const std::string& bucket, const std::string& prefix);
  // Whether an unexpired pin covers (bucket, key).
  bool pinned(std::string_view bucket, std::string_view key) const;
  // The unexpired pins, sorted by bucket and prefix.
  std::vector<Pin> list() const;
  // Drops expired pins (also from the db). Blocking.
  void expire();

 private:
  StateDb& db_;
  mutable std::mutex mu_;
  std::vector<Pin> pins_;
};

}  // namespace ember::tier
