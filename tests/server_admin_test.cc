// Authentication and the admin routes (/tenants) over real HTTP.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

std::string ErrorCode(const HttpResponse& r) {
  JsonDoc doc = ParseJson(r.body);
  std::string_view code;
  if (doc["error"]["code"].get(code)) return "<no error code in " + r.body + ">";
  return std::string(code);
}

TEST(AdminApi, CreateAndListTenants) {
  TestServer server;
  HttpClient admin = server.AdminClient();
  HttpResponse r = admin.Post("/tenants", R"({"name":"Acme"})");
  ASSERT_EQ(r.status, 201) << r.body;
  JsonDoc created = ParseJson(r.body);
  EXPECT_GT(uint64_t(created["id"]), 0u);
  EXPECT_EQ(std::string_view(created["name"]), "Acme");
  const std::string key{std::string_view(created["api_key"])};
  EXPECT_GE(key.size(), 22u);  // >= 128 bits of randomness, whatever the encoding

  ASSERT_EQ(admin.Post("/tenants", R"({"name":"Beta"})").status, 201);
  r = admin.Get("/tenants");
  ASSERT_EQ(r.status, 200);
  JsonDoc list = ParseJson(r.body);
  simdjson::dom::array tenants = list.root();
  ASSERT_EQ(tenants.size(), 2u);
  simdjson::dom::element first = *tenants.begin();
  EXPECT_EQ(std::string_view(first["name"]), "Acme");
  EXPECT_TRUE(first["api_key"].error());  // shown once only
  EXPECT_EQ(r.body.find(key), std::string::npos);

  // The new key works on tenant routes.
  HttpClient tenant = server.Client(key);
  EXPECT_EQ(tenant.Get("/sources").status, 200);
}

TEST(AdminApi, BadTenantBodies) {
  TestServer server;
  HttpClient admin = server.AdminClient();
  const std::pair<std::string, std::string> cases[] = {
      {"", "invalid_json"},
      {"{", "invalid_json"},
      {"not json", "invalid_json"},
      {"[]", "invalid_request"},
      {"{}", "invalid_request"},
      {R"({"name":""})", "invalid_request"},
      {R"({"name":5})", "invalid_request"},
      {R"({"name":"x","extra":1})", "invalid_request"},
      {R"({"name":")" + std::string(300, 'n') + R"("})", "invalid_request"},
      {"{\"name\":\"\xff\"}", "invalid_json"},
  };
  for (const auto& [body, code] : cases) {
    HttpResponse r = admin.Post("/tenants", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(ErrorCode(r), code) << body;
  }
  EXPECT_EQ(admin.Get("/tenants").body, "[]");  // nothing was created
}

TEST(AdminApi, AuthenticationMatrix) {
  TestServer server;
  const TestServer::Tenant t = server.CreateTenant("Acme");
  HttpClient none = server.Client();
  HttpClient wrong = server.Client("not-a-key");
  HttpClient tenant = server.Client(t.api_key);
  HttpClient admin = server.AdminClient();

  // Public routes.
  for (HttpClient* c : {&none, &wrong, &tenant, &admin}) {
    EXPECT_EQ(c->Get("/health").status, 200);
    EXPECT_EQ(c->Get("/metrics").status, 200);
  }
  EXPECT_EQ(none.Get("/health").body, R"({"status":"ok"})");

  // Admin routes.
  HttpResponse r = none.Get("/tenants");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthorized");
  EXPECT_EQ(wrong.Get("/tenants").status, 401);
  r = tenant.Get("/tenants");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "forbidden");
  EXPECT_EQ(tenant.Post("/tenants", R"({"name":"x"})").status, 403);
  EXPECT_EQ(admin.Get("/tenants").status, 200);

  // Tenant routes: the admin key is refused with 403.
  EXPECT_EQ(none.Get("/sources").status, 401);
  EXPECT_EQ(wrong.Get("/sources").status, 401);
  r = admin.Get("/sources");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "forbidden");
  EXPECT_EQ(tenant.Get("/sources").status, 200);

  // Any key: the OpenAPI document.
  EXPECT_EQ(none.Get("/openapi.json").status, 401);
  EXPECT_EQ(tenant.Get("/openapi.json").status, 200);
  EXPECT_EQ(admin.Get("/openapi.json").status, 200);

  // An empty header counts as missing.
  HttpRequest empty;
  empty.target = "/sources";
  empty.headers.emplace_back("X-API-Key", "");
  EXPECT_EQ(none.Request(empty).status, 401);
}

TEST(AdminApi, KeysNeverReachTheLog) {
  TestServer server;
  const TestServer::Tenant t = server.CreateTenant("Acme");
  HttpClient tenant = server.Client(t.api_key);
  ASSERT_EQ(tenant.Post("/sources", R"({"name":"secret-listing-name"})").status, 201);
  EXPECT_EQ(server.Client("wrong-key-xyz").Get("/sources").status, 401);
  const std::vector<std::string> lines = server.LogLines(/*at_least=*/3);
  ASSERT_GE(lines.size(), 3u);
  bool saw_tenant = false;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find(t.api_key), std::string::npos) << line;
    EXPECT_EQ(line.find(server.admin_key()), std::string::npos) << line;
    EXPECT_EQ(line.find("wrong-key-xyz"), std::string::npos) << line;
    EXPECT_EQ(line.find("secret-listing-name"), std::string::npos) << line;
    JsonDoc doc = ParseJson(line);
    for (const char* key : {"time", "method", "route", "status", "duration_ms", "tenant"}) {
      EXPECT_FALSE(doc[key].error()) << key << " in " << line;
    }
    if (std::string_view(doc["route"]) == "/sources" && uint64_t(doc["status"]) == 201) {
      EXPECT_EQ(uint64_t(doc["tenant"]), t.id);
      saw_tenant = true;
    }
  }
  EXPECT_TRUE(saw_tenant);
}

}  // namespace
}  // namespace syncmgr::testing
