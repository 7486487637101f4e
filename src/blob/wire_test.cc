#include <string>

#include <gtest/gtest.h>

#include "blob/errors.h"
#include "blob/wire.h"
#include "common/time_util.h"

namespace ember::blob {
namespace {

Headers headersOf(std::initializer_list<std::pair<const char*, std::string>> fields) {
  Headers h;
  for (const auto& [name, value] : fields) {
    h.add(name, value);
  }
  return h;
}

// --- x-ms-version ---

TEST(BlobWire, ApiVersion) {
  EXPECT_TRUE(checkApiVersion(""));
  EXPECT_TRUE(checkApiVersion("2017-11-09"));
  EXPECT_TRUE(checkApiVersion("2021-12-02"));
  EXPECT_TRUE(checkApiVersion("2026-06-06"));  // newer dates are never rejected
  EXPECT_TRUE(checkApiVersion("2099-01-01"));
  for (const char* bad : {"2017-11-08", "2009-09-19", "2015-02-21", "2021-12-2", "20211202",
                          "2021/12/02", "2021-13-01", "2021-00-10", "2021-12-00", "latest",
                          " 2021-12-02", "2021-12-02x"}) {
    Status s = checkApiVersion(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.code(), Code::kInvalidHeader) << bad;
    EXPECT_NE(s.message().find("x-ms-version"), std::string::npos) << s.message();
    EXPECT_EQ(blobErrorFor(s).code, "InvalidHeaderValue");
  }
}

// --- ranges ---

std::optional<core::ByteRange> rangeOk(const Headers& h, uint64_t size) {
  auto r = parseBlobRange(h, size);
  EXPECT_TRUE(r) << r.error().toString();
  return r ? *r : std::nullopt;
}

Code rangeError(const Headers& h, uint64_t size) {
  auto r = parseBlobRange(h, size);
  EXPECT_FALSE(r);
  return r ? Code::kOk : r.error().code();
}

TEST(BlobWire, RangeForms) {
  EXPECT_FALSE(rangeOk(Headers(), 100));
  auto r = rangeOk(headersOf({{"Range", "bytes=0-9"}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->length, 10u);
  r = rangeOk(headersOf({{"x-ms-range", "bytes=10-"}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 10u);
  EXPECT_EQ(r->length, 90u);
  // The whole blob as a range is still a range (the adapter answers 206).
  r = rangeOk(headersOf({{"x-ms-range", "bytes=0-99"}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 100u);
  // End clamped to size - 1 (Python asks for bytes=0-33554431 first).
  r = rangeOk(headersOf({{"x-ms-range", "bytes=0-33554431"}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->length, 100u);
  r = rangeOk(headersOf({{"Range", "bytes=99-99"}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 99u);
  EXPECT_EQ(r->length, 1u);
  r = rangeOk(headersOf({{"Range", " bytes= 5 - 6 "}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 5u);
  EXPECT_EQ(r->length, 2u);
}

TEST(BlobWire, RangeMsRangeWins) {
  auto r = rangeOk(headersOf({{"Range", "bytes=0-0"}, {"x-ms-range", "bytes=5-9"}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 5u);
  EXPECT_EQ(r->length, 5u);
  r = rangeOk(headersOf({{"Range", "bytes=1-2"}, {"x-ms-range", ""}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 1u);
  // A malformed x-ms-range is an error even when Range is fine.
  EXPECT_EQ(rangeError(headersOf({{"Range", "bytes=0-0"}, {"x-ms-range", "bytes=-5"}}), 100),
            Code::kInvalidHeader);
}

TEST(BlobWire, RangeUnsatisfiable) {
  EXPECT_EQ(rangeError(headersOf({{"Range", "bytes=100-"}}), 100), Code::kInvalidRange);
  EXPECT_EQ(rangeError(headersOf({{"x-ms-range", "bytes=100-200"}}), 100), Code::kInvalidRange);
  EXPECT_EQ(rangeError(headersOf({{"x-ms-range", "bytes=500-600"}}), 100), Code::kInvalidRange);
  // Any range on a 0-byte blob, even bytes=0-.
  EXPECT_EQ(rangeError(headersOf({{"x-ms-range", "bytes=0-"}}), 0), Code::kInvalidRange);
  EXPECT_EQ(rangeError(headersOf({{"Range", "bytes=0-0"}}), 0), Code::kInvalidRange);
  EXPECT_EQ(rangeError(headersOf({{"x-ms-range", "bytes=0-33554431"}}), 0), Code::kInvalidRange);
  auto r = parseBlobRange(headersOf({{"Range", "bytes=0-"}}), 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(blobErrorForBlob(r.error()).status, 416);
  EXPECT_EQ(blobErrorForBlob(r.error()).code, "InvalidRange");
}

TEST(BlobWire, RangeMalformed) {
  // Range: ignored, the whole blob is served.
  for (const char* bad : {"bytes=-5", "bytes=5-3", "bytes=0-1,4-5", "items=0-5", "bytes=a-b",
                          "bytes=", "bytes=5", "0-5", "bytes=+1-2", "bytes=1-2-3"}) {
    auto r = parseBlobRange(headersOf({{"Range", bad}}), 100);
    ASSERT_TRUE(r) << bad;
    EXPECT_FALSE(*r) << bad;
    // Also on an empty blob: nothing to satisfy, nothing to refuse.
    r = parseBlobRange(headersOf({{"Range", bad}}), 0);
    ASSERT_TRUE(r) << bad;
    EXPECT_FALSE(*r) << bad;
    // x-ms-range: 400 InvalidHeaderValue naming the header, except an inverted range, which
    // both headers ignore.
    if (std::string_view(bad) == "bytes=5-3") {
      auto inverted = parseBlobRange(headersOf({{"x-ms-range", bad}}), 100);
      ASSERT_TRUE(inverted);
      EXPECT_FALSE(*inverted);
      continue;
    }
    auto e = parseBlobRange(headersOf({{"x-ms-range", bad}}), 100);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code(), Code::kInvalidHeader) << bad;
    EXPECT_NE(e.error().message().find("x-ms-range"), std::string::npos);
  }
}

// --- metadata ---

TEST(BlobWire, MetadataCollects) {
  auto m = parseBlobMetadata(headersOf({{"x-ms-meta-Mtime", "1700000000"},
                                        {"Content-Type", "text/plain"},
                                        {"X-MS-META-hdi_isfolder", "true"},
                                        {"x-ms-meta-_a1", ""},
                                        {"x-ms-version", "2021-12-02"}}));
  ASSERT_TRUE(m) << m.error().toString();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0], (std::pair<std::string, std::string>{"Mtime", "1700000000"}));
  EXPECT_EQ((*m)[1], (std::pair<std::string, std::string>{"hdi_isfolder", "true"}));
  EXPECT_EQ((*m)[2], (std::pair<std::string, std::string>{"_a1", ""}));
  EXPECT_TRUE(parseBlobMetadata(Headers())->empty());
}

TEST(BlobWire, MetadataNames) {
  EXPECT_TRUE(validMetadataName("a"));
  EXPECT_TRUE(validMetadataName("_"));
  EXPECT_TRUE(validMetadataName("Abc_09"));
  for (const char* bad : {"", "1abc", "a-b", "a.b", "a b", "ä", "a$"}) {
    EXPECT_FALSE(validMetadataName(bad)) << bad;
  }
  for (const char* bad : {"x-ms-meta-1abc", "x-ms-meta-a-b", "x-ms-meta-"}) {
    auto m = parseBlobMetadata(headersOf({{bad, "v"}}));
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().code(), Code::kInvalidHeader);
    BlobError e = blobErrorFor(m.error());
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "InvalidMetadata") << bad;
  }
  // Names are case-insensitive: a second spelling is a duplicate.
  auto dup = parseBlobMetadata(headersOf({{"x-ms-meta-Name", "a"}, {"x-ms-meta-name", "b"}}));
  ASSERT_FALSE(dup);
  EXPECT_EQ(blobErrorFor(dup.error()).code, "InvalidMetadata");
}

TEST(BlobWire, MetadataSizeLimit) {
  // "x-ms-meta-k" + value: 1 + 8191 = 8192 bytes is the limit.
  auto ok = parseBlobMetadata(headersOf({{"x-ms-meta-k", std::string(8191, 'v')}}));
  EXPECT_TRUE(ok);
  auto big = parseBlobMetadata(headersOf({{"x-ms-meta-k", std::string(8192, 'v')}}));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), Code::kMetadataTooLarge);
  EXPECT_EQ(blobErrorFor(big.error()).code, "MetadataTooLarge");
  // Split across several entries.
  Headers h;
  for (int i = 0; i < 9; ++i) {
    h.add("x-ms-meta-n" + std::to_string(i), std::string(1000, 'v'));
  }
  EXPECT_FALSE(parseBlobMetadata(h));
}

// --- conditions ---

constexpr int64_t kT = 1700000000000;  // blob mtime, on a whole second

store::ObjectRecord blobAt(int64_t mtimeMs, std::string etag = "0x8DAAAA") {
  store::ObjectRecord r;
  r.key = "b";
  r.mtimeMs = mtimeMs;
  r.etag = std::move(etag);
  return r;
}

TEST(BlobWire, ParseConditions) {
  auto c = parseBlobConditions(headersOf({{"If-Match", "\"0x8DAAAA\""},
                                          {"If-Modified-Since", formatHttpDate(kT)},
                                          {"x-ms-source-if-none-match", "*"}}),
                               false);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ifMatch, "\"0x8DAAAA\"");
  EXPECT_EQ(c->ifModifiedSinceMs, kT);
  EXPECT_FALSE(c->ifNoneMatch);
  EXPECT_FALSE(c->ifUnmodifiedSinceMs);
  auto src = parseBlobConditions(
      headersOf({{"If-Match", "x"}, {"x-ms-source-if-none-match", "*"},
                 {"x-ms-source-if-unmodified-since", formatHttpDate(kT)}}),
      true);
  ASSERT_TRUE(src);
  EXPECT_FALSE(src->ifMatch);
  EXPECT_EQ(src->ifNoneMatch, "*");
  EXPECT_EQ(src->ifUnmodifiedSinceMs, kT);
  auto bad = parseBlobConditions(headersOf({{"If-Unmodified-Since", "yesterday"}}), false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kInvalidHeader);
  EXPECT_EQ(blobErrorFor(bad.error()).code, "InvalidHeaderValue");
  EXPECT_FALSE(parseBlobConditions(headersOf({{"x-ms-source-if-modified-since", "x"}}), true));
  EXPECT_TRUE(parseBlobConditions(headersOf({{"x-ms-source-if-modified-since", "x"}}), false));
}

Code readCheck(const core::Conditions& c, const store::ObjectRecord* rec) {
  return checkBlobConditions(c, rec, /*read=*/true).code();
}
Code writeCheck(const core::Conditions& c, const store::ObjectRecord* rec) {
  return checkBlobConditions(c, rec, /*read=*/false).code();
}

TEST(BlobWire, ReadConditions) {
  store::ObjectRecord rec = blobAt(kT + 400);  // 400 ms into the second
  core::Conditions c;
  EXPECT_EQ(readCheck(c, &rec), Code::kOk);
  // If-Match: quoted, unquoted, *, lists.
  for (const char* v : {"\"0x8DAAAA\"", "0x8DAAAA", "*", "\"x\", \"0x8DAAAA\""}) {
    c = {};
    c.ifMatch = v;
    EXPECT_EQ(readCheck(c, &rec), Code::kOk) << v;
  }
  c = {};
  c.ifMatch = "\"0x8DBBBB\"";
  EXPECT_EQ(readCheck(c, &rec), Code::kPreconditionFailed);
  // If-Unmodified-Since at 1-s granularity: same second passes, the second before fails.
  c = {};
  c.ifUnmodifiedSinceMs = kT;
  EXPECT_EQ(readCheck(c, &rec), Code::kOk);
  c.ifUnmodifiedSinceMs = kT - 1;
  EXPECT_EQ(readCheck(c, &rec), Code::kPreconditionFailed);
  // If-None-Match matching → 304.
  c = {};
  c.ifNoneMatch = "\"0x8DAAAA\"";
  EXPECT_EQ(readCheck(c, &rec), Code::kNotModified);
  c.ifNoneMatch = "\"other\"";
  EXPECT_EQ(readCheck(c, &rec), Code::kOk);
  // If-Modified-Since: the blob's own second is "not newer" → 304; the second before passes.
  c = {};
  c.ifModifiedSinceMs = kT + 999;
  EXPECT_EQ(readCheck(c, &rec), Code::kNotModified);
  c.ifModifiedSinceMs = kT;
  EXPECT_EQ(readCheck(c, &rec), Code::kNotModified);
  c.ifModifiedSinceMs = kT - 1;
  EXPECT_EQ(readCheck(c, &rec), Code::kOk);
  // One of the pair passing is enough.
  c = {};
  c.ifNoneMatch = "\"0x8DAAAA\"";
  c.ifModifiedSinceMs = kT - 1000;
  EXPECT_EQ(readCheck(c, &rec), Code::kOk);
  c.ifModifiedSinceMs = kT;
  EXPECT_EQ(readCheck(c, &rec), Code::kNotModified);
  // 412 takes precedence over 304.
  c = {};
  c.ifMatch = "\"nope\"";
  c.ifNoneMatch = "\"0x8DAAAA\"";
  EXPECT_EQ(readCheck(c, &rec), Code::kPreconditionFailed);
  // If-None-Match: * on a read → 400 UnsatisfiableCondition, existing or not.
  c = {};
  c.ifNoneMatch = "*";
  Status s = checkBlobConditions(c, &rec, true);
  EXPECT_EQ(s.code(), Code::kUnsupportedCondition);
  EXPECT_EQ(blobErrorForBlob(s).code, "UnsatisfiableCondition");
  EXPECT_EQ(blobErrorForBlob(s).status, 400);
  EXPECT_EQ(readCheck(c, nullptr), Code::kUnsupportedCondition);
  // Missing blob: If-Match → 412, others → OK (the caller answers 404).
  c = {};
  c.ifMatch = "*";
  EXPECT_EQ(readCheck(c, nullptr), Code::kPreconditionFailed);
  c = {};
  c.ifModifiedSinceMs = kT;
  c.ifUnmodifiedSinceMs = kT;
  c.ifNoneMatch = "\"x\"";
  EXPECT_EQ(readCheck(c, nullptr), Code::kOk);
  // The stored etag may carry quotes.
  store::ObjectRecord quoted = blobAt(kT, "\"0x8DAAAA\"");
  c = {};
  c.ifMatch = "0x8DAAAA";
  EXPECT_EQ(readCheck(c, &quoted), Code::kOk);
}

TEST(BlobWire, WriteConditions) {
  store::ObjectRecord rec = blobAt(kT + 400);
  core::Conditions c;
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
  EXPECT_EQ(writeCheck(c, nullptr), Code::kOk);
  // If-None-Match: * → 409 BlobAlreadyExists on an existing blob, OK on a new one.
  c.ifNoneMatch = "*";
  Status s = checkBlobConditions(c, &rec, false);
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(blobErrorForBlob(s).code, "BlobAlreadyExists");
  EXPECT_EQ(blobErrorForBlob(s).status, 409);
  EXPECT_EQ(writeCheck(c, nullptr), Code::kOk);
  c.ifNoneMatch = "\"0x8DAAAA\"";
  EXPECT_EQ(writeCheck(c, &rec), Code::kPreconditionFailed);
  c.ifNoneMatch = "\"other\"";
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
  // If-Match.
  c = {};
  c.ifMatch = "0x8DAAAA";
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
  c.ifMatch = "\"0x8DBBBB\"";
  EXPECT_EQ(writeCheck(c, &rec), Code::kPreconditionFailed);
  EXPECT_EQ(blobErrorForBlob(checkBlobConditions(c, &rec, false)).code, "ConditionNotMet");
  c.ifMatch = "*";
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
  EXPECT_EQ(writeCheck(c, nullptr), Code::kPreconditionFailed);  // IfPresent semantics
  c.ifMatch = "\"0x8DAAAA\"";
  EXPECT_EQ(writeCheck(c, nullptr), Code::kPreconditionFailed);
  // If-Modified-Since (1-s granularity).
  c = {};
  c.ifModifiedSinceMs = kT + 500;
  EXPECT_EQ(writeCheck(c, &rec), Code::kPreconditionFailed);
  c.ifModifiedSinceMs = kT - 1;
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
  EXPECT_EQ(writeCheck(c, nullptr), Code::kOk);
  // If-Unmodified-Since.
  c = {};
  c.ifUnmodifiedSinceMs = kT;
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
  c.ifUnmodifiedSinceMs = kT - 1;
  EXPECT_EQ(writeCheck(c, &rec), Code::kPreconditionFailed);
  EXPECT_EQ(writeCheck(c, nullptr), Code::kOk);
  // Allowed pairs: the first present header decides.
  c = {};
  c.ifMatch = "0x8DAAAA";
  c.ifUnmodifiedSinceMs = kT - 5000;  // would fail alone
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
  c = {};
  c.ifNoneMatch = "\"other\"";
  c.ifModifiedSinceMs = kT + 5000;  // would fail alone
  EXPECT_EQ(writeCheck(c, &rec), Code::kOk);
}

TEST(BlobWire, WriteConditionCombinations) {
  store::ObjectRecord rec = blobAt(kT);
  auto expectMultiple = [&](const core::Conditions& c) {
    Status s = checkBlobConditions(c, &rec, false);
    EXPECT_EQ(s.code(), Code::kUnsupportedCondition);
    EXPECT_EQ(blobErrorForBlob(s).code, "MultipleConditionHeadersNotSupported");
    EXPECT_EQ(checkBlobConditions(c, nullptr, false).code(), Code::kUnsupportedCondition);
  };
  core::Conditions c;
  c.ifMatch = "a";
  c.ifNoneMatch = "b";
  expectMultiple(c);
  c = {};
  c.ifMatch = "a";
  c.ifModifiedSinceMs = kT;
  expectMultiple(c);
  c = {};
  c.ifNoneMatch = "a";
  c.ifUnmodifiedSinceMs = kT;
  expectMultiple(c);
  c = {};
  c.ifModifiedSinceMs = kT;
  c.ifUnmodifiedSinceMs = kT;
  expectMultiple(c);
  c = {};
  c.ifMatch = "a";
  c.ifUnmodifiedSinceMs = kT;
  c.ifNoneMatch = "b";
  expectMultiple(c);
  c = {};
  c.ifMatch = "\"a\", \"b\"";
  expectMultiple(c);
  c = {};
  c.ifNoneMatch = "\"a\",\"b\"";
  expectMultiple(c);
}

TEST(BlobWire, ContainerConditions) {
  store::BucketRecord b;
  b.name = "c";
  b.createdMs = kT - 10000;
  b.mtimeMs = kT + 300;
  core::Conditions c;
  EXPECT_TRUE(checkContainerConditions(c, b));
  c.ifModifiedSinceMs = kT;
  EXPECT_EQ(checkContainerConditions(c, b).code(), Code::kPreconditionFailed);
  c.ifModifiedSinceMs = kT - 1;
  EXPECT_TRUE(checkContainerConditions(c, b));
  c = {};
  c.ifUnmodifiedSinceMs = kT;
  EXPECT_TRUE(checkContainerConditions(c, b));
  c.ifUnmodifiedSinceMs = kT - 1;
  EXPECT_EQ(checkContainerConditions(c, b).code(), Code::kPreconditionFailed);
  c = {};
  c.ifMatch = "*";
  Status s = checkContainerConditions(c, b);
  EXPECT_EQ(blobErrorFor(s).code, "UnsupportedHeader");
  EXPECT_EQ(blobErrorFor(s).status, 400);
  c = {};
  c.ifNoneMatch = "x";
  EXPECT_EQ(blobErrorFor(checkContainerConditions(c, b)).code, "UnsupportedHeader");
  // Never modified: createdMs counts.
  b.mtimeMs = 0;
  c = {};
  c.ifModifiedSinceMs = kT - 10000;
  EXPECT_EQ(checkContainerConditions(c, b).code(), Code::kPreconditionFailed);
}

// --- formats ---

TEST(BlobWire, Formats) {
  EXPECT_EQ(quoteEtag("0x8D1"), "\"0x8D1\"");
  EXPECT_EQ(quoteEtag("\"0x8D1\""), "\"0x8D1\"");
  EXPECT_EQ(unquoteEtag("\"0x8D1\""), "0x8D1");
  EXPECT_EQ(unquoteEtag("0x8D1"), "0x8D1");
  EXPECT_EQ(unquoteEtag("\""), "\"");
  EXPECT_EQ(rfc1123(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(iso8601Ticks(1795390200123), "2026-11-22T23:30:00.1230000Z");
  EXPECT_EQ(iso8601Ticks(0), "1970-01-01T00:00:00.0000000Z");
}

TEST(BlobWire, ContainerEtag) {
  store::BucketRecord b;
  b.etag = "0x8DABCDEF0123456";
  EXPECT_EQ(containerEtag(b), "0x8DABCDEF0123456");
  b.etag = "\"0x8DABCDEF0123456\"";
  EXPECT_EQ(containerEtag(b), "0x8DABCDEF0123456");
  b.etag.clear();
  b.createdMs = kT;
  std::string derived = containerEtag(b);
  EXPECT_EQ(derived.size(), 17u);
  EXPECT_TRUE(derived.starts_with("0x8"));
  EXPECT_EQ(containerEtag(b), derived);  // stable
  b.mtimeMs = kT + 1;
  EXPECT_NE(containerEtag(b), derived);
  EXPECT_EQ(containerLastModifiedMs(b), kT + 1);
}

// --- block ids ---

TEST(BlobWire, BlockIds) {
  auto id = decodeBlockId("YmxvY2stMDAwMDAx");  // "block-000001"
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "block-000001");
  // 64 bytes = 88 base64 chars with padding; 65 bytes fails.
  auto ok64 = decodeBlockId(std::string(84, 'A') + "AA==");  // 63 + 1 = 64 bytes
  ASSERT_TRUE(ok64);
  EXPECT_EQ(ok64->size(), 64u);
  auto tooLong = decodeBlockId(std::string(88, 'A'));  // 66 bytes
  ASSERT_FALSE(tooLong);
  EXPECT_EQ(tooLong.error().code(), Code::kInvalidBlockId);
  for (const char* bad : {"", "not base64!", "YWJj=", "YW Jj", "YWJ"}) {
    auto r = decodeBlockId(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidBlockId);
    EXPECT_EQ(blobErrorForBlob(r.error()).code, "InvalidBlockId") << bad;
  }
  EXPECT_EQ(*decodeBlockId("QUFB"), "AAA");
}

TEST(BlobWire, ListInclude) {
  ListInclude inc = parseListInclude("metadata, Copy,uncommittedblobs,versions,tags,whatever");
  EXPECT_TRUE(inc.metadata);
  EXPECT_TRUE(inc.copy);
  EXPECT_TRUE(inc.uncommittedBlobs);
  EXPECT_TRUE(inc.versions);
  EXPECT_TRUE(inc.tags);
  EXPECT_FALSE(inc.snapshots);
  EXPECT_FALSE(inc.deleted);
  inc = parseListInclude("");
  EXPECT_FALSE(inc.metadata || inc.copy || inc.uncommittedBlobs);
  inc = parseListInclude("metadata,deleted");
  EXPECT_TRUE(inc.metadata && inc.deleted);
}

}  // namespace
}  // namespace ember::blob
