#include "app/emberd/config_tier.h"

#include <limits>
#include <stdexcept>

namespace ember::app {

namespace {

[[noreturn]] void bad(size_t i, const std::string& key, const std::string& why) {
  throw std::runtime_error("[[tier.mappings]] #" + std::to_string(i + 1) + ": " + key + " " + why);
}

std::string str(const toml::table& m, size_t i, const char* key, std::string def = {}) {
  const toml::node* n = m.get(key);
  if (!n) {
    return def;
  }
  auto v = n->value<std::string>();
  if (!v) {
    bad(i, key, "must be a string");
  }
  return *v;
}

uint64_t num(const toml::table& m, size_t i, const char* key, uint64_t def, uint64_t min = 0,
             uint64_t max = std::numeric_limits<int64_t>::max()) {
  const toml::node* n = m.get(key);
  if (!n) {
    return def;
  }
  auto v = n->value<int64_t>();
  if (!v || *v < 0 || static_cast<uint64_t>(*v) < min || static_cast<uint64_t>(*v) > max) {
    bad(i, key, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<uint64_t>(*v);
}

template <typename T>
void section(const toml::table& t, const char* key, T& out, uint64_t min, uint64_t max) {
  const toml::node* n = t.at_path(std::string("tier.") + key).node();
  if (!n) {
    return;
  }
  auto v = n->value<int64_t>();
  if (!v || *v < 0 || static_cast<uint64_t>(*v) < min || static_cast<uint64_t>(*v) > max) {
    throw std::runtime_error(std::string("tier.") + key + " must be an integer between " +
                             std::to_string(min) + " and " + std::to_string(max));
  }
  out = static_cast<T>(*v);
}

tier::MappingConfig readMapping(const toml::table& m, size_t i) {
  static const char* kKnown[] = {
      "bucket", "prefix", "location", "endpoint", "mode", "revalidate_ms", "list_ttl_ms",
      "account_key", "sas_token", "token_endpoint", "access_key", "secret_key", "region",
      "ca_file", "connect_timeout_ms", "read_timeout_ms", "retry_attempts", "breaker_failures",
      "breaker_cooldown_ms", "multipart_threshold", "part_size", "parallel_parts"};
  for (const auto& [k, v] : m) {
    bool known = false;
    for (const char* name : kKnown) {
      known = known || k.str() == name;
    }
    if (!known) {
      bad(i, std::string(k.str()), "is not a mapping key (see docs/operations.md)");
    }
  }
  tier::MappingConfig c;
  c.bucket = str(m, i, "bucket");
  if (c.bucket.empty()) {
    bad(i, "bucket", "is required");
  }
  c.prefix = str(m, i, "prefix");
  auto loc = cold::parseColdLocation(str(m, i, "location"));
  if (!loc) {
    bad(i, "location", "is not a cold location: " + loc.error().message());
  }
  c.cold.location = *loc;
  c.cold.endpoint = str(m, i, "endpoint");
  auto mode = tier::parseMode(str(m, i, "mode", "write-back"));
  if (!mode) {
    bad(i, "mode", mode.error().message());
  }
  c.mode = *mode;
  if (const toml::node* n = m.get("revalidate_ms"); n && n->value<std::string>() == "never") {
    c.revalidateAfter.reset();
  } else {
    c.revalidateAfter = std::chrono::milliseconds(num(m, i, "revalidate_ms", 60'000));
  }
  c.listTtl = std::chrono::milliseconds(num(m, i, "list_ttl_ms", 30'000));
  std::string accountKey = str(m, i, "account_key");
  std::string sas = str(m, i, "sas_token");
  std::string tokenEndpoint = str(m, i, "token_endpoint");
  if (c.cold.location.kind == cold::ColdLocation::Kind::kAzure) {
    int given = !accountKey.empty() + !sas.empty() + !tokenEndpoint.empty();
    if (given != 1) {
      bad(i, "account_key / sas_token / token_endpoint", "exactly one is needed for az:// locations");
    }
    if (!accountKey.empty()) {
      c.cold.azure.mode = cold::AzureAuthConfig::Mode::kSharedKey;
      c.cold.azure.accountKey = accountKey;
    } else if (!sas.empty()) {
      c.cold.azure.mode = cold::AzureAuthConfig::Mode::kSas;
      c.cold.azure.sasToken = sas;
    } else {
      c.cold.azure.mode = cold::AzureAuthConfig::Mode::kBearer;
      c.cold.azure.tokenEndpoint = tokenEndpoint;
    }
  } else {
    c.cold.s3.accessKey = str(m, i, "access_key");
    c.cold.s3.secretKey = str(m, i, "secret_key");
    c.cold.s3.region = str(m, i, "region", "us-east-1");
    if (c.cold.s3.accessKey.empty() || c.cold.s3.secretKey.empty()) {
      bad(i, "access_key / secret_key", "are required for s3:// locations");
    }
    if (c.cold.endpoint.empty()) {
      bad(i, "endpoint", "is required for s3:// locations (http(s)://host[:port])");
    }
  }
  c.cold.caFile = str(m, i, "ca_file");
  c.cold.connectTimeout = std::chrono::milliseconds(num(m, i, "connect_timeout_ms", 5'000, 1));
  c.cold.readTimeout = std::chrono::milliseconds(num(m, i, "read_timeout_ms", 60'000, 1));
  c.cold.retry.maxAttempts = static_cast<int>(num(m, i, "retry_attempts", 3, 1, 20));
  c.cold.breaker.failureThreshold = static_cast<int>(num(m, i, "breaker_failures", 5, 0, 1000));
  c.cold.breaker.coolDown = std::chrono::milliseconds(num(m, i, "breaker_cooldown_ms", 30'000));
  c.cold.multipartThreshold = num(m, i, "multipart_threshold", 16ULL << 20, 1);
  c.cold.partSize = num(m, i, "part_size", 8ULL << 20, 1);
  c.cold.parallelParts = static_cast<int>(num(m, i, "parallel_parts", 4, 1, 64));
  return c;
}

}  // namespace

void readTierConfig(const toml::table& t, Config& c) {
  section(t, "upload_concurrency", c.tier.uploadConcurrency, 1, 256);
  section(t, "max_dirty_percent", c.tier.maxDirtyPercent, 1, 100);
  section(t, "max_dirty_bytes", c.tier.maxDirtyBytes, 0, std::numeric_limits<int64_t>::max());
  section(t, "write_through_timeout_ms", c.tier.writeThroughTimeoutMs, 1, 3'600'000);
  section(t, "retry_base_ms", c.tier.retryBaseMs, 1, 3'600'000);
  section(t, "retry_max_ms", c.tier.retryMaxMs, 1, 3'600'000);
  section(t, "chunk_bytes", c.tier.chunkBytes, 64 * 1024, 1ULL << 30);
  section(t, "read_ahead", c.tier.readAhead, 0, 64);
  section(t, "fill_cache_bytes", c.tier.fillCacheBytes, 0, std::numeric_limits<int64_t>::max());
  section(t, "evict_high_percent", c.tier.evictHighPercent, 0, 100);
  section(t, "evict_low_percent", c.tier.evictLowPercent, 0, 100);
  section(t, "evict_high_bytes", c.tier.evictHighBytes, 0, std::numeric_limits<int64_t>::max());
  section(t, "evict_low_bytes", c.tier.evictLowBytes, 0, std::numeric_limits<int64_t>::max());
  section(t, "evict_interval_ms", c.tier.evictIntervalMs, 100, 3'600'000);
  if (c.tier.evictLowPercent > c.tier.evictHighPercent) {
    throw std::runtime_error("tier.evict_low_percent must not be above tier.evict_high_percent");
  }
  if (c.tier.evictLowBytes > c.tier.evictHighBytes) {
    throw std::runtime_error("tier.evict_low_bytes must not be above tier.evict_high_bytes");
  }
  if (const toml::node* n = t.at_path("tier.mappings").node()) {
    const toml::array* a = n->as_array();
    if (!a) {
      throw std::runtime_error("tier.mappings must be an array of tables ([[tier.mappings]])");
    }
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table* m = (*a)[i].as_table();
      if (!m) {
        throw std::runtime_error("[[tier.mappings]] entries must be tables");
      }
      c.tier.mappings.push_back(readMapping(*m, i));
    }
  }
  if (auto table = tier::MappingTable::build(c.tier.mappings); !table) {
    throw std::runtime_error("[[tier.mappings]]: " + table.error().message());
  }
}

}  // namespace ember::app
