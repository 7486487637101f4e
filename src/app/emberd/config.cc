#include "app/emberd/config.h"
#include "app/emberd/config_tier.h"

#include <stdexcept>

#include <toml++/toml.h>

#include "http/client.h"

namespace ember::app {

namespace {

template <typename T>
void read(const toml::table& t, const char* section, const char* key, T& out) {
  const toml::node* node = t.at_path(std::string(section) + "." + key).node();
  if (!node) {
    return;
  }
  if constexpr (std::is_same_v<T, bool>) {
    auto v = node->value<bool>();
    if (!v) {
      throw std::runtime_error(std::string(section) + "." + key + " must be true or false");
    }
    out = *v;
  } else if constexpr (std::is_same_v<T, std::string>) {
    auto v = node->value<std::string>();
    if (!v) {
      throw std::runtime_error(std::string(section) + "." + key + " must be a string");
    }
    out = *v;
  } else {
    auto v = node->value<int64_t>();
    if (!v || *v < 0 || static_cast<uint64_t>(*v) > std::numeric_limits<T>::max()) {
      throw std::runtime_error(std::string(section) + "." + key +
                               " must be a non-negative integer in range");
    }
    out = static_cast<T>(*v);
  }
}

// An array of strings at `path` (absent: `out` unchanged).
void readStrings(const toml::table& t, const char* path, std::vector<std::string>& out) {
  const toml::node* node = t.at_path(path).node();
  if (!node) {
    return;
  }
  const toml::array* a = node->as_array();
  if (!a) {
    throw std::runtime_error(std::string(path) + " must be an array of strings");
  }
  out.clear();
  for (const auto& d : *a) {
    auto v = d.value<std::string>();
    if (!v) {
      throw std::runtime_error(std::string(path) + " must be an array of strings");
    }
    out.push_back(*v);
  }
}

}  // namespace

Config loadConfig(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config " + path + ": " + std::string(e.description()) + " at line " +
                             std::to_string(e.source().begin.line));
  }
  Config c;
  read(t, "server", "s3_address", c.s3Address);
  read(t, "server", "s3_port", c.s3Port);
  read(t, "server", "admin_address", c.adminAddress);
  read(t, "server", "admin_port", c.adminPort);
  read(t, "server", "network_threads", c.networkThreads);
  read(t, "server", "blocking_threads", c.blockingThreads);
  read(t, "server", "max_header_bytes", c.maxHeaderBytes);
  read(t, "server", "max_connections", c.maxConnections);
  read(t, "server", "idle_timeout_ms", c.idleTimeoutMs);
  read(t, "server", "header_timeout_ms", c.headerTimeoutMs);
  read(t, "server", "body_stall_timeout_ms", c.bodyStallTimeoutMs);
  read(t, "server", "shutdown_grace_ms", c.shutdownGraceMs);
  read(t, "store", "data_dir", c.dataDir);
  read(t, "store", "inline_threshold", c.inlineThreshold);
  read(t, "store", "reserve_bytes", c.reserveBytes);
  read(t, "store", "block_cache_bytes", c.blockCacheBytes);
  read(t, "s3", "region", c.region);
  read(t, "s3", "min_part_size", c.minPartSize);
  readStrings(t, "s3.domains", c.domains);
  read(t, "blob", "enabled", c.blobEnabled);
  read(t, "blob", "address", c.blobAddress);
  read(t, "blob", "port", c.blobPort);
  readStrings(t, "blob.domains", c.blobDomains);
  readStrings(t, "blob.copy_source_hosts", c.blobCopySourceHosts);
  if (auto hosts = http::HostAllowList::parse(c.blobCopySourceHosts); !hosts) {
    throw std::runtime_error("blob.copy_source_hosts: " + hosts.error().message());
  }
  read(t, "blob", "copy_source_ca_file", c.blobCopySourceCaFile);
  read(t, "blob", "copy_source_connect_timeout_ms", c.blobCopySourceConnectTimeoutMs);
  read(t, "blob", "copy_source_read_timeout_ms", c.blobCopySourceReadTimeoutMs);
  if (c.blobCopySourceConnectTimeoutMs == 0 || c.blobCopySourceReadTimeoutMs == 0) {
    throw std::runtime_error("blob.copy_source_*_timeout_ms must be positive");
  }
  if (const toml::array* accounts = t.at_path("blob.accounts").as_array()) {
    for (const auto& a : *accounts) {
      const toml::table* at = a.as_table();
      if (!at) {
        throw std::runtime_error("[[blob.accounts]] entries must be tables");
      }
      Config::BlobAccount acct;
      acct.name = at->at_path("name").value_or(std::string());
      acct.key = at->at_path("key").value_or(std::string());
      acct.user = at->at_path("user").value_or(std::string());
      if (acct.name.empty() || acct.key.empty()) {
        throw std::runtime_error("each [[blob.accounts]] entry needs name and key");
      }
      c.blobAccounts.push_back(std::move(acct));
    }
  }
  read(t, "kv", "enabled", c.kvEnabled);
  read(t, "kv", "address", c.kvAddress);
  read(t, "kv", "port", c.kvPort);
  read(t, "kv", "threads", c.kvThreads);
  read(t, "kv", "durability", c.kvDurability);
  if (c.kvDurability != "none" && c.kvDurability != "batch" && c.kvDurability != "sync") {
    throw std::runtime_error("kv.durability must be \"none\", \"batch\" or \"sync\"");
  }
  read(t, "kv", "batch_interval_ms", c.kvBatchIntervalMs);
  if (c.kvBatchIntervalMs == 0 || c.kvBatchIntervalMs > 60'000) {
    throw std::runtime_error("kv.batch_interval_ms must be between 1 and 60000");
  }
  read(t, "kv", "cache_bytes", c.kvCacheBytes);
  read(t, "kv", "max_index_bytes", c.kvMaxIndexBytes);
  read(t, "kv", "segment_bytes", c.kvSegmentBytes);
  read(t, "kv", "max_value_bytes", c.kvMaxValueBytes);
  read(t, "kv", "max_key_bytes", c.kvMaxKeyBytes);
  if (c.kvMaxValueBytes == 0 || c.kvMaxValueBytes > (4u << 20) || c.kvMaxKeyBytes == 0 ||
      c.kvMaxKeyBytes > 65'536) {
    throw std::runtime_error("kv.max_value_bytes must be 1..4194304 and kv.max_key_bytes 1..65536");
  }
  if (c.kvSegmentBytes < 4ULL * (c.kvMaxValueBytes + c.kvMaxKeyBytes + 64)) {
    throw std::runtime_error("kv.segment_bytes must hold at least four of the largest records");
  }
  read(t, "kv", "shards", c.kvShards);
  if (c.kvShards & (c.kvShards - 1)) {
    throw std::runtime_error("kv.shards must be 0 or a power of two");
  }
  read(t, "kv", "allow_flush", c.kvAllowFlush);
  read(t, "kv", "dir", c.kvDir);
  read(t, "kv", "max_clients", c.kvMaxClients);
  read(t, "kv", "max_keys_pattern", c.kvMaxKeysPattern);
  if (const toml::array* users = t.at_path("kv.users").as_array()) {
    for (const auto& u : *users) {
      const toml::table* ut = u.as_table();
      if (!ut) {
        throw std::runtime_error("[[kv.users]] entries must be tables");
      }
      Config::KvUser user;
      user.name = ut->at_path("name").value_or(std::string());
      user.password = ut->at_path("password").value_or(std::string());
      user.readOnly = ut->at_path("readonly").value_or(false);
      if (user.name.empty() || user.password.empty()) {
        throw std::runtime_error("each [[kv.users]] entry needs name and password");
      }
      c.kvUsers.push_back(std::move(user));
    }
  }
  readTierConfig(t, c);
  read(t, "log", "level", c.logLevel);
  read(t, "log", "format", c.logFormat);
  if (const toml::array* users = t["users"].as_array()) {
    for (const auto& u : *users) {
      const toml::table* ut = u.as_table();
      if (!ut) {
        throw std::runtime_error("[[users]] entries must be tables");
      }
      auth::Credential cred;
      cred.user = ut->at_path("name").value_or(std::string());
      cred.accessKey = ut->at_path("access_key").value_or(std::string());
      cred.secretKey = ut->at_path("secret_key").value_or(std::string());
      if (cred.user.empty() || cred.accessKey.empty() || cred.secretKey.empty()) {
        throw std::runtime_error("each [[users]] entry needs name, access_key and secret_key");
      }
      c.users.push_back(std::move(cred));
    }
  }
  return c;
}

}  // namespace ember::app
