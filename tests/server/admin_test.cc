// Authentication and the admin routes (/tenants) over real HTTP.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

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

// ---- Key rotation: POST /tenants/{id}/keys, GET /tenants/{id}/keys,
// DELETE /keys/{prefix} ------------------------------------------------------

bool LooksLikeKey(const std::string& key) {
  if (key.size() != 4 + 64 + 8 || key.rfind("smk_", 0) != 0) return false;
  return key.find_first_not_of("0123456789abcdef", 4) == std::string::npos;
}

// The tenant's keys as "prefix:revoked" lines, for before/after comparisons.
std::string KeyList(HttpClient& admin, uint32_t tenant) {
  HttpResponse r = admin.Get("/tenants/" + std::to_string(tenant) + "/keys");
  EXPECT_EQ(r.status, 200) << r.body;
  std::string out;
  JsonDoc doc = ParseJson(r.body);
  for (simdjson::dom::element k : simdjson::dom::array(doc.root())) {
    out += std::string(std::string_view(k["prefix"])) + ":" +
           (bool(k["revoked"]) ? "revoked" : "active") + "\n";
  }
  return out;
}

TEST(KeyRotation, IssueUseRevoke) {
  TestServer server;
  const TestServer::Tenant t = server.CreateTenant("Acme");
  ASSERT_TRUE(LooksLikeKey(t.api_key)) << t.api_key;
  HttpClient admin = server.AdminClient();
  const std::string keys_url = "/tenants/" + std::to_string(t.id) + "/keys";

  // A second key: 201, shown once, with its prefix; both keys work.
  HttpResponse r = admin.Post(keys_url, "");
  ASSERT_EQ(r.status, 201) << r.body;
  JsonDoc issued = ParseJson(r.body);
  const std::string key2{std::string_view(issued["api_key"])};
  const std::string prefix2{std::string_view(issued["prefix"])};
  EXPECT_TRUE(LooksLikeKey(key2)) << key2;
  EXPECT_NE(key2, t.api_key);
  EXPECT_EQ(prefix2, key2.substr(0, 12));
  EXPECT_EQ(uint64_t(issued["tenant_id"]), t.id);
  EXPECT_FALSE(bool(issued["revoked"]));
  EXPECT_FALSE(issued["created_at"].error());
  ASSERT_EQ(admin.Post(keys_url, "{}").status, 201);  // {} is accepted too: a third key
  HttpClient c1 = server.Client(t.api_key);
  HttpClient c2 = server.Client(key2);
  ASSERT_EQ(c1.Post("/sources", R"({"name":"s"})").status, 201);
  EXPECT_EQ(c2.Get("/sources/1").status, 200);

  // The listing shows prefixes only.
  r = admin.Get(keys_url);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find(t.api_key), std::string::npos);
  EXPECT_EQ(r.body.find(key2), std::string::npos);
  const std::string prefix1 = t.api_key.substr(0, 12);
  EXPECT_NE(r.body.find(prefix1), std::string::npos);
  EXPECT_NE(r.body.find(prefix2), std::string::npos);
  EXPECT_EQ(ParseJson(r.body).root().get_array().size(), 3u);

  // Revoking the first key: 401 at once; the others keep working.
  r = admin.Delete("/keys/" + prefix1);
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc revoked = ParseJson(r.body);
  EXPECT_EQ(std::string_view(revoked["prefix"]), prefix1);
  EXPECT_TRUE(bool(revoked["revoked"]));
  EXPECT_EQ(uint64_t(revoked["tenant_id"]), t.id);
  EXPECT_FALSE(revoked["revoked_at"].error());
  r = c1.Get("/sources");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "unauthorized");
  EXPECT_EQ(c2.Get("/sources").status, 200);
  EXPECT_NE(KeyList(admin, t.id).find(prefix1 + ":revoked"), std::string::npos);

  // Durable and a fold of the log: the same after a restart.
  std::vector<std::string> diffs;
  EXPECT_TRUE(server.engine().VerifyViews(&diffs).ok()) << (diffs.empty() ? "" : diffs[0]);
  server.Restart();
  EXPECT_EQ(server.Client(t.api_key).Get("/sources").status, 401);
  EXPECT_EQ(server.Client(key2).Get("/sources").status, 200);
  HttpClient admin2 = server.AdminClient();
  EXPECT_NE(KeyList(admin2, t.id).find(prefix1 + ":revoked"), std::string::npos);

  // Every key of a tenant may be revoked; a new one restores access.
  for (const std::string& line : {KeyList(admin2, t.id)}) {
    size_t pos = 0;
    while ((pos = line.find(":active", pos)) != std::string::npos) {
      const size_t start = line.rfind('\n', pos);
      const std::string prefix =
          line.substr(start == std::string::npos ? 0 : start + 1, 12);
      EXPECT_EQ(admin2.Delete("/keys/" + prefix).status, 200) << prefix;
      ++pos;
    }
  }
  EXPECT_EQ(server.Client(key2).Get("/sources").status, 401);
  r = admin2.Post(keys_url, "");
  ASSERT_EQ(r.status, 201);
  const std::string key4{std::string_view(ParseJson(r.body)["api_key"])};
  EXPECT_EQ(server.Client(key4).Get("/sources/1").status, 200);
}

TEST(KeyRotation, RejectionsChangeNothing) {
  TestServer server;
  const TestServer::Tenant t = server.CreateTenant("Acme");
  HttpClient admin = server.AdminClient();
  HttpClient tenant = server.Client(t.api_key);
  const std::string keys_url = "/tenants/" + std::to_string(t.id) + "/keys";
  const std::string prefix = t.api_key.substr(0, 12);
  const std::string before = KeyList(admin, t.id);
  const uint64_t seq_before = *server.engine().LastSeq(t.id);

  struct Case {
    std::string method, target, body;
    int status;
    std::string code;
    HttpClient* client;
  };
  HttpClient none = server.Client();
  HttpClient wrong = server.Client("smk_" + std::string(72, '0'));
  std::string bad_checksum = t.api_key;
  bad_checksum.back() = bad_checksum.back() == '0' ? '1' : '0';
  HttpClient tampered = server.Client(bad_checksum);
  const Case cases[] = {
      {"POST", keys_url, "", 401, "unauthorized", &none},
      {"POST", keys_url, "", 401, "unauthorized", &wrong},
      {"POST", keys_url, "", 401, "unauthorized", &tampered},
      {"POST", keys_url, "", 403, "forbidden", &tenant},
      {"GET", keys_url, "", 403, "forbidden", &tenant},
      {"DELETE", "/keys/" + prefix, "", 403, "forbidden", &tenant},
      {"DELETE", "/keys/" + prefix, "", 401, "unauthorized", &none},
      {"POST", "/tenants/999/keys", "", 404, "not_found", &admin},
      {"GET", "/tenants/999/keys", "", 404, "not_found", &admin},
      {"POST", "/tenants/0/keys", "", 404, "not_found", &admin},
      {"POST", "/tenants/abc/keys", "", 400, "invalid_request", &admin},
      {"POST", "/tenants/99999999999/keys", "", 404, "not_found", &admin},
      {"POST", keys_url, R"({"ttl":5})", 400, "invalid_request", &admin},
      {"POST", keys_url, "[]", 400, "invalid_request", &admin},
      {"POST", keys_url, "{", 400, "invalid_json", &admin},
      {"POST", keys_url + "?x=1", "", 400, "invalid_request", &admin},
      {"DELETE", "/keys/smk_00000000", "", 404, "not_found", &admin},
      {"DELETE", "/keys/smk_0000000", "", 400, "invalid_request", &admin},
      {"DELETE", "/keys/SMK_00000000", "", 400, "invalid_request", &admin},
      {"DELETE", "/keys/" + t.api_key, "", 400, "invalid_request", &admin},
      {"DELETE", "/keys/%00", "", 400, "invalid_request", &admin},
      {"PUT", "/keys/" + prefix, "", 405, "method_not_allowed", &admin},
  };
  for (const Case& c : cases) {
    HttpRequest req;
    req.method = c.method;
    req.target = c.target;
    req.body = c.body;
    if (!c.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    HttpResponse r = c.client->Request(req);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " → "
                                  << r.body;
    if (c.status != 405) {
      EXPECT_EQ(ErrorCode(r), c.code) << c.method << " " << c.target;
    }
  }
  EXPECT_EQ(KeyList(admin, t.id), before);
  EXPECT_EQ(*server.engine().LastSeq(t.id), seq_before);
  EXPECT_EQ(tenant.Get("/sources").status, 200);

  // Revoking twice: the second is 409 and writes nothing.
  ASSERT_EQ(admin.Post(keys_url, "").status, 201);  // keep the tenant reachable
  ASSERT_EQ(admin.Delete("/keys/" + prefix).status, 200);
  const std::string after_revoke = KeyList(admin, t.id);
  const uint64_t seq_after = *server.engine().LastSeq(t.id);
  HttpResponse r = admin.Delete("/keys/" + prefix);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorCode(r), "conflict");
  EXPECT_EQ(KeyList(admin, t.id), after_revoke);
  EXPECT_EQ(*server.engine().LastSeq(t.id), seq_after);
}

TEST(KeyRotation, CrossTenantSafety) {
  TestServer server;
  const TestServer::Tenant a = server.CreateTenant("A");
  const TestServer::Tenant b = server.CreateTenant("B");
  HttpClient admin = server.AdminClient();
  HttpClient ca = server.Client(a.api_key);
  HttpClient cb = server.Client(b.api_key);
  ASSERT_EQ(cb.Post("/sources", R"({"name":"b-only"})").status, 201);
  const std::string b_keys = KeyList(admin, b.id);

  // A tenant key can neither mint, list nor revoke keys — its own or B's.
  for (uint32_t id : {a.id, b.id}) {
    EXPECT_EQ(ca.Post("/tenants/" + std::to_string(id) + "/keys", "").status, 403);
    EXPECT_EQ(ca.Get("/tenants/" + std::to_string(id) + "/keys").status, 403);
  }
  EXPECT_EQ(ca.Delete("/keys/" + b.api_key.substr(0, 12)).status, 403);
  EXPECT_EQ(cb.Get("/sources").status, 200);

  // A's new key is A's: B's data stays invisible (404), B's keys unchanged.
  HttpResponse r = admin.Post("/tenants/" + std::to_string(a.id) + "/keys", "");
  ASSERT_EQ(r.status, 201);
  const std::string a2{std::string_view(ParseJson(r.body)["api_key"])};
  EXPECT_EQ(uint64_t(ParseJson(r.body)["tenant_id"]), a.id);
  HttpClient ca2 = server.Client(a2);
  EXPECT_EQ(ca2.Get("/sources").body, "[]");
  EXPECT_EQ(ca2.Get("/sources/1").status, 404);
  EXPECT_EQ(KeyList(admin, b.id), b_keys);
  EXPECT_EQ(KeyList(admin, a.id).find(b.api_key.substr(0, 12)), std::string::npos);

  // Revoking A's keys leaves B alone.
  ASSERT_EQ(admin.Delete("/keys/" + a.api_key.substr(0, 12)).status, 200);
  ASSERT_EQ(admin.Delete("/keys/" + a2.substr(0, 12)).status, 200);
  EXPECT_EQ(ca.Get("/sources").status, 401);
  EXPECT_EQ(ca2.Get("/sources").status, 401);
  EXPECT_EQ(cb.Get("/sources/1").status, 200);
  EXPECT_EQ(KeyList(admin, b.id), b_keys);
}

TEST(KeyRotation, RevokedKeyNeverReachesTheLog) {
  TestServer server;
  const TestServer::Tenant t = server.CreateTenant("Acme");
  HttpClient admin = server.AdminClient();
  HttpResponse r = admin.Post("/tenants/" + std::to_string(t.id) + "/keys", "");
  ASSERT_EQ(r.status, 201);
  const std::string key2{std::string_view(ParseJson(r.body)["api_key"])};
  ASSERT_EQ(admin.Delete("/keys/" + t.api_key.substr(0, 12)).status, 200);
  EXPECT_EQ(server.Client(t.api_key).Get("/sources").status, 401);
  for (const std::string& line : server.LogLines(/*at_least=*/4)) {
    EXPECT_EQ(line.find(t.api_key), std::string::npos) << line;
    EXPECT_EQ(line.find(key2), std::string::npos) << line;
    EXPECT_EQ(line.find(key2.substr(4, 64)), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace syncmgr::testing
