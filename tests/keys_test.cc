// The key codec: order-preserving, no two tuples alias.
#include "engine/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace syncmgr::keys {
namespace {

TEST(KeysTest, IntegersAreBigEndianSoBytesSortNumerically) {
  EXPECT_LT(Log(1, 255), Log(1, 256));
  EXPECT_LT(Log(1, ~0ull), Log(2, 0));
  std::string s;
  PutU64(&s, 0x0102030405060708ull);
  EXPECT_EQ(GetU64(s), 0x0102030405060708ull);
  EXPECT_EQ(s[0], '\x01');
}

TEST(KeysTest, EscapedStringsRoundTripAndKeepOrder) {
  std::vector<std::string> ids = {"", "a", std::string("a\0", 2), std::string("a\0b", 3), "ab",
                                  "b", std::string("\xff", 1)};
  std::vector<std::string> encoded;
  for (const auto& id : ids) {
    std::string k;
    PutEscaped(&k, id);
    std::string back;
    auto used = GetEscaped(k, &back);
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(*used, k.size());
    EXPECT_EQ(back, id);
    encoded.push_back(k);
  }
  EXPECT_TRUE(std::is_sorted(encoded.begin(), encoded.end()));
}

TEST(KeysTest, HistoryKeysOfOneIdNeverInterleaveWithAnother) {
  StreamRef s{StreamKind::kSource, 1};
  // "a" at any seq sorts before "a\0..." and "ab" at any seq.
  EXPECT_LT(History(1, s, "a", ~0ull), History(1, s, std::string("a\0", 2), 0));
  EXPECT_LT(History(1, s, "a", ~0ull), History(1, s, "ab", 0));
  std::string prefix = HistoryPrefix(1, s, "a");
  EXPECT_TRUE(History(1, s, "a", 5).starts_with(prefix));
  EXPECT_FALSE(History(1, s, "ab", 5).starts_with(prefix));
  EXPECT_LT(History(1, s, "a", 5), PrefixEnd(prefix));
  EXPECT_GT(History(1, s, "ab", 0), PrefixEnd(prefix));
}

TEST(KeysTest, StreamsAndTenantsArePrefixSeparated) {
  StreamRef src{StreamKind::kSource, 1}, tgt{StreamKind::kTarget, 1};
  EXPECT_FALSE(State(1, src, "x").starts_with(StatePrefix(1, tgt)));
  EXPECT_FALSE(State(1, src, "x").starts_with(StatePrefix(2, src)));
  EXPECT_TRUE(State(1, src, "x").starts_with(StatePrefix(1, src)));
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
}

}  // namespace
}  // namespace syncmgr::keys
