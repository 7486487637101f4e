#include <gtest/gtest.h>

#include "kv/engine.h"

namespace ember::kv {
namespace {

TEST(KeySlot, RedisClusterVectors) {
  EXPECT_EQ(keySlot("123456789"), 0x31C3 % 16384);  // CRC16-XMODEM check value 0x31C3
  EXPECT_EQ(keySlot("123456789"), 12739);
  EXPECT_EQ(keySlot("foo"), 12182);
  EXPECT_EQ(keySlot("bar"), 5061);
  EXPECT_EQ(keySlot(""), 0);
}

TEST(KeySlot, HashTags) {
  EXPECT_EQ(keySlot("{user1000}.following"), keySlot("{user1000}.followers"));
  EXPECT_EQ(keySlot("{user1000}.following"), keySlot("user1000"));
  EXPECT_EQ(keySlot("foo{}{bar}"), keySlot("foo{}{bar}"));
  EXPECT_NE(keySlot("foo{}{bar}"), keySlot("bar"));  // empty first tag: the whole key is hashed
  EXPECT_EQ(keySlot("foo{{bar}}zap"), keySlot("{bar"));
  EXPECT_EQ(keySlot("foo{bar}{zap}"), keySlot("bar"));
  EXPECT_EQ(keySlot("{foo"), keySlot("{foo"));  // no closing brace: whole key
}

}  // namespace
}  // namespace ember::kv
