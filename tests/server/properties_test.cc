// Property routes over real HTTP: streamed lists (order, paging, as_of,
// changed_since), one property, history, manual PUT / DELETE.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

class PropertiesApiTest : public TenantApiTest {
 protected:
  PropertiesApiTest() : TenantApiTest(SmallStreamChunks(4096)) {}  // lists span many pieces
  void SetUp() override {
    ASSERT_EQ(client_->Post("/sources", R"({"name":"portal"})").status, 201);
    ASSERT_EQ(client_->Post("/targets", R"({"name":"site"})").status, 201);
  }
  uint64_t Import(const std::string& body) {
    HttpResponse r = client_->Post("/sources/1/import", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return uint64_t(ParseJson(r.body)["seq"]);
  }
};

TEST_F(PropertiesApiTest, ListIsOrderedAndStreamed) {
  std::string body = "[";
  for (int i = 0; i < 300; ++i) {
    body += std::string(i ? "," : "") + "{\"external_id\":\"k" + std::to_string(1000 - i) +
            "\",\"pad\":\"" + std::string(100, 'z') + "\"}";
  }
  Import(body + "]");
  HttpResponse r = client_->Get("/sources/1/properties");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("transfer-encoding"), "chunked");  // bigger than one piece
  std::vector<std::string> ids = ExternalIds(r);
  ASSERT_EQ(ids.size(), 300u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  JsonDoc doc = ParseJson(r.body);
  simdjson::dom::element first = *simdjson::dom::array(doc.root()).begin();
  for (const char* k : {"external_id", "data", "hash", "version", "updated_at", "seq"}) {
    EXPECT_FALSE(first[k].error()) << k;
  }
  EXPECT_TRUE(first["source_id"].error());  // targets only

  // Keyset paging.
  std::vector<std::string> paged;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    std::string q = "/sources/1/properties?limit=100";
    if (!after.empty()) q += "&after=" + after;
    std::vector<std::string> got = ExternalIds(client_->Get(q));
    if (got.empty()) break;
    paged.insert(paged.end(), got.begin(), got.end());
    after = got.back();
  }
  EXPECT_EQ(paged, ids);
  // Small answers are not chunked.
  r = client_->Get("/sources/1/properties?limit=1");
  EXPECT_EQ(r.Header("transfer-encoding"), "");
  EXPECT_EQ(ExternalIds(r).size(), 1u);
}

TEST_F(PropertiesApiTest, AsOfAndChangedSince) {
  const uint64_t seq1 = Import(R"([{"external_id":"a","v":1}])");
  const uint64_t seq2 = Import(R"([{"external_id":"a","v":2},{"external_id":"b","v":1}])");
  EXPECT_GT(seq2, seq1);
  HttpResponse r = client_->Get("/sources/1/properties?as_of=" + std::to_string(seq1));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ExternalIds(r), std::vector<std::string>({"a"}));
  EXPECT_EQ(int64_t((*simdjson::dom::array(ParseJson(r.body).root()).begin())["data"]["v"]), 1);
  r = client_->Get("/sources/1/properties?changed_since=" + std::to_string(seq1));
  EXPECT_EQ(ExternalIds(r), std::vector<std::string>({"a", "b"}));
  r = client_->Get("/sources/1/properties?changed_since=" + std::to_string(seq2));
  EXPECT_EQ(ExternalIds(r).size(), 0u);
  r = client_->Get("/sources/1/properties/a?as_of=" + std::to_string(seq1));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(int64_t(ParseJson(r.body)["data"]["v"]), 1);
  EXPECT_EQ(client_->Get("/sources/1/properties/b?as_of=" + std::to_string(seq1)).status, 404);
  // as_of as an RFC 3339 time: now is after everything; the epoch before it.
  r = client_->Get("/sources/1/properties?as_of=2999-01-01T00:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ExternalIds(r).size(), 2u);
  r = client_->Get("/sources/1/properties?as_of=1970-01-01T00:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ExternalIds(r).size(), 0u);
}

TEST_F(PropertiesApiTest, BadListParameters) {
  for (const char* q : {"limit=-1", "limit=0", "limit=abc", "limit=18446744073709551616",
                        "changed_since=-1", "changed_since=1.5", "as_of=yesterday", "as_of=-3",
                        "as_of=2026-13-01T00:00:00Z", "after=a&after=b", "sort=desc"}) {
    HttpResponse r = client_->Get(std::string("/sources/1/properties?") + q);
    EXPECT_EQ(r.status, 400) << q << " " << r.body;
    EXPECT_EQ(std::string_view(ParseJson(r.body)["error"]["code"]), "invalid_request") << q;
  }
  EXPECT_EQ(client_->Get("/sources/2/properties").status, 404);
  EXPECT_EQ(client_->Get("/targets/2/properties").status, 404);
}

TEST_F(PropertiesApiTest, HistoryAndManualEdits) {
  Import(R"([{"external_id":"x/1 é","price":10}])");
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  const std::string path = "/targets/1/properties/x%2F1%20%C3%A9";

  HttpResponse r = client_->Get(path);
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc p = ParseJson(r.body);
  EXPECT_EQ(std::string_view(p["external_id"]), "x/1 é");
  EXPECT_EQ(uint64_t(p["source_id"]), 1u);

  r = client_->Put(path, R"({"external_id":"x/1 é","price":8})");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc edited = ParseJson(r.body);
  EXPECT_EQ(uint64_t(edited["version"]), 2u);
  EXPECT_TRUE(bool(edited["manually_modified"]));
  EXPECT_EQ(int64_t(edited["data"]["price"]), 8);

  r = client_->Get(path + "/history");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc h = ParseJson(r.body);
  simdjson::dom::array versions = h.root();
  ASSERT_EQ(versions.size(), 2u);
  auto it = versions.begin();
  simdjson::dom::element v1 = *it;
  ++it;
  simdjson::dom::element v2 = *it;
  EXPECT_EQ(uint64_t(v1["version"]), 1u);
  EXPECT_EQ(std::string_view(v1["cause"]["kind"]), "sync");
  EXPECT_EQ(std::string_view(v2["cause"]["kind"]), "manual");
  for (const char* k : {"version", "seq", "time", "hash", "data", "removed", "changed_fields"}) {
    EXPECT_FALSE(v2[k].error()) << k;
  }
  EXPECT_FALSE(bool(v2["removed"]));

  r = client_->Delete(path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["version"]), 3u);
  EXPECT_EQ(client_->Get(path).status, 404);
  EXPECT_EQ(client_->Delete(path).status, 404);
  r = client_->Get(path + "/history");
  JsonDoc h2 = ParseJson(r.body);
  simdjson::dom::array three = h2.root();
  ASSERT_EQ(three.size(), 3u);
  simdjson::dom::element last;
  for (simdjson::dom::element e : three) last = e;
  EXPECT_TRUE(bool(last["removed"]));
  EXPECT_TRUE(last["data"].is_null());

  // Source-side history and a property never seen.
  EXPECT_EQ(client_->Get("/sources/1/properties/x%2F1%20%C3%A9/history").status, 200);
  EXPECT_EQ(client_->Get("/sources/1/properties/nope/history").status, 404);
  EXPECT_EQ(client_->Get("/sources/1/properties/nope").status, 404);
}

TEST_F(PropertiesApiTest, BadManualEdits) {
  const std::string before = client_->Get("/targets/1/properties").body;
  EXPECT_EQ(client_->Put("/targets/1/properties/a", "[1]").status, 400);
  EXPECT_EQ(client_->Put("/targets/1/properties/a", "{bad").status, 400);
  EXPECT_EQ(client_->Put("/targets/1/properties/a", "").status, 400);
  EXPECT_EQ(client_->Put("/targets/1/properties/a", "{}", "text/plain").status, 415);
  EXPECT_EQ(client_->Put("/targets/1/properties/" + std::string(300, 'l'), "{}").status, 400);
  EXPECT_EQ(client_->Put("/targets/1/properties/%zz", "{}").status, 400);
  EXPECT_EQ(client_->Put("/targets/9/properties/a", "{}").status, 404);
  EXPECT_EQ(client_->Put("/sources/1/properties/a", "{}").status, 405);
  EXPECT_EQ(client_->Get("/targets/1/properties").body, before);
}

// ---- GET of one property: cold and warm, tenants, keys, imports ------------

// "p0042" for 42: the ids PaddedProperties makes.
std::string PaddedId(int i) {
  char id[16];
  std::snprintf(id, sizeof(id), "p%04d", i);
  return id;
}

// `n` properties of ~1 KiB each ("p0000".."p<n-1>"), as one JSON import.
std::string PaddedProperties(int n, int version) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    body += std::string(i ? "," : "") + "{\"external_id\":\"" + PaddedId(i) +
            "\",\"v\":" + std::to_string(version) + ",\"pad\":\"" + std::string(1000, 'a' + i % 26) +
            "\"}";
  }
  return body + "]";
}

class OnePropertyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = server_.CreateTenant("Acme");
    HttpClient c = Client();
    ASSERT_EQ(c.Post("/sources", R"({"name":"portal"})").status, 201);
    ASSERT_EQ(c.Post("/targets", R"({"name":"site"})").status, 201);
    // Enough data for many table blocks, so that a restart leaves most of
    // them out of the block cache.
    ASSERT_EQ(c.Post("/sources/1/import", PaddedProperties(2000, 1)).status, 200);
    ASSERT_EQ(c.Post("/sync/1/1", "").status, 200);
  }
  HttpClient Client() { return server_.Client(tenant_.api_key); }

  TestServer server_;
  TestServer::Tenant tenant_;
};

TEST_F(OnePropertyTest, ColdAndWarmAnswersAlike) {
  HttpClient c = Client();
  HttpResponse r = c.Get("/targets/1/properties/p1000");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string before = r.body;
  EXPECT_EQ(int64_t(ParseJson(r.body)["data"]["v"]), 1);
  EXPECT_EQ(std::string_view(ParseJson(r.body)["external_id"]), "p1000");
  // After a restart the tables are on disk (a clean stop flushes the
  // memtables) and the block cache and the key cache are empty: read from
  // the files (their pinned index and filter blocks), then from the cache.
  server_.Restart();
  c = Client();
  for (int i = 0; i < 2; ++i) EXPECT_EQ(c.Get("/targets/1/properties/p1000").body, before) << i;
  for (const int id : {3, 1500, 1999}) {
    r = c.Get("/sources/1/properties/" + PaddedId(id));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(std::string_view(ParseJson(r.body)["external_id"]), PaddedId(id));
    EXPECT_EQ(c.Get("/sources/1/properties/" + PaddedId(id)).body, r.body);
  }
  EXPECT_EQ(c.Get("/targets/1/properties/nope").status, 404);
  EXPECT_EQ(c.Get("/targets/9/properties/p0001").status, 404);
}

// The bytes of an answer's head, as Beast's serializer wrote them before
// the head was written directly (server/response_head.h): field order,
// names, Connection: close, Content-Length of the body that follows.
TEST_F(OnePropertyTest, AnswerBytesOnTheWire) {
  const std::string body = Client().Get("/targets/1/properties/p1000").body;
  ASSERT_FALSE(body.empty());
  // Every byte of the answer to a request that asks the server to close.
  auto get = [&](const std::string& target, const std::string& key, const char* method = "GET") {
    HttpClient raw = server_.Client();
    std::string out;
    if (raw.Connect() &&
        raw.SendRaw(std::string(method) + " " + target +
                    " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: " + key +
                    "\r\n\r\n")) {
      raw.WaitForClose(std::chrono::seconds(10), &out);
    }
    return out;
  };
  const std::string head =
      "HTTP/1.1 200 OK\r\nServer: syncmgr\r\nContent-Type: application/json\r\n"
      "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: ";
  EXPECT_EQ(get("/targets/1/properties/p1000", tenant_.api_key),
            head + std::to_string(body.size()) + "\r\n\r\n" + body);
  const std::string missing = R"({"error":{"code":"not_found","message":"property \"nope\" not found"}})";
  EXPECT_EQ(get("/targets/1/properties/nope", tenant_.api_key),
            "HTTP/1.1 404 Not Found\r\nServer: syncmgr\r\nContent-Type: application/json\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: " +
                std::to_string(missing.size()) + "\r\n\r\n" + missing);
  const std::string bad_key = R"({"error":{"code":"unauthorized","message":"invalid API key"}})";
  EXPECT_EQ(get("/targets/1/properties/p1000", "smk_nope"),
            "HTTP/1.1 401 Unauthorized\r\nServer: syncmgr\r\nContent-Type: application/json\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: " +
                std::to_string(bad_key.size()) + "\r\n\r\n" + bad_key);
  // HEAD is not a route: 405 with Allow, a handler's header after the common ones.
  const std::string head_answer = get("/targets/1/properties/p1000", tenant_.api_key, "HEAD");
  EXPECT_EQ(head_answer.substr(0, head_answer.find("Content-Length")),
            "HTTP/1.1 405 Method Not Allowed\r\nServer: syncmgr\r\nContent-Type: "
            "application/json\r\nCache-Control: no-store\r\nAllow: GET, PUT, DELETE\r\n"
            "Connection: close\r\n");
}

TEST_F(OnePropertyTest, OtherTenantsAndRevokedKeys) {
  HttpClient a = Client();
  ASSERT_EQ(a.Get("/targets/1/properties/p0001").status, 200);
  // Another tenant with a target of the same id and a property of its own.
  const TestServer::Tenant other = server_.CreateTenant("Other");
  HttpClient b = server_.Client(other.api_key);
  ASSERT_EQ(b.Post("/sources", R"({"name":"portal"})").status, 201);
  ASSERT_EQ(b.Post("/targets", R"({"name":"site"})").status, 201);
  ASSERT_EQ(b.Post("/sources/1/import", R"([{"external_id":"mine","v":7}])").status, 200);
  ASSERT_EQ(b.Post("/sync/1/1", "").status, 200);
  ASSERT_EQ(b.Get("/targets/1/properties/mine").status, 200);  // b's key known too
  EXPECT_EQ(b.Get("/targets/1/properties/p0001").status, 404);  // a's, not b's
  EXPECT_EQ(a.Get("/targets/1/properties/mine").status, 404);    // b's, not a's
  HttpResponse r = b.Get("/targets/1/properties/mine");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(int64_t(ParseJson(r.body)["data"]["v"]), 7);

  // Revoking a's key: its next GET is refused at once, though the key was
  // just used (and is held in the engine's key cache).
  HttpClient admin = server_.AdminClient();
  ASSERT_EQ(admin.Delete("/keys/" + tenant_.api_key.substr(0, 12)).status, 200);
  r = a.Get("/targets/1/properties/p0001");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthorized");
  EXPECT_EQ(b.Get("/targets/1/properties/mine").status, 200);
  // The admin key is refused on tenant routes.
  EXPECT_EQ(admin.Get("/targets/1/properties/p0001").status, 403);
}

TEST_F(OnePropertyTest, WhileImportsRun) {
  // Imports of new versions (2, 3, ...) on another connection while GETs
  // read: every GET answers 200 with a whole version, never going back.
  std::atomic<bool> done{false};
  std::atomic<int> imported{0};
  std::thread writer([&] {
    HttpClient w = Client();
    w.set_timeout(std::chrono::seconds(60));
    for (int version = 2; version <= 4; ++version) {
      if (w.Post("/sources/1/import", PaddedProperties(2000, version)).status != 200) break;
      if (w.Post("/sync/1/1", "").status != 200) break;
      imported.store(version);
    }
    done.store(true);
  });
  HttpClient c = Client();
  int64_t last = 1;  // of p0500, read every other time
  int gets = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done.load() && std::chrono::steady_clock::now() < deadline && gets < 100000) {
    const bool same = gets % 2 == 0;
    HttpResponse r = c.Get("/targets/1/properties/" + PaddedId(same ? 500 : 1000 + gets % 900));
    ++gets;
    ASSERT_EQ(r.status, 200) << r.body;
    JsonDoc doc = ParseJson(r.body);
    const int64_t v = int64_t(doc["data"]["v"]);
    EXPECT_TRUE(v >= 1 && v <= 4) << v;
    EXPECT_EQ(doc["data"]["pad"].get_string().value().size(), 1000u);
    if (same) {
      EXPECT_GE(v, last);
      last = v;
    }
  }
  writer.join();
  EXPECT_EQ(imported.load(), 4);
  EXPECT_GT(gets, 0);
  EXPECT_EQ(int64_t(ParseJson(c.Get("/targets/1/properties/p0500").body)["data"]["v"]), 4);
}

}  // namespace
}  // namespace syncmgr::testing
