#pragma once
// Mappings: which part of the namespace a cold location backs. A mapping ties a bucket, or a key
// prefix of it, to one cold location (az://account/container/prefix or s3://bucket/prefix) and
// says how writes reach it. Key translation strips the mapping's prefix: with bucket "datasets",
// prefix "tok-v7/" and location az://acct/cold/v7, object datasets/tok-v7/a/b.bin is the cold
// object v7/a/b.bin (cold key "a/b.bin" relative to the location).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cold/cold_store.h"
#include "common/status.h"
#include "store/object_store.h"

namespace ember::tier {

enum class Mode {
  kWriteBack,     // acknowledged when durable locally, uploaded asynchronously (default)
  kWriteThrough,  // acknowledged when durable locally and uploaded (or an error says it is queued)
  kReadOnly,      // a read-through cache: writes under the mapping are refused
};
std::string_view modeName(Mode m);
Result<Mode> parseMode(std::string_view text);  // "write-back" | "write-through" | "read-only"

struct MappingConfig {
  std::string bucket;
  std::string prefix;  // key prefix inside the bucket ("" = the whole bucket)
  cold::ColdStoreConfig cold;
  Mode mode = Mode::kWriteBack;
  // Freshness of clean warm copies: revalidated against the cold ETag when older than this;
  // nullopt = never (immutable datasets).
  std::optional<std::chrono::milliseconds> revalidateAfter;
  std::chrono::milliseconds listTtl{30'000};  // how long a cold listing page is reused
};

struct Mapping {
  MappingConfig cfg;
  size_t index = 0;  // position in the table (stable for the process's life)

  bool covers(std::string_view bucket, std::string_view key) const {
    return bucket == cfg.bucket && key.starts_with(cfg.prefix);
  }
  // Cold key (relative to the location) of a covered local key, and the inverse.
  std::string coldKey(std::string_view key) const { return std::string(key.substr(cfg.prefix.size())); }
  std::string localKey(std::string_view coldKey) const { return cfg.prefix + std::string(coldKey); }
};

// The mappings of one emberd, fixed at startup. Lookups are lock-free reads.
class MappingTable {
 public:
  // Errors: kInvalidArgument when two mappings of one bucket overlap (one prefix starts with the
  // other), so every key has at most one cold home.
  static Result<MappingTable> build(std::vector<MappingConfig> configs);

  // The mapping covering (bucket, key), or nullptr.
  const Mapping* find(std::string_view bucket, std::string_view key) const;
  // Every mapping of `bucket` (listing merges them all).
  std::vector<const Mapping*> forBucket(std::string_view bucket) const;
  bool bucketMapped(std::string_view bucket) const;
  const std::vector<Mapping>& all() const { return mappings_; }
  bool empty() const { return mappings_.empty(); }

 private:
  std::vector<Mapping> mappings_;
};

// The record of a cold object as the warm tier shows and stores it: its ETag is the cold ETag, its
// mtime the cold Last-Modified (now when unknown), owned by `owner`; no extents, no attributes.
store::ObjectRecord recordOfColdObject(const std::string& bucket, const std::string& key,
                                       const cold::ColdObjectInfo& info, const std::string& owner);

}  // namespace ember::tier
