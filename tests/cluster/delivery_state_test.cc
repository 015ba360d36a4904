// Push delivery state in the bucket syncmgr_delivery (cluster/delivery_state.h)
// against a real 3-server JetStream cluster: a node writes a target's state
// only over the revision it read, and only while it owns the tenant; a
// refused write changes nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>

#include "cluster/delivery_state.h"
#include "cluster/kv.h"
#include "cluster/layout.h"
#include "tests/cluster/cluster_fixture.h"

namespace syncmgr::cluster {
namespace {

class DeliveryStateTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    auto b = KvBucket::Open(conn_.get(), DeliveryBucket(LayoutOptions{}));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    bucket_.emplace(std::move(*b));
  }
  std::optional<KvBucket> bucket_;
};

TEST_F(DeliveryStateTest, WritesGoOverTheRevisionReadAndOnlyWhileOwned) {
  std::atomic<bool> a_owns{true};
  DeliveryStateBucket a(&*bucket_, [&](TenantId) { return a_owns.load(); });
  DeliveryStateBucket b(&*bucket_, [](TenantId) { return true; });

  // Never read here: refused, nothing written.
  EXPECT_EQ(a.Put(7, 1, "x").code(), Code::kConflict);
  EXPECT_EQ(a.Get(7, 1).status().code(), Code::kNotFound);
  // Read (absent), then written; read back the same on another node.
  ASSERT_TRUE(a.Put(7, 1, "v1").ok());
  ASSERT_TRUE(a.Put(7, 1, "v2").ok());  // over its own write
  auto seen = b.Get(7, 1);
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(*seen, "v2");
  EXPECT_EQ(DeliveryStateBucket::Key(7, 1), "t7.c1");

  // Another node wrote since: a's write is refused and changes nothing.
  ASSERT_TRUE(b.Put(7, 1, "by-b").ok());
  EXPECT_EQ(a.Put(7, 1, "stale").code(), Code::kConflict);
  EXPECT_EQ(*b.Get(7, 1), "by-b");
  // Read again, a may write again — but not once it no longer owns the tenant.
  ASSERT_EQ(*a.Get(7, 1), "by-b");
  a_owns = false;
  EXPECT_EQ(a.Put(7, 1, "zombie").code(), Code::kConflict);
  EXPECT_EQ(*b.Get(7, 1), "by-b");
  // Targets and tenants are apart.
  EXPECT_EQ(b.Get(7, 2).status().code(), Code::kNotFound);
  EXPECT_EQ(b.Get(8, 1).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace syncmgr::cluster
