// live_count, manual_count and ?manually_modified=true over real HTTP (SPEC
// §4): the counts on every source and target answer after imports, full
// imports that remove, syncs, manual PUT / DELETE and keep / overwrite
// conflicts; the manual list's paging; bad values refused.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

class CountsApiTest : public TenantApiTest {
 protected:
  CountsApiTest() : TenantApiTest(SmallStreamChunks(2048)) {}  // lists span many pieces
  void SetUp() override {
    HttpResponse s = client_->Post("/sources", R"({"name":"portal","config":{"max_removal_ratio":1}})");
    ASSERT_EQ(s.status, 201) << s.body;
    // A new source and target carry their counts: zero.
    EXPECT_EQ(uint64_t(ParseJson(s.body)["live_count"]), 0u);
    HttpResponse t = client_->Post("/targets", R"({"name":"site"})");
    ASSERT_EQ(t.status, 201) << t.body;
    JsonDoc target = ParseJson(t.body);
    EXPECT_EQ(uint64_t(target["live_count"]), 0u);
    EXPECT_EQ(uint64_t(target["manual_count"]), 0u);
  }

  void Import(const std::string& body, const std::string& mode = "upsert") {
    HttpResponse r = client_->Post("/sources/1/import?mode=" + mode, body);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  JsonDoc Sync(const std::string& on_conflict = "keep") {
    HttpResponse r = client_->Post("/sync/1/1?on_conflict=" + on_conflict, "");
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseJson(r.body);
  }

  // Every answer that carries the counts of source 1 and target 1 agrees
  // (GET of one, and the list of all), and so do the lists themselves.
  void ExpectCounts(uint64_t source_live, uint64_t target_live, uint64_t target_manual) {
    JsonDoc source = ParseJson(client_->Get("/sources/1").body);
    EXPECT_EQ(uint64_t(source["live_count"]), source_live);
    EXPECT_TRUE(source["manual_count"].error());  // targets only
    JsonDoc sources = ParseJson(client_->Get("/sources").body);
    EXPECT_EQ(uint64_t((*simdjson::dom::array(sources.root()).begin())["live_count"]), source_live);
    JsonDoc target = ParseJson(client_->Get("/targets/1").body);
    EXPECT_EQ(uint64_t(target["live_count"]), target_live);
    EXPECT_EQ(uint64_t(target["manual_count"]), target_manual);
    JsonDoc targets = ParseJson(client_->Get("/targets").body);
    simdjson::dom::element first = *simdjson::dom::array(targets.root()).begin();
    EXPECT_EQ(uint64_t(first["live_count"]), target_live);
    EXPECT_EQ(uint64_t(first["manual_count"]), target_manual);
    // The counts are those of the lists.
    EXPECT_EQ(ExternalIds(client_->Get("/sources/1/properties")).size(), source_live);
    EXPECT_EQ(ExternalIds(client_->Get("/targets/1/properties")).size(), target_live);
    EXPECT_EQ(Manual().size(), target_manual);
  }

  std::vector<std::string> Manual(const std::string& extra = "") {
    HttpResponse r = client_->Get("/targets/1/properties?manually_modified=true" + extra);
    EXPECT_EQ(r.status, 200) << r.body;
    JsonDoc doc = ParseJson(r.body);
    for (simdjson::dom::element e : simdjson::dom::array(doc.root())) {
      EXPECT_TRUE(bool(e["manually_modified"])) << simdjson::to_string(e);
    }
    return ExternalIds(r);
  }
};

using V = std::vector<std::string>;

TEST_F(CountsApiTest, CountsFollowImportsSyncsAndManualEdits) {
  ExpectCounts(0, 0, 0);
  Import(R"([{"external_id":"a","p":1},{"external_id":"b","p":1},{"external_id":"c","p":1},
             {"external_id":"d","p":1}])");
  ExpectCounts(4, 0, 0);
  // A full import without "d" removes it.
  Import(R"([{"external_id":"a","p":1},{"external_id":"b","p":1},{"external_id":"c","p":1}])",
         "full");
  ExpectCounts(3, 0, 0);
  Sync();
  ExpectCounts(3, 3, 0);

  // Hand edits: an existing listing, and one that exists only on the website.
  ASSERT_EQ(client_->Put("/targets/1/properties/b", R"({"p":99})").status, 200);
  ASSERT_EQ(client_->Put("/targets/1/properties/m", R"({"only":"here"})").status, 200);
  ExpectCounts(3, 4, 2);
  EXPECT_EQ(Manual(), (V{"b", "m"}));
  // A manual removal is not live: neither counted nor listed.
  ASSERT_EQ(client_->Delete("/targets/1/properties/m").status, 200);
  ExpectCounts(3, 3, 1);
  EXPECT_EQ(Manual(), (V{"b"}));

  // The source changes "b": keep leaves the edit open, and says so.
  Import(R"([{"external_id":"b","p":2}])");
  JsonDoc kept = Sync("keep");
  EXPECT_EQ(uint64_t(kept["stats"]["conflicts"]), 1u);
  ExpectCounts(3, 3, 1);
  // A dry run writes nothing.
  ASSERT_EQ(client_->Post("/sync/1/1?on_conflict=overwrite&dry_run=true", "").status, 200);
  ExpectCounts(3, 3, 1);
  // Overwrite: the sync writes "b", which is no longer a manual edit.
  JsonDoc over = Sync("overwrite");
  EXPECT_EQ(uint64_t(over["stats"]["conflicts"]), 1u);
  ExpectCounts(3, 3, 0);
  EXPECT_TRUE(Manual().empty());
  JsonDoc b = ParseJson(client_->Get("/targets/1/properties/b").body);
  EXPECT_FALSE(bool(b["manually_modified"]));
  EXPECT_EQ(int64_t(b["data"]["p"]), 2);

  // A removal in the source reaches the target's count through a sync.
  Import(R"([{"external_id":"a","p":1},{"external_id":"b","p":2}])", "full");
  Sync();
  ExpectCounts(2, 2, 0);
}

TEST_F(CountsApiTest, ManualListPagesLikeEveryList) {
  std::string body = "[";
  for (int i = 0; i < 260; ++i) {
    body += std::string(i ? "," : "") + "{\"external_id\":\"k" + std::to_string(1000 + i) +
            "\",\"pad\":\"" + std::string(60, 'z') + "\"}";
  }
  Import(body + "]");
  Sync();
  // 130 hand edits, made in an order other than the ids'.
  V edited;
  for (int i = 259; i >= 0; i -= 2) {
    std::string id = "k" + std::to_string(1000 + i);
    ASSERT_EQ(client_->Put("/targets/1/properties/" + id, "{\"hand\":" + std::to_string(i) + "}")
                  .status,
              200);
    edited.push_back(id);
  }
  std::sort(edited.begin(), edited.end());
  ExpectCounts(260, 260, 130);
  // The whole list, streamed in pieces.
  HttpResponse all = client_->Get("/targets/1/properties?manually_modified=true");
  EXPECT_EQ(all.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(ExternalIds(all), edited);
  // Pages of 50: 50, 50, 30, then none.
  V walked;
  std::string after;
  int pages = 0;
  for (; pages < 10; ++pages) {
    V page = Manual("&limit=50" + (after.empty() ? "" : "&after=" + after));
    if (page.empty()) break;
    EXPECT_LE(page.size(), 50u);
    walked.insert(walked.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(walked, edited);
  // `1` means true, `false` / `0` mean every listing.
  EXPECT_EQ(ExternalIds(client_->Get("/targets/1/properties?manually_modified=1&limit=2")),
            (V{edited[0], edited[1]}));
  EXPECT_EQ(ExternalIds(client_->Get("/targets/1/properties?manually_modified=false")).size(), 260u);
  EXPECT_EQ(ExternalIds(client_->Get("/targets/1/properties?manually_modified=0&limit=3")),
            (V{"k1000", "k1001", "k1002"}));
  // With changed_since: the edits after that seq only.
  JsonDoc last = ParseJson(client_->Put("/targets/1/properties/k1000", R"({"late":1})").body);
  uint64_t before = uint64_t(last["seq"]) - 1;
  EXPECT_EQ(Manual("&changed_since=" + std::to_string(before)), (V{"k1000"}));
  // With as_of: the state then (before any hand edit: none).
  EXPECT_TRUE(Manual("&as_of=1").empty());
}

TEST_F(CountsApiTest, BadValuesAndSourcesAreRefused) {
  Import(R"([{"external_id":"a"}])");
  Sync();
  ASSERT_EQ(client_->Put("/targets/1/properties/a", R"({"x":1})").status, 200);
  for (const char* q : {"manually_modified=maybe", "manually_modified=", "manually_modified=TRUE",
                        "manually_modified=yes", "manually_modified=true&manually_modified=true",
                        "manually_modified=true&limit=0", "manually_modified=true&limit=-1"}) {
    HttpResponse r = client_->Get(std::string("/targets/1/properties?") + q);
    EXPECT_EQ(r.status, 400) << q << " " << r.body;
    EXPECT_EQ(std::string_view(ParseJson(r.body)["error"]["code"]), "invalid_request") << q;
  }
  // On a source, whatever the value: a source's listings are never edited by hand.
  for (const char* q : {"manually_modified=true", "manually_modified=false"}) {
    HttpResponse r = client_->Get(std::string("/sources/1/properties?") + q);
    EXPECT_EQ(r.status, 400) << q << " " << r.body;
    EXPECT_NE(r.body.find("targets only"), std::string::npos) << r.body;
  }
  // Unknown target: 404, as every property list.
  EXPECT_EQ(client_->Get("/targets/2/properties?manually_modified=true").status, 404);
  // Another tenant's target is not found either, and its counts are its own.
  HttpClient other = server_.Client(server_.CreateTenant("Globex").api_key);
  EXPECT_EQ(other.Get("/targets/1/properties?manually_modified=true").status, 404);
  EXPECT_EQ(other.Get("/targets/1").status, 404);
  ASSERT_EQ(other.Post("/targets", R"({"name":"theirs"})").status, 201);
  JsonDoc theirs = ParseJson(other.Get("/targets/1").body);
  EXPECT_EQ(uint64_t(theirs["live_count"]), 0u);
  EXPECT_EQ(uint64_t(theirs["manual_count"]), 0u);
  ExpectCounts(1, 1, 1);  // nothing changed
}

}  // namespace
}  // namespace syncmgr::testing
