// Import routes over real HTTP: JSON and NDJSON bodies (Content-Length and
// chunked), modes, every bad-input case of SPEC §4 Import with the state
// verified unchanged after each, body limits, and the import log.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

TestServerOptions SmallLimits() {
  TestServerOptions o;
  o.server.max_body_bytes = 64 << 10;      // JSON bodies: 64 KiB
  o.server.max_import_bytes = 8 << 20;     // NDJSON: 8 MiB
  o.server.stream_chunk_bytes = 16 << 10;
  o.server.import_chunk_bytes = 16 << 10;  // many chunks per import
  return o;
}

class ImportApiTest : public TenantApiTest {
 protected:
  ImportApiTest() : TenantApiTest(SmallLimits()) {}
  void SetUp() override {
    ASSERT_EQ(client_->Post("/sources", R"({"name":"portal"})").status, 201);
  }
  // What must not change when an import is refused.
  std::string State() {
    return client_->Get("/sources/1/properties").body + "|" + client_->Get("/imports").body;
  }
  HttpResponse Ndjson(const std::string& body, const std::string& query = "") {
    return client_->Post("/sources/1/import" + query, body, "application/x-ndjson");
  }
};

TEST_F(ImportApiTest, JsonFormsAndStats) {
  HttpResponse r = client_->Post("/sources/1/import", R"([{"external_id":"a","p":1}])");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc d = ParseJson(r.body);
  EXPECT_EQ(std::string_view(d["status"]), "success");
  for (const char* k : {"received", "created", "updated", "unchanged", "removed"}) {
    EXPECT_FALSE(d["stats"][k].error()) << k;
  }
  r = client_->Post("/sources/1/import",
                    R"({"mode":"upsert","data":[{"external_id":"a","p":1},{"id":7,"p":2}]})",
                    "application/json; charset=utf-8");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc d2 = ParseJson(r.body);
  EXPECT_EQ(uint64_t(d2["stats"]["unchanged"]), 1u);
  EXPECT_EQ(uint64_t(d2["stats"]["created"]), 1u);
  // Idempotent: the same again creates no versions but is logged.
  r = client_->Post("/sources/1/import", R"([{"external_id":"a","p":1}])");
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["unchanged"]), 1u);
  r = client_->Get("/imports");
  JsonDoc log = ParseJson(r.body);
  simdjson::dom::array entries = log.root();
  ASSERT_EQ(entries.size(), 3u);
  simdjson::dom::element newest = *entries.begin();
  for (const char* k :
       {"id", "source_id", "mode", "started_at", "finished_at", "status", "stats"}) {
    EXPECT_FALSE(newest[k].error()) << k;
  }
  const std::string id = std::to_string(uint64_t(newest["id"]));
  EXPECT_EQ(client_->Get("/imports/" + id).status, 200);
  EXPECT_EQ(client_->Get("/imports/9999").status, 404);
  EXPECT_EQ(
      simdjson::dom::array(ParseJson(client_->Get("/imports?source_id=1&limit=2").body).root())
          .size(),
      2u);
  EXPECT_EQ(client_->Get("/imports?source_id=2").status, 404);
  EXPECT_EQ(client_->Get("/imports?limit=0").status, 400);
}

TEST_F(ImportApiTest, NdjsonContentLengthAndChunked) {
  std::string body;
  for (int i = 0; i < 500; ++i)
    body += "{\"external_id\":\"n" + std::to_string(i) + "\",\"x\":" + std::to_string(i) + "}\n";
  HttpResponse r = Ndjson(body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["created"]), 500u);

  HttpRequest chunked;
  chunked.method = "POST";
  chunked.target = "/sources/1/import?mode=upsert";
  chunked.headers.emplace_back("Content-Type", "application/x-ndjson");
  chunked.body = body + "{\"external_id\":\"extra\"}\n";
  chunked.chunk_bytes = 777;  // chunk boundaries inside lines
  r = client_->Request(chunked);
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc d = ParseJson(r.body);
  EXPECT_EQ(uint64_t(d["stats"]["created"]), 1u);
  EXPECT_EQ(uint64_t(d["stats"]["unchanged"]), 500u);
}

// An NDJSON import far larger than the JSON body limit goes through: it is
// streamed to the engine in chunks.
TEST_F(ImportApiTest, LargeNdjsonIsStreamed) {
  std::string body;
  const std::string pad(900, 'x');
  for (int i = 0; i < 4000; ++i) {
    body += "{\"external_id\":\"id" + std::to_string(i) + "\",\"pad\":\"" + pad + "\"}\n";
  }
  ASSERT_GT(body.size(), 3u << 20);
  HttpResponse r = Ndjson(body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["created"]), 4000u);
}

// NDJSON of `n` items with ids <prefix>0.. and ~`pad` bytes each.
std::string NdjsonItems(const std::string& prefix, int n, size_t pad) {
  std::string body;
  for (int i = 0; i < n; ++i) {
    body += "{\"external_id\":\"" + prefix + std::to_string(i) + "\",\"i\":" + std::to_string(i) +
            ",\"pad\":\"" + std::string(pad + i % 97, 'p') + "\"}\n";
  }
  return body;
}

// The body as the socket delivers it does not matter: a Content-Length body
// written in odd pieces (1 byte, pieces across lines and reads, pieces
// larger than a read and than a stream chunk) and followed in the same write
// by a pipelined request stores what the same body sent at once does.
TEST_F(ImportApiTest, BodyInOddPiecesImportsTheSame) {
  const std::string body = NdjsonItems("o", 3000, 300);  // ~1 MB: many reads and chunks
  TestServer::Tenant tenant = server_.CreateTenant("Pieces");
  HttpClient raw = server_.Client(tenant.api_key);
  ASSERT_EQ(raw.Post("/sources", R"({"name":"portal"})").status, 201);
  ASSERT_TRUE(raw.Connect());
  ASSERT_TRUE(raw.SendRaw("POST /sources/1/import?mode=full HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                          tenant.api_key +
                          "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n"));
  const size_t pieces[] = {1, 7, 4093, 65537, 300001, 13, 70000, 8191};
  size_t at = 0;
  for (size_t k = 0; body.size() - at > 200000; ++k) {
    const size_t n = std::min(pieces[k % std::size(pieces)], body.size() - at - 200000);
    ASSERT_TRUE(raw.SendRaw(std::string_view(body).substr(at, n)));
    at += n;
  }
  // The rest of the body and the next request in one write.
  ASSERT_TRUE(raw.SendRaw(body.substr(at) + "GET /imports HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                          tenant.api_key + "\r\n\r\n"));
  HttpResponse r = raw.ReadResponse();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["created"]), 3000u);
  r = raw.ReadResponse();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(simdjson::dom::array(ParseJson(r.body).root()).size(), 1u);  // the import's log entry

  // The same body sent at once finds every item unchanged: the same bytes
  // were stored. And into another source, at once, the same listing.
  HttpClient again = server_.Client(tenant.api_key);
  r = again.Post("/sources/1/import?mode=full", body, "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["unchanged"]), 3000u);
  ASSERT_EQ(again.Post("/sources", R"({"name":"whole"})").status, 201);
  ASSERT_EQ(again.Post("/sources/2/import?mode=full", body, "application/x-ndjson").status, 200);
  const JsonDoc pieced_doc = ParseJson(again.Get("/sources/1/properties").body);
  const JsonDoc whole_doc = ParseJson(again.Get("/sources/2/properties").body);
  const simdjson::dom::array pieced(pieced_doc.root()), whole(whole_doc.root());
  ASSERT_EQ(pieced.size(), 3000u);
  ASSERT_EQ(whole.size(), 3000u);
  for (auto p = pieced.begin(), w = whole.begin(); p != pieced.end(); ++p, ++w) {
    ASSERT_EQ(simdjson::minify((*p)["data"]), simdjson::minify((*w)["data"]));
  }

  // A small body that arrives with its header and the next request, all in
  // one write: the body ends where Content-Length says, the next request
  // is served after it.
  const std::string small = NdjsonItems("s", 3, 10);
  ASSERT_TRUE(raw.SendRaw("POST /sources/1/import HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                          tenant.api_key +
                          "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
                          std::to_string(small.size()) + "\r\n\r\n" + small +
                          "GET /sources/1/properties/s2 HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                          tenant.api_key + "\r\n\r\n"));
  r = raw.ReadResponse();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["created"]), 3u);
  r = raw.ReadResponse();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(int64_t(ParseJson(r.body)["data"]["i"]), 2);
}

// A body refused near its end, after many reads and chunks were appended,
// writes nothing: sent at once, and in pieces with the bad line split.
TEST_F(ImportApiTest, LargeBodyRefusedAtItsEndWritesNothing) {
  ASSERT_EQ(Ndjson(NdjsonItems("k", 10, 20)).status, 200);
  const std::string before = State();
  const std::string bad = NdjsonItems("r", 3000, 300) + "{\"external_id\":\"r1\"}\n";
  HttpResponse r = Ndjson(bad, "?mode=upsert");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorCode(r), "invalid_request");  // r1 twice
  EXPECT_EQ(State(), before);

  const std::string malformed = NdjsonItems("m", 3000, 300) + "{\"external_id\":\"m-last\",}\n";
  TestServer::Tenant tenant = server_.CreateTenant("Refused");
  HttpClient raw = server_.Client(tenant.api_key);
  ASSERT_EQ(raw.Post("/sources", R"({"name":"portal"})").status, 201);
  ASSERT_EQ(raw.Post("/sources/1/import", R"([{"external_id":"keep"}])").status, 200);
  const std::string raw_before =
      raw.Get("/sources/1/properties").body + "|" + raw.Get("/imports").body;
  ASSERT_TRUE(raw.Connect());
  ASSERT_TRUE(raw.SendRaw("POST /sources/1/import HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                          tenant.api_key +
                          "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
                          std::to_string(malformed.size()) + "\r\n\r\n"));
  const size_t split = malformed.size() - 10;  // inside the bad line
  for (size_t at = 0; at < split;) {
    const size_t n = std::min<size_t>(at % 2 ? 99991 : 3, split - at);
    ASSERT_TRUE(raw.SendRaw(std::string_view(malformed).substr(at, n)));
    at += n;
  }
  ASSERT_TRUE(raw.SendRaw(malformed.substr(split)));
  r = raw.ReadResponse();
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrorCode(r), "invalid_json");
  HttpClient after = server_.Client(tenant.api_key);
  EXPECT_EQ(after.Get("/sources/1/properties").body + "|" + after.Get("/imports").body,
            raw_before);
}

TEST_F(ImportApiTest, FullModeAndMassRemovalGuard) {
  ASSERT_EQ(client_
                ->Post("/sources/1/import",
                       R"([{"external_id":"a"},{"external_id":"b"},{"external_id":"c"},
                              {"external_id":"d"},{"external_id":"e"},{"external_id":"f"}])")
                .status,
            200);
  const std::string before = State();
  HttpResponse r = client_->Post("/sources/1/import?mode=full", R"([{"external_id":"a"}])");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorCode(r), "mass_removal");
  EXPECT_EQ(State(), before);
  r = client_->Post("/sources/1/import", R"({"mode":"full","data":[{"external_id":"a"}]})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(State(), before);
  r = client_->Post("/sources/1/import?mode=full&allow_mass_removal=true",
                    R"([{"external_id":"a"}])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["removed"]), 5u);
}

// SPEC §4 Import: every rejected body answers 400 and writes nothing.
TEST_F(ImportApiTest, BadInputWritesNothing) {
  ASSERT_EQ(client_->Post("/sources/1/import", R"([{"external_id":"keep","v":1}])").status, 200);
  const std::string before = State();
  std::string deep = R"([{"external_id":"d","x":)";
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  deep += "}]";
  struct Case {
    std::string name, body, content_type, query, code;
  };
  const std::string json = "application/json", nd = "application/x-ndjson";
  const Case cases[] = {
      {"empty body", "", json, "", "invalid_json"},
      {"malformed json", R"([{"external_id":"a",)", json, "", "invalid_json"},
      {"trailing garbage", R"([{"external_id":"a"}] x)", json, "", "invalid_json"},
      {"invalid utf-8", "[{\"external_id\":\"a\",\"t\":\"\xff\"}]", json, "", "invalid_json"},
      {"item not object", R"([{"external_id":"a"}, 5])", json, "", "invalid_request"},
      {"missing id", R"([{"external_id":"a"},{"name":"x"}])", json, "", "invalid_request"},
      {"empty id", R"([{"external_id":""}])", json, "", "invalid_request"},
      {"long id", R"([{"external_id":")" + std::string(257, 'i') + R"("}])", json, "",
       "invalid_request"},
      {"duplicate id", R"([{"external_id":"a"},{"external_id":"a"}])", json, "", "invalid_request"},
      {"too deep", deep, json, "", "invalid_request"},
      {"unknown mode (query)", R"([{"external_id":"a"}])", json, "?mode=merge", "invalid_request"},
      {"unknown mode (body)", R"({"mode":"merge","data":[{"external_id":"a"}]})", json, "",
       "invalid_request"},
      {"no data member", R"({"mode":"upsert"})", json, "", "invalid_request"},
      {"bad allow_mass_removal", R"([{"external_id":"a"}])", json, "?allow_mass_removal=maybe",
       "invalid_request"},
      {"ndjson malformed line", "{\"external_id\":\"a\"}\n{oops}\n", nd, "", "invalid_json"},
      {"ndjson not object", "{\"external_id\":\"a\"}\n[1]\n", nd, "", "invalid_request"},
      {"ndjson duplicate", "{\"external_id\":\"a\"}\n{\"external_id\":\"a\"}\n", nd, "",
       "invalid_request"},
      {"ndjson missing id", "{\"external_id\":\"a\"}\n{\"x\":1}\n", nd, "", "invalid_request"},
      {"ndjson invalid utf-8", "{\"external_id\":\"\xc3\x28\"}\n", nd, "", "invalid_json"},
  };
  for (const Case& c : cases) {
    HttpResponse r = client_->Post("/sources/1/import" + c.query, c.body, c.content_type);
    EXPECT_EQ(r.status, 400) << c.name << ": " << r.body;
    EXPECT_EQ(ErrorCode(r), c.code) << c.name;
    EXPECT_EQ(State(), before) << c.name;
  }
}

TEST_F(ImportApiTest, MediaTypesAndLimits) {
  const std::string before = State();
  HttpResponse r = client_->Post("/sources/1/import", R"([{"external_id":"a"}])", "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(ErrorCode(r), "unsupported_media_type");
  r = client_->Post("/sources/1/import", "external_id=a", "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 415);

  // A JSON body past max_body_bytes (64 KiB here): 413 before reading it.
  std::string big = "[";
  for (int i = 0; i < 2000; ++i) {
    big += std::string(i ? "," : "") + "{\"external_id\":\"b" + std::to_string(i) +
           "\",\"pad\":\"" + std::string(40, 'p') + "\"}";
  }
  big += "]";
  ASSERT_GT(big.size(), 64u << 10);
  r = client_->Post("/sources/1/import", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(ErrorCode(r), "payload_too_large");
  // The same as chunked (no Content-Length): cut off at the limit.
  HttpRequest chunked;
  chunked.method = "POST";
  chunked.target = "/sources/1/import";
  chunked.body = big;
  chunked.chunk_bytes = 4096;
  r = client_->Request(chunked);
  EXPECT_EQ(r.status, 413);
  // NDJSON past max_import_bytes (8 MiB here).
  std::string huge;
  while (huge.size() <= (8u << 20)) {
    huge += "{\"external_id\":\"h" + std::to_string(huge.size()) + "\",\"pad\":\"" +
            std::string(1000, 'q') + "\"}\n";
  }
  r = Ndjson(huge);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(State(), before);

  EXPECT_EQ(client_->Post("/sources/2/import", R"([{"external_id":"a"}])").status, 404);
  EXPECT_EQ(client_->Post("/sources/x/import", R"([{"external_id":"a"}])").status, 400);
  EXPECT_EQ(State(), before);
  // The connection still works after all of it.
  EXPECT_EQ(client_->Get("/health").status, 200);
}

}  // namespace
}  // namespace syncmgr::testing
