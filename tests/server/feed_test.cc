// GET /feed over real HTTP on loopback: JSON pages, long-poll, filters,
// tenant isolation, feed tokens, parameter checks and CORS (SPEC §4 "Change
// feed"). SSE is in feed_sse_test.cc. Every loop is bounded; no
// timing is asserted.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/support/feed_client.h"
#include "tests/support/feed_test_util.h"

namespace syncmgr::testing {
namespace {

using std::chrono::milliseconds;

TestServerOptions FeedOptions() {
  TestServerOptions o;
  o.server.feed_keepalive_ms = 200;
  o.server.cors_origins = {"https://site.example"};
  return o;
}

class FeedTest : public ::testing::Test {
 protected:
  FeedTest() : server_(FeedOptions()) {}
  void SetUp() override {
    tenant_ = server_.CreateTenant("Acme");
    client_ = std::make_unique<HttpClient>(server_.Client(tenant_.api_key));
    ASSERT_EQ(client_->Post("/sources", R"({"name":"portal"})").status, 201);
    ASSERT_EQ(client_->Post("/sources", R"({"name":"other"})").status, 201);
    ASSERT_EQ(client_->Post("/targets", R"({"name":"website"})").status, 201);
  }
  uint64_t LastSeq() { return *server_.engine().LastSeq(tenant_.id); }

  // Every event after `since`, page by page (limit per page).
  std::vector<FeedItem> ReadAll(const std::string& query, uint64_t since, int limit) {
    std::vector<FeedItem> out;
    uint64_t pos = since;
    for (int i = 0; i < 1000; ++i) {
      HttpResponse r = client_->Get("/feed?since=" + std::to_string(pos) +
                                    "&limit=" + std::to_string(limit) + query);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      FeedJsonPage page = ParseFeedPage(r.body);
      EXPECT_GE(page.last_seq, pos);
      for (const FeedItem& e : page.events) {
        EXPECT_GT(e.seq, pos);
        EXPECT_LE(e.seq, page.last_seq);
        out.push_back(e);
      }
      if (page.last_seq == pos) break;
      pos = page.last_seq;
      if (pos >= LastSeq()) break;
    }
    return out;
  }

  TestServer server_;
  TestServer::Tenant tenant_;
  std::unique_ptr<HttpClient> client_;
};

// Every seq is in the unfiltered feed, in order, once: the catalog events
// (tenant, key, sources, target: seqs 1-5) too.
TEST_F(FeedTest, OrderAndNoGaps) {
  for (int i = 0; i < 4; ++i) ImportN(*client_, 1, 5, "p", 100 + i);
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  ImportN(*client_, 2, 3, "o", 1);
  const uint64_t last = LastSeq();
  const std::vector<FeedItem> all = ReadAll("", 0, 4);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().seq, 1u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, 1 + i) << i;
  EXPECT_EQ(all.back().seq, last);
  std::map<std::string, int> types;
  for (const FeedItem& e : all) ++types[e.type];
  EXPECT_EQ(types["property.created"], 5 + 5 + 3);  // source 1, target 1, source 2
  EXPECT_EQ(types["property.updated"], 15);
  EXPECT_EQ(types["import.completed"], 5);
  EXPECT_EQ(types["sync.completed"], 1);
  EXPECT_EQ(types["tenant.created"], 1);
  EXPECT_EQ(types["api_key.created"], 1);
  EXPECT_EQ(types["source.created"], 2);
  EXPECT_EQ(types["target.created"], 1);
  EXPECT_EQ(all.size(), last);
  // The one JSON shape (feed_json.h).
  HttpResponse r = client_->Get("/feed?since=5&limit=1");
  JsonDoc doc = ParseJson(r.body);
  simdjson::dom::element e = simdjson::dom::array(doc["events"]).at(0);
  EXPECT_EQ(std::string_view(e["type"]), "property.created");
  EXPECT_EQ(std::string_view(e["stream"]["kind"]), "source");
  EXPECT_EQ(std::string_view(e["hash"]).size(), 32u);
  EXPECT_EQ(int64_t(e["data"]["price"]), 100);
  EXPECT_TRUE(e["changed_fields"].is_null());
  EXPECT_TRUE(e["time"].is_string());
  EXPECT_EQ(uint64_t(doc["last_seq"]), 6u);
}

TEST_F(FeedTest, ResumeFromLastSeenGivesEveryLaterEventOnce) {
  ImportN(*client_, 1, 7, "a", 1);
  HttpResponse r = client_->Get("/feed?since=0&limit=4");
  FeedJsonPage first = ParseFeedPage(r.body);
  ASSERT_EQ(first.events.size(), 4u);
  const uint64_t seen = first.events.back().seq;
  ImportN(*client_, 1, 7, "a", 2);
  ImportN(*client_, 2, 2, "b", 1);
  std::vector<FeedItem> rest = ReadAll("", seen, 5);
  std::vector<uint64_t> seqs;
  for (const FeedItem& e : first.events) seqs.push_back(e.seq);
  for (const FeedItem& e : rest) seqs.push_back(e.seq);
  std::set<uint64_t> unique(seqs.begin(), seqs.end());
  EXPECT_EQ(unique.size(), seqs.size());  // no duplicate
  EXPECT_EQ(seqs.size(), LastSeq());       // no gap
  EXPECT_EQ(*unique.rbegin(), LastSeq());
}

TEST_F(FeedTest, Filters) {
  ImportN(*client_, 1, 3, "p", 100);
  ImportN(*client_, 2, 2, "o", 1);
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  // Update price on p0 only, and `pad` on p1 only.
  ASSERT_EQ(client_
                ->Post("/sources/1/import",
                       R"([{"external_id":"p0","price":90,"pad":""},{"external_id":"p1","price":100,"pad":"x"}])")
                .status,
            200);
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);

  std::vector<FeedItem> src = ReadAll("&source_id=1", 0, 100);
  ASSERT_FALSE(src.empty());
  for (const FeedItem& e : src) {
    EXPECT_EQ(e.kind, "source");
    EXPECT_EQ(e.stream_id, 1u);
  }
  EXPECT_EQ(src.size(), 1u + 3 + 1 + 2 + 1);  // source.created, created, import, updated, import
  EXPECT_EQ(src.front().type, "source.created");

  std::vector<FeedItem> tgt = ReadAll("&target_id=1", 0, 2);
  for (const FeedItem& e : tgt) EXPECT_EQ(e.kind, "target");
  EXPECT_EQ(tgt.size(), 1u + 3 + 1 + 2 + 1);  // target.created, created, sync, updated, sync
  EXPECT_EQ(tgt.front().type, "target.created");

  std::vector<FeedItem> both = ReadAll("&source_id=2&target_id=1", 0, 3);
  EXPECT_EQ(both.size(), 1u + 3 + 8);
  for (size_t i = 1; i < both.size(); ++i) EXPECT_LT(both[i - 1].seq, both[i].seq);
  for (const FeedItem& e : both) EXPECT_TRUE((e.kind == "source" && e.stream_id == 2) || e.kind == "target");

  std::vector<FeedItem> types = ReadAll("&types=property.updated,sync.completed", 0, 100);
  EXPECT_EQ(types.size(), 4u + 2);
  for (const FeedItem& e : types) {
    EXPECT_TRUE(e.type == "property.updated" || e.type == "sync.completed") << e.type;
  }

  // fields=price: updates whose changed_fields include price; others pass.
  std::vector<FeedItem> price = ReadAll("&target_id=1&fields=price", 0, 100);
  int updates = 0;
  for (const FeedItem& e : price) {
    if (e.type != "property.updated") continue;
    ++updates;
    EXPECT_EQ(e.external_id, "p0");
    EXPECT_EQ(e.changed_fields, std::vector<std::string>{"price"});
  }
  EXPECT_EQ(updates, 1);
  EXPECT_EQ(price.size(), 1u + 3 + 1 + 1 + 1);  // target.created passes too

  // A filter that matches nothing still advances: last_seq = the end.
  HttpResponse r = client_->Get("/feed?since=0&source_id=2&types=sync.completed");
  ASSERT_EQ(r.status, 200);
  FeedJsonPage none = ParseFeedPage(r.body);
  EXPECT_TRUE(none.events.empty());
  EXPECT_EQ(none.last_seq, LastSeq());
}

TEST_F(FeedTest, TenantIsolation) {
  ImportN(*client_, 1, 3, "a", 1);
  const auto other = server_.CreateTenant("Other");
  HttpClient b = server_.Client(other.api_key);
  // Its own log only: its tenant and its key, seqs 1 and 2 of its own log.
  HttpResponse r = b.Get("/feed?since=0");
  ASSERT_EQ(r.status, 200) << r.body;
  FeedJsonPage own = ParseFeedPage(r.body);
  ASSERT_EQ(own.events.size(), 2u);
  EXPECT_EQ(own.events[0].type, "tenant.created");
  EXPECT_EQ(own.events[1].type, "api_key.created");
  EXPECT_EQ(r.body.find("Acme"), std::string::npos);
  // A's source id does not exist for B.
  EXPECT_EQ(b.Get("/feed?source_id=1").status, 404);
  ASSERT_EQ(b.Post("/sources", R"({"name":"b"})").status, 201);
  ImportN(b, 1, 2, "b", 1);
  FeedJsonPage page = ParseFeedPage(b.Get("/feed?since=0").body);
  ASSERT_EQ(page.events.size(), 2u + 1 + 3);
  for (const FeedItem& e : page.events) EXPECT_TRUE(e.external_id.empty() || e.external_id[0] == 'b');
  // A's position past B's log end is refused, not answered with A's data.
  EXPECT_EQ(b.Get("/feed?since=" + std::to_string(LastSeq())).status, 400);
}

TEST_F(FeedTest, LongPollReturnsSoonAfterACommit) {
  ImportN(*client_, 1, 1, "x", 1);
  const uint64_t pos = LastSeq();
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(300));
    HttpClient w = server_.Client(tenant_.api_key);
    ImportN(w, 1, 2, "y", 1);
  });
  HttpResponse r = client_->Get("/feed?since=" + std::to_string(pos) + "&wait=30");
  writer.join();
  ASSERT_EQ(r.status, 200) << r.body;
  FeedJsonPage page = ParseFeedPage(r.body);
  // Answered by the commit, not by the end of the wait (which would be empty).
  ASSERT_FALSE(page.events.empty());
  EXPECT_EQ(page.events.front().seq, pos + 1);
}

TEST_F(FeedTest, LongPollWaitsForAMatchingEvent) {
  const uint64_t pos = LastSeq();
  std::thread writer([&] {
    HttpClient w = server_.Client(tenant_.api_key);
    std::this_thread::sleep_for(milliseconds(200));
    ImportN(w, 2, 1, "other", 1);  // not matching: the poll goes on waiting
    std::this_thread::sleep_for(milliseconds(200));
    ImportN(w, 1, 1, "mine", 1);
  });
  HttpResponse r =
      client_->Get("/feed?since=" + std::to_string(pos) + "&source_id=1&wait=30");
  writer.join();
  ASSERT_EQ(r.status, 200) << r.body;
  FeedJsonPage page = ParseFeedPage(r.body);
  ASSERT_FALSE(page.events.empty());
  EXPECT_EQ(page.events.front().external_id, "mine0");
}

TEST_F(FeedTest, LongPollTimesOutEmpty) {
  ImportN(*client_, 1, 1, "x", 1);
  const uint64_t pos = LastSeq();
  HttpResponse r = client_->Get("/feed?since=" + std::to_string(pos) + "&wait=1");
  ASSERT_EQ(r.status, 200) << r.body;
  FeedJsonPage page = ParseFeedPage(r.body);
  EXPECT_TRUE(page.events.empty());
  EXPECT_EQ(page.last_seq, pos);
}

TEST_F(FeedTest, MalformedParametersAre400AndChangeNothing) {
  ImportN(*client_, 1, 1, "x", 1);
  const uint64_t before = LastSeq();
  for (const char* q :
       {"since=-1", "since=18446744073709551616", "since=abc", "since=", "limit=0", "limit=-1",
        "limit=1001", "limit=1.5", "types=bogus", "types=", "types=property.created,,x",
        "wait=-1", "wait=61", "source_id=x", "nope=1", "since=1&since=2",
        "since=999999"}) {
    HttpResponse r = client_->Get(std::string("/feed?") + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_EQ(ErrorCodeOf(r), "invalid_request") << q;
  }
  EXPECT_EQ(client_->Get("/feed?source_id=99").status, 404);
  EXPECT_EQ(client_->Get("/feed?target_id=0").status, 404);
  // SSE: a malformed Last-Event-ID.
  HttpRequest req;
  req.target = "/feed";
  req.headers = {{"Accept", "text/event-stream"}, {"Last-Event-ID", "x1"}};
  HttpResponse r = client_->Request(req);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(client_->Get("/feed").status, 200);
  EXPECT_EQ(server_.Client().Get("/feed").status, 401);
  EXPECT_EQ(server_.AdminClient().Get("/feed").status, 403);
  EXPECT_EQ(LastSeq(), before);
}

// ---- Feed tokens --------------------------------------------------------------

std::string TokenOf(const HttpResponse& r) {
  JsonDoc doc = ParseJson(r.body);
  return std::string(std::string_view(doc["token"]));
}

TEST_F(FeedTest, TokenReadsOnlyItsStreamsOfItsTenant) {
  ImportN(*client_, 1, 2, "p", 1);
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  HttpResponse t = client_->Post("/feed_tokens", R"({"target_id":1,"ttl_s":600})");
  ASSERT_EQ(t.status, 201) << t.body;
  const std::string token = TokenOf(t);
  EXPECT_EQ(token.rfind("smf_", 0), 0u);
  JsonDoc tdoc = ParseJson(t.body);
  EXPECT_TRUE(tdoc["expires_at"].is_string());
  EXPECT_EQ(uint64_t(tdoc["target_id"]), 1u);

  HttpClient anon = server_.Client();
  HttpResponse r = anon.Get("/feed?since=0&token=" + token);
  ASSERT_EQ(r.status, 200) << r.body;
  FeedJsonPage page = ParseFeedPage(r.body);
  ASSERT_EQ(page.events.size(), 1u + 3);  // its target's creation, 2 created, the sync
  for (const FeedItem& e : page.events) EXPECT_EQ(e.kind, "target");
  EXPECT_EQ(anon.Get("/feed?target_id=1&token=" + token).status, 200);
  EXPECT_EQ(anon.Get("/feed?source_id=1&token=" + token).status, 403);
  EXPECT_EQ(ErrorCodeOf(anon.Get("/feed?source_id=2&token=" + token)), "forbidden");
  // Read-only and /feed only: 401 anywhere else, as a query or as a key.
  EXPECT_EQ(anon.Get("/targets/1/properties?token=" + token).status, 401);
  EXPECT_EQ(anon.Get("/health?token=" + token).status, 401);
  HttpClient as_key = server_.Client(token);
  EXPECT_EQ(as_key.Get("/targets").status, 401);
  EXPECT_EQ(as_key.Post("/feed_tokens", "{}").status, 401);
  EXPECT_EQ(as_key.Get("/feed").status, 401);
  // A key and a token at once: refused.
  EXPECT_EQ(client_->Get("/feed?token=" + token).status, 400);
  // Broken or unknown tokens.
  std::string bad = token;
  bad[10] = bad[10] == 'a' ? 'b' : 'a';
  EXPECT_EQ(anon.Get("/feed?token=" + bad).status, 401);
  EXPECT_EQ(anon.Get("/feed?token=smf_").status, 401);

  // A token of the whole tenant, and another tenant's token.
  HttpResponse all = client_->Post("/feed_tokens", "{}");
  ASSERT_EQ(all.status, 201);
  FeedJsonPage every = ParseFeedPage(anon.Get("/feed?since=0&token=" + TokenOf(all)).body);
  // Everything: 5 catalog events, 2 tokens, import (2 + 1), sync (2 + 1).
  EXPECT_EQ(every.events.size(), 5u + 2 + 2 + 1 + 2 + 1);
  const auto other = server_.CreateTenant("Other");
  HttpClient b = server_.Client(other.api_key);
  HttpResponse bt = b.Post("/feed_tokens", "{}");
  ASSERT_EQ(bt.status, 201);
  // Only B's own log: its tenant, its key, its token.
  FeedJsonPage b_page = ParseFeedPage(anon.Get("/feed?since=0&token=" + TokenOf(bt)).body);
  ASSERT_EQ(b_page.events.size(), 3u);
  EXPECT_EQ(b_page.events[2].type, "feed_token.created");
  EXPECT_EQ(anon.Get("/feed?target_id=1&token=" + TokenOf(bt)).status, 404);
}

TEST_F(FeedTest, TokenRequestsAreCheckedAndRejectionsWriteNothing) {
  const uint64_t before = LastSeq();
  for (const char* body : {R"({"ttl_s":0})", R"({"ttl_s":86401})", R"({"ttl_s":1.5})",
                           R"({"ttl_s":"60"})", R"({"source_id":-1})", R"({"target_id":"1"})",
                           R"({"scope":"all"})", "[]", "{"}) {
    HttpResponse r = client_->Post("/feed_tokens", body);
    EXPECT_EQ(r.status / 100, 4) << body;
    EXPECT_NE(r.status, 404) << body;
  }
  EXPECT_EQ(client_->Post("/feed_tokens", R"({"source_id":9})").status, 404);
  EXPECT_EQ(client_->Post("/feed_tokens", R"({"target_id":9})").status, 404);
  EXPECT_EQ(server_.Client().Post("/feed_tokens", "{}").status, 401);
  EXPECT_EQ(LastSeq(), before);
  EXPECT_EQ(client_->Post("/feed_tokens", R"({"ttl_s":86400})").status, 201);
  EXPECT_EQ(LastSeq(), before + 1);  // one FeedTokenCreated event
}

TEST_F(FeedTest, TokenExpires) {
  HttpResponse t = client_->Post("/feed_tokens", R"({"ttl_s":1})");
  ASSERT_EQ(t.status, 201);
  const std::string token = TokenOf(t);
  HttpClient anon = server_.Client();
  int status = 0;
  for (int i = 0; i < 50; ++i) {  // bounded: ~5 s
    status = anon.Get("/feed?token=" + token).status;
    if (status == 401) break;
    EXPECT_EQ(status, 200);
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(status, 401);
}

// Tokens are event-sourced (they survive a restart) and stored only hashed.
TEST_F(FeedTest, TokenSurvivesRestartAndIsStoredHashed) {
  HttpResponse t = client_->Post("/feed_tokens", R"({"source_id":1})");
  ASSERT_EQ(t.status, 201);
  const std::string token = TokenOf(t);
  server_.Restart();
  HttpClient anon = server_.Client();
  EXPECT_EQ(anon.Get("/feed?token=" + token).status, 200);
  EXPECT_EQ(anon.Get("/feed?target_id=1&token=" + token).status, 403);
  const std::string secret = token.substr(4, 64);
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(server_.data_dir())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(secret), std::string::npos) << entry.path();
    ++files;
  }
  EXPECT_GT(files, 0u);
}

// ---- CORS -----------------------------------------------------------------------

TEST_F(FeedTest, CorsOnlyForListedOrigins) {
  HttpResponse t = client_->Post("/feed_tokens", "{}");
  const std::string token = TokenOf(t);
  HttpClient anon = server_.Client();
  HttpRequest req;
  req.target = "/feed?token=" + token;
  req.headers = {{"Origin", "https://site.example"}};
  HttpResponse r = anon.Request(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "https://site.example");
  req.headers = {{"Origin", "https://evil.example"}};
  r = anon.Request(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
  // Preflight.
  req.method = "OPTIONS";
  req.target = "/feed";
  req.headers = {{"Origin", "https://site.example"},
                 {"Access-Control-Request-Method", "GET"},
                 {"Access-Control-Request-Headers", "last-event-id"}};
  r = anon.Request(req);
  EXPECT_EQ(r.status / 100, 2);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "https://site.example");
  req.headers[0].second = "https://evil.example";
  r = anon.Request(req);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
  // An SSE stream (what EventSource opens) carries it too.
  FeedConnection sse(server_.port());
  ASSERT_TRUE(sse.Open("/feed?token=" + token,
                       {{"Accept", "text/event-stream"}, {"Origin", "https://site.example"}}));
  ASSERT_TRUE(sse.WaitFor([&] { return sse.status() != 0; }, milliseconds(10'000)));
  EXPECT_EQ(sse.status(), 200);
  EXPECT_EQ(sse.Header("access-control-allow-origin"), "https://site.example");
}

}  // namespace
}  // namespace syncmgr::testing
