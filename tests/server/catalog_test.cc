// Catalog routes (sources, targets) over real HTTP.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

class CatalogApiTest : public TenantApiTest {};

TEST_F(CatalogApiTest, Sources) {
  HttpResponse r =
      client_->Post("/sources", R"({"name":"portal","type":"scraper","config":{"id_field":"ref",
                     "ignore_fields":["scraped_at"],"max_removal_ratio":0.5}})");
  ASSERT_EQ(r.status, 201) << r.body;
  JsonDoc s = ParseJson(r.body);
  EXPECT_EQ(uint64_t(s["id"]), 1u);
  EXPECT_EQ(std::string_view(s["name"]), "portal");
  EXPECT_EQ(std::string_view(s["type"]), "scraper");
  EXPECT_EQ(std::string_view(s["config"]["id_field"]), "ref");
  EXPECT_EQ(std::string_view(*simdjson::dom::array(s["config"]["ignore_fields"]).begin()),
            "scraped_at");
  EXPECT_EQ(double(s["config"]["max_removal_ratio"]), 0.5);
  EXPECT_TRUE(s["created_at"].is_string());

  r = client_->Post("/sources", R"({"name":"second"})");
  ASSERT_EQ(r.status, 201);
  JsonDoc s2 = ParseJson(r.body);
  EXPECT_EQ(uint64_t(s2["id"]), 2u);
  EXPECT_TRUE(s2["config"]["id_field"].is_null());  // the default
  EXPECT_EQ(double(s2["config"]["max_removal_ratio"]), 0.2);

  r = client_->Get("/sources");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(simdjson::dom::array(ParseJson(r.body).root()).size(), 2u);
  r = client_->Get("/sources/1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(std::string_view(ParseJson(r.body)["name"]), "portal");
  EXPECT_EQ(client_->Get("/sources/3").status, 404);
  EXPECT_EQ(client_->Get("/sources/0").status, 404);
  EXPECT_EQ(client_->Get("/sources/99999999999").status, 404);
  EXPECT_EQ(client_->Get("/sources/abc").status, 400);
  EXPECT_EQ(client_->Get("/sources/-1").status, 400);
}

TEST_F(CatalogApiTest, BadSourceBodies) {
  for (const char* body :
       {R"({})", R"({"name":1})", R"({"name":"x","config":[]})",
        R"({"name":"x","config":{"id_field":""}})", R"({"name":"x","config":{"idfield":"a"}})",
        R"({"name":"x","config":{"ignore_fields":"a"}})",
        R"({"name":"x","config":{"ignore_fields":[1]}})",
        R"({"name":"x","config":{"max_removal_ratio":1.5}})",
        R"({"name":"x","config":{"max_removal_ratio":-0.1}})",
        R"({"name":"x","config":{"max_removal_ratio":"0.1"}})", R"({"name":"x","type":""})",
        R"({"name":"x","bogus":true})"}) {
    HttpResponse r = client_->Post("/sources", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_EQ(ErrorCode(r), "invalid_request") << body;
  }
  HttpResponse r = client_->Post("/sources", "{nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_json");
  EXPECT_EQ(client_->Get("/sources").body, "[]");
}

TEST_F(CatalogApiTest, Targets) {
  HttpResponse r = client_->Post("/targets", R"({"name":"website"})");
  ASSERT_EQ(r.status, 201) << r.body;
  JsonDoc t = ParseJson(r.body);
  EXPECT_EQ(uint64_t(t["id"]), 1u);
  EXPECT_EQ(std::string_view(t["type"]), "internal");
  EXPECT_TRUE(t["config"].is_object());
  EXPECT_TRUE(t["created_at"].is_string());

  r = client_->Post("/targets", R"({"name":"b","type":"internal","config":{"note":"x"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(std::string_view(ParseJson(r.body)["config"]["note"]), "x");

  // A push target without its config (the destination) is refused; push
  // targets themselves are tested in push_*_test.cc.
  for (const char* type : {"webhook", "postgres", "file", "ftp"}) {
    r = client_->Post("/targets", std::string(R"({"name":"p","type":")") + type + R"("})");
    EXPECT_EQ(r.status, 400) << type;
    EXPECT_NE(r.body.find("needs a 'config'"), std::string::npos) << r.body;
  }
  EXPECT_EQ(client_->Post("/targets", R"({"name":"p","type":"carrier-pigeon"})").status, 400);
  EXPECT_EQ(client_->Post("/targets", R"({"name":"p","config":5})").status, 400);
  EXPECT_EQ(client_->Post("/targets", R"({"type":"internal"})").status, 400);

  r = client_->Get("/targets");
  EXPECT_EQ(simdjson::dom::array(ParseJson(r.body).root()).size(), 2u);
  EXPECT_EQ(client_->Get("/targets/2").status, 200);
  EXPECT_EQ(client_->Get("/targets/3").status, 404);
  EXPECT_EQ(client_->Get("/targets/x").status, 400);
}

TEST_F(CatalogApiTest, UnknownRoutesAndMethods) {
  HttpResponse r = client_->Get("/nothing/here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "not_found");
  r = client_->Delete("/sources");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(ErrorCode(r), "method_not_allowed");
  EXPECT_EQ(r.Header("allow"), "POST, GET");
  r = client_->Put("/sources/1", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET");
  // Unknown query parameters are refused, not ignored.
  r = client_->Get("/sources?verbose=1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_request");
}

}  // namespace
}  // namespace syncmgr::testing
