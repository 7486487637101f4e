// Namespace core over the in-memory store twin: put/get/range/conditions, listing with
// delimiters and paging, multipart validation, copy.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "core/blob_test_util.h"
#include "core/namespace.h"
#include "store/mem/mem_store.h"

namespace ember::core {
namespace {

using testing::StringSink;
using testing::StringSource;

class NamespaceTest : public ::testing::Test {
 protected:
  NamespaceTest() : pool_(2), ns_(store::MemStore::create(), pool_, opts()) {}

  static NamespaceOptions opts() {
    NamespaceOptions o;
    o.minPartSize = 1000;
    o.ioChunkBytes = 4096;
    return o;
  }

  template <typename T>
  T run(asio::awaitable<T> aw) {
    auto fut = asio::co_spawn(ioc_, std::move(aw), asio::use_future);
    ioc_.restart();
    ioc_.run();
    return fut.get();
  }

  ObjectRecord put(const std::string& key, const std::string& data, Conditions c = {}) {
    PutInput in;
    in.bucket = "bkt";
    in.key = key;
    in.owner = "alice";
    in.conditions = std::move(c);
    in.expectedSize = data.size();
    StringSource src(data);
    auto r = run(ns_.putObject(std::move(in), src));
    EXPECT_TRUE(r) << r.error().toString();
    return r ? *r : ObjectRecord{};
  }

  Result<std::string> get(const std::string& key, std::optional<std::string> range = {}) {
    ReadInput in{"bkt", key, {}, range, {}};
    auto h = run(ns_.openRead(std::move(in)));
    if (!h) {
      return unexpected(h.error());
    }
    StringSink sink;
    Status s = run(ns_.streamRead(*h, sink));
    if (!s) {
      return unexpected(s);
    }
    return sink.out;
  }

  void SetUp() override { ASSERT_TRUE(run(ns_.createBucket("bkt", "alice", "")).isOk()); }

  asio::io_context ioc_;
  BlockingPool pool_;
  Namespace ns_;
};

std::string pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(seed + (i * 31) % 97);
  }
  return s;
}

TEST_F(NamespaceTest, PutGetRoundTripAndEtagIsMd5) {
  ObjectRecord r = put("k", "hello world");
  EXPECT_EQ(r.etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_EQ(r.size, 11u);
  EXPECT_EQ(*get("k"), "hello world");
  std::string big = pattern(100'000, 'a');
  put("big", big);
  EXPECT_EQ(*get("big"), big);
  EXPECT_EQ(*get("big", "bytes=99990-"), big.substr(99990));
  EXPECT_EQ(*get("big", "bytes=5000-5009"), big.substr(5000, 10));
  EXPECT_EQ(get("big", "bytes=100000-").error().code(), Code::kInvalidRange);
}

TEST_F(NamespaceTest, EmptyObject) {
  ObjectRecord r = put("empty", "");
  EXPECT_EQ(r.etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(*get("empty"), "");
}

TEST_F(NamespaceTest, ConditionalPutIfNoneMatchStar) {
  Conditions star;
  star.ifNoneMatch = "*";
  put("c", "one", star);
  PutInput in;
  in.bucket = "bkt";
  in.key = "c";
  in.conditions = star;
  StringSource src("two");
  auto r = run(ns_.putObject(std::move(in), src));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kPreconditionFailed);
  EXPECT_EQ(*get("c"), "one");
}

TEST_F(NamespaceTest, VerifierRejectionLeavesNothing) {
  PutInput in;
  in.bucket = "bkt";
  in.key = "v";
  in.verify = [](const Digests&) { return makeError(Code::kBadDigest, "no"); };
  StringSource src("payload");
  auto r = run(ns_.putObject(std::move(in), src));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kBadDigest);
  EXPECT_EQ(get("v").error().code(), Code::kNoSuchKey);
}

TEST_F(NamespaceTest, ShortBodyIsIncomplete) {
  PutInput in;
  in.bucket = "bkt";
  in.key = "short";
  in.expectedSize = 100;
  StringSource src("only ten b");
  auto r = run(ns_.putObject(std::move(in), src));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kIncompleteBody);
  EXPECT_EQ(get("short").error().code(), Code::kNoSuchKey);
}

TEST_F(NamespaceTest, MissingBucket) {
  PutInput in;
  in.bucket = "nope";
  in.key = "k";
  StringSource src("x");
  EXPECT_EQ(run(ns_.putObject(std::move(in), src)).error().code(), Code::kNoSuchBucket);
}

TEST_F(NamespaceTest, ListWithDelimiterAndPaging) {
  for (const char* k : {"a/1", "a/2", "a/b/3", "bkt", "c/1", "c/2", "d"}) {
    put(k, "x");
  }
  ListInput in{"bkt", "", "/", "", 1000};
  auto out = run(ns_.list(in));
  ASSERT_TRUE(out);
  std::vector<std::string> keys;
  for (auto& o : out->objects) {
    keys.push_back(o.key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"bkt", "d"}));
  EXPECT_EQ(out->commonPrefixes, (std::vector<std::string>{"a/", "c/"}));
  EXPECT_FALSE(out->truncated);

  // Page by two entries (objects and prefixes count alike), resuming after nextMarker.
  std::vector<std::string> seen;
  std::string marker;
  for (int page = 0; page < 10; ++page) {
    auto p = run(ns_.list(ListInput{"bkt", "", "/", marker, 2}));
    ASSERT_TRUE(p);
    for (auto& o : p->objects) seen.push_back(o.key);
    for (auto& cp : p->commonPrefixes) seen.push_back(cp);
    if (!p->truncated) break;
    marker = p->nextMarker;
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/", "bkt", "c/", "d"}));

  auto pre = run(ns_.list(ListInput{"bkt", "a/", "/", "", 1000}));
  ASSERT_TRUE(pre);
  ASSERT_EQ(pre->objects.size(), 2u);
  EXPECT_EQ(pre->commonPrefixes, (std::vector<std::string>{"a/b/"}));

  auto none = run(ns_.list(ListInput{"bkt", "", "", "", 0}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->objects.empty());
}

TEST_F(NamespaceTest, MultipartCompleteValidatesAndConcatenates) {
  UploadRecord up;
  up.bucket = "bkt";
  up.key = "mp";
  up.owner = "alice";
  auto created = run(ns_.createUpload(up));
  ASSERT_TRUE(created);
  std::string p1 = pattern(1500, 'a');
  std::string p2 = pattern(700, 'k');
  std::vector<CompletePart> parts;
  for (auto [n, data] : {std::pair<uint32_t, std::string>{1, p1}, {2, p2}}) {
    PartInput in{"bkt", "mp", created->uploadId, n, {}, {}, data.size(), {}};
    StringSource src(data);
    auto part = run(ns_.uploadPart(std::move(in), src));
    ASSERT_TRUE(part) << part.error().toString();
    parts.push_back(CompletePart{n, part->etag, {}});
  }
  // Wrong order, unknown part and wrong ETag are refused and leave the upload intact.
  auto bad = run(ns_.completeUpload("bkt", "mp", created->uploadId, {parts[1], parts[0]}, {}));
  EXPECT_EQ(bad.error().code(), Code::kInvalidPartOrder);
  auto badEtag = parts;
  badEtag[0].etag = "0000";
  EXPECT_EQ(run(ns_.completeUpload("bkt", "mp", created->uploadId, badEtag, {})).error().code(),
            Code::kInvalidPart);
  auto rec = run(ns_.completeUpload("bkt", "mp", created->uploadId, parts, {}));
  ASSERT_TRUE(rec) << rec.error().toString();
  EXPECT_TRUE(rec->etag.ends_with("-2"));
  EXPECT_EQ(*get("mp"), p1 + p2);
  // partNumber reads select one part.
  ReadInput in{"bkt", "mp", {}, {}, 2u};
  auto h = run(ns_.openRead(in));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->offset, 1500u);
  EXPECT_EQ(h->length, 700u);
  EXPECT_EQ(run(ns_.abortUpload("bkt", "mp", created->uploadId)).code(), Code::kNoSuchUpload);
}

TEST_F(NamespaceTest, MultipartTooSmallPart) {
  UploadRecord up;
  up.bucket = "bkt";
  up.key = "small";
  auto created = run(ns_.createUpload(up));
  ASSERT_TRUE(created);
  std::vector<CompletePart> parts;
  for (uint32_t n : {1u, 2u}) {
    PartInput in{"bkt", "small", created->uploadId, n, {}, {}, 10, {}};
    StringSource src(pattern(10, 'z'));
    auto part = run(ns_.uploadPart(std::move(in), src));
    ASSERT_TRUE(part);
    parts.push_back(CompletePart{n, part->etag, {}});
  }
  EXPECT_EQ(run(ns_.completeUpload("bkt", "small", created->uploadId, parts, {})).error().code(),
            Code::kEntityTooSmall);
}

TEST_F(NamespaceTest, CopyKeepsOrReplacesMetadata) {
  PutInput in;
  in.bucket = "bkt";
  in.key = "src";
  in.content.contentType = "text/plain";
  in.userMeta = {{"color", "blue"}};
  StringSource src("copy me");
  ASSERT_TRUE(run(ns_.putObject(std::move(in), src)));
  CopyInput cp;
  cp.srcBucket = "bkt";
  cp.srcKey = "src";
  cp.dst.bucket = "bkt";
  cp.dst.key = "dst";
  auto r = run(ns_.copyObject(cp));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->content.contentType, "text/plain");
  EXPECT_EQ(r->userMeta, (StringPairs{{"color", "blue"}}));
  EXPECT_EQ(*get("dst"), "copy me");
  cp.directive = MetadataDirective::kReplace;
  cp.dst.userMeta = {{"color", "red"}};
  r = run(ns_.copyObject(cp));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->userMeta, (StringPairs{{"color", "red"}}));
  // Copy onto itself without REPLACE is refused, as S3 does.
  cp.dst.key = "src";
  cp.directive = MetadataDirective::kCopy;
  EXPECT_EQ(run(ns_.copyObject(cp)).error().code(), Code::kInvalidRequest);
  // Source conditions answer 412 (never 304).
  cp.dst.key = "dst2";
  cp.srcConditions.ifNoneMatch = "\"" + r->etag + "\"";
  cp.srcConditions.ifNoneMatch = "*";
  EXPECT_EQ(run(ns_.copyObject(cp)).error().code(), Code::kPreconditionFailed);
}

}  // namespace
}  // namespace ember::core
