#pragma once
// Helpers shared by the KV engine tests: a temporary directory, small engine options and one-line get/set/del
// wrappers. Test files take them all with `using namespace ember::kv::testing;`.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "kv/engine.h"

namespace ember::kv::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ember-kv-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    path_ = p != nullptr ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Options smallOptions(const std::string& dir) {
  Options o;
  o.dir = dir;
  o.shards = 4;
  o.cacheBytes = 4 << 20;
  o.segmentBytes = 1 << 20;
  o.batchIntervalMs = 5;
  o.expireSweepIntervalMs = 10;
  return o;
}

inline std::unique_ptr<Engine> openOrDie(const Options& o) {
  auto r = Engine::open(o);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().toString());
  return r ? std::move(*r) : nullptr;
}

inline Status set(Engine& e, std::string_view key, std::string_view value, int64_t expireAt = kNoExpiry,
                  WriteSet* ws = nullptr) {
  std::string_view keys[1] = {key};
  return e.update(keys, [&](Txn& t) { t.put(0, value, expireAt); }, ws);
}

inline Status del(Engine& e, std::string_view key, WriteSet* ws = nullptr) {
  std::string_view keys[1] = {key};
  return e.update(keys, [&](Txn& t) { t.erase(0); }, ws);
}

// The value, or nullopt when absent (any other error fails the test).
inline std::optional<std::string> get(Engine& e, std::string_view key) {
  std::optional<std::string> out;
  Status s = e.read(key, [&](std::string_view v, int64_t) { out = std::string(v); });
  if (!s) {
    EXPECT_EQ(s.code(), Code::kNotFound) << s.toString();
  }
  return out;
}

// A deterministic value for (key, version) of the given length.
inline std::string valueFor(std::string_view key, int version, size_t len) {
  std::string v;
  v.reserve(len);
  uint64_t x = std::hash<std::string_view>{}(key) ^ (static_cast<uint64_t>(version) * 0x9e3779b97f4a7c15ULL);
  while (v.size() < len) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v.push_back(static_cast<char>('a' + x % 26));
  }
  return v;
}

}  // namespace ember::kv::testing
