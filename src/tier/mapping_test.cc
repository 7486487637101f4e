#include "tier/mapping.h"

#include <gtest/gtest.h>

namespace ember::tier {
namespace {

MappingConfig cfg(std::string bucket, std::string prefix) {
  MappingConfig c;
  c.bucket = std::move(bucket);
  c.prefix = std::move(prefix);
  return c;
}

TEST(MappingTable, FindsTheCoveringMappingAndTranslatesKeys) {
  auto t = MappingTable::build({cfg("data", "tok/"), cfg("data", "img/"), cfg("ckpt", "")});
  ASSERT_TRUE(t) << t.error().toString();
  const Mapping* m = t->find("data", "tok/a/b.bin");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->cfg.prefix, "tok/");
  EXPECT_EQ(m->coldKey("tok/a/b.bin"), "a/b.bin");
  EXPECT_EQ(m->localKey("a/b.bin"), "tok/a/b.bin");
  EXPECT_EQ(t->find("data", "other/x"), nullptr);
  EXPECT_EQ(t->find("nodata", "tok/x"), nullptr);
  ASSERT_NE(t->find("ckpt", "any"), nullptr);
  EXPECT_EQ(t->find("ckpt", "any")->coldKey("any"), "any");
  EXPECT_EQ(t->forBucket("data").size(), 2u);
  EXPECT_TRUE(t->bucketMapped("ckpt"));
  EXPECT_FALSE(t->bucketMapped("other"));
}

TEST(MappingTable, RefusesOverlappingPrefixesOfOneBucket) {
  EXPECT_FALSE(MappingTable::build({cfg("data", "a/"), cfg("data", "a/b/")}));
  EXPECT_FALSE(MappingTable::build({cfg("data", ""), cfg("data", "x/")}));
  EXPECT_FALSE(MappingTable::build({cfg("data", "x/"), cfg("data", "x/")}));
  EXPECT_TRUE(MappingTable::build({cfg("data", "a/"), cfg("other", "a/")}));
}

TEST(Mode, ParsesTheThreeModes) {
  EXPECT_EQ(*parseMode("write-back"), Mode::kWriteBack);
  EXPECT_EQ(*parseMode("write-through"), Mode::kWriteThrough);
  EXPECT_EQ(*parseMode("read-only"), Mode::kReadOnly);
  EXPECT_FALSE(parseMode("writeback"));
  EXPECT_EQ(modeName(Mode::kReadOnly), "read-only");
}

}  // namespace
}  // namespace ember::tier
