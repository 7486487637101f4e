#pragma once
// emberd's configuration: one TOML file (every key optional, defaults below) plus command-line
// overrides. docs/operations.md lists every key; etc/emberd.toml is the annotated example.

#include <cstdint>
#include <string>
#include <vector>

#include "auth/sigv4.h"
#include "tier/mapping.h"

namespace ember::app {

struct Config {
  // [server]
  std::string s3Address = "127.0.0.1";
  uint16_t s3Port = 9000;
  std::string adminAddress = "127.0.0.1";
  uint16_t adminPort = 9001;
  unsigned networkThreads = 0;      // 0 = number of cores
  unsigned blockingThreads = 16;    // disk/RocksDB pool (fsync waits dominate, not CPU)
  uint32_t maxHeaderBytes = 64 * 1024;
  uint32_t maxConnections = 10'000;
  uint32_t idleTimeoutMs = 60'000;
  uint32_t headerTimeoutMs = 30'000;
  uint32_t bodyStallTimeoutMs = 60'000;
  uint32_t shutdownGraceMs = 10'000;
  // [store]
  std::string dataDir = "./ember-data";
  uint64_t inlineThreshold = 64 * 1024;
  uint64_t reserveBytes = 256ULL << 20;
  uint64_t blockCacheBytes = 256ULL << 20;
  // [s3]
  std::string region = "us-east-1";
  std::vector<std::string> domains = {"localhost"};
  uint64_t minPartSize = 5ULL << 20;
  // [[users]]
  std::vector<auth::Credential> users;
  // [blob]
  struct BlobAccount {
    std::string name;
    std::string key;   // base64, as Azure shows account keys
    std::string user;  // the [[users]] name that owns the account's containers
  };
  bool blobEnabled = true;
  std::string blobAddress = "127.0.0.1";
  uint16_t blobPort = 10000;
  std::vector<std::string> blobDomains = {"localhost"};
  std::vector<BlobAccount> blobAccounts;  // [[blob.accounts]]
  // Remote copy sources: hosts ("host[:port]", "*.suffix[:port]") that Copy Blob / Put Blob From
  // URL / Put Block From URL may fetch from. Empty: remote sources are refused (SSRF).
  std::vector<std::string> blobCopySourceHosts;
  std::string blobCopySourceCaFile;  // extra trusted CAs (PEM) for https sources
  uint32_t blobCopySourceConnectTimeoutMs = 10'000;
  uint32_t blobCopySourceReadTimeoutMs = 60'000;
  // [kv]: the Redis-protocol key-value service (its own engine and data, not the object namespace)
  struct KvUser {
    std::string name;
    std::string password;
    bool readOnly = false;
  };
  bool kvEnabled = true;
  std::string kvAddress = "127.0.0.1";
  uint16_t kvPort = 6379;
  unsigned kvThreads = 0;                 // 0 = cores - 1, at least 1
  std::string kvDurability = "batch";     // none | batch | sync
  uint32_t kvBatchIntervalMs = 10;
  uint64_t kvCacheBytes = 256ULL << 20;
  uint64_t kvMaxIndexBytes = 0;           // 0 = unlimited
  uint64_t kvSegmentBytes = 64ULL << 20;
  uint32_t kvMaxValueBytes = 64 * 1024;
  uint32_t kvMaxKeyBytes = 1024;
  unsigned kvShards = 0;                  // 0 = 4 per core, at least 8
  bool kvAllowFlush = true;
  std::string kvDir;                      // empty = <data_dir>/kv
  uint32_t kvMaxClients = 10'000;
  uint64_t kvMaxKeysPattern = 1'000'000;
  std::vector<KvUser> kvUsers;            // [[kv.users]]; none = no AUTH
  // [tier] and [[tier.mappings]]: the warm tier over cold stores (config_tier.cc)
  struct Tier {
    unsigned uploadConcurrency = 4;
    uint32_t maxDirtyPercent = 50;      // of the data volume; writes beyond get 503 SlowDown
    uint64_t maxDirtyBytes = 0;         // when set, overrides max_dirty_percent
    uint32_t writeThroughTimeoutMs = 60'000;
    uint32_t retryBaseMs = 1'000;       // write-back backoff per key
    uint32_t retryMaxMs = 60'000;
    uint64_t chunkBytes = 8ULL << 20;   // read-through chunk
    unsigned readAhead = 4;
    uint64_t fillCacheBytes = 1ULL << 30;
    uint32_t evictHighPercent = 90;     // eviction watermarks: data volume fill (0 = off) ...
    uint32_t evictLowPercent = 80;
    uint64_t evictHighBytes = 0;        // ... and warm bytes under mappings (0 = off)
    uint64_t evictLowBytes = 0;
    uint32_t evictIntervalMs = 10'000;
    std::vector<tier::MappingConfig> mappings;
  } tier;
  // [log]
  std::string logLevel = "info";
  std::string logFormat = "text";   // "text" or "json"
  // command line only
  std::string portFile;
};

// Loads `path` (TOML). Throws std::runtime_error with a message naming the bad key.
Config loadConfig(const std::string& path);

}  // namespace ember::app
