// Sync routes over real HTTP: the seed client flow, sync stats, conflicts
// (keep / overwrite), dry runs, and the sync log.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

class SyncApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = server_.CreateTenant("Acme");
    client_ = std::make_unique<HttpClient>(server_.Client(tenant_.api_key));
    ASSERT_EQ(client_->Post("/sources", R"({"name":"portal"})").status, 201);
    ASSERT_EQ(client_->Post("/targets", R"({"name":"website"})").status, 201);
  }

  HttpResponse Import(const std::string& body, const std::string& query = "") {
    return client_->Post("/sources/1/import" + query, body);
  }

  TestServer server_;
  TestServer::Tenant tenant_;
  std::unique_ptr<HttpClient> client_;
};

// The seed's clients, unchanged: import {"data": [...]}, POST /sync/1/1,
// GET /targets/1/properties → array of {external_id, data}.
TEST_F(SyncApiTest, SeedClientFlow) {
  HttpResponse r =
      Import(R"({"data":[{"external_id":"a","price":100},{"external_id":"b","price":200}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc imp = ParseJson(r.body);
  EXPECT_EQ(std::string_view(imp["status"]), "success");
  EXPECT_EQ(uint64_t(imp["stats"]["received"]), 2u);
  EXPECT_EQ(uint64_t(imp["stats"]["created"]), 2u);
  EXPECT_GT(uint64_t(imp["import_id"]), 0u);
  EXPECT_GT(uint64_t(imp["seq"]), 0u);

  r = client_->Post("/sync/1/1", "");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc sync = ParseJson(r.body);
  EXPECT_EQ(std::string_view(sync["status"]), "success");
  EXPECT_EQ(uint64_t(sync["stats"]["created"]), 2u);
  EXPECT_EQ(uint64_t(sync["stats"]["conflicts"]), 0u);
  EXPECT_EQ(simdjson::dom::array(sync["warnings"]).size(), 0u);
  EXPECT_GT(uint64_t(sync["sync_id"]), 0u);

  r = client_->Get("/targets/1/properties");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  JsonDoc list = ParseJson(r.body);
  simdjson::dom::array items = list.root();
  ASSERT_EQ(items.size(), 2u);
  auto it = items.begin();
  simdjson::dom::element first = *it;
  EXPECT_EQ(std::string_view(first["external_id"]), "a");
  EXPECT_EQ(int64_t(first["data"]["price"]), 100);
  EXPECT_EQ(std::string_view(first["hash"]).size(), 32u);
  EXPECT_EQ(uint64_t(first["version"]), 1u);
  EXPECT_EQ(uint64_t(first["source_id"]), 1u);
  EXPECT_FALSE(bool(first["manually_modified"]));
  EXPECT_TRUE(first["updated_at"].is_string());
}

TEST_F(SyncApiTest, StatsCoverCreatedUpdatedUnchangedRemoved) {
  ASSERT_EQ(
      Import(R"([{"external_id":"a","v":1},{"external_id":"b","v":1},{"external_id":"c","v":1}])")
          .status,
      200);
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  ASSERT_EQ(
      Import(R"([{"external_id":"a","v":2},{"external_id":"b","v":1},{"external_id":"c","v":1}])",
             "?mode=full")
          .status,
      200);
  // Remove c (1 of 3 live = 33% > 20%: needs allow_mass_removal).
  HttpResponse r = Import(R"([{"external_id":"a","v":2},{"external_id":"b","v":1}])", "?mode=full");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(std::string_view(ParseJson(r.body)["error"]["code"]), "mass_removal");
  r = Import(R"([{"external_id":"a","v":2},{"external_id":"b","v":1}])",
             "?mode=full&allow_mass_removal=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["removed"]), 1u);

  r = client_->Post("/sync/1/1", "");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc s = ParseJson(r.body);
  EXPECT_EQ(uint64_t(s["stats"]["created"]), 0u);
  EXPECT_EQ(uint64_t(s["stats"]["updated"]), 1u);
  EXPECT_EQ(uint64_t(s["stats"]["removed"]), 1u);
}

TEST_F(SyncApiTest, ConflictKeepAndOverwrite) {
  ASSERT_EQ(Import(R"([{"external_id":"a","price":1}])").status, 200);
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  ASSERT_EQ(client_->Put("/targets/1/properties/a", R"({"external_id":"a","price":5})").status,
            200);
  ASSERT_EQ(Import(R"([{"external_id":"a","price":2}])").status, 200);

  HttpResponse r = client_->Post("/sync/1/1?on_conflict=keep", "");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc keep = ParseJson(r.body);
  EXPECT_EQ(uint64_t(keep["stats"]["conflicts"]), 1u);
  simdjson::dom::array warnings = keep["warnings"];
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(std::string_view((*warnings.begin())["external_id"]), "a");
  EXPECT_EQ(std::string_view((*warnings.begin())["type"]), "manual_change");
  r = client_->Get("/targets/1/properties/a");
  EXPECT_EQ(int64_t(ParseJson(r.body)["data"]["price"]), 5);

  r = client_->Post("/sync/1/1?on_conflict=overwrite", "");
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_->Get("/targets/1/properties/a");
  EXPECT_EQ(int64_t(ParseJson(r.body)["data"]["price"]), 2);
}

TEST_F(SyncApiTest, DryRunWritesNothing) {
  ASSERT_EQ(Import(R"([{"external_id":"a"},{"external_id":"b"}])").status, 200);
  HttpResponse r = client_->Post("/sync/1/1?dry_run=true", "");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonDoc d = ParseJson(r.body);
  EXPECT_TRUE(d["sync_id"].is_null());
  EXPECT_TRUE(bool(d["dry_run"]));
  EXPECT_EQ(uint64_t(d["stats"]["created"]), 2u);
  EXPECT_EQ(client_->Get("/targets/1/properties").body, "[]");
  EXPECT_EQ(client_->Get("/sync_logs").body, "[]");
}

TEST_F(SyncApiTest, SyncLogs) {
  ASSERT_EQ(Import(R"([{"external_id":"a"}])").status, 200);
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  ASSERT_EQ(client_->Post("/targets", R"({"name":"second"})").status, 201);
  ASSERT_EQ(client_->Post("/sync/1/2", "").status, 200);

  HttpResponse r = client_->Get("/sync_logs");
  ASSERT_EQ(r.status, 200);
  JsonDoc logs = ParseJson(r.body);
  simdjson::dom::array arr = logs.root();
  ASSERT_EQ(arr.size(), 2u);
  simdjson::dom::element newest = *arr.begin();
  EXPECT_EQ(uint64_t(newest["target_id"]), 2u);  // newest first
  for (const char* key : {"id", "source_id", "target_id", "started_at", "finished_at", "status",
                          "stats", "warnings"}) {
    EXPECT_FALSE(newest[key].error()) << key;
  }
  const uint64_t id = uint64_t(newest["id"]);

  EXPECT_EQ(
      simdjson::dom::array(ParseJson(client_->Get("/sync_logs?target_id=1").body).root()).size(),
      1u);
  EXPECT_EQ(simdjson::dom::array(ParseJson(client_->Get("/sync_logs?limit=1").body).root()).size(),
            1u);
  EXPECT_EQ(client_->Get("/sync_logs?source_id=1&target_id=2&limit=5").status, 200);
  r = client_->Get("/sync_logs/" + std::to_string(id));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(uint64_t(ParseJson(r.body)["id"]), id);
  EXPECT_EQ(client_->Get("/sync_logs/999").status, 404);
  EXPECT_EQ(client_->Get("/sync_logs?source_id=9").status, 404);
  EXPECT_EQ(client_->Get("/sync_logs?target_id=9").status, 404);
}

TEST_F(SyncApiTest, BadParametersAre400) {
  for (const char* q :
       {"?on_conflict=merge", "?dry_run=yes", "?dryrun=true", "?dry_run=true&dry_run=false"}) {
    HttpResponse r = client_->Post(std::string("/sync/1/1") + q, "");
    EXPECT_EQ(r.status, 400) << q << " " << r.body;
    EXPECT_EQ(std::string_view(ParseJson(r.body)["error"]["code"]), "invalid_request") << q;
  }
  for (const char* q : {"?limit=-1", "?limit=0", "?limit=1001", "?limit=abc", "?source_id=-1",
                        "?source_id=18446744073709551616"}) {
    EXPECT_EQ(client_->Get(std::string("/sync_logs") + q).status, 400) << q;
  }
  EXPECT_EQ(client_->Post("/sync/9/1", "").status, 404);
  EXPECT_EQ(client_->Post("/sync/1/9", "").status, 404);
  EXPECT_EQ(client_->Post("/sync/x/1", "").status, 400);
  EXPECT_EQ(client_->Get("/sync_logs/abc").status, 400);
  EXPECT_EQ(client_->Get("/sync/1/1").status, 405);
}

}  // namespace
}  // namespace syncmgr::testing
