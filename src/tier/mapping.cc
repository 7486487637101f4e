#include "tier/mapping.h"

#include <algorithm>

#include "common/time_util.h"

namespace ember::tier {

std::string_view modeName(Mode m) {
  switch (m) {
    case Mode::kWriteBack: return "write-back";
    case Mode::kWriteThrough: return "write-through";
    case Mode::kReadOnly: return "read-only";
  }
  return "?";
}

Result<Mode> parseMode(std::string_view text) {
  if (text == "write-back") return Mode::kWriteBack;
  if (text == "write-through") return Mode::kWriteThrough;
  if (text == "read-only") return Mode::kReadOnly;
  return unexpected(Code::kInvalidArgument,
                    "mode must be write-back, write-through or read-only, not '" +
                        std::string(text) + "'");
}

Result<MappingTable> MappingTable::build(std::vector<MappingConfig> configs) {
  MappingTable t;
  for (size_t i = 0; i < configs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const std::string& a = configs[j].prefix;
      const std::string& b = configs[i].prefix;
      if (configs[j].bucket == configs[i].bucket && (a.starts_with(b) || b.starts_with(a))) {
        return unexpected(Code::kInvalidArgument,
                          "mappings of bucket '" + configs[i].bucket + "' overlap: prefixes '" +
                              a + "' and '" + b + "' (one key must have one cold home)");
      }
    }
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    Mapping m;
    m.cfg = std::move(configs[i]);
    m.index = i;
    t.mappings_.push_back(std::move(m));
  }
  return t;
}

const Mapping* MappingTable::find(std::string_view bucket, std::string_view key) const {
  const Mapping* best = nullptr;
  for (const Mapping& m : mappings_) {
    if (m.covers(bucket, key) && (!best || m.cfg.prefix.size() > best->cfg.prefix.size())) {
      best = &m;
    }
  }
  return best;
}

std::vector<const Mapping*> MappingTable::forBucket(std::string_view bucket) const {
  std::vector<const Mapping*> out;
  for (const Mapping& m : mappings_) {
    if (m.cfg.bucket == bucket) {
      out.push_back(&m);
    }
  }
  return out;
}

bool MappingTable::bucketMapped(std::string_view bucket) const {
  return std::any_of(mappings_.begin(), mappings_.end(),
                     [&](const Mapping& m) { return m.cfg.bucket == bucket; });
}

store::ObjectRecord recordOfColdObject(const std::string& bucket, const std::string& key,
                                       const cold::ColdObjectInfo& info, const std::string& owner) {
  store::ObjectRecord r;
  r.bucket = bucket;
  r.key = key;
  r.size = info.size;
  r.etag = info.etag;
  r.mtimeMs = info.lastModifiedMs ? info.lastModifiedMs : nowMillis();
  r.createdMs = r.mtimeMs;
  r.owner = owner;
  r.content.contentType = info.contentType.empty() ? "application/octet-stream" : info.contentType;
  return r;
}

}  // namespace ember::tier
