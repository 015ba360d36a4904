// Limits and robustness over real sockets: header and body limits, slow
// clients (slowloris) and idle connections cut off, max connections, keep-
// alive, pipelining, 100-continue, malformed requests, CORS. Every loop is
// bounded; timing is only checked against generous ceilings.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TestServerOptions Tight() {
  TestServerOptions o;
  o.server.max_body_bytes = 32 << 10;
  o.server.max_header_bytes = 4 << 10;
  o.server.header_timeout_ms = 1000;
  o.server.body_timeout_ms = 1000;
  o.server.idle_timeout_ms = 1000;
  o.server.stream_chunk_bytes = 4096;
  o.server.import_chunk_bytes = 64 << 10;
  o.server.cors_origins = {"https://site.example"};
  return o;
}

class LimitsTest : public ::testing::Test {
 protected:
  LimitsTest() : server_(Tight()) {}
  TestServer server_;
};

TEST_F(LimitsTest, OversizedHeaderIs431) {
  HttpClient c = server_.Client();
  HttpRequest req;
  req.target = "/health";
  req.headers.emplace_back("X-Padding", std::string(8 << 10, 'h'));
  HttpResponse r = c.Request(req);
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(ErrorCode(r), "headers_too_large");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(server_.Client().Get("/health").status, 200);
}

TEST_F(LimitsTest, OversizedBodyIs413) {
  const auto t = server_.CreateTenant("Acme");
  HttpClient c = server_.Client(t.api_key);
  HttpResponse r = c.Post("/sources", R"({"name":")" + std::string(40 << 10, 'n') + R"("})");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(ErrorCode(r), "payload_too_large");
  EXPECT_EQ(server_.Client(t.api_key).Get("/sources").body, "[]");
}

TEST_F(LimitsTest, SlowHeaderIsCutOff) {
  HttpClient c = server_.Client();
  c.set_timeout(milliseconds(5000));
  const auto start = Clock::now();
  // One byte every 100 ms: the 1 s header deadline passes long before the
  // request would be complete (~8 s).
  const std::string request =
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(40, 's') + "\r\n\r\n";
  const bool sent_all = c.SendSlowly(request, milliseconds(100));
  if (sent_all) {
    EXPECT_TRUE(c.WaitForClose(milliseconds(5000)));
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
  EXPECT_EQ(server_.Client().Get("/health").status, 200);  // others still served
}

TEST_F(LimitsTest, SlowBodyIsCutOff) {
  const auto t = server_.CreateTenant("Acme");
  HttpClient c = server_.Client();
  c.set_timeout(milliseconds(5000));
  ASSERT_TRUE(c.SendRaw("POST /sources HTTP/1.1\r\nHost: x\r\nX-API-Key: " + t.api_key +
                        "\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n"));
  const auto start = Clock::now();
  const bool sent_all = c.SendSlowly(std::string(100, ' '), milliseconds(50));
  if (sent_all) {
    EXPECT_TRUE(c.WaitForClose(milliseconds(5000)));
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
}

// A streamed import body must advance by stream_chunk_bytes (4 KiB here)
// in every body_timeout_ms (1 s), though it is read in pieces of
// import_chunk_bytes (64 KiB): one that stalls is cut off and leaves
// nothing; one that keeps advancing is read to its end, however long the
// whole takes.
TEST_F(LimitsTest, StalledImportBodyIsCutOffAndLeavesNothing) {
  const auto t = server_.CreateTenant("Acme");
  HttpClient c = server_.Client(t.api_key);
  ASSERT_EQ(c.Post("/sources", R"({"name":"portal"})").status, 201);
  const uint64_t seq = *server_.engine().LastSeq(t.id);
  HttpClient raw = server_.Client();
  raw.set_timeout(milliseconds(5000));
  ASSERT_TRUE(raw.SendRaw("POST /sources/1/import HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                          t.api_key +
                          "\r\nContent-Type: application/x-ndjson\r\nContent-Length: "
                          "100000\r\n\r\n{\"external_id\":\"a\",\"p\":1}\n"));
  const auto start = Clock::now();
  EXPECT_TRUE(raw.WaitForClose(milliseconds(5000)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
  EXPECT_EQ(*server_.engine().LastSeq(t.id), seq);
  EXPECT_EQ(c.Get("/sources/1/properties/a").status, 404);
}

TEST_F(LimitsTest, ImportBodyThatKeepsAdvancingIsReadWhole) {
  const auto t = server_.CreateTenant("Acme");
  HttpClient c = server_.Client(t.api_key);
  ASSERT_EQ(c.Post("/sources", R"({"name":"portal"})").status, 201);
  // 12 pieces of ~5 KiB, 250 ms apart: ~3 s in all, three times the body
  // timeout, all of it inside one import chunk; every period sees > 4 KiB.
  constexpr int kPieces = 12;
  std::vector<std::string> pieces;
  size_t total = 0;
  for (int i = 0; i < kPieces; ++i) {
    std::string piece;
    for (int j = 0; piece.size() < 5000; ++j) {
      piece += fmt::format(R"({{"external_id":"p{}-{}","pad":"{}"}})", i, j,
                           std::string(100, 'x')) +
               "\n";
    }
    total += piece.size();
    pieces.push_back(std::move(piece));
  }
  ASSERT_LT(total, size_t{64} << 10);
  HttpClient raw = server_.Client();
  raw.set_timeout(milliseconds(10000));
  ASSERT_TRUE(raw.SendRaw(fmt::format(
      "POST /sources/1/import HTTP/1.1\r\nHost: x\r\nX-API-Key: {}\r\nContent-Type: "
      "application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
      t.api_key, total)));
  for (const std::string& piece : pieces) {
    std::this_thread::sleep_for(milliseconds(250));
    ASSERT_TRUE(raw.SendRaw(piece)) << "cut off mid-body";
  }
  HttpResponse r = raw.ReadResponse();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.Get("/sources/1/properties/p11-0").status, 200);
}

TEST_F(LimitsTest, IdleConnectionIsClosed) {
  HttpClient c = server_.Client();
  ASSERT_EQ(c.Get("/health").status, 200);
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(c.WaitForClose(milliseconds(5000)));  // idle_timeout 1 s
  HttpClient silent = server_.Client();
  ASSERT_TRUE(silent.Connect());
  EXPECT_TRUE(silent.WaitForClose(milliseconds(5000)));
}

TEST_F(LimitsTest, KeepAliveAndPipelining) {
  HttpClient c = server_.Client();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.Get("/health").status, 200);
  EXPECT_EQ(c.connects(), 1u);

  HttpClient p = server_.Client();
  ASSERT_TRUE(
      p.SendRaw("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(p.ReadResponse().status, 200);
  EXPECT_EQ(p.ReadResponse().status, 404);

  HttpClient old = server_.Client();
  ASSERT_TRUE(old.SendRaw("GET /health HTTP/1.0\r\n\r\n"));
  HttpResponse r = old.ReadResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.keep_alive);
}

TEST_F(LimitsTest, ExpectContinue) {
  const auto t = server_.CreateTenant("Acme");
  HttpClient c = server_.Client();
  const std::string body = R"({"name":"s"})";
  ASSERT_TRUE(c.SendRaw("POST /sources HTTP/1.1\r\nHost: x\r\nX-API-Key: " + t.api_key +
                        "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().status, 100);
  ASSERT_TRUE(c.SendRaw(body));
  EXPECT_EQ(c.ReadResponse().status, 201);
  // Refused before the body: no 100, an answer at once.
  HttpClient d = server_.Client();
  ASSERT_TRUE(
      d.SendRaw("POST /sources HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                "Content-Length: 5\r\n\r\n"));
  EXPECT_EQ(d.ReadResponse().status, 401);
}

TEST_F(LimitsTest, MalformedRequestsAre400AndNeverCrash) {
  for (const std::string& raw :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /health HTTP/9.9\r\n\r\n"),
        std::string("GET /health HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("GET http://evil/health HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET /health HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST /sources HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    HttpClient c = server_.Client();
    c.set_timeout(milliseconds(5000));
    ASSERT_TRUE(c.SendRaw(raw));
    HttpResponse r = c.ReadResponse();
    EXPECT_TRUE(r.status == 400 || r.status == 401 || r.status == 0) << raw << " → " << r.status;
  }
  // Random bytes: bounded, seeded.
  std::mt19937 rng(42);
  for (int i = 0; i < 100; ++i) {
    std::string junk(1 + rng() % 300, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    if (i % 2 == 0) junk = "GET /" + junk;
    HttpClient c = server_.Client();
    c.set_timeout(milliseconds(3000));
    if (c.SendRaw(junk + "\r\n\r\n")) (void)c.ReadResponse();
  }
  EXPECT_EQ(server_.Client().Get("/health").status, 200);
}

TEST_F(LimitsTest, Cors) {
  HttpClient c = server_.Client();
  HttpRequest req;
  req.target = "/health";
  req.headers.emplace_back("Origin", "https://site.example");
  HttpResponse r = c.Request(req);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "https://site.example");
  req.headers = {{"Origin", "https://other.example"}};
  EXPECT_EQ(c.Request(req).Header("access-control-allow-origin"), "");
  HttpRequest pre;
  pre.method = "OPTIONS";
  pre.target = "/sources";
  pre.headers = {{"Origin", "https://site.example"},
                 {"Access-Control-Request-Headers", "x-api-key"}};
  r = c.Request(pre);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "https://site.example");
  EXPECT_NE(r.Header("access-control-allow-headers").find("X-API-Key"), std::string::npos);
}

TEST(Limits, MaxConnectionsAnswers503) {
  TestServerOptions o;
  o.server.max_connections = 3;
  TestServer server(o);
  std::vector<HttpClient> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(server.Client());
    ASSERT_EQ(held.back().Get("/health").status, 200);
  }
  HttpClient extra = server.Client();
  ASSERT_TRUE(extra.SendRaw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpResponse r = extra.ReadResponse();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ErrorCode(r), "unavailable");
  held.pop_back();  // closes one
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {  // the close is noticed asynchronously
    HttpClient again = server.Client();
    served = again.Get("/health").status == 200;
    if (!served) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(served);
}

TEST(Limits, ManyIdleConnectionsDoNotStarveOthers) {
  TestServer server;
  std::vector<HttpClient> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(server.Client());
    ASSERT_TRUE(idle.back().Connect());
  }
  HttpClient c = server.Client();
  c.set_timeout(milliseconds(5000));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.Get("/health").status, 200);
  HttpResponse m = c.Get("/metrics");
  EXPECT_NE(m.body.find("syncmgr_http_open_connections"), std::string::npos);
}

// JSON nested deeper than 64 levels is refused with 400 in every kind of
// request body, and writes nothing; 64 levels are fine.
std::string Nested(int depth, const std::string& leaf = "1") {
  std::string out;
  for (int i = 0; i < depth; ++i) out += R"({"a":)";
  out += leaf;
  for (int i = 0; i < depth; ++i) out += "}";
  return out;
}

TEST(Limits, JsonNestedDeeperThan64Is400AndWritesNothing) {
  TestServer server;
  const auto t = server.CreateTenant("Acme");
  HttpClient c = server.Client(t.api_key);
  HttpClient admin = server.AdminClient();
  ASSERT_EQ(c.Post("/sources", R"({"name":"s"})").status, 201);
  ASSERT_EQ(c.Post("/targets", R"({"name":"t"})").status, 201);
  const uint64_t seq = *server.engine().LastSeq(t.id);
  for (int depth : {65, 100, 5000}) {
    SCOPED_TRACE(depth);
    // Catalog bodies (the object itself is level 1).
    HttpResponse r = c.Post("/sources", R"({"name":"x","config":)" + Nested(depth - 1) + "}");
    EXPECT_EQ(r.status, 400) << r.body;
    r = c.Post("/targets", R"({"name":"x","config":)" + Nested(depth - 1) + "}");
    EXPECT_EQ(r.status, 400) << r.body;
    r = admin.Post("/tenants", R"({"name":"x","deep":)" + Nested(depth - 1) + "}");
    EXPECT_EQ(r.status, 400) << r.body;
    // A manual edit.
    r = c.Put("/targets/1/properties/deep", Nested(depth));
    EXPECT_EQ(r.status, 400) << r.body;
    // Imports, JSON and NDJSON: the item is level 2 inside the array.
    r = c.Post("/sources/1/import",
               R"([{"external_id":"deep","x":)" + Nested(depth - 1) + "}]");
    EXPECT_EQ(r.status, 400) << r.body;
    r = c.Post("/sources/1/import",
               R"({"external_id":"deep","x":)" + Nested(depth - 1) + "}\n",
               "application/x-ndjson");
    EXPECT_EQ(r.status, 400) << r.body;
  }
  EXPECT_EQ(*server.engine().LastSeq(t.id), seq) << "a refused body wrote something";
  EXPECT_EQ(c.Get("/sources/1/properties/deep").status, 404);
  EXPECT_EQ(c.Get("/targets/1/properties/deep").status, 404);
  EXPECT_EQ(ParseJson(c.Get("/sources").body).root().get_array().size(), 1u);
  // 64 levels in all are accepted.
  EXPECT_EQ(c.Put("/targets/1/properties/ok", Nested(64)).status, 200);
  EXPECT_EQ(c.Post("/sources/1/import", R"([{"external_id":"ok","x":)" + Nested(62) + "}]")
                .status,
            200);
  EXPECT_EQ(c.Get("/health").status, 200);
}

// 1,000 connections opened and never used: they fit under max_connections,
// a well-behaved client keeps being served meanwhile, and once the idle
// timeout passes the server closes every one of them cleanly.
TEST(Limits, ThousandIdleConnectionsAreHeldThenClosedAndOthersAreServed) {
  constexpr int kIdle = 1000;
  // Two descriptors per connection in this process (client and server side).
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  const rlim_t want = 2 * kIdle + 512;
  if (lim.rlim_cur < want) {
    lim.rlim_cur = std::min<rlim_t>(want, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < want) GTEST_SKIP() << "descriptor limit " << lim.rlim_cur << " too low";
  TestServerOptions o;
  o.server.idle_timeout_ms = 3000;
  o.server.header_timeout_ms = 3000;
  TestServer server(o);
  std::vector<HttpClient> idle;
  idle.reserve(kIdle);
  int connected = 0;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(server.Client());
    connected += idle.back().Connect();
  }
  EXPECT_EQ(connected, kIdle);
  // A well-behaved client: served, with its latency reported (not asserted).
  HttpClient c = server.Client();
  c.set_timeout(milliseconds(10'000));
  const auto start = Clock::now();
  int ok = 0;
  constexpr int kRequests = 50;
  for (int i = 0; i < kRequests; ++i) ok += c.Get("/health").status == 200;
  EXPECT_EQ(ok, kRequests);
  const double ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count() / kRequests;
  HttpResponse m = c.Get("/metrics");
  EXPECT_NE(m.body.find("syncmgr_http_open_connections"), std::string::npos);
  std::printf("1000 idle connections held; a well-behaved client: %d/%d answered, %.2f ms each\n",
              ok, kRequests, ms);
  // The idle timeout closes them all (bounded wait per connection).
  int closed = 0;
  for (HttpClient& h : idle) closed += h.WaitForClose(milliseconds(10'000));
  EXPECT_EQ(closed, kIdle);
  EXPECT_EQ(server.Client().Get("/health").status, 200);
}

}  // namespace
}  // namespace syncmgr::testing
