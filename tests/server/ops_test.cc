// Operations routes: /health, /metrics (Prometheus text), /openapi.json and
// the test that keeps the OpenAPI document true: every route the router
// serves is documented, and every documented operation is served.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "server/server.h"
#include "server/ui_assets.h"
#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

TEST(OpenApi, DocumentsExactlyTheRoutesServed) {
  JsonDoc doc = ParseJson(std::string(server::Server::OpenApiDocument()));
  EXPECT_EQ(std::string_view(doc["openapi"]), "3.1.0");
  simdjson::dom::object paths = doc["paths"];

  std::set<std::pair<std::string, std::string>> served, documented;
  for (const server::RouteInfo& r : server::Server::Routes()) {
    served.insert({Lower(r.method), r.pattern});
  }
  for (auto [path, item] : paths) {
    for (auto [method, op] : simdjson::dom::object(item)) {
      documented.insert({std::string(method), std::string(path)});
      EXPECT_FALSE(op["responses"].error()) << method << " " << path;
    }
  }
  for (const auto& route : served) {
    EXPECT_TRUE(documented.count(route))
        << "not in openapi.json: " << route.first << " " << route.second;
  }
  for (const auto& route : documented) {
    EXPECT_TRUE(served.count(route))
        << "documented but not served: " << route.first << " " << route.second;
  }
}

TEST(OpenApi, ServedWithAnyKey) {
  TestServer server;
  HttpResponse r = server.AdminClient().Get("/openapi.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::string(server::Server::OpenApiDocument()));
  EXPECT_EQ(r.Header("content-type"), "application/json");
}

TEST(Ops, HealthAndMetrics) {
  TestServer server;
  const auto t = server.CreateTenant("Acme");
  HttpClient c = server.Client(t.api_key);
  ASSERT_EQ(c.Post("/sources", R"({"name":"s"})").status, 201);
  ASSERT_EQ(c.Post("/targets", R"({"name":"t"})").status, 201);
  ASSERT_EQ(
      c.Post("/sources/1/import", R"([{"external_id":"a","p":1},{"external_id":"b"}])").status,
      200);
  ASSERT_EQ(c.Post("/sources/1/import", R"([{"external_id":"a"},{"external_id":"a"}])").status,
            400);
  ASSERT_EQ(c.Post("/sync/1/1", "").status, 200);
  ASSERT_EQ(c.Put("/targets/1/properties/a", R"({"p":9})").status, 200);
  ASSERT_EQ(
      c.Post("/sources/1/import", R"([{"external_id":"a","p":2},{"external_id":"b"}])").status,
      200);
  ASSERT_EQ(c.Post("/sync/1/1", "").status, 200);
  ASSERT_EQ(c.Get("/nowhere").status, 404);

  HttpResponse h = server.Client().Get("/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, R"({"status":"ok"})");

  // On the same connection: each request is counted before the next is read.
  HttpResponse m = c.Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.Header("content-type").find("text/plain"), std::string::npos);
  const std::string& text = m.body;
  for (const char* needle :
       {"syncmgr_http_requests_total{method=\"POST\",route=\"/sources/{id}/"
        "import\",status=\"200\"} 2",
        "syncmgr_http_requests_total{method=\"POST\",route=\"/sources/{id}/"
        "import\",status=\"400\"} 1",
        "syncmgr_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "syncmgr_http_request_duration_seconds_bucket{route=\"/sync/{source_id}/"
        "{target_id}\",le=\"+Inf\"} 2",
        "syncmgr_http_request_duration_seconds_count{route=\"/sources\"}",
        "syncmgr_imports_total{status=\"success\"} 2", "syncmgr_imports_total{status=\"error\"} 1",
        "syncmgr_syncs_total{status=\"success\",dry_run=\"false\"} 2",
        "syncmgr_sync_conflicts_total 1", "syncmgr_http_open_connections ",
        "# TYPE syncmgr_events_appended_total counter"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << "missing: " << needle;
  }
  const size_t at = text.find("\nsyncmgr_events_appended_total ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stoull(text.substr(at + 31)), 4u);
  // No key, no payload in the metrics.
  EXPECT_EQ(text.find(t.api_key), std::string::npos);
}

// The dashboard's files (server/routes_ui.cc): no key, the security headers
// on every answer, the index naming this build's files, which are cached for
// good; another build's URL is 404. The browser tests are in tests/ui/.
TEST(Ops, DashboardFiles) {
  TestServer server;
  HttpClient c = server.Client();  // no key
  constexpr std::string_view kCsp =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
  auto expect_security_headers = [&](const HttpResponse& r, const std::string& what) {
    EXPECT_EQ(r.Header("content-security-policy"), kCsp) << what;
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff") << what;
    EXPECT_EQ(r.Header("x-frame-options"), "DENY") << what;
  };
  for (const char* path : {"/", "/ui"}) {
    HttpResponse r = c.Get(path);
    EXPECT_EQ(r.status, 302) << path;
    EXPECT_EQ(r.Header("location"), "/ui/") << path;
    expect_security_headers(r, path);
  }

  HttpResponse index = c.Get("/ui/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("cache-control"), "no-cache");
  expect_security_headers(index, "/ui/");
  const std::string build(server::UiBuildId());
  EXPECT_EQ(build.size(), 16u);
  EXPECT_NE(index.body.find("src=\"" + build + "/app.js\""), std::string::npos) << index.body;
  EXPECT_EQ(index.body.find("__UI_BUILD__"), std::string::npos);
  // No inline script or style: every <script> has a src, no style attribute.
  EXPECT_EQ(index.body.find("<script>"), std::string::npos);
  EXPECT_EQ(index.body.find("style="), std::string::npos);

  size_t served = 0;
  for (const server::UiAsset& asset : server::UiAssets()) {
    if (asset.path == "index.html") continue;
    const std::string url = "/ui/" + build + "/" + std::string(asset.path);
    HttpResponse r = c.Get(url);
    ASSERT_EQ(r.status, 200) << url;
    EXPECT_EQ(r.body, asset.bytes) << url;
    EXPECT_EQ(r.Header("content-type"), asset.content_type) << url;
    EXPECT_EQ(r.Header("cache-control"), "public, max-age=31536000, immutable") << url;
    expect_security_headers(r, url);
    ++served;
  }
  EXPECT_GE(served, 5u);
  HttpResponse js = c.Get("/ui/" + build + "/app.js");
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");

  // Absent: another build, an unknown file, the raw index, a path out.
  for (const std::string& path : std::vector<std::string>{
           "/ui/0123456789abcdef/app.js", "/ui/" + build + "/nope.js",
           "/ui/" + build + "/index.html", "/ui/" + build + "/..",
           "/ui/" + build + "/%2e%2e%2fserver.h", "/ui/" + build + "/lib/..%2f..%2fapp.js",
           "/ui/" + build + "/a/b/c.js"}) {
    HttpResponse r = c.Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_NE(r.Header("content-type").find("application/json"), std::string::npos) << path;
  }
  // Only GET; a query is refused as on every route.
  EXPECT_EQ(c.Post("/ui/", "").status, 405);
  EXPECT_EQ(c.Get("/ui/?key=x").status, 400);
}

TEST(Ops, StartFailsCleanlyWhenThePortIsTaken) {
  TestServer server;
  server::ServerOptions o;
  o.port = server.port();
  server::Server second(server.engine(), o);
  Status st = second.Start();
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  server::ServerOptions bad;
  bad.host = "not-an-address";
  server::Server third(server.engine(), bad);
  EXPECT_EQ(third.Start().code(), Code::kInvalidArgument);
  EXPECT_EQ(server.Client().Get("/health").status, 200);
}

}  // namespace
}  // namespace syncmgr::testing
