#pragma once
// Test helpers for ObjectStore implementations: status assertions, deterministic content, and
// short-hands for writing and reading objects. Used by store/store_conformance.h and by the
// implementation-specific tests; header-only, for test binaries only.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/object_store.h"

namespace ember::store::testing {

// A fresh directory under the system temp dir, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ember-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};


class ConformanceEnv {
 public:
  virtual ~ConformanceEnv() = default;
  virtual ObjectStore& store() = 0;
  // File extents currently stored (writer output, committed or pinned), after the store has
  // run any deferred reclamation.
  virtual size_t fileExtentCount() = 0;
  virtual uint64_t inlineThreshold() const = 0;
};

// --- helpers shared with implementation-specific tests ---

inline std::string describe(const Status& s) { return s.toString(); }
template <typename T>
std::string describe(const Result<T>& r) {
  return r ? std::string("OK") : r.error().toString();
}
inline Code codeOf(const Status& s) { return s.code(); }
template <typename T>
Code codeOf(const Result<T>& r) {
  return r ? Code::kOk : r.error().code();
}

#define STORE_ASSERT_OK(expr)                                         \
  do {                                                                \
    auto&& store_ok_ = (expr);                                        \
    ASSERT_TRUE(static_cast<bool>(store_ok_))                         \
        << #expr << ": " << ::ember::store::testing::describe(store_ok_); \
  } while (0)
#define STORE_EXPECT_OK(expr)                                         \
  do {                                                                \
    auto&& store_ok_ = (expr);                                        \
    EXPECT_TRUE(static_cast<bool>(store_ok_))                         \
        << #expr << ": " << ::ember::store::testing::describe(store_ok_); \
  } while (0)
#define STORE_EXPECT_CODE(expr, code)                                 \
  do {                                                                \
    auto&& store_code_ = (expr);                                      \
    EXPECT_EQ(::ember::codeName(::ember::store::testing::codeOf(store_code_)), \
              ::ember::codeName(code))                                \
        << #expr << ": " << ::ember::store::testing::describe(store_code_); \
  } while (0)

// Deterministic pseudo-random bytes: the same (size, seed) always gives the same content.
inline std::string patternBytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

// Streams `data` through a new writer in `chunk`-sized appends.
inline Result<Extent> writeBytes(ObjectStore& store, std::string_view data,
                                 size_t chunk = 1u << 20) {
  auto w = store.newWriter();
  if (!w) {
    return unexpected(w.error());
  }
  for (size_t off = 0; off < data.size(); off += chunk) {
    size_t n = std::min(chunk, data.size() - off);
    if (Status s = (*w)->append({data.data() + off, n}); !s) {
      return unexpected(std::move(s));
    }
  }
  return (*w)->finish();
}

inline ObjectRecord makeRecord(std::string bucket, std::string key, std::vector<Extent> extents,
                               std::string etag = "0123456789abcdef0123456789abcdef") {
  ObjectRecord r;
  r.bucket = std::move(bucket);
  r.key = std::move(key);
  for (const Extent& x : extents) {
    r.size += x.size;
  }
  r.extents = std::move(extents);
  r.etag = std::move(etag);
  r.mtimeMs = 1700000000123;
  r.owner = "alice";
  return r;
}

inline Status putBytes(ObjectStore& store, const std::string& bucket, const std::string& key,
                       std::string_view data, const std::string& etag = "etag",
                       const CommitCheck& check = nullptr) {
  auto x = writeBytes(store, data);
  if (!x) {
    return x.error();
  }
  return store.putObject(makeRecord(bucket, key, {std::move(*x)}, etag), check);
}

inline Result<std::string> readAllBytes(ObjectReader& reader, size_t chunk = 64 * 1024) {
  std::string out;
  std::vector<char> buf(chunk);
  while (true) {
    auto n = reader.readAt(out.size(), buf);
    if (!n) {
      return unexpected(n.error());
    }
    if (*n == 0) {
      return out;
    }
    out.append(buf.data(), *n);
  }
}

inline Result<std::string> readObject(ObjectStore& store, std::string_view bucket,
                                      std::string_view key) {
  auto r = store.openObject(bucket, key);
  if (!r) {
    return unexpected(r.error());
  }
  return readAllBytes(**r);
}

inline std::vector<std::string> listKeys(ObjectStore& store, std::string_view bucket,
                                         std::string_view from = {}) {
  std::vector<std::string> keys;
  auto it = store.listObjects(bucket);
  if (!it) {
    ADD_FAILURE() << "listObjects: " << describe(it);
    return keys;
  }
  if (!from.empty()) {
    (*it)->seek(from);
  }
  for (; (*it)->valid(); (*it)->next()) {
    keys.emplace_back((*it)->key());
  }
  EXPECT_TRUE(static_cast<bool>((*it)->status()));
  return keys;
}

inline BucketRecord makeBucket(std::string name) {
  BucketRecord b;
  b.name = std::move(name);
  b.createdMs = 1700000000000;
  b.owner = "alice";
  return b;
}

inline UploadRecord makeUpload(std::string bucket, std::string key, std::string id) {
  UploadRecord u;
  u.bucket = std::move(bucket);
  u.key = std::move(key);
  u.uploadId = std::move(id);
  u.initiatedMs = 1700000000500;
  u.owner = "bob";
  u.content.contentType = "application/x-checkpoint";
  u.userMeta = {{"step", "1200"}};
  u.checksumAlgorithm = "CRC32";
  u.checksumType = "COMPOSITE";
  return u;
}

inline Result<PartRecord> writePart(ObjectStore& store, uint32_t number, std::string_view data) {
  auto x = writeBytes(store, data, 256 * 1024);
  if (!x) {
    return unexpected(x.error());
  }
  PartRecord p;
  p.number = number;
  p.size = data.size();
  p.etag = "part" + std::to_string(number) + "-" + std::to_string(data.size());
  p.mtimeMs = 1700000000600 + number;
  p.checksums = {{"CRC32", "AAAAAA=="}};
  p.extent = std::move(*x);
  return p;
}

}  // namespace ember::store::testing
