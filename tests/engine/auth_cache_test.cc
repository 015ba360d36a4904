// Authenticate's cache of key digests (engine/auth_cache.h): a key that
// authenticated once is answered from memory, and a revoked key is refused
// from the moment RevokeApiKey returns — also while other threads keep
// authenticating it, and on a secondary once it has caught up. The cache's
// own rules: bounded, and a store read that raced a revocation never puts
// the key back. (Cluster mode's revocations by the log of record:
// cluster_apply_test.cc; over HTTP with real nodes: tests/cluster.)
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/api_keys.h"
#include "engine/auth_cache.h"
#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

using namespace std::chrono_literals;

std::string Digest(int i) { return HashApiKey("key-" + std::to_string(i)); }

TEST(AuthCacheUnit, HoldsWhatWasInsertedUntilForgotten) {
  AuthCache cache;
  EXPECT_FALSE(cache.Find(Digest(1)).has_value());
  cache.Insert(Digest(1), 7, cache.epoch());
  ASSERT_TRUE(cache.Find(Digest(1)).has_value());
  EXPECT_EQ(*cache.Find(Digest(1)), 7u);
  cache.Forget(Digest(1));
  EXPECT_FALSE(cache.Find(Digest(1)).has_value());
  cache.Insert(Digest(2), 8, cache.epoch());
  cache.Clear();
  EXPECT_FALSE(cache.Find(Digest(2)).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AuthCacheUnit, AReadThatRacedAForgetIsNotInserted) {
  AuthCache cache;
  const uint64_t before = cache.epoch();  // a reader starts its store read
  cache.Forget(Digest(1));                // a revocation is written meanwhile
  cache.Insert(Digest(1), 7, before);     // the reader saw the key valid
  EXPECT_FALSE(cache.Find(Digest(1)).has_value());
  const uint64_t before_clear = cache.epoch();
  cache.Clear();
  cache.Insert(Digest(2), 7, before_clear);
  EXPECT_FALSE(cache.Find(Digest(2)).has_value());
  cache.Insert(Digest(1), 7, cache.epoch());  // a read after them is held
  EXPECT_TRUE(cache.Find(Digest(1)).has_value());
}

TEST(AuthCacheUnit, StaysWithinItsCapacityAndIgnoresWhatIsNotADigest) {
  AuthCache cache(16);
  for (int i = 0; i < 100; ++i) cache.Insert(Digest(i), 1, cache.epoch());
  EXPECT_EQ(cache.size(), 16u);
  EXPECT_TRUE(cache.Find(Digest(99)).has_value());  // the newest always gets in
  cache.Insert("short", 1, cache.epoch());
  EXPECT_FALSE(cache.Find("short").has_value());
  EXPECT_EQ(cache.size(), 16u);
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// HashApiKey keeps a digest context per thread: every thread gets SHA-256.
TEST(HashApiKeyTest, IsSha256OnEveryThread) {
  constexpr std::string_view kAbc =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // FIPS 180-2
  EXPECT_EQ(ToHex(HashApiKey("abc")), kAbc);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (ToHex(HashApiKey("abc")) != kAbc) wrong.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(ToHex(HashApiKey("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

class AuthenticateTest : public EngineTest {};

TEST_F(AuthenticateTest, ARevokedKeyIsRefusedRightAfterTheRevocation) {
  auto created = engine_->CreateTenant("acme");
  ASSERT_TRUE(created.ok());
  const TenantId acme = created->tenant.id;
  auto second = engine_->CreateApiKey(acme);
  ASSERT_TRUE(second.ok());
  for (int i = 0; i < 3; ++i) {  // held after the first
    auto t = engine_->Authenticate(second->api_key);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(*t, acme);
  }
  ASSERT_TRUE(engine_->RevokeApiKey(second->info.prefix).ok());
  EXPECT_EQ(engine_->Authenticate(second->api_key).status().code(), Code::kUnauthorized);
  EXPECT_EQ(engine_->Authenticate(second->api_key).status().code(), Code::kUnauthorized);
  auto first = engine_->Authenticate(created->api_key);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, acme);
  // Unknown and malformed keys are refused as before (and never held).
  EXPECT_EQ(engine_->Authenticate(GenerateApiKey()).status().code(), Code::kUnauthorized);
  EXPECT_EQ(engine_->Authenticate("smk_nope").status().code(), Code::kUnauthorized);
  Reopen();
  EXPECT_EQ(engine_->Authenticate(second->api_key).status().code(), Code::kUnauthorized);
  EXPECT_TRUE(engine_->Authenticate(created->api_key).ok());
}

// Threads authenticate the key without pause while it is revoked: no call
// that starts after RevokeApiKey has returned may accept it (a store read
// begun before the revocation must not put it back in the cache).
TEST_F(AuthenticateTest, NoThreadAcceptsTheKeyAfterTheRevocationReturned) {
  for (int round = 0; round < 5; ++round) {
    auto created = engine_->CreateTenant("t" + std::to_string(round));
    ASSERT_TRUE(created.ok());
    auto key = engine_->CreateApiKey(created->tenant.id);
    ASSERT_TRUE(key.ok());
    std::atomic<bool> revoked{false};
    std::atomic<int> accepted_after{0};
    std::atomic<int> tries_after{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        // Bounded: until 200 calls have started after the revocation, or 10 s.
        while (tries_after.load() < 200 && std::chrono::steady_clock::now() < deadline) {
          const bool after = revoked.load();
          const bool ok = engine_->Authenticate(key->api_key).ok();
          if (after) {
            tries_after.fetch_add(1);
            if (ok) accepted_after.fetch_add(1);
          }
        }
      });
    }
    std::this_thread::sleep_for(20ms);  // the key is held and read meanwhile
    ASSERT_TRUE(engine_->RevokeApiKey(key->info.prefix).ok());
    revoked.store(true);
    for (std::thread& t : threads) t.join();
    EXPECT_GE(tries_after.load(), 200);
    EXPECT_EQ(accepted_after.load(), 0) << "round " << round;
  }
}

TEST_F(AuthenticateTest, ASecondaryRefusesAKeyItsPrimaryRevokedOnceItCatchesUp) {
  auto created = engine_->CreateTenant("acme");
  ASSERT_TRUE(created.ok());
  auto second = engine_->CreateApiKey(created->tenant.id);
  ASSERT_TRUE(second.ok());
  EngineOptions o;
  o.path = dir_.sub("db");
  o.secondary_path = dir_.sub("secondary");
  auto opened = Engine::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Engine> secondary = std::move(opened).value();
  ASSERT_TRUE(secondary->Authenticate(second->api_key).ok());
  ASSERT_TRUE(secondary->Authenticate(second->api_key).ok());  // held
  ASSERT_TRUE(engine_->RevokeApiKey(second->info.prefix).ok());
  ASSERT_TRUE(secondary->CatchUpWithPrimary().ok());
  EXPECT_EQ(secondary->Authenticate(second->api_key).status().code(), Code::kUnauthorized);
  EXPECT_TRUE(secondary->Authenticate(created->api_key).ok());
}

}  // namespace
}  // namespace syncmgr::testing
