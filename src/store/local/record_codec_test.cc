#include "store/local/record_codec.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace ember::store::local {
namespace {

using ember::store::testing::describe;

ObjectRecord sampleObject(size_t extents) {
  ObjectRecord r;
  r.bucket = "b";
  r.key = "k";
  r.etag = "d41d8cd98f00b204e9800998ecf8427e-3";
  r.mtimeMs = -5;  // signed values survive zig-zag
  r.owner = "alice";
  r.content.contentType = "text/plain";
  r.content.expires = "never";
  r.userMeta = {{"a", "1"}, {"b", std::string("\0\xff", 2)}};
  r.checksums = {{"SHA256", "xyz="}};
  r.checksumType = "COMPOSITE";
  r.versionId = "00112233445566778899aabbccddeeff";
  for (size_t i = 0; i < extents; ++i) {
    Extent x;
    if (i % 2 == 0) {
      x.kind = Extent::Kind::kFile;
      x.id = "ffeeddccbbaa99887766554433221100";
      x.id[0] = "0123456789abcdef"[i % 16];
      x.size = 1000000 + i;
    } else {
      x.kind = Extent::Kind::kInline;
      x.size = 10 + i;
    }
    r.extents.push_back(x);
    r.partSizes.push_back(x.size);
    r.size += x.size;
  }
  return r;
}

void expectSameObject(const ObjectRecord& a, const ObjectRecord& b) {
  EXPECT_EQ(a.bucket, b.bucket);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.etag, b.etag);
  EXPECT_EQ(a.mtimeMs, b.mtimeMs);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.content.contentType, b.content.contentType);
  EXPECT_EQ(a.content.expires, b.content.expires);
  EXPECT_EQ(a.userMeta, b.userMeta);
  EXPECT_EQ(a.checksums, b.checksums);
  EXPECT_EQ(a.checksumType, b.checksumType);
  EXPECT_EQ(a.partSizes, b.partSizes);
  EXPECT_EQ(a.versionId, b.versionId);
  ASSERT_EQ(a.extents.size(), b.extents.size());
  for (size_t i = 0; i < a.extents.size(); ++i) {
    EXPECT_EQ(a.extents[i].kind, b.extents[i].kind);
    EXPECT_EQ(a.extents[i].id, b.extents[i].id);
    EXPECT_EQ(a.extents[i].size, b.extents[i].size);
  }
}

TEST(RecordCodecTest, ObjectRoundTripEmbeddedTail) {
  ObjectRecord r = sampleObject(4);
  EncodedObject enc = encodeObject(r);
  EXPECT_TRUE(enc.tail.empty());
  auto d = decodeObject("b", "k", enc.value, Depth::kFull);
  ASSERT_TRUE(d) << describe(d);
  EXPECT_FALSE(d->tailExternal);
  expectSameObject(d->record, r);
  auto raw = peekVersionRaw(enc.value);
  ASSERT_TRUE(raw);
  EXPECT_EQ(hexFromRawId(*raw), r.versionId);
}

TEST(RecordCodecTest, ObjectRoundTripExternalTail) {
  ObjectRecord r = sampleObject(kMaxEmbeddedTail + 1);
  EncodedObject enc = encodeObject(r);
  ASSERT_FALSE(enc.tail.empty());
  auto d = decodeObject("b", "k", enc.value, Depth::kFull);
  ASSERT_TRUE(d) << describe(d);
  EXPECT_TRUE(d->tailExternal);
  EXPECT_TRUE(d->record.extents.empty());
  ASSERT_TRUE(decodeTail(enc.tail, d->record));
  expectSameObject(d->record, r);
  // The listing value stays small however many parts the object has.
  EXPECT_LT(enc.value.size(), 200u);
}

TEST(RecordCodecTest, ListingDepthStopsBeforeHeavyFields) {
  ObjectRecord r = sampleObject(3);
  auto d = decodeObject("b", "k", encodeObject(r).value, Depth::kListing);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->record.etag, r.etag);
  EXPECT_EQ(d->record.checksums, r.checksums);
  EXPECT_EQ(d->record.versionId, r.versionId);
  EXPECT_TRUE(d->record.userMeta.empty());
  EXPECT_TRUE(d->record.extents.empty());
}

TEST(RecordCodecTest, BlockAppendLeaseAndAttributeFieldsRoundTrip) {
  for (size_t extents : {size_t{2}, kMaxEmbeddedTail + 1}) {  // embedded and external tails
    ObjectRecord r = sampleObject(extents);
    r.kind = ObjectKind::kAppend;
    r.createdMs = 42;
    r.contentMd5 = "XUFAKrxLKna5cZ2REBfFkg==";
    r.sealed = true;
    r.blockCount = 7;
    r.blockIds = {"a", std::string("\0b", 2)};
    r.lease.id = "L";
    r.lease.durationSec = 15;
    r.lease.breakAtMs = 99;
    r.lease.released = true;
    r.attrs = {{"copy-status", "success"}};
    auto d = decodeObject("b", "k", encodeObject(r).value, Depth::kFull);
    ASSERT_TRUE(d) << d.error().toString();
    EXPECT_EQ(d->record.kind, ObjectKind::kAppend);
    EXPECT_EQ(d->record.createdMs, 42);
    EXPECT_EQ(d->record.contentMd5, r.contentMd5);
    EXPECT_TRUE(d->record.sealed);
    EXPECT_EQ(d->record.blockCount, 7u);
    EXPECT_EQ(d->record.blockIds, r.blockIds);
    EXPECT_EQ(d->record.lease.id, "L");
    EXPECT_EQ(d->record.lease.durationSec, 15);
    EXPECT_EQ(d->record.lease.breakAtMs, 99);
    EXPECT_TRUE(d->record.lease.released);
    EXPECT_EQ(d->record.attrs, r.attrs);
  }
}

TEST(RecordCodecTest, TruncatedOrAlteredInputIsCorruption) {
  ObjectRecord r = sampleObject(5);
  std::string v = encodeObject(r).value;
  for (size_t n = 0; n < v.size(); ++n) {
    auto d = decodeObject("b", "k", std::string_view(v).substr(0, n), Depth::kFull);
    ASSERT_FALSE(d) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(d.error().code(), Code::kCorruption);
  }
  std::string bad = v;
  bad[0] = 9;  // unknown format version
  EXPECT_FALSE(decodeObject("b", "k", bad, Depth::kListing));
  // A count that the remaining input cannot hold is refused without allocating.
  Encoder e;
  e.u8(kFormatVersion);
  e.varint(1ull << 60);
  EXPECT_FALSE(decodeRetired(std::string(kIdBytes, 'v'), e.take()));
}

TEST(RecordCodecTest, OtherRecordsRoundTrip) {
  BucketRecord b;
  b.name = "bucket";
  b.createdMs = 123;
  b.owner = "owner";
  b.region = "region";
  b.userMeta = {{"Project", "x"}};
  b.etag = "0x1";
  b.mtimeMs = 456;
  b.lease.id = "lease";
  b.lease.durationSec = 30;
  b.lease.expiresMs = 789;
  auto b2 = decodeBucket("bucket", encodeBucket(b));
  ASSERT_TRUE(b2);
  EXPECT_EQ(b2->createdMs, 123);
  EXPECT_EQ(b2->owner, "owner");
  EXPECT_EQ(b2->region, "region");
  EXPECT_EQ(b2->userMeta, b.userMeta);
  EXPECT_EQ(b2->etag, "0x1");
  EXPECT_EQ(b2->mtimeMs, 456);
  EXPECT_EQ(b2->lease.id, "lease");
  EXPECT_EQ(b2->lease.durationSec, 30);
  EXPECT_EQ(b2->lease.expiresMs, 789);
  // A format 1 bucket value (before container metadata and leases) still decodes.
  Encoder v1;
  v1.u8(1);
  v1.signedVarint(5);
  v1.string("o1");
  v1.string("");
  auto b3 = decodeBucket("old", v1.take());
  ASSERT_TRUE(b3);
  EXPECT_EQ(b3->owner, "o1");
  EXPECT_TRUE(b3->userMeta.empty());
  EXPECT_EQ(b3->lease.durationSec, -1);

  UploadRecord u;
  u.bucket = "b";
  u.key = "k";
  u.uploadId = "id";
  u.initiatedMs = 99;
  u.owner = "o";
  u.content.cacheControl = "cc";
  u.userMeta = {{"x", "y"}};
  u.checksumAlgorithm = "CRC32C";
  u.checksumType = "FULL_OBJECT";
  auto u2 = decodeUpload(encodeUpload(u));
  ASSERT_TRUE(u2);
  EXPECT_EQ(u2->bucket, "b");
  EXPECT_EQ(u2->key, "k");
  EXPECT_EQ(u2->uploadId, "id");
  EXPECT_EQ(u2->initiatedMs, 99);
  EXPECT_EQ(u2->content.cacheControl, "cc");
  EXPECT_EQ(u2->userMeta, u.userMeta);
  EXPECT_EQ(u2->checksumAlgorithm, "CRC32C");
  EXPECT_EQ(u2->checksumType, "FULL_OBJECT");

  PartRecord p;
  p.number = 10000;
  p.size = 3;
  p.etag = "e";
  p.mtimeMs = 7;
  p.checksums = {{"CRC32", "c"}};
  p.extent.size = 3;
  p.extent.data = "abc";
  p.blockId = std::string("\x00id", 3);
  auto p2 = decodePart(encodePart(p));
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->number, 10000u);
  EXPECT_EQ(p2->blockId, p.blockId);
  EXPECT_EQ(p2->extent.kind, Extent::Kind::kInline);
  EXPECT_EQ(p2->extent.data, "abc");
  EXPECT_EQ(p2->checksums, p.checksums);
  p.extent.kind = Extent::Kind::kFile;
  p.extent.data.clear();
  p.extent.id = "0123456789abcdef0123456789abcdef";
  p2 = decodePart(encodePart(p));
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->extent.id, p.extent.id);

  RetiredVersion rv;
  rv.versionRaw = std::string(kIdBytes, 'v');
  rv.fileIdsRaw = {std::string(kIdBytes, 'a'), std::string(kIdBytes, 'b')};
  rv.dataIndices = {0, 5, kTailIndex};
  auto rv2 = decodeRetired(rv.versionRaw, encodeRetired(rv));
  ASSERT_TRUE(rv2);
  EXPECT_EQ(rv2->fileIdsRaw, rv.fileIdsRaw);
  EXPECT_EQ(rv2->dataIndices, rv.dataIndices);
}

TEST(RecordCodecTest, KeysSortAsSpecified) {
  // A bucket's keys are contiguous and byte-ordered; "a" and "ab" do not interleave.
  EXPECT_LT(objectKey("a", "zzz"), objectKey("ab", ""));
  EXPECT_LT(objectKey("a", "zzz"), bucketUpperBound("a"));
  EXPECT_LE(bucketLowerBound("a"), objectKey("a", ""));
  EXPECT_LT(objectKey("a", std::string("\x01", 1)), objectKey("a", "/"));
  EXPECT_LT(partKey("u", 2), partKey("u", 10));
  EXPECT_LT(partKey("u", 10000), partUpperBound("u"));
  EXPECT_LT(uploadKey("b", "k", "z"), uploadKey("b", "k2", "a"));
  EXPECT_EQ(hexFromRawId(*rawFromHexId("00ff10a0b0c0d0e0f00112233445566f")),
            "00ff10a0b0c0d0e0f00112233445566f");
  EXPECT_FALSE(rawFromHexId("00FF10A0B0C0D0E0F00112233445566F"));
  EXPECT_FALSE(rawFromHexId("abc"));
  EXPECT_NE(randomRawId(), randomRawId());
}

}  // namespace
}  // namespace ember::store::local
