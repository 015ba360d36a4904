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
#include "tests/support/serve_process.h"
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

TEST_F(ClusterServeTest, AFeedResumedOnAnotherNodeWithLastEventIdContinuesExactly) {
  ClusterTenant t = CreateTenant(0, "acme");
  HttpClient a = cluster_.Client(0, t.key);
  ASSERT_EQ(RetryPost(a, "/sources", R"({"name":"portal"})").status, 201);
  HttpResponse first = RetryPost(a, "/sources/1/import", Items(0, 20, "one"));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::vector<std::pair<std::string, std::string>> sse = {{"Accept", "text/event-stream"},
                                                                 {"X-API-Key", t.key}};
  // Ten events from node 1, then the connection ends.
  FeedConnection one(cluster_.port(1));
  ASSERT_TRUE(one.Open("/feed?since=0&min_seq=" + std::to_string(SeqOf(first)), sse));
  ASSERT_TRUE(one.WaitFor([&] { return one.FeedEvents().size() >= 10; }, 60'000ms));
  std::vector<SseEvent> head = one.FeedEvents();
  head.resize(10);
  one.Close();
  HttpResponse second = RetryPost(a, "/sources/1/import", Items(20, 35, "two"));
  ASSERT_EQ(second.status, 200) << second.body;
  const uint64_t last = SeqOf(second);
  // The rest from node 2, resumed after the last event node 1 gave.
  std::vector<std::pair<std::string, std::string>> resume = sse;
  resume.emplace_back("Last-Event-ID", head.back().id);
  FeedConnection two(cluster_.port(2));
  ASSERT_TRUE(two.Open("/feed?since=0&min_seq=" + std::to_string(last), resume));
  ASSERT_TRUE(two.WaitFor(
      [&] {
        auto ev = two.FeedEvents();
        return !ev.empty() && std::stoull(ev.back().id) >= last - 1;
      },
      60'000ms));
  // The events of both, in order, are exactly the tenant's feed.
  std::vector<std::string> seen;
  for (const SseEvent& e : head) seen.push_back(e.id + " " + e.data);
  for (const SseEvent& e : two.FeedEvents()) seen.push_back(e.id + " " + e.data);
  FeedJsonPage page = ParseFeedPage(a.Get("/feed?since=0&limit=1000").body);
  ASSERT_EQ(seen.size(), page.events.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].substr(0, seen[i].find(' ')), std::to_string(page.events[i].seq)) << i;
  }
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(std::stoull(seen[i]), std::stoull(seen[i - 1]) + 1) << "a gap or a repeat at " << i;
  }
}

// The same requests, to a single-node server and to a node that does not
// own the tenant: the same answers, byte for byte (answers that carry a
// clock time are compared by status).
TEST_F(ClusterServeTest, AWriteToANonOwnerIsForwardedAndAnsweredAsSingleNodeAnswersIt) {
  TempDir dir;
  ServeOptions single_options;
  single_options.binary = SYNCMGR_BIN;
  single_options.db = dir.path() + "/single";
  single_options.log = dir.path() + "/single.log";
  single_options.admin_key = SyncmgrCluster::kAdminKey;
  ServeProcess single(single_options);
  ASSERT_TRUE(single.Start());
  HttpClient single_admin = single.Client(SyncmgrCluster::kAdminKey);
  HttpResponse created = single_admin.Post("/tenants", R"({"name":"acme"})");
  ASSERT_EQ(created.status, 201);
  HttpClient ref = single.Client(std::string(std::string_view(ParseJson(created.body)["api_key"])));

  ClusterTenant t = CreateTenant(0, "acme");
  ASSERT_EQ(cluster_.OwnerOf(t.id), 0);
  HttpClient via = cluster_.Client(1, t.key);  // node 1 forwards to node 0

  struct Step {
    std::string method, target, body, content_type;
    bool exact = true;
    size_t chunk_bytes = 0;
  };
  std::string ndjson;
  for (int i = 100; i < 140; ++i) {
    ndjson += R"({"external_id":"n)" + std::to_string(i) + R"(","v":)" + std::to_string(i) + "}\n";
  }
  const std::vector<Step> steps = {
      {"POST", "/sources", R"({"name":"portal","config":{"max_removal_ratio":0.1}})", "application/json", false},
      {"POST", "/targets", R"({"name":"website"})", "application/json", false},
      {"POST", "/sources/1/import", Items(0, 30, "one"), "application/json"},
      {"POST", "/sources/1/import", ndjson, "application/x-ndjson", true, 512},
      {"POST", "/sources/1/import?mode=full", Items(0, 3, "few"), "application/json"},
      {"POST", "/sources/7/import", Items(0, 3, "none"), "application/json"},
      {"POST", "/sources/1/import", "[{\"external_id\":", "application/json"},
      {"POST", "/sources", "{not json", "application/json"},
      {"POST", "/sync/1/1", "", ""},
      {"POST", "/sync/1/1?dry_run=true", "", ""},
      {"PUT", "/targets/1/properties/p3", R"({"manual":true})", "application/json", false},
      {"DELETE", "/targets/1/properties/p4", "", "", false},
      {"DELETE", "/targets/1/properties/nope", "", ""},
      {"POST", "/sync/1/1?on_conflict=overwrite", "", ""},
      {"POST", "/sync/1/9", "", ""},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.method + " " + step.target);
    HttpRequest req;
    req.method = step.method;
    req.target = step.target;
    req.body = step.body;
    req.chunk_bytes = step.chunk_bytes;
    if (!step.content_type.empty()) req.headers = {{"Content-Type", step.content_type}};
    HttpResponse want = ref.Request(req);
    HttpResponse got = RetryWhileUnavailable(via, req);
    ASSERT_NE(want.status, 0);
    EXPECT_EQ(got.status, want.status) << got.body << " / " << want.body;
    if (step.exact) {
      EXPECT_EQ(got.body, want.body);
    }
    EXPECT_EQ(got.Header("content-type"), want.Header("content-type"));
  }
  EXPECT_GE(cluster_.Metric(1, "syncmgr_cluster_forwarded_total").value_or(0), steps.size());
  // One hop only: a write that says it was forwarded is not forwarded again.
  HttpRequest hop;
  hop.method = "POST";
  hop.target = "/sync/1/1";
  hop.headers = {{"X-Syncmgr-Forwarded-By", "node2"}};
  HttpResponse refused = via.Request(hop);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
}

TEST_F(ClusterServeTest, AdminWritesOnAnyNodeReachTheTenantsOwner) {
  ClusterTenant t = CreateTenant(2, "acme");  // created (and owned) by node 2
  ASSERT_EQ(cluster_.OwnerOf(t.id), 2);
  ClusterTenant u = CreateTenant(1, "globex");
  EXPECT_NE(u.id, t.id);  // cluster-wide ids
  HttpClient admin0 = cluster_.Admin(0);
  // A further key, issued through node 0, works on every node.
  HttpResponse key = RetryPost(admin0, "/tenants/" + std::to_string(t.id) + "/keys", "");
  ASSERT_EQ(key.status, 201) << key.body;
  JsonDoc doc = ParseJson(key.body);
  const std::string second_key = std::string(std::string_view(doc["api_key"]));
  const std::string prefix = std::string(std::string_view(doc["prefix"]));
  // Twice per node: each node holds the key in its authentication cache
  // (engine/auth_cache.h) from the first answer on.
  for (int node = 0; node < cluster_.size(); ++node) {
    EXPECT_EQ(cluster_.Client(node, second_key).Get("/sources").status, 200) << node;
    EXPECT_EQ(cluster_.Client(node, second_key).Get("/sources").status, 200) << node;
  }
  // Revoked through node 1: refused by the owner, which wrote it, as soon as
  // it has answered, and on every node once it has folded it (a node that
  // kept the cached key would accept it for ever).
  HttpClient admin1 = cluster_.Admin(1);
  HttpRequest revoke;
  revoke.method = "DELETE";
  revoke.target = "/keys/" + prefix;
  HttpResponse revoked = RetryWhileUnavailable(admin1, revoke);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  const int owner = cluster_.OwnerOf(t.id);
  ASSERT_GE(owner, 0);
  EXPECT_EQ(cluster_.Client(owner, second_key).Get("/sources").status, 401) << owner;
  for (int node = 0; node < cluster_.size(); ++node) {
    const auto deadline = Clock::now() + kRetryFor;
    int status = 0;
    while (Clock::now() < deadline) {
      status = cluster_.Client(node, second_key).Get("/sources").status;
      if (status == 401) break;
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(status, 401) << node;
    EXPECT_EQ(cluster_.Client(node, t.key).Get("/sources").status, 200) << node;
  }
  // An unknown prefix is 404 on any node, as in single-node mode.
  revoke.target = "/keys/smk_00000000";
  EXPECT_EQ(admin1.Request(revoke).status, 404);
}

TEST_F(ClusterServeTest, APausedReaderAnswersLaggingAndThenTheRead) {
  ClusterTenant t = CreateTenant(0, "acme");
  HttpClient a = cluster_.Client(0, t.key);
  ASSERT_EQ(RetryPost(a, "/sources", R"({"name":"portal"})").status, 201);
  HttpResponse first = RetryPost(a, "/sources/1/import", Items(0, 10, "one"));
  ASSERT_EQ(first.status, 200);
  HttpClient b = cluster_.Client(1, t.key);
  const std::string read = "/sources/1/properties/p1?min_seq=";
  ASSERT_EQ(b.Get(read + std::to_string(SeqOf(first))).status, 200);

  ASSERT_TRUE(cluster_.PauseReader(1));
  const auto deadline = Clock::now() + kRetryFor;
  while (cluster_.Metric(1, "syncmgr_cluster_reader_paused").value_or(0) != 1 &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(cluster_.Metric(1, "syncmgr_cluster_reader_paused").value_or(0), 1);
  HttpResponse second = RetryPost(a, "/sources/1/import", Items(0, 10, "two"));
  ASSERT_EQ(second.status, 200);
  const uint64_t seq = SeqOf(second);
  // What node 1 has is served at once; what it lacks is 503 lagging once
  // the wait runs out.
  EXPECT_EQ(b.Get(read + std::to_string(SeqOf(first))).status, 200);
  HttpResponse lagging = b.Get(read + std::to_string(seq));
  EXPECT_EQ(lagging.status, 503) << lagging.body;
  EXPECT_EQ(ErrorCodeOf(lagging), "lagging");
  EXPECT_EQ(lagging.Header("retry-after"), "1");
  while (cluster_.Metric(1, "syncmgr_cluster_lag_messages").value_or(0) == 0 &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(cluster_.Metric(1, "syncmgr_cluster_lag_messages").value_or(0), 0);
  // A read waiting when the reader resumes gets the write.
  HttpResponse waited;
  std::thread reader([&] {
    HttpClient c = cluster_.Client(1, t.key);
    waited = c.Get(read + std::to_string(seq));
  });
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(cluster_.ResumeReader(1));
  reader.join();
  ASSERT_EQ(waited.status, 200) << waited.body;
  EXPECT_NE(waited.body.find("\"two\""), std::string::npos) << waited.body;
}

TEST_F(ClusterServeTest, LosingANatsServerStopsNoWriteAndItCatchesUpWhenBack) {
  ClusterTenant t = CreateTenant(0, "acme");
  HttpClient a = cluster_.Client(0, t.key);
  ASSERT_EQ(RetryPost(a, "/sources", R"({"name":"portal"})").status, 201);
  uint64_t seq = 0;
  int n = 0;
  auto write_and_read_everywhere = [&](const std::string& tag) {
    for (int node = 0; node < cluster_.size(); ++node) {
      HttpClient c = cluster_.Client(node, t.key);
      HttpResponse r = RetryPost(c, "/sources/1/import", Items(n, n + 5, tag));
      ASSERT_EQ(r.status, 200) << r.body << cluster_.Logs();
      n += 5;
      seq = SeqOf(r);
    }
    for (int node = 0; node < cluster_.size(); ++node) {
      HttpClient c = cluster_.Client(node, t.key);
      HttpResponse r = c.Get("/sources/1/properties/p" + std::to_string(n - 1) +
                             "?min_seq=" + std::to_string(seq));
      EXPECT_EQ(r.status, 200) << node << " " << r.body;
    }
  };
  write_and_read_everywhere("before");
  cluster_.nats().Kill(1);
  write_and_read_everywhere("one-down");
  ASSERT_TRUE(cluster_.nats().Restart(1)) << cluster_.nats().error();
  write_and_read_everywhere("back");
  // The server that was down carries the quorum now: it caught up.
  cluster_.nats().Kill(2);
  write_and_read_everywhere("other-down");
  HttpResponse all = a.Get("/sources/1/properties?min_seq=" + std::to_string(seq));
  for (int node = 1; node < cluster_.size(); ++node) {
    EXPECT_EQ(cluster_.Client(node, t.key).Get("/sources/1/properties?min_seq=" +
                                              std::to_string(seq)).body,
              all.body)
        << node;
  }
}

}  // namespace
}  // namespace syncmgr::testing
