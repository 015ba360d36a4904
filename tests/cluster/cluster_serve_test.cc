// `syncmgr serve --cluster` end to end (SPEC §7, docs/scaling.md): three
// real nodes of the built binary over a real 3-server NATS JetStream
// cluster on loopback. Writes on one node are read on the others (min_seq
// makes the read wait for them), the feed resumes across nodes, a write
// sent to a node that does not own the tenant is forwarded and answered as
// single-node mode answers it, a paused reader yields 503 lagging, and
// losing a NATS server stops nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/feed_client.h"
#include "tests/support/feed_test_util.h"
#include "tests/support/syncmgr_cluster.h"
#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Clients retry for at least 10× the lease TTL (1.5 s).
constexpr auto kRetryFor = 60s;

// A tenant made through node `on`, with its key.
struct ClusterTenant {
  uint32_t id = 0;
  std::string key;
};

class ClusterServeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.Start()) << cluster_.error(); }

  ClusterTenant CreateTenant(int on, const std::string& name) {
    HttpClient admin = cluster_.Admin(on);
    HttpResponse r = admin.Post("/tenants", R"({"name":")" + name + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    JsonDoc doc = ParseJson(r.body);
    return ClusterTenant{static_cast<uint32_t>(uint64_t(doc["id"])),
                         std::string(std::string_view(doc["api_key"]))};
  }

  // Sends until an answer other than 503 comes, for at most kRetryFor (a
  // node may be taking the tenant over).
  static HttpResponse Retry(HttpClient& c, const HttpRequest& req) {
    const auto deadline = Clock::now() + kRetryFor;
    HttpResponse r;
    do {
      r = c.Request(req);
      if (r.status != 503 && r.status != 0) return r;
      std::this_thread::sleep_for(100ms);
    } while (Clock::now() < deadline);
    return r;
  }
  static HttpResponse RetryPost(HttpClient& c, const std::string& target, const std::string& body) {
    HttpRequest req;
    req.method = "POST";
    req.target = target;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"}};
    return Retry(c, req);
  }

  static uint64_t SeqOf(const HttpResponse& r) {
    JsonDoc doc = ParseJson(r.body);
    return uint64_t(doc["seq"]);
  }

  SyncmgrCluster cluster_{SYNCMGR_BIN};
};

std::string Items(int from, int to, const std::string& tag) {
  std::string body = "[";
  for (int i = from; i < to; ++i) {
    if (body.size() > 1) body += ",";
    body += R"({"external_id":"p)" + std::to_string(i) + R"(","tag":")" + tag + R"(","n":)" +
            std::to_string(i) + "}";
  }
  return body + "]";
}

TEST_F(ClusterServeTest, AWriteOnOneNodeIsReadOnEveryNode) {
  ClusterTenant t = CreateTenant(0, "acme");
  ASSERT_NE(t.id, 0u);
  HttpClient a = cluster_.Client(0, t.key);
  ASSERT_EQ(RetryPost(a, "/sources", R"({"name":"portal"})").status, 201);
  HttpResponse imported = RetryPost(a, "/sources/1/import", Items(0, 50, "one"));
  ASSERT_EQ(imported.status, 200) << imported.body;
  HttpResponse second = RetryPost(a, "/sources/1/import", Items(25, 60, "two"));
  ASSERT_EQ(second.status, 200) << second.body;
  const uint64_t seq = SeqOf(second);

  const std::string state = "/sources/1/properties?min_seq=" + std::to_string(seq);
  const std::string history = "/sources/1/properties/p30/history?min_seq=" + std::to_string(seq);
  const std::string feed = "/feed?since=0&limit=1000&min_seq=" + std::to_string(seq);
  const std::string imports = "/imports?min_seq=" + std::to_string(seq);
  HttpResponse want_state = a.Get(state), want_history = a.Get(history), want_feed = a.Get(feed),
               want_imports = a.Get(imports);
  ASSERT_EQ(want_state.status, 200) << want_state.body;
  ASSERT_EQ(want_history.status, 200);
  ASSERT_EQ(want_feed.status, 200);
  for (int node = 1; node < cluster_.size(); ++node) {
    SCOPED_TRACE("node " + std::to_string(node));
    // The key works there too (the node catches up before it refuses an
    // unknown key), and min_seq waits for the write.
    HttpClient c = cluster_.Client(node, t.key);
    HttpResponse got = c.Get(state);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.body, want_state.body);
    EXPECT_EQ(c.Get(history).body, want_history.body);
    EXPECT_EQ(c.Get(feed).body, want_feed.body);
    EXPECT_EQ(c.Get(imports).body, want_imports.body);
  }
  // A malformed min_seq is refused.
  EXPECT_EQ(a.Get("/sources/1/properties?min_seq=x").status, 400);
}

}  // namespace
}  // namespace syncmgr::testing
