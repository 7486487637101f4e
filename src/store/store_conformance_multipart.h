#pragma once
// The multipart half of the ObjectStore conformance suite (see store/store_conformance.h for how
// an implementation instantiates it): upload lifecycle, parts, completion, abort and listing.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "store/object_store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace ember::store::testing {

template <typename Traits>
class StoreMultipartConformanceTest : public StoreConformanceTest<Traits> {};

TYPED_TEST_SUITE_P(StoreMultipartConformanceTest);

TYPED_TEST_P(StoreMultipartConformanceTest, MultipartLifecycle) {
  ObjectStore& s = this->store();
  this->createBucket("mp");
  const std::string id = "upload-0001-aaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  UploadRecord u = makeUpload("mp", "big", id);
  STORE_ASSERT_OK(s.createUpload(u));
  STORE_EXPECT_CODE(s.createUpload(u), Code::kAlreadyExists);
  auto got = s.getUpload("mp", "big", id);
  STORE_ASSERT_OK(got);
  EXPECT_EQ(got->uploadId, id);
  EXPECT_EQ(got->initiatedMs, u.initiatedMs);
  EXPECT_EQ(got->owner, "bob");
  EXPECT_EQ(got->content.contentType, u.content.contentType);
  EXPECT_EQ(got->userMeta, u.userMeta);
  EXPECT_EQ(got->checksumAlgorithm, "CRC32");
  EXPECT_EQ(got->checksumType, "COMPOSITE");
  STORE_EXPECT_CODE(s.getUpload("mp", "other", id), Code::kNoSuchUpload);
  STORE_EXPECT_CODE(s.getUpload("other", "big", id), Code::kNoSuchUpload);
  STORE_EXPECT_CODE(s.getUpload("mp", "big", "nope"), Code::kNoSuchUpload);

  const uint64_t t = this->threshold();
  std::string d1 = patternBytes(t + 100, 1);
  std::string d2 = patternBytes(t + 200, 2);
  std::string d2b = patternBytes(t + 300, 22);
  std::string d3 = patternBytes(1000, 3);
  auto p1 = writePart(s, 1, d1);
  auto p2 = writePart(s, 2, d2);
  auto p3 = writePart(s, 3, d3);
  STORE_ASSERT_OK(p1);
  STORE_ASSERT_OK(p2);
  STORE_ASSERT_OK(p3);
  EXPECT_EQ(p3->extent.kind, Extent::Kind::kInline);
  STORE_ASSERT_OK(s.putPart(id, *p1));
  STORE_ASSERT_OK(s.putPart(id, *p2));
  STORE_ASSERT_OK(s.putPart(id, *p3));
  EXPECT_EQ(this->files(), 2u);
  auto p2b = writePart(s, 2, d2b);
  STORE_ASSERT_OK(p2b);
  STORE_ASSERT_OK(s.putPart(id, *p2b));
  EXPECT_EQ(this->files(), 2u) << "the replaced part's file is reclaimed";

  auto parts = s.listParts(id, 0, 1000);
  STORE_ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].number, 1u);
  EXPECT_EQ((*parts)[1].number, 2u);
  EXPECT_EQ((*parts)[1].size, d2b.size());
  EXPECT_EQ((*parts)[1].etag, p2b->etag);
  EXPECT_EQ((*parts)[1].extent.id, p2b->extent.id);
  EXPECT_EQ((*parts)[2].number, 3u);
  EXPECT_EQ((*parts)[2].extent.data, d3) << "listParts returns inline parts with their bytes";
  EXPECT_EQ((*parts)[0].checksums, p1->checksums);
  EXPECT_EQ((*parts)[0].mtimeMs, p1->mtimeMs);
  auto page = s.listParts(id, 1, 1);
  STORE_ASSERT_OK(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].number, 2u);
  EXPECT_TRUE(s.listParts(id, 3, 10)->empty());
  EXPECT_TRUE(s.listParts(id, 10000, 10)->empty());
  STORE_EXPECT_CODE(s.listParts("nope", 0, 10), Code::kNoSuchUpload);

  auto bad = writePart(s, 0, "x");
  STORE_ASSERT_OK(bad);
  STORE_EXPECT_CODE(s.putPart(id, *bad), Code::kInvalidArgument);
  bad = writePart(s, 10001, patternBytes(t + 1, 5));
  STORE_ASSERT_OK(bad);
  STORE_EXPECT_CODE(s.putPart(id, *bad), Code::kInvalidArgument);
  EXPECT_EQ(this->files(), 2u) << "a refused part reclaims its file";

  // Complete with parts 1 and 3: part 2's file is reclaimed.
  ObjectRecord rec = makeRecord("mp", "big", {(*parts)[0].extent, (*parts)[2].extent}, "ffff-2");
  rec.partSizes = {d1.size(), d3.size()};
  rec.userMeta = u.userMeta;
  ObjectRecord wrongKey = rec;
  wrongKey.key = "other";
  STORE_EXPECT_CODE(s.completeUpload(id, wrongKey, nullptr), Code::kNoSuchUpload);
  STORE_EXPECT_CODE(s.completeUpload(id, rec, [](const ObjectRecord*) {
    return makeError(Code::kPreconditionFailed, "no");
  }),
                    Code::kPreconditionFailed);
  STORE_EXPECT_OK(s.getUpload("mp", "big", id));
  EXPECT_EQ(s.listParts(id, 0, 100)->size(), 3u);
  EXPECT_EQ(this->files(), 2u);
  STORE_ASSERT_OK(s.completeUpload(id, rec, [](const ObjectRecord* cur) {
    return cur == nullptr ? Status::ok() : makeError(Code::kInternal, "unexpected current");
  }));
  EXPECT_EQ(this->files(), 1u);
  auto obj = s.getObject("mp", "big");
  STORE_ASSERT_OK(obj);
  EXPECT_EQ(obj->size, d1.size() + d3.size());
  EXPECT_EQ(obj->etag, "ffff-2");
  EXPECT_EQ(obj->partSizes, rec.partSizes);
  EXPECT_EQ(obj->userMeta, u.userMeta);
  EXPECT_EQ(*readObject(s, "mp", "big"), d1 + d3);
  STORE_EXPECT_CODE(s.getUpload("mp", "big", id), Code::kNoSuchUpload);
  STORE_EXPECT_CODE(s.listParts(id, 0, 10), Code::kNoSuchUpload);
  STORE_EXPECT_CODE(s.completeUpload(id, rec, nullptr), Code::kNoSuchUpload);
  STORE_EXPECT_CODE(s.abortUpload(id), Code::kNoSuchUpload);
  auto late = writePart(s, 4, patternBytes(t + 1, 4));
  STORE_ASSERT_OK(late);
  STORE_EXPECT_CODE(s.putPart(id, *late), Code::kNoSuchUpload);
  EXPECT_EQ(this->files(), 1u);
  auto ups = s.listUploads("mp");
  STORE_ASSERT_OK(ups);
  EXPECT_FALSE((*ups)->valid());
  // Deleting the object frees the parts' data.
  STORE_ASSERT_OK(s.deleteObject("mp", "big", nullptr));
  EXPECT_EQ(this->files(), 0u);
}

TYPED_TEST_P(StoreMultipartConformanceTest, MultipartManyPartsAndForeignExtents) {
  ObjectStore& s = this->store();
  this->createBucket("mp");
  const std::string id = "upload-many-000000000000000000000000000";
  const std::string other = "upload-other-00000000000000000000000000";
  STORE_ASSERT_OK(s.createUpload(makeUpload("mp", "many", id)));
  STORE_ASSERT_OK(s.createUpload(makeUpload("mp", "x", other)));
  auto foreign = writePart(s, 1, patternBytes(this->threshold() + 1, 99));
  STORE_ASSERT_OK(foreign);
  STORE_ASSERT_OK(s.putPart(other, *foreign));
  std::string expect;
  std::vector<Extent> extents;
  std::vector<uint64_t> sizes;
  for (uint32_t n = 1; n <= 40; ++n) {
    std::string d = patternBytes(n == 7 ? this->threshold() + 7 : 50 + n, n);
    auto p = writePart(s, n, d);
    STORE_ASSERT_OK(p);
    STORE_ASSERT_OK(s.putPart(id, *p));
    expect += d;
    extents.push_back(p->extent);
    sizes.push_back(d.size());
  }
  ObjectRecord withForeign = makeRecord("mp", "many", extents, "aa-41");
  withForeign.extents.push_back(foreign->extent);
  withForeign.size += foreign->extent.size;
  STORE_EXPECT_CODE(s.completeUpload(id, withForeign, nullptr), Code::kInvalidPart);
  EXPECT_EQ(this->files(), 2u);
  ObjectRecord rec = makeRecord("mp", "many", extents, "aa-40");
  rec.partSizes = sizes;
  STORE_ASSERT_OK(s.completeUpload(id, rec, nullptr));
  auto obj = s.getObject("mp", "many");
  STORE_ASSERT_OK(obj);
  EXPECT_EQ(obj->partSizes, sizes);
  ASSERT_EQ(obj->extents.size(), 40u);
  EXPECT_EQ(*readObject(s, "mp", "many"), expect);
  // Listing does not need the extents.
  EXPECT_EQ(listKeys(s, "mp"), std::vector<std::string>{"many"});
  // Overwrite: all of the old version goes away.
  STORE_ASSERT_OK(putBytes(s, "mp", "many", "small", "e"));
  EXPECT_EQ(this->files(), 1u);  // the other upload's part
  STORE_ASSERT_OK(s.abortUpload(other));
  EXPECT_EQ(this->files(), 0u);
  // A put may not adopt another key's extents.
  STORE_ASSERT_OK(putBytes(s, "mp", "owner", patternBytes(this->threshold() + 3, 3), "e"));
  auto owner = s.getObject("mp", "owner");
  STORE_ASSERT_OK(owner);
  STORE_EXPECT_CODE(s.putObject(makeRecord("mp", "thief", owner->extents), nullptr),
                    Code::kInvalidArgument);
  EXPECT_EQ(this->files(), 1u);
  EXPECT_EQ(readObject(s, "mp", "owner")->size(), this->threshold() + 3);
}

TYPED_TEST_P(StoreMultipartConformanceTest, AbortAndListUploads) {
  ObjectStore& s = this->store();
  this->createBucket("b");
  this->createBucket("b2");
  const std::string a = "upload-a-00000000000000000000000000000000";
  const std::string z = "upload-z-00000000000000000000000000000000";
  const std::string m = "upload-m-00000000000000000000000000000000";
  const std::string o = "upload-o-00000000000000000000000000000000";
  STORE_ASSERT_OK(s.createUpload(makeUpload("b", "k2", m)));
  STORE_ASSERT_OK(s.createUpload(makeUpload("b", "k1", z)));
  STORE_ASSERT_OK(s.createUpload(makeUpload("b", "k1", a)));
  STORE_ASSERT_OK(s.createUpload(makeUpload("b2", "k1", o)));
  auto it = s.listUploads("b");
  STORE_ASSERT_OK(it);
  std::vector<std::pair<std::string, std::string>> seen;
  for (; (*it)->valid(); (*it)->next()) {
    seen.emplace_back((*it)->record().key, (*it)->record().uploadId);
  }
  STORE_EXPECT_OK((*it)->status());
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(seen, (std::vector<P>{{"k1", a}, {"k1", z}, {"k2", m}}));
  (*it)->seek("k1", "upload-b");
  ASSERT_TRUE((*it)->valid());
  EXPECT_EQ((*it)->record().uploadId, z);
  (*it)->seek("k2", "");
  ASSERT_TRUE((*it)->valid());
  EXPECT_EQ((*it)->record().uploadId, m);
  EXPECT_EQ((*it)->record().bucket, "b");
  EXPECT_EQ((*it)->record().owner, "bob");
  (*it)->seek("k3", "");
  EXPECT_FALSE((*it)->valid());

  auto p1 = writePart(s, 1, patternBytes(this->threshold() * 2, 1));
  auto p2 = writePart(s, 2, "inline part");
  STORE_ASSERT_OK(p1);
  STORE_ASSERT_OK(p2);
  STORE_ASSERT_OK(s.putPart(a, *p1));
  STORE_ASSERT_OK(s.putPart(a, *p2));
  EXPECT_EQ(this->files(), 1u);
  STORE_ASSERT_OK(s.abortUpload(a));
  EXPECT_EQ(this->files(), 0u);
  STORE_EXPECT_CODE(s.abortUpload(a), Code::kNoSuchUpload);
  STORE_EXPECT_CODE(s.getUpload("b", "k1", a), Code::kNoSuchUpload);
  auto p3 = writePart(s, 1, patternBytes(this->threshold() * 2, 1));
  STORE_ASSERT_OK(p3);
  STORE_EXPECT_CODE(s.putPart(a, *p3), Code::kNoSuchUpload);
  EXPECT_EQ(this->files(), 0u) << "a part refused for a missing upload is reclaimed";
  STORE_EXPECT_CODE(s.createUpload(makeUpload("b", "k", "")), Code::kInvalidArgument);
}

REGISTER_TYPED_TEST_SUITE_P(StoreMultipartConformanceTest, MultipartLifecycle,
                            MultipartManyPartsAndForeignExtents, AbortAndListUploads);

}  // namespace ember::store::testing
