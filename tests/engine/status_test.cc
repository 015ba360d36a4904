#include "engine/status.h"

#include <gtest/gtest.h>

namespace syncmgr {
namespace {

TEST(StatusTest, CodeNamesMatchTheSpec) {
  EXPECT_EQ(CodeName(Code::kInvalidJson), "invalid_json");
  EXPECT_EQ(CodeName(Code::kInvalidArgument), "invalid_request");
  EXPECT_EQ(CodeName(Code::kMassRemoval), "mass_removal");
  EXPECT_EQ(CodeName(Code::kNoSpace), "insufficient_storage");
  EXPECT_EQ(CodeName(Code::kCorruption), "internal");
}

TEST(StatusTest, StatusOrCarriesValueOrError) {
  StatusOr<int> v = 3;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 3);
  StatusOr<int> e = Status::NotFound("source 3");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().ToString(), "not_found: source 3");
}

}  // namespace
}  // namespace syncmgr
