// The unfiltered change feed shows every event of the tenant's log (SPEC §4
// "Change feed"; issue 16 part 1): seqs 1, 2, 3, … with no gap, the catalog
// events (tenant, keys, sources, targets, feed tokens) included, in JSON
// pages, long-polls, SSE (resumed with Last-Event-ID) and a replayed
// directory's feed — and no key's or token's secret or hash, nor a push
// secret, in any answer. Filters and feed tokens leave out what they do not
// match. Real server on loopback; every loop bounded; no timing asserted.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <chrono>
#include <map>
#include <regex>
#include <thread>

#include "server/server.h"
#include "tests/support/feed_client.h"
#include "tests/support/feed_test_util.h"

namespace syncmgr::testing {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kWait{20'000};
constexpr char kPushSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kBearer[] = "bearer-very-secret-4711";

std::string Sha256Hex(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Minified(simdjson::dom::element e) { return simdjson::minify(e); }

std::string StringOf(const std::string& json, const char* key) {
  JsonDoc doc = ParseJson(json);
  return std::string(std::string_view(doc[key]));
}

TestServerOptions Options() {
  TestServerOptions o;
  o.server.feed_keepalive_ms = 200;
  o.server.allow_private_push = true;  // the push target points at loopback
  return o;
}

// One event as the feed answered it: its seq, type and the whole JSON text.
struct RawEvent {
  uint64_t seq = 0;
  std::string type;
  std::string json;
};

std::vector<RawEvent> EventsOf(const std::string& page_body, uint64_t* last_seq = nullptr) {
  std::vector<RawEvent> out;
  JsonDoc doc = ParseJson(page_body);
  simdjson::dom::array events;
  if (doc["events"].get(events)) {
    ADD_FAILURE() << "not a feed page: " << page_body;
    return out;
  }
  for (simdjson::dom::element e : events) {
    out.push_back({uint64_t(e["seq"]), std::string(std::string_view(e["type"])), Minified(e)});
  }
  if (last_seq != nullptr) *last_seq = uint64_t(doc["last_seq"]);
  return out;
}

std::vector<uint64_t> SeqsOf(const std::vector<RawEvent>& events) {
  std::vector<uint64_t> out;
  for (const RawEvent& e : events) out.push_back(e.seq);
  return out;
}

std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t s = from; s <= to; ++s) out.push_back(s);
  return out;
}

// A tenant that has done everything the log records: its tenant and first
// key (seqs 1-2), a second key created and revoked (3-4), a feed token (5),
// two sources (6-7), a webhook target with a secret and a bearer token (8),
// imports, a sync and manual edits (9-21).
class FeedCatalogTest : public ::testing::Test {
 protected:
  FeedCatalogTest() : server_(Options()) {}

  void SetUp() override {
    HttpClient admin = server_.AdminClient();
    HttpResponse r = admin.Post("/tenants", R"({"name":"Acme"})");
    ASSERT_EQ(r.status, 201) << r.body;
    tenant_key_ = StringOf(r.body, "api_key");
    tenant_ = static_cast<TenantId>(uint64_t(ParseJson(r.body)["id"]));
    client_ = std::make_unique<HttpClient>(server_.Client(tenant_key_));
    r = admin.Post("/tenants/" + std::to_string(tenant_) + "/keys", "");
    ASSERT_EQ(r.status, 201) << r.body;
    extra_key_ = StringOf(r.body, "api_key");
    extra_prefix_ = StringOf(r.body, "prefix");
    ASSERT_EQ(admin.Delete("/keys/" + extra_prefix_).status, 200);
    r = client_->Post("/feed_tokens", "{}");
    ASSERT_EQ(r.status, 201) << r.body;
    token_ = StringOf(r.body, "token");
    token_answer_ = r.body;
    ASSERT_EQ(
        client_->Post("/sources", R"({"name":"portal","config":{"ignore_fields":["scraped_at"]}})")
            .status,
        201);
    ASSERT_EQ(client_->Post("/sources", R"({"name":"other"})").status, 201);
    r = client_->Post("/targets", std::string(R"({"name":"website","type":"webhook","config":{)") +
                                      R"("url":"http://127.0.0.1:1/hook","secret":")" +
                                      kPushSecret + R"(","bearer_token":")" + kBearer +
                                      R"(","max_attempts":1}})");
    ASSERT_EQ(r.status, 201) << r.body;
    ImportN(*client_, 1, 3, "p", 100);                      // 9-12
    ImportN(*client_, 2, 2, "o", 1);                        // 13-15
    ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);  // 16-19
    ASSERT_EQ(client_->Put("/targets/1/properties/p0", R"({"external_id":"p0","price":1,"pad":""})")
                  .status,
              200);                                                      // 20
    ASSERT_EQ(client_->Delete("/targets/1/properties/p1").status, 200);  // 21
    ASSERT_EQ(LastSeq(), kLast);
  }

  uint64_t LastSeq() { return *server_.engine().LastSeq(tenant_); }

  // Every event after `since` through JSON pages of `limit`; the raw bodies
  // are kept in bodies_.
  std::vector<RawEvent> ReadPages(HttpClient& c, const std::string& query, uint64_t since,
                                  int limit) {
    std::vector<RawEvent> out;
    uint64_t pos = since;
    for (int i = 0; i < 1000 && pos < LastSeq(); ++i) {
      HttpResponse r =
          c.Get("/feed?since=" + std::to_string(pos) + "&limit=" + std::to_string(limit) + query);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      bodies_.push_back(r.body);
      uint64_t last = 0;
      for (RawEvent& e : EventsOf(r.body, &last)) out.push_back(std::move(e));
      EXPECT_GT(last, pos);
      if (last <= pos) break;
      pos = last;
    }
    return out;
  }

  // Every answer must be free of every secret and of every secret's hash.
  void ExpectNoSecrets(const std::string& body) {
    const std::string push_key = std::string(kPushSecret).substr(6);
    for (const std::string& secret :
         {tenant_key_, extra_key_, token_, push_key, std::string(kBearer)}) {
      EXPECT_EQ(body.find(secret), std::string::npos) << "a secret in: " << body;
      EXPECT_EQ(body.find(Sha256Hex(secret)), std::string::npos) << "a hash in: " << body;
    }
    // The secret parts of the keys and the token (after their prefixes).
    for (const std::string& secret : {tenant_key_, extra_key_, token_}) {
      EXPECT_EQ(body.find(secret.substr(12)), std::string::npos) << body;
    }
  }

  static constexpr uint64_t kLast = 21;
  TestServer server_;
  TenantId tenant_ = 0;
  std::string tenant_key_, extra_key_, extra_prefix_, token_, token_answer_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::string> bodies_;
};

TEST_F(FeedCatalogTest, JsonPagesShowEverySeqWithItsShape) {
  const std::vector<RawEvent> all = ReadPages(*client_, "", 0, 2);
  EXPECT_EQ(SeqsOf(all), Range(1, kLast));
  const std::vector<std::string> want_types = {
      "tenant.created",     "api_key.created",  "api_key.created",  "api_key.revoked",
      "feed_token.created", "source.created",   "source.created",   "target.created",
      "property.created",   "property.created", "property.created", "import.completed",
      "property.created",   "property.created", "import.completed", "property.created",
      "property.created",   "property.created", "sync.completed",   "property.manual_edit",
      "property.removed"};
  std::vector<std::string> types;
  for (const RawEvent& e : all) types.push_back(e.type);
  EXPECT_EQ(types, want_types);
  ASSERT_EQ(all.size(), kLast);

  // The data of each catalog event: the shapes SPEC §4 lists.
  std::map<uint64_t, std::string> data, stream;
  for (const RawEvent& e : all) {
    JsonDoc doc = ParseJson(e.json);
    data[e.seq] = Minified(doc["data"].value());
    stream[e.seq] = Minified(doc["stream"].value());
    if (e.seq <= 8) {
      for (const char* key : {"external_id", "version", "hash", "changed_fields"}) {
        EXPECT_TRUE(doc[key].is_null()) << key << " in " << e.json;
      }
    }
  }
  EXPECT_EQ(data[1], R"({"id":)" + std::to_string(tenant_) + R"(,"name":"Acme"})");
  EXPECT_EQ(data[2], R"({"prefix":")" + tenant_key_.substr(0, 12) + R"("})");
  EXPECT_EQ(data[3], R"({"prefix":")" + extra_prefix_ + R"("})");
  EXPECT_EQ(data[4], R"({"prefix":")" + extra_prefix_ + R"("})");
  JsonDoc token = ParseJson(token_answer_);
  EXPECT_EQ(data[5], R"({"source_id":null,"target_id":null,"expires_at":")" +
                         std::string(std::string_view(token["expires_at"])) + R"("})");
  // A source or target as its own route answered it when it was created
  // (push secrets "***"; its counts then, 0 — SPEC §4).
  const auto as_created = [](const std::string& body) {
    return std::regex_replace(body, std::regex(R"("(live|manual)_count":\d+)"), R"("$1_count":0)");
  };
  EXPECT_EQ(data[6], as_created(client_->Get("/sources/1").body));
  EXPECT_NE(data[6].find(R"("live_count":0)"), std::string::npos) << data[6];
  EXPECT_EQ(data[7], as_created(client_->Get("/sources/2").body));
  EXPECT_EQ(data[8], as_created(client_->Get("/targets/1").body));
  EXPECT_NE(data[8].find(R"("manual_count":0)"), std::string::npos) << data[8];
  EXPECT_NE(data[8].find(R"("secret":"***")"), std::string::npos) << data[8];
  EXPECT_NE(data[8].find(R"("bearer_token":"***")"), std::string::npos) << data[8];
  // Streams: the stream a source or target event creates; null tenant-wide.
  for (uint64_t seq : {1, 2, 3, 4, 5}) EXPECT_EQ(stream[seq], "null") << seq;
  EXPECT_EQ(stream[6], R"({"kind":"source","id":1})");
  EXPECT_EQ(stream[7], R"({"kind":"source","id":2})");
  EXPECT_EQ(stream[8], R"({"kind":"target","id":1})");
  for (const std::string& body : bodies_) ExpectNoSecrets(body);
}

TEST_F(FeedCatalogTest, LongPollShowsEverySeqAndWakesOnACatalogEvent) {
  std::vector<uint64_t> seqs;
  uint64_t pos = 0;
  for (int i = 0; i < 100 && pos < kLast; ++i) {
    HttpResponse r = client_->Get("/feed?since=" + std::to_string(pos) + "&limit=3&wait=5");
    ASSERT_EQ(r.status, 200) << r.body;
    ExpectNoSecrets(r.body);
    for (const RawEvent& e : EventsOf(r.body, &pos)) seqs.push_back(e.seq);
  }
  EXPECT_EQ(seqs, Range(1, kLast));
  // A waiting long-poll is answered by a catalog commit (a new target).
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    HttpClient w = server_.Client(tenant_key_);
    EXPECT_EQ(w.Post("/targets", R"({"name":"mirror"})").status, 201);
  });
  HttpResponse r = client_->Get("/feed?since=" + std::to_string(kLast) + "&wait=30");
  writer.join();
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<RawEvent> woke = EventsOf(r.body);
  ASSERT_EQ(woke.size(), 1u) << r.body;
  EXPECT_EQ(woke[0].seq, kLast + 1);
  EXPECT_EQ(woke[0].type, "target.created");
}

TEST_F(FeedCatalogTest, SseShowsEverySeqAndResumesInsideTheCatalogEvents) {
  const std::vector<std::pair<std::string, std::string>> headers = {{"Accept", "text/event-stream"},
                                                                    {"X-API-Key", tenant_key_}};
  auto has = [](const FeedConnection& c, const std::string& type) {
    for (const SseEvent& e : c.events()) {
      if (e.event == type) return true;
    }
    return false;
  };
  FeedConnection c(server_.port());
  ASSERT_TRUE(c.Open("/feed?since=0", headers)) << c.error();
  ASSERT_TRUE(c.WaitFor([&] { return has(c, "caught_up"); }, kWait));
  std::vector<uint64_t> seqs;
  for (const SseEvent& e : c.FeedEvents()) {
    seqs.push_back(std::stoull(e.id));
    EXPECT_EQ(StringOf(e.data, "type"), e.event);
  }
  EXPECT_EQ(seqs, Range(1, kLast));
  EXPECT_NE(c.body().find("id: 1\nevent: tenant.created\ndata: {\"seq\":1,"), std::string::npos);
  // Live: a catalog event arrives without reconnecting.
  ASSERT_EQ(client_->Post("/sources", R"({"name":"third"})").status, 201);
  ASSERT_TRUE(c.WaitFor([&] { return !c.FeedEvents().empty() && c.FeedEvents().back().id == "22"; },
                        kWait));
  EXPECT_EQ(c.FeedEvents().back().event, "source.created");
  ExpectNoSecrets(c.body());
  c.Close();

  // A reconnect with Last-Event-ID in the middle of the catalog events (after
  // the revoked key): every later event once, from 5.
  FeedConnection r(server_.port());
  std::vector<std::pair<std::string, std::string>> resume = headers;
  resume.emplace_back("Last-Event-ID", "4");
  ASSERT_TRUE(r.Open("/feed?since=0", resume)) << r.error();
  ASSERT_TRUE(r.WaitFor([&] { return has(r, "caught_up"); }, kWait));
  seqs.clear();
  for (const SseEvent& e : r.FeedEvents()) seqs.push_back(std::stoull(e.id));
  EXPECT_EQ(seqs, Range(5, kLast + 1));
  EXPECT_EQ(r.FeedEvents().front().event, "feed_token.created");
  ExpectNoSecrets(r.body());
}

TEST_F(FeedCatalogTest, FiltersMatchTheNewTypes) {
  auto seqs = [&](const std::string& query) { return SeqsOf(ReadPages(*client_, query, 0, 3)); };
  // A stream's feed starts with the event that created it; tenant-wide
  // events are in no stream's feed.
  EXPECT_EQ(seqs("&source_id=2"), (std::vector<uint64_t>{7, 13, 14, 15}));
  EXPECT_EQ(seqs("&source_id=1"), (std::vector<uint64_t>{6, 9, 10, 11, 12}));
  EXPECT_EQ(seqs("&target_id=1"), (std::vector<uint64_t>{8, 16, 17, 18, 19, 20, 21}));
  EXPECT_EQ(seqs("&source_id=2&target_id=1"),
            (std::vector<uint64_t>{7, 8, 13, 14, 15, 16, 17, 18, 19, 20, 21}));
  EXPECT_EQ(seqs("&types=tenant.created,api_key.revoked"), (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(seqs("&types=api_key.created"), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(seqs("&types=source.created,target.created"), (std::vector<uint64_t>{6, 7, 8}));
  EXPECT_EQ(seqs("&types=feed_token.created"), (std::vector<uint64_t>{5}));
  EXPECT_EQ(seqs("&types=source.created&source_id=2"), (std::vector<uint64_t>{7}));
  EXPECT_TRUE(seqs("&types=unknown").empty());
  // fields= keeps only the updates that meet it; every other kind passes.
  std::vector<uint64_t> price = seqs("&fields=price");
  EXPECT_EQ(price, Range(1, kLast));  // the one manual edit changed price
  std::vector<uint64_t> pad = seqs("&fields=pad");
  std::vector<uint64_t> all_but_edit = Range(1, kLast - 2);
  all_but_edit.push_back(kLast);
  EXPECT_EQ(pad, all_but_edit);
  // A filter that matches nothing still advances to the end.
  HttpResponse r = client_->Get("/feed?since=0&types=target.created&source_id=1");
  uint64_t last = 0;
  EXPECT_TRUE(EventsOf(r.body, &last).empty());
  EXPECT_EQ(last, kLast);
  for (const std::string& body : bodies_) ExpectNoSecrets(body);
}

TEST_F(FeedCatalogTest, TokensSeeOnlyTheirStreamsAndUnscopedTokensSeeAll) {
  HttpClient anon = server_.Client();
  EXPECT_EQ(SeqsOf(ReadPages(anon, "&token=" + token_, 0, 5)), Range(1, kLast));
  HttpResponse t = client_->Post("/feed_tokens", R"({"source_id":1})");  // seq 22
  ASSERT_EQ(t.status, 201);
  const std::string source_token = StringOf(t.body, "token");
  t = client_->Post("/feed_tokens", R"({"target_id":1})");  // seq 23
  ASSERT_EQ(t.status, 201);
  const std::string target_token = StringOf(t.body, "token");
  // Scoped: only the named stream's events, not the tenant-wide ones (not
  // even the token's own feed_token.created).
  EXPECT_EQ(SeqsOf(ReadPages(anon, "&token=" + source_token, 0, 5)),
            (std::vector<uint64_t>{6, 9, 10, 11, 12}));
  EXPECT_EQ(SeqsOf(ReadPages(anon, "&token=" + target_token, 0, 5)),
            (std::vector<uint64_t>{8, 16, 17, 18, 19, 20, 21}));
  EXPECT_EQ(SeqsOf(ReadPages(anon, "&token=" + token_, kLast, 5)), (std::vector<uint64_t>{22, 23}));
  for (const std::string& body : bodies_) {
    EXPECT_EQ(body.find(source_token.substr(4)), std::string::npos);
    EXPECT_EQ(body.find(target_token.substr(4)), std::string::npos);
    EXPECT_EQ(body.find(Sha256Hex(source_token)), std::string::npos);
  }
}

TEST_F(FeedCatalogTest, BadTypesAre400AndNameTheKnownOnes) {
  HttpResponse r = client_->Get("/feed?types=catalog");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCodeOf(r), "invalid_request");
  EXPECT_NE(r.body.find("feed_token.created"), std::string::npos) << r.body;
  EXPECT_EQ(LastSeq(), kLast);
}

// A directory replayed from the log serves the same feed, byte for byte, up
// to where it was replayed — its catalog events included.
TEST_F(FeedCatalogTest, ReplayedDirectoryServesTheSameFeed) {
  const std::vector<RawEvent> live = ReadPages(*client_, "", 0, 1000);
  ASSERT_EQ(live.size(), kLast);
  TempDir scratch;
  for (uint64_t as_of : {uint64_t{4}, uint64_t{8}, kLast}) {
    const std::string dir = scratch.path() + "/at-" + std::to_string(as_of);
    ReplayOptions ro;
    ro.as_of_seq = as_of;
    ASSERT_TRUE(server_.engine().ReplayInto(dir, ro).ok());
    EngineOptions eo;
    eo.path = dir;
    auto replayed = Engine::Open(eo);
    ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
    server::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.request_log = [](std::string_view) {};
    server::Server replay_server(**replayed, so);
    ASSERT_TRUE(replay_server.Start().ok());
    HttpClient c(replay_server.port());
    c.set_api_key(tenant_key_);  // replayed with the log
    HttpResponse r = c.Get("/feed?since=0&limit=1000");
    ASSERT_EQ(r.status, 200) << r.body;
    const std::vector<RawEvent> got = EventsOf(r.body);
    ASSERT_EQ(got.size(), as_of);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].json, live[i].json) << i;
    replay_server.Stop();
  }
}

}  // namespace
}  // namespace syncmgr::testing
