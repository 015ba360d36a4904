// Cross-tenant isolation (SPEC §3.6), table-driven over every route the
// router serves: tenant B, using tenant A's ids, gets 404 for every id of A
// and never sees A's data in any answer. A table entry is required for each
// route, so a new route cannot skip this test.
#include <gtest/gtest.h>

#include <map>

#include "server/server.h"
#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

constexpr const char* kMarker = "A-secret";

struct Probe {
  std::string method;
  std::string target;
  std::string body;
  int expect;  // status tenant B must get
};

TEST(Isolation, TenantsNeverSeeEachOther) {
  TestServer server;
  const TestServer::Tenant a = server.CreateTenant("A-secret-tenant");
  const TestServer::Tenant b = server.CreateTenant("B");
  HttpClient ca = server.Client(a.api_key);
  HttpClient cb = server.Client(b.api_key);

  // Tenant A: two of everything, so A's ids 2 exist only for A.
  for (int i = 1; i <= 2; ++i) {
    ASSERT_EQ(ca.Post("/sources", R"({"name":"A-secret-source"})").status, 201);
    ASSERT_EQ(ca.Post("/targets", R"({"name":"A-secret-target"})").status, 201);
    ASSERT_EQ(ca.Post("/sources/" + std::to_string(i) + "/import",
                      R"([{"external_id":"A-secret-prop","note":"A-secret-data"}])")
                  .status,
              200);
    ASSERT_EQ(ca.Post("/sync/" + std::to_string(i) + "/" + std::to_string(i), "").status, 200);
  }
  const std::string import_id = std::to_string(
      uint64_t((*simdjson::dom::array(ParseJson(ca.Get("/imports").body).root()).begin())["id"]));
  const std::string sync_id = std::to_string(
      uint64_t((*simdjson::dom::array(ParseJson(ca.Get("/sync_logs").body).root()).begin())["id"]));
  const std::string a_state = ca.Get("/targets/2/properties").body + ca.Get("/sources").body;

  // pattern → probes for tenant B with A's ids.
  const std::map<std::pair<std::string, std::string>, std::vector<Probe>> table = {
      {{"POST", "/tenants"}, {{"POST", "/tenants", R"({"name":"x"})", 403}}},
      {{"GET", "/tenants"}, {{"GET", "/tenants", "", 403}}},
      {{"POST", "/sources"}, {{"POST", "/sources", R"({"name":"b"})", 201}}},
      {{"GET", "/sources"}, {{"GET", "/sources", "", 200}}},
      {{"GET", "/sources/{id}"}, {{"GET", "/sources/2", "", 404}}},
      {{"POST", "/targets"}, {{"POST", "/targets", R"({"name":"b"})", 201}}},
      {{"GET", "/targets"}, {{"GET", "/targets", "", 200}}},
      {{"GET", "/targets/{id}"}, {{"GET", "/targets/2", "", 404}}},
      {{"POST", "/sources/{id}/import"},
       {{"POST", "/sources/2/import", R"([{"external_id":"x"}])", 404}}},
      {{"GET", "/imports"},
       {{"GET", "/imports", "", 200}, {"GET", "/imports?source_id=2", "", 404}}},
      {{"GET", "/imports/{id}"}, {{"GET", "/imports/" + import_id, "", 404}}},
      {{"POST", "/sync/{source_id}/{target_id}"},
       {{"POST", "/sync/2/2", "", 404}, {"POST", "/sync/2/2?dry_run=true", "", 404}}},
      {{"GET", "/sync_logs"},
       {{"GET", "/sync_logs", "", 200},
        {"GET", "/sync_logs?source_id=2", "", 404},
        {"GET", "/sync_logs?target_id=2", "", 404}}},
      {{"GET", "/sync_logs/{id}"}, {{"GET", "/sync_logs/" + sync_id, "", 404}}},
      {{"GET", "/sources/{id}/properties"},
       {{"GET", "/sources/2/properties", "", 404},
        {"GET", "/sources/2/properties?as_of=1", "", 404}}},
      {{"GET", "/targets/{id}/properties"}, {{"GET", "/targets/2/properties", "", 404}}},
      {{"GET", "/sources/{id}/properties/{external_id}"},
       {{"GET", "/sources/2/properties/A-secret-prop", "", 404}}},
      {{"GET", "/targets/{id}/properties/{external_id}"},
       {{"GET", "/targets/2/properties/A-secret-prop", "", 404}}},
      {{"GET", "/sources/{id}/properties/{external_id}/history"},
       {{"GET", "/sources/2/properties/A-secret-prop/history", "", 404}}},
      {{"GET", "/targets/{id}/properties/{external_id}/history"},
       {{"GET", "/targets/2/properties/A-secret-prop/history", "", 404}}},
      {{"PUT", "/targets/{id}/properties/{external_id}"},
       {{"PUT", "/targets/2/properties/A-secret-prop", R"({"x":1})", 404}}},
      {{"DELETE", "/targets/{id}/properties/{external_id}"},
       {{"DELETE", "/targets/2/properties/A-secret-prop", "", 404}}},
      {{"GET", "/feed"},
       {{"GET", "/feed", "", 200},
        {"GET", "/feed?source_id=2", "", 404},
        {"GET", "/feed?target_id=2", "", 404}}},
      {{"POST", "/feed_tokens"},
       {{"POST", "/feed_tokens", R"({"source_id":2})", 404},
        {"POST", "/feed_tokens", R"({"target_id":2})", 404}}},
      // Admin routes answer a tenant key 403, whoever's tenant it names.
      {{"POST", "/tenants/{id}/keys"}, {{"POST", "/tenants/1/keys", "", 403}}},
      {{"GET", "/tenants/{id}/keys"}, {{"GET", "/tenants/1/keys", "", 403}}},
      {{"DELETE", "/keys/{prefix}"}, {{"DELETE", "/keys/smk_0000", "", 403}}},
      {{"POST", "/admin/backup"}, {{"POST", "/admin/backup", R"({"out":"/tmp/x"})", 403}}},
      // Push delivery of A's target 2.
      {{"GET", "/targets/{id}/delivery"}, {{"GET", "/targets/2/delivery", "", 404}}},
      {{"POST", "/targets/{id}/delivery/pause"}, {{"POST", "/targets/2/delivery/pause", "", 404}}},
      {{"POST", "/targets/{id}/delivery/resume"},
       {{"POST", "/targets/2/delivery/resume", "", 404}}},
      {{"POST", "/targets/{id}/delivery/redeliver"},
       {{"POST", "/targets/2/delivery/redeliver?from_seq=0", "", 404}}},
      {{"POST", "/targets/{id}/delivery/snapshot"},
       {{"POST", "/targets/2/delivery/snapshot", "", 404}}},
      {{"GET", "/targets/{id}/dead_letters"}, {{"GET", "/targets/2/dead_letters", "", 404}}},
      {{"POST", "/targets/{id}/dead_letters/{dead_letter_id}/retry"},
       {{"POST", "/targets/2/dead_letters/1/retry", "", 404}}},
      {{"GET", "/health"}, {{"GET", "/health", "", 200}}},
      {{"GET", "/metrics"}, {{"GET", "/metrics", "", 200}}},
      {{"GET", "/openapi.json"}, {{"GET", "/openapi.json", "", 200}}},
      // The dashboard's static files: the same for everyone, no data in them.
      {{"GET", "/"}, {{"GET", "/", "", 302}}},
      {{"GET", "/ui"}, {{"GET", "/ui", "", 302}}},
      {{"GET", "/ui/"}, {{"GET", "/ui/", "", 200}}},
      {{"GET", "/ui/{build}/{file}"}, {{"GET", "/ui/0/app.js", "", 404}}},
      {{"GET", "/ui/{build}/{dir}/{file}"}, {{"GET", "/ui/0/pages/target.js", "", 404}}},
  };

  for (const server::RouteInfo& route : server::Server::Routes()) {
    const auto it = table.find({route.method, route.pattern});
    ASSERT_NE(it, table.end()) << "no isolation probe for " << route.method << " " << route.pattern;
    for (const Probe& p : it->second) {
      HttpRequest req;
      req.method = p.method;
      req.target = p.target;
      req.body = p.body;
      if (!p.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
      HttpResponse r = cb.Request(req);
      EXPECT_EQ(r.status, p.expect) << p.method << " " << p.target << ": " << r.body;
      EXPECT_EQ(r.body.find(kMarker), std::string::npos) << p.method << " " << p.target;
    }
  }
  // Nothing of A changed.
  EXPECT_EQ(ca.Get("/targets/2/properties").body + ca.Get("/sources").body, a_state);
}

}  // namespace
}  // namespace syncmgr::testing
