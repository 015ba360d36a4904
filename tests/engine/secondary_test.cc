// Engine::CatchUpWithPrimary: a secondary engine (no lock, the way the
// command line reads a directory a server has open) sees what its primary
// committed after it opened — more events, new tenants — once it catches up,
// and never before.
#include <gtest/gtest.h>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

class SecondaryTest : public EngineTest {
 protected:
  std::unique_ptr<Engine> OpenSecondary() {
    EngineOptions o;
    o.path = dir_.sub("db");
    o.secondary_path = dir_.sub("secondary");
    auto e = Engine::Open(o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }
};

TEST_F(SecondaryTest, CatchUpSeesLaterCommitsAndNewTenants) {
  const TenantId acme = NewTenant("acme");
  const uint32_t source = NewSource(acme);
  ASSERT_TRUE(Import(acme, source, R"([{"id":"a","p":1}])").ok());
  std::unique_ptr<Engine> secondary = OpenSecondary();
  ASSERT_NE(secondary, nullptr);
  const uint64_t opened_at = *engine_->LastSeq(acme);
  EXPECT_EQ(*secondary->LastSeq(acme), opened_at);

  auto later = Import(acme, source, R"([{"id":"a","p":2},{"id":"b","p":3}])");
  ASSERT_TRUE(later.ok());
  const TenantId beta = NewTenant("beta");
  // Frozen until it catches up.
  EXPECT_EQ(*secondary->LastSeq(acme), opened_at);
  EXPECT_EQ(secondary->LastSeq(beta).status().code(), Code::kNotFound);

  ASSERT_TRUE(secondary->CatchUpWithPrimary().ok());
  EXPECT_EQ(*secondary->LastSeq(acme), later->seq);
  EXPECT_TRUE(secondary->LastSeq(beta).ok());
  LogQuery query;
  query.after_seq = opened_at;
  auto page = secondary->ReadLog(acme, query);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_FALSE(page->events.empty());
  EXPECT_EQ(page->events.back().seq, later->seq);
  auto b = secondary->GetProperty(acme, {StreamKind::kSource, source}, "b", {});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->data, R"({"id":"b","p":3})");
  // It stays a reader.
  EXPECT_EQ(secondary->CreateTenant("gamma").status().code(), Code::kUnavailable);
}

TEST_F(SecondaryTest, OnlyASecondaryCatchesUp) {
  EXPECT_EQ(engine_->CatchUpWithPrimary().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace syncmgr::testing
