// cluster/kv.h, lease.h and counter.h against a real 3-server JetStream
// cluster: compare-and-set, leases that expire and are taken over, and
// cluster-wide ids under concurrent clients.
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "cluster/counter.h"
#include "cluster/kv.h"
#include "cluster/layout.h"
#include "cluster/lease.h"
#include "tests/cluster/cluster_fixture.h"

namespace syncmgr::cluster {
namespace {

class KvTest : public ClusterTest {
 protected:

  // The bucket, or nullopt with a test failure recorded.
  std::optional<KvBucket> Open(const KvBucketConfig& config) {
    auto b = KvBucket::Open(conn_.get(), config);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok()) return std::nullopt;
    return std::move(*b);
  }
};

TEST_F(KvTest, CompareAndSet) {
  std::optional<KvBucket> bucket = Open(TenantIdsBucket(LayoutOptions{}));
  ASSERT_TRUE(bucket.has_value());
  const KvBucket& kv = *bucket;
  EXPECT_EQ(kv.Get("k").status().code(), Code::kNotFound);
  auto r1 = kv.Create("k", "v1");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_TRUE(IsFenced(kv.Create("k", "again").status()));
  auto r2 = kv.Update("k", "v2", *r1);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_GT(*r2, *r1);
  // A writer with the old revision loses, and writes nothing.
  auto stale = kv.Update("k", "v3", *r1);
  EXPECT_TRUE(IsFenced(stale.status())) << stale.status().ToString();
  auto got = kv.Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value, "v2");
  EXPECT_EQ(got->revision, *r2);
  // A delete with a stale revision is refused; with the current one it works.
  EXPECT_TRUE(IsFenced(kv.Delete("k", *r1)));
  ASSERT_TRUE(kv.Delete("k", *r2).ok());
  EXPECT_EQ(kv.Get("k").status().code(), Code::kNotFound);
  // A deleted key can be created again.
  auto r3 = kv.Create("k", "v4");
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(kv.Get("k")->value, "v4");
  ASSERT_TRUE(kv.Put("k", "v5").ok());
  EXPECT_EQ(kv.Get("k")->value, "v5");
  // Bad keys and bucket names are refused before anything is sent.
  EXPECT_EQ(kv.Get("a b").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(kv.Put(".k", "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(kv.Create("k*", "x").status().code(), Code::kInvalidArgument);
  KvBucketConfig bad;
  bad.name = "no.dots";
  EXPECT_EQ(KvBucket::Open(conn_.get(), bad).status().code(), Code::kInvalidArgument);
}

TEST_F(KvTest, SerialUpdateIsExactAmongConcurrentWriters) {
  std::optional<KvBucket> bucket = Open(TenantIdsBucket(LayoutOptions{}));
  ASSERT_TRUE(bucket.has_value());
  const KvBucket& kv = *bucket;
  auto rev = kv.Create("last", "0");
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  // Rounds of writers on every server updating the same revision at once:
  // exactly one wins each round, and the value is the winner's.
  constexpr int kWriters = 6;
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<KvBucket> buckets;
  for (int w = 0; w < kWriters; ++w) {
    conns.push_back(Connect({nats_.ClientUrl(w % 3)}));
    ASSERT_NE(conns.back(), nullptr);
    auto b = KvBucket::Open(conns.back().get(), TenantIdsBucket(LayoutOptions{}));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    buckets.push_back(std::move(*b));
  }
  for (int round = 0; round < 10; ++round) {
    auto current = kv.Get("last");
    ASSERT_TRUE(current.ok());
    std::vector<StatusOr<uint64_t>> results(kWriters, Status::Internal("not run"));
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        results[w] = buckets[w].UpdateSerial("last", "w" + std::to_string(w), current->revision);
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0;
    std::string winner;
    for (int w = 0; w < kWriters; ++w) {
      if (results[w].ok()) {
        ++winners;
        winner = "w" + std::to_string(w);
      } else {
        EXPECT_TRUE(IsFenced(results[w].status())) << results[w].status().ToString();
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    EXPECT_EQ(kv.Get("last")->value, winner);
  }
  // A write to another key of the bucket makes a serial update fail.
  auto before = kv.Get("last");
  ASSERT_TRUE(kv.Put("other", "x").ok());
  EXPECT_TRUE(IsFenced(kv.UpdateSerial("last", "late", before->revision).status()));
}

TEST_F(KvTest, ABucketReopenedWithAnotherTtlIsRefused) {
  LayoutOptions o;
  o.lease_ttl = 5s;
  ASSERT_TRUE(Open(LeaseBucket(o)).has_value());
  o.lease_ttl = 7s;
  auto other = KvBucket::Open(conn_.get(), LeaseBucket(o));
  EXPECT_EQ(other.status().code(), Code::kInvalidArgument);
  EXPECT_NE(other.status().message().find("max_age 5000 ms"), std::string::npos)
      << other.status().message();
  o.lease_ttl = 5s;
  EXPECT_TRUE(KvBucket::Open(conn_.get(), LeaseBucket(o)).ok());
}

TEST_F(KvTest, LeaseAcquireRenewObserveRelease) {
  std::optional<KvBucket> bucket = Open(LeaseBucketConfig("leases", 30s));
  ASSERT_TRUE(bucket.has_value());
  const KvBucket& kv = *bucket;
  const LeaseHolder a{"node-a", "http://a:8000", 1};
  const LeaseHolder b{"node-b", "http://b:8000", 2};
  Lease la(&kv, TenantLeaseKey(1), a);
  Lease lb(&kv, TenantLeaseKey(1), b);

  auto got = la.TryAcquire();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, a);
  EXPECT_TRUE(la.held());
  // B finds A holding it, and holds nothing.
  got = lb.TryAcquire();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, a);
  EXPECT_FALSE(lb.held());
  EXPECT_TRUE(IsFenced(lb.Renew()));
  // A renews: a new revision each time.
  uint64_t rev = la.revision();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(la.Renew().ok());
    EXPECT_GT(la.revision(), rev);
    rev = la.revision();
  }
  // A repeated acquire by the same holder adopts the lease.
  Lease la2(&kv, TenantLeaseKey(1), a);
  got = la2.TryAcquire();
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(la2.held());
  EXPECT_EQ(la2.revision(), la.revision());
  // The same node after a restart (another incarnation) is another holder.
  Lease restarted(&kv, TenantLeaseKey(1), LeaseHolder{"node-a", "http://a:8000", 3});
  got = restarted.TryAcquire();
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(restarted.held());

  auto seen = lb.Observe();
  ASSERT_TRUE(seen.ok());
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ(**seen, a);
  // Released, B takes it at once.
  ASSERT_TRUE(la.Release().ok());
  EXPECT_FALSE(la.held());
  seen = lb.Observe();
  ASSERT_TRUE(seen.ok());
  EXPECT_FALSE(seen->has_value());
  got = lb.TryAcquire();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, b);
  EXPECT_TRUE(lb.held());
  // A's other handle still has the old revision: its renewal is refused.
  EXPECT_TRUE(IsFenced(la2.Renew()));
  EXPECT_FALSE(la2.held());
}

TEST_F(KvTest, AnExpiredLeaseIsTakenOverAndTheStaleHoldersRenewalFails) {
  std::optional<KvBucket> bucket = Open(LeaseBucketConfig("leases", 2s));
  ASSERT_TRUE(bucket.has_value());
  const KvBucket& kv = *bucket;
  const LeaseHolder a{"node-a", "http://a:8000", 1};
  const LeaseHolder b{"node-b", "http://b:8000", 2};
  Lease la(&kv, TenantLeaseKey(7), a);
  Lease lb(&kv, TenantLeaseKey(7), b);
  ASSERT_TRUE(la.TryAcquire().ok());
  ASSERT_TRUE(la.held());
  // A stops renewing (paused, dead); after the TTL the stream drops the
  // key and B takes it. No clock of ours is involved.
  ASSERT_TRUE(Eventually(
      [&] {
        auto got = lb.TryAcquire();
        return got.ok() && lb.held();
      },
      60s));
  auto seen = la.Observe();
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ(**seen, b);
  // A wakes up and renews with its old revision: refused, lease lost.
  Status renewed = la.Renew();
  EXPECT_TRUE(IsFenced(renewed)) << renewed.ToString();
  EXPECT_FALSE(la.held());
  EXPECT_TRUE(IsFenced(la.Release()));
  // B is unaffected.
  ASSERT_TRUE(lb.Renew().ok());
  seen = la.Observe();
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ(**seen, b);
}

TEST_F(KvTest, CounterGivesUniqueIdsToConcurrentClientsOnEveryServer) {
  ASSERT_TRUE(Open(TenantIdsBucket(LayoutOptions{})).has_value());
  constexpr int kClients = 3;
  constexpr int kIdsEach = 40;
  std::mutex mu;
  std::vector<uint64_t> ids;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      // Each client talks to its own server.
      ConnectOptions o;
      o.servers = {nats_.ClientUrl(c)};
      auto conn = Connection::Connect(o);
      if (!conn.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(conn.status().ToString());
        return;
      }
      auto bucket = KvBucket::Open(conn->get(), TenantIdsBucket(LayoutOptions{}));
      if (!bucket.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(bucket.status().ToString());
        return;
      }
      KvCounter counter(&*bucket, std::string(kTenantCounterKey));
      for (int i = 0; i < kIdsEach; ++i) {
        auto id = counter.Next();
        std::lock_guard<std::mutex> lock(mu);
        if (id.ok()) {
          ids.push_back(*id);
        } else {
          errors.push_back(id.status().ToString());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  std::set<uint64_t> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size()) << "an id was handed out twice";
  ASSERT_EQ(ids.size(), static_cast<size_t>(kClients * kIdsEach));
  EXPECT_EQ(*unique.begin(), 1u);
  EXPECT_EQ(*unique.rbegin(), static_cast<uint64_t>(kClients * kIdsEach));
}

TEST_F(KvTest, ACounterHoldingGarbageIsCorruption) {
  std::optional<KvBucket> bucket = Open(TenantIdsBucket(LayoutOptions{}));
  ASSERT_TRUE(bucket.has_value());
  const KvBucket& kv = *bucket;
  ASSERT_TRUE(kv.Put("last", "12x").ok());
  KvCounter counter(&kv, "last");
  EXPECT_EQ(counter.Next().status().code(), Code::kCorruption);
  EXPECT_EQ(kv.Get("last")->value, "12x");  // left as it was
}

}  // namespace
}  // namespace syncmgr::cluster
