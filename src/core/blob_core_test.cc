// Block objects over the in-memory store twin: staging, block lists (Latest / Committed /
// Uncommitted), re-commits sharing committed blocks, slot collisions, copies into blocks.
#include <cstdio>
#include <future>
#include <limits>
#include <set>
#include <unordered_map>

#include "core/blob_test_util.h"

namespace ember::core {
namespace {

using namespace ember::core::testing;

class BlobBlocksTest : public BlobCoreTestBase {
 protected:
  static NamespaceOptions options() {
    NamespaceOptions o = defaultOptions();
    o.maxBlocks = 300;
    return o;
  }
  BlobBlocksTest() : BlobCoreTestBase(options()) {}

  std::set<std::pair<std::string, uint64_t>> uncommittedSet(const std::string& key) {
    auto v = blocks(key);
    EXPECT_TRUE(v);
    std::set<std::pair<std::string, uint64_t>> out;
    for (const BlockInfo& b : v->uncommitted) {
      out.emplace(b.id, b.size);
    }
    return out;
  }
  std::vector<std::pair<std::string, uint64_t>> committedList(const std::string& key) {
    auto v = blocks(key);
    EXPECT_TRUE(v);
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const BlockInfo& b : v->committed) {
      out.emplace_back(b.id, b.size);
    }
    return out;
  }
};

// The slot hash of core/blocks.cc (FNV-1a, 1 + h mod 2^31), to build colliding ids.
uint32_t slotOf(std::string_view id) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return 1 + static_cast<uint32_t>(h % (uint64_t{1} << 31));
}

TEST_F(BlobBlocksTest, ReapDropsOnlyBlocksStagedBeforeTheCutoff) {
  ASSERT_TRUE(stage("old", "A", "aaa"));
  ASSERT_TRUE(stage("kept", "B", "bbb"));
  ASSERT_TRUE(commit("kept", {latest("B")}));
  ASSERT_TRUE(stage("kept", "C", "ccc"));
  auto none = run(ns_.reapStagedBlocks(0));  // nothing is older than the epoch
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u);
  EXPECT_EQ(uncommittedSet("old").size(), 1u);
  auto all = run(ns_.reapStagedBlocks(std::numeric_limits<int64_t>::max()));
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 2u);
  EXPECT_EQ(codeOf(blocks("old")), Code::kOk);
  EXPECT_TRUE(uncommittedSet("old").empty());
  EXPECT_TRUE(uncommittedSet("kept").empty());
  EXPECT_EQ(*get("kept"), "bbb");  // committed blobs are untouched
}

TEST_F(BlobBlocksTest, StagedBlocksAreInvisibleUntilCommitted) {
  std::string a = pattern(1000, 'a');
  std::string b = pattern(100'000, 'b');  // a file extent
  std::string c = pattern(10, 'c');
  ASSERT_TRUE(stage("k", "A", a));
  ASSERT_TRUE(stage("k", "B", b));
  ASSERT_TRUE(stage("k", "C", c));
  EXPECT_EQ(codeOf(get("k")), Code::kNoSuchKey);
  EXPECT_EQ(codeOf(run(ns_.headObject("bkt", "k"))), Code::kNoSuchKey);
  auto v = blocks("k");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->object);
  EXPECT_TRUE(v->committed.empty());
  EXPECT_EQ(uncommittedSet("k"), (std::set<std::pair<std::string, uint64_t>>{
                                     {"A", 1000}, {"B", 100'000}, {"C", 10}}));
  auto rec = commit("k", {latest("A"), latest("B")});
  ASSERT_TRUE(rec) << rec.error().toString();
  EXPECT_EQ(rec->size, 101'000u);
  EXPECT_TRUE(rec->etag.ends_with("-2"));
  EXPECT_EQ(rec->kind, store::ObjectKind::kBlock);
  EXPECT_EQ(rec->contentMd5, "");
  EXPECT_EQ(*get("k"), a + b);
  // The commit dropped the unlisted staged block C.
  EXPECT_TRUE(uncommittedSet("k").empty());
  EXPECT_EQ(committedList("k"), (std::vector<std::pair<std::string, uint64_t>>{
                                    {"A", 1000}, {"B", 100'000}}));
  v = blocks("k");
  ASSERT_TRUE(v->object);
  EXPECT_EQ(v->object->etag, rec->etag);
  EXPECT_EQ(files(), 1u);
}

TEST_F(BlobBlocksTest, RecommitMixesCommittedAndNewStagedBlocks) {
  std::string a = pattern(1000, 'a');
  std::string b = pattern(100'000, 'b');
  std::string c = pattern(300, 'c');
  ASSERT_TRUE(stage("k", "A", a));
  ASSERT_TRUE(stage("k", "B", b));
  ASSERT_TRUE(stage("k", "C", c));
  ASSERT_TRUE(commit("k", {latest("A"), latest("B"), latest("C")}));
  // A new version of A is staged, and a new block D; B stays committed.
  std::string a2 = pattern(50, 'x');
  std::string d = pattern(70'000, 'd');
  ASSERT_TRUE(stage("k", "A", a2));
  ASSERT_TRUE(stage("k", "D", d));
  auto rec = commit("k", {committedRef("A"), latest("B"), uncommittedRef("D"), latest("A"),
                          committedRef("C")});
  ASSERT_TRUE(rec) << rec.error().toString();
  EXPECT_EQ(*get("k"), a + b + d + a2 + c);
  EXPECT_EQ(committedList("k"), (std::vector<std::pair<std::string, uint64_t>>{
                                    {"A", 1000}, {"B", 100'000}, {"D", 70'000}, {"A", 50},
                                    {"C", 300}}));
  // B's file is shared with the previous version, D's is new; no other file survives.
  EXPECT_EQ(files(), 2u);
  // Committing the committed blocks alone (no staging upload left) rewrites the object.
  rec = commit("k", {committedRef("C"), latest("B")});
  ASSERT_TRUE(rec) << rec.error().toString();
  EXPECT_EQ(*get("k"), c + b);
  EXPECT_EQ(files(), 1u);
}

TEST_F(BlobBlocksTest, InvalidBlockListLeavesEverythingAsItWas) {
  ASSERT_TRUE(stage("k", "A", "aaa"));
  ASSERT_TRUE(commit("k", {latest("A")}));
  ASSERT_TRUE(stage("k", "S", "sss"));
  for (auto list : std::vector<std::vector<BlockRefInput>>{
           {latest("nope")},
           {uncommittedRef("A")},  // A is committed, not staged
           {committedRef("S")},    // S is staged, not committed
           {latest("S"), latest("A"), committedRef("zzz")}}) {
    auto r = commit("k", list);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Code::kInvalidBlockList);
    EXPECT_EQ(r.error().message(), "The specified block list is invalid.");
  }
  EXPECT_EQ(*get("k"), "aaa");
  EXPECT_EQ(uncommittedSet("k"), (std::set<std::pair<std::string, uint64_t>>{{"S", 3}}));
  // A failing commit check also leaves the staged blocks.
  auto r = commit("k", {latest("S")}, [](const ObjectRecord*) {
    return makeError(Code::kLeaseIdMissing, "leased");
  });
  EXPECT_EQ(codeOf(r), Code::kLeaseIdMissing);
  EXPECT_EQ(uncommittedSet("k").size(), 1u);
  EXPECT_EQ(*get("k"), "aaa");
}

TEST_F(BlobBlocksTest, RepeatedAndZeroLengthBlocks) {
  ASSERT_TRUE(stage("k", "A", "aa"));
  ASSERT_TRUE(stage("k", "Z", ""));
  std::string big = pattern(80'000, 'q');
  ASSERT_TRUE(stage("k", "B", big));
  auto rec = commit("k", {latest("A"), latest("Z"), latest("B"), latest("A"), latest("B")});
  ASSERT_TRUE(rec) << rec.error().toString();
  EXPECT_EQ(*get("k"), "aa" + big + "aa" + big);
  EXPECT_EQ(rec->partSizes, (std::vector<uint64_t>{2, 0, 80'000, 2, 80'000}));
  EXPECT_EQ(committedList("k").size(), 5u);
  // Committed zero-length blocks map to no extent; the others still line up after them.
  rec = commit("k", {committedRef("Z"), committedRef("B"), committedRef("Z"), committedRef("A")});
  ASSERT_TRUE(rec) << rec.error().toString();
  EXPECT_EQ(*get("k"), big + "aa");
  EXPECT_EQ(files(), 1u);
  // An empty block list makes an empty object.
  rec = commit("k", {});
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->size, 0u);
  EXPECT_EQ(rec->etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(*get("k"), "");
  EXPECT_EQ(files(), 0u);
}

TEST_F(BlobBlocksTest, RestagingReplacesTheBlock) {
  ASSERT_TRUE(stage("k", "A", "first"));
  std::string big = pattern(90'000, 'r');
  ASSERT_TRUE(stage("k", "A", big));
  ASSERT_TRUE(stage("k", "A", "third"));
  EXPECT_EQ(uncommittedSet("k"), (std::set<std::pair<std::string, uint64_t>>{{"A", 5}}));
  EXPECT_EQ(files(), 0u);  // the replaced file was reclaimed
  ASSERT_TRUE(commit("k", {uncommittedRef("A")}));
  EXPECT_EQ(*get("k"), "third");
}

// Two ids whose home slots collide (birthday search over 2^31 slots).
std::pair<std::string, std::string> collidingIds() {
  static const std::pair<std::string, std::string> found = [] {
    std::unordered_map<uint32_t, std::string> seen;
    for (int i = 0; i < 2'000'000; ++i) {
      std::string n = std::to_string(i);
      std::string id = "blk-" + std::string(7 - n.size(), '0') + n;  // one length for all ids
      auto [it, fresh] = seen.emplace(slotOf(id), id);
      if (!fresh) {
        return std::pair{it->second, id};
      }
    }
    return std::pair{std::string(), std::string()};
  }();
  return found;
}

TEST_F(BlobBlocksTest, CollidingSlotsProbeToTheNextNumber) {
  auto [p, q] = collidingIds();
  ASSERT_FALSE(p.empty());
  auto sp = stage("k", p, "PPP");
  auto sq = stage("k", q, "QQ");
  ASSERT_TRUE(sp && sq);
  EXPECT_EQ(sp->number, slotOf(p));
  EXPECT_EQ(sq->number, slotOf(p) + 1);
  // Re-staging either finds its own part, not a new number.
  auto sq2 = stage("k", q, "qqqq");
  auto sp2 = stage("k", p, "p");
  ASSERT_TRUE(sq2 && sp2);
  EXPECT_EQ(sq2->number, sq->number);
  EXPECT_EQ(sp2->number, sp->number);
  EXPECT_EQ(uncommittedSet("k"),
            (std::set<std::pair<std::string, uint64_t>>{{p, 1}, {q, 4}}));
  ASSERT_TRUE(commit("k", {latest(q), latest(p)}));
  EXPECT_EQ(*get("k"), "qqqqp");
}

TEST_F(BlobBlocksTest, ConcurrentStagesOfCollidingIds) {
  auto [p, q] = collidingIds();
  ASSERT_FALSE(p.empty());
  std::vector<std::future<Result<PartRecord>>> done;
  std::vector<std::unique_ptr<StringSource>> bodies;
  for (int i = 0; i < 40; ++i) {
    StageBlockInput in;
    in.bucket = "bkt";
    in.key = "k";
    in.blockId = i % 2 ? q : p;
    std::string data(i % 2 ? 2 : 1, 'x');
    in.expectedSize = data.size();
    bodies.push_back(std::make_unique<StringSource>(data));
    done.push_back(asio::co_spawn(ioc_, ns_.stageBlock(std::move(in), *bodies.back()),
                                  asio::use_future));
  }
  ioc_.restart();
  ioc_.run();
  for (auto& f : done) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().toString();
  }
  EXPECT_EQ(uncommittedSet("k"), (std::set<std::pair<std::string, uint64_t>>{{p, 1}, {q, 2}}));
}

TEST_F(BlobBlocksTest, ManyBlocksAndTheBlockLimit) {
  std::string want;
  std::vector<BlockRefInput> list;
  for (int i = 0; i < 300; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "id%06d", i);
    std::string data = pattern(static_cast<size_t>(i % 7), static_cast<char>('a' + i % 20));
    ASSERT_TRUE(stage("many", id, data));
    list.push_back(latest(id));
  }
  std::reverse(list.begin(), list.end());
  for (int i = 299; i >= 0; --i) {
    want += pattern(static_cast<size_t>(i % 7), static_cast<char>('a' + i % 20));
  }
  auto v = blocks("many");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->uncommitted.size(), 300u);
  ASSERT_TRUE(commit("many", list));
  EXPECT_EQ(*get("many"), want);
  EXPECT_EQ(committedList("many").size(), 300u);
  list.push_back(latest("id000001"));
  EXPECT_EQ(codeOf(commit("many", list)), Code::kBlockCountExceeded);
}

TEST_F(BlobBlocksTest, DropStagedBlocks) {
  ASSERT_TRUE(stage("k", "A", pattern(100'000, 'a')));
  ASSERT_TRUE(stage("k", "B", "b"));
  EXPECT_TRUE(run(ns_.dropStagedBlocks("bkt", "k")).isOk());
  EXPECT_TRUE(uncommittedSet("k").empty());
  EXPECT_EQ(files(), 0u);
  EXPECT_TRUE(run(ns_.dropStagedBlocks("bkt", "k")).isOk());  // nothing staged: fine
  EXPECT_EQ(codeOf(commit("k", {latest("A")})), Code::kInvalidBlockList);
  // Staging works again afterwards (a new staging upload).
  ASSERT_TRUE(stage("k", "A", "again"));
  ASSERT_TRUE(commit("k", {latest("A")}));
  EXPECT_EQ(*get("k"), "again");
}

TEST_F(BlobBlocksTest, StageErrors) {
  EXPECT_EQ(codeOf(stage("k", "", "x")), Code::kInvalidBlockId);
  EXPECT_EQ(codeOf(stage("k", std::string(65, 'i'), "x")), Code::kInvalidBlockId);
  EXPECT_TRUE(stage("k", std::string(64, 'i'), "x"));
  auto bad = stage("k", "V", pattern(100'000, 'v'),
                   [](const Digests&) { return makeError(Code::kBadDigest, "md5"); });
  EXPECT_EQ(codeOf(bad), Code::kBadDigest);
  EXPECT_EQ(files(), 0u);  // the refused body's file was reclaimed
  EXPECT_EQ(uncommittedSet("k").size(), 1u);
  StageBlockInput in;
  in.bucket = "nobucket";
  in.key = "k";
  in.blockId = "A";
  StringSource src("x");
  EXPECT_EQ(codeOf(run(ns_.stageBlock(std::move(in), src))), Code::kNoSuchBucket);
  EXPECT_EQ(codeOf(run(ns_.getBlockList("nobucket", "k", true, true))), Code::kNoSuchBucket);
}

TEST_F(BlobBlocksTest, StageFromObjectRanges) {
  std::string src = pattern(200'000, 's');
  ASSERT_TRUE(put("src", src));
  StageBlockInput in;
  in.bucket = "bkt";
  in.key = "dst";
  in.blockId = "R";
  auto r = run(ns_.stageBlockFromObject(in, "bkt", "src", ByteRange{1000, 150'000}));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->size, 150'000u);
  in.blockId = "W";
  ASSERT_TRUE(run(ns_.stageBlockFromObject(in, "bkt", "src", std::nullopt)));
  in.blockId = "X";
  EXPECT_EQ(codeOf(run(ns_.stageBlockFromObject(in, "bkt", "src", ByteRange{199'999, 2}))),
            Code::kInvalidRange);
  EXPECT_EQ(codeOf(run(ns_.stageBlockFromObject(in, "bkt", "missing", std::nullopt))),
            Code::kNoSuchKey);
  ASSERT_TRUE(commit("dst", {latest("R"), latest("W")}));
  EXPECT_EQ(*get("dst"), src.substr(1000, 150'000) + src);
}

TEST_F(BlobBlocksTest, CommitKeepsTheLeaseAndSeesTheCurrentObject) {
  ASSERT_TRUE(stage("k", "A", "aaa"));
  ASSERT_TRUE(commit("k", {latest("A")}));
  store::RecordUpdate lease = [](ObjectRecord& r) {
    r.lease.id = "L";
    return Status::ok();
  };
  ASSERT_TRUE(run(ns_.updateObject("bkt", "k", lease)));
  ASSERT_TRUE(stage("k", "B", "bb"));
  std::string seenEtag;
  auto rec = commit("k", {committedRef("A"), latest("B")}, [&](const ObjectRecord* cur) {
    seenEtag = cur ? cur->etag : "none";
    return Status::ok();
  });
  ASSERT_TRUE(rec);
  EXPECT_NE(seenEtag, "none");
  auto head = run(ns_.headObject("bkt", "k"));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->lease.id, "L");
  EXPECT_EQ(*get("k"), "aaabb");
}

}  // namespace
}  // namespace ember::core
