// The read commands of the real syncmgr binary (SPEC §5 "Reading"):
// properties (--as-of by seq and by time, paging), property (--history),
// imports, sync-logs, key create|list|revoke, feed (exact NDJSON; --follow
// across a server restart) and --version — on a data directory, against a
// real `syncmgr serve`, and on a data directory that server has open, with
// the same bytes from every side.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <thread>

#include "tests/support/cli_fixture.h"
#include "tests/support/http_client.h"

namespace syncmgr::testing {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Waits (bounded: 300 × 100 ms) until `path` holds at least `lines` lines.
bool WaitForLines(const std::string& path, size_t lines) {
  for (int i = 0; i < 300; ++i) {
    if (Lines(ReadAll(path)).size() >= lines) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

const char kFirstScrape[] =
    "{\"external_id\":\"a\",\"price\":100,\"scraped_at\":\"t1\"}\n"
    "{\"external_id\":\"b\",\"price\":200}\n"
    "{\"external_id\":\"c/1\",\"price\":300}\n";
const char kSecondScrape[] =
    "{\"external_id\":\"a\",\"price\":90,\"scraped_at\":\"t2\"}\n"
    "{\"external_id\":\"d\",\"price\":400}\n";

TEST_F(CliTest, VersionNamesTheBuildTheCommitAndTheFormat) {
  ProcessResult r = Syncmgr({"--version"});
  ExpectOk(r, "syncmgr ");
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("syncmgr 0.")) << r.out;
  EXPECT_TRUE(lines[1].starts_with("commit ")) << r.out;
  EXPECT_GT(lines[1].size(), std::string("commit ").size()) << r.out;
  EXPECT_EQ(lines[2], "on-disk format 3");
  ExpectOk(Syncmgr({"--json", "--version"}), "\"format_version\":3}");
}

// Tenant 1 with source 1 (portal) and target 1 (website): two scrapes, a
// sync. Returns the seq after the first import and the time of its last event.
class CliReadLocalTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    CreateCatalog();
    ProcessResult first = Local({"--json", "import", "1", "1", WriteFile("1.ndjson", kFirstScrape)});
    ExpectOk(first, "\"created\":3");
    first_seq_ = std::to_string(JsonUint(first.out, "seq"));
    ExpectOk(Local({"import", "1", "portal", WriteFile("2.ndjson", kSecondScrape)}), "created 1");
    ExpectOk(Local({"sync", "1", "1", "1"}), "created 4");
    // The time of the first import's last event: imports are newest first.
    ProcessResult imports = Local({"--json", "imports", "1"});
    ExpectOk(imports);
    size_t first_entry = imports.out.find("{\"id\":1,");
    ASSERT_NE(first_entry, std::string::npos) << imports.out;
    first_time_ = JsonString(imports.out.substr(first_entry), "finished_at");
    ASSERT_FALSE(first_time_.empty()) << imports.out;
  }

  std::string first_seq_;
  std::string first_time_;
};

TEST_F(CliReadLocalTest, PropertiesNowAsOfASeqAndAsOfATime) {
  ProcessResult now = Local({"properties", "1", "source", "1"});
  ExpectOk(now, "EXTERNAL_ID  VERSION  SEQ  UPDATED_AT");
  std::vector<std::string> rows = Lines(now.out);
  ASSERT_EQ(rows.size(), 5u) << now.out;  // header + a, b, c/1, d
  EXPECT_TRUE(rows[1].starts_with("a ")) << now.out;
  EXPECT_NE(rows[1].find("\"price\":90"), std::string::npos) << now.out;
  EXPECT_TRUE(rows[4].starts_with("d ")) << now.out;

  ProcessResult json = Local({"--json", "properties", "1", "source", "portal"});
  ExpectOk(json, "[{\"external_id\":\"a\",\"data\":{\"external_id\":\"a\",\"price\":90,");
  EXPECT_EQ(json.out.back(), '\n');

  // As of the first import: a at 100, no d; by seq and by time alike.
  ProcessResult by_seq = Local({"properties", "1", "source", "1", "--as-of", first_seq_});
  ExpectOk(by_seq, "\"price\":100");
  EXPECT_EQ(Lines(by_seq.out).size(), 4u) << by_seq.out;
  EXPECT_EQ(by_seq.out.find("\"d\""), std::string::npos) << by_seq.out;
  ProcessResult by_time = Local({"properties", "1", "source", "1", "--as-of", first_time_});
  ExpectOk(by_time);
  EXPECT_EQ(by_time.out, by_seq.out);
  ExpectOk(Local({"properties", "1", "source", "1", "--as-of", "0"}));
  EXPECT_EQ(Lines(Local({"properties", "1", "source", "1", "--as-of", "0"}).out).size(), 1u);

  // Paging and changed-since.
  ProcessResult page = Local({"--json", "properties", "1", "target", "website", "--limit", "2"});
  ExpectOk(page, "\"external_id\":\"b\"");
  EXPECT_EQ(page.out.find("\"c/1\""), std::string::npos) << page.out;
  ProcessResult rest = Local({"--json", "properties", "1", "target", "1", "--after", "b"});
  ExpectOk(rest, "[{\"external_id\":\"c/1\"");
  ProcessResult changed =
      Local({"properties", "1", "source", "1", "--changed-since", first_seq_});
  ExpectOk(changed);
  std::vector<std::string> changed_rows = Lines(changed.out);
  ASSERT_EQ(changed_rows.size(), 3u) << changed.out;  // a and d
  EXPECT_TRUE(changed_rows[1].starts_with("a ") && changed_rows[2].starts_with("d "))
      << changed.out;
}

TEST_F(CliReadLocalTest, OnePropertyAndItsHistory) {
  ProcessResult a = Local({"property", "1", "source", "1", "a"});
  ExpectOk(a, "version      2\n");
  EXPECT_NE(a.out.find("\"price\":90"), std::string::npos) << a.out;
  ProcessResult old = Local({"property", "1", "source", "1", "a", "--as-of", first_seq_});
  ExpectOk(old, "\"price\":100");
  ProcessResult slash = Local({"--json", "property", "1", "target", "1", "c/1"});
  ExpectOk(slash, "{\"external_id\":\"c/1\",");
  EXPECT_NE(slash.out.find("\"source_id\":1,\"manually_modified\":false}"), std::string::npos)
      << slash.out;

  ProcessResult history = Local({"property", "1", "source", "portal", "a", "--history"});
  ExpectOk(history, "VERSION  SEQ  TIME");
  std::vector<std::string> rows = Lines(history.out);
  ASSERT_EQ(rows.size(), 3u) << history.out;
  EXPECT_NE(rows[1].find("import 1"), std::string::npos) << history.out;
  EXPECT_NE(rows[2].find("import 2  price"), std::string::npos) << history.out;
  ProcessResult json = Local({"--json", "property", "1", "source", "1", "a", "--history"});
  ExpectOk(json, "\"changed_fields\":[\"price\"],\"cause\":{\"kind\":\"import\",\"id\":2}}]");
}

TEST_F(CliReadLocalTest, ImportAndSyncLogs) {
  ProcessResult imports = Local({"imports", "1"});
  ExpectOk(imports, "ID  SOURCE  MODE");
  ASSERT_EQ(Lines(imports.out).size(), 3u) << imports.out;
  EXPECT_TRUE(Lines(imports.out)[1].starts_with("2 ")) << imports.out;  // newest first
  EXPECT_EQ(Lines(Local({"imports", "Acme", "--source", "portal", "--limit", "1"}).out).size(), 2u);
  ExpectOk(Local({"--json", "imports", "1"}), "[{\"id\":2,\"source_id\":1,\"mode\":\"upsert\"");

  ProcessResult syncs = Local({"sync-logs", "1", "--source", "1", "--target", "website"});
  ExpectOk(syncs, "ID  SOURCE  TARGET");
  ASSERT_EQ(Lines(syncs.out).size(), 2u) << syncs.out;
  ExpectOk(Local({"--json", "sync-logs", "1"}), "\"stats\":{\"created\":4,");
}

TEST_F(CliReadLocalTest, KeysOnADataDirectory) {
  ProcessResult list = Local({"key", "list", "1"});
  ExpectOk(list, "PREFIX        TENANT  STATE   SINCE");
  ASSERT_EQ(Lines(list.out).size(), 2u) << list.out;
  ProcessResult created = Local({"--json", "key", "create", "Acme"});
  ExpectOk(created, "\"api_key\":\"smk_");
  const std::string prefix = JsonString(created.out, "prefix");
  ASSERT_EQ(prefix.size(), 12u) << created.out;
  ExpectOk(Local({"key", "revoke", prefix}), "Revoked API key " + prefix + " of tenant 1 at ");
  ProcessResult after = Local({"key", "list", "1"});
  ExpectOk(after);
  EXPECT_NE(after.out.find(prefix + "  1       revoked"), std::string::npos) << after.out;
  ExpectOneLineError(Local({"key", "revoke", prefix}), 1, "conflict: ");
}

TEST_F(CliReadLocalTest, FeedPrintsEveryEventOnceAsNdjson) {
  ProcessResult all = Local({"feed", "1"});
  ExpectOk(all, "{\"seq\":");
  std::vector<std::string> lines = Lines(all.out);
  ASSERT_GE(lines.size(), 10u) << all.out;
  uint64_t previous = 0;
  for (const std::string& line : lines) {
    const int64_t seq = JsonUint(line, "seq");
    EXPECT_GT(seq, static_cast<int64_t>(previous)) << line;
    previous = static_cast<uint64_t>(seq);
  }
  // Filters, and a position.
  ProcessResult imports = Local({"feed", "1", "--types", "import.completed"});
  ExpectOk(imports);
  EXPECT_EQ(Lines(imports.out).size(), 2u) << imports.out;
  ProcessResult later = Local({"feed", "Acme", "--since", first_seq_, "--source", "portal"});
  ExpectOk(later, "\"external_id\":\"a\"");
  EXPECT_EQ(Lines(later.out).size(), 3u) << later.out;  // a, d, import.completed
  ProcessResult prices =
      Local({"feed", "1", "--target", "1", "--types", "property.created", "--fields", "price"});
  ExpectOk(prices);
  EXPECT_EQ(Lines(prices.out).size(), 4u) << prices.out;
}

TEST_F(CliReadLocalTest, BadInputIsAOneLineErrorAndWritesNothing) {
  const auto before = Fingerprint(db_);
  const std::string feed = Local({"feed", "1"}).out;
  const std::vector<std::pair<std::vector<std::string>, std::string>> usage = {
      {{"properties", "1", "sources", "1"}, "the stream must be source or target, got 'sources'"},
      {{"properties", "1", "source"}, "missing argument ID"},
      {{"property", "1", "target", "1"}, "missing argument EXTERNAL_ID"},
      {{"properties", "1", "source", "1", "--as-of", "noon"}, "--as-of must be a seq"},
      {{"properties", "1", "source", "1", "--as-of", "-1"}, "--as-of must be a seq"},
      {{"property", "1", "source", "1", "a", "--as-of", "2026-13-01T00:00:00Z"},
       "--as-of must be a seq"},
      {{"properties", "1", "source", "1", "--limit", "0"}, "--limit must be a positive integer"},
      {{"properties", "1", "source", "1", "--changed-since", "x"}, "--changed-since must be"},
      {{"property", "1", "source", "1", "a", "--history", "--as-of", "3"}, "takes no --as-of"},
      {{"feed", "1", "--since", "-2"}, "--since must be a seq"},
      {{"imports", "1", "--limit", "many"}, "--limit must be a positive integer"},
      {{"key", "create"}, "missing argument TENANT"},
      {{"feed"}, "missing argument TENANT"},
  };
  for (const auto& [args, message] : usage) {
    SCOPED_TRACE(message);
    ProcessResult r = Local(args);
    ExpectOneLineError(r, 2, message);
    EXPECT_NE(r.err.find("(run 'syncmgr " + args[0]), std::string::npos) << r.err;
  }
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"properties", "1", "source", "9"}, "not_found: "},
      {{"properties", "nobody", "source", "1"}, "not_found: no tenant named 'nobody'"},
      {{"properties", "1", "target", "shop"}, "not_found: no target named 'shop'"},
      {{"property", "1", "source", "1", "zzz"}, "not_found: "},
      {{"property", "1", "source", "1", "d", "--as-of", "1"}, "not_found: "},
      {{"feed", "1", "--types", "property.bogus"}, "invalid_request: 'types'"},
      {{"feed", "1", "--since", "999999"}, "invalid_request: the position 999999"},
      {{"feed", "1", "--source", "7"}, "not_found: "},
      {{"properties", "1", "source", "1", "--manually-modified"},
       "invalid_request: 'manually_modified' applies to targets only"},
      {{"key", "list", "9"}, "not_found: "},
  };
  for (const auto& [args, message] : refused) {
    SCOPED_TRACE(message);
    ExpectOneLineError(Local(args), 1, message);
  }
  // The reads opened the directory as a secondary: not a file of it changed.
  EXPECT_EQ(Fingerprint(db_), before);
  // A refused revoke (a writer's open) leaves the keys and the log as they were.
  const std::string keys = Local({"key", "list", "1"}).out;
  ExpectOneLineError(Local({"key", "revoke", "smk_00000000"}), 1, "not_found: ");
  EXPECT_EQ(Local({"key", "list", "1"}).out, keys);
  EXPECT_EQ(Local({"feed", "1"}).out, feed);
}

// ---- Against a server, and on the directory it has open ----------------------

class CliReadRemoteTest : public CliRemoteTest {
 protected:
  // Tenant Acme (its key in key_) with source 1 portal, target 1 website:
  // `listings` properties, a second scrape, a sync and a manual edit.
  void Populate(int listings) {
    ProcessResult tenant = Remote(kAdminKey, {"--json", "tenant", "create", "Acme"});
    key_ = JsonString(tenant.out, "api_key");
    ASSERT_FALSE(key_.empty()) << Describe(tenant);
    ExpectOk(Remote(key_, {"source", "create", "portal", "--ignore-field", "scraped_at"}));
    ExpectOk(Remote(key_, {"target", "create", "website"}));
    std::string many = kFirstScrape;
    for (int i = 0; i < listings; ++i) {
      many += "{\"external_id\":\"n" + std::to_string(i) + "\",\"price\":" + std::to_string(i) +
              ",\"text\":\"" + std::string(60, 'x') + "\"}\n";
    }
    ProcessResult first = Remote(key_, {"--json", "import", "portal", WriteFile("1.ndjson", many)});
    ExpectOk(first, "\"created\":");
    first_seq_ = std::to_string(JsonUint(first.out, "seq"));
    ExpectOk(Remote(key_, {"import", "1", WriteFile("2.ndjson", kSecondScrape)}), "created 1");
    ExpectOk(Remote(key_, {"sync", "portal", "website"}));
    HttpClient http(port_);
    http.set_api_key(key_);
    ASSERT_EQ(http.Put("/targets/1/properties/b", R"({"external_id":"b","price":7})").status, 200);
  }

  // Follows the feed in the background: stdout to out_, stderr to err_.
  void StartFollower(std::vector<std::string> args) {
    out_ = dir_ + "/follow.out";
    err_ = dir_ + "/follow.err";
    args.insert(args.begin(), {"/bin/sh", "-c", "exec \"$@\" 2>>'" + err_ + "'", "sh", SYNCMGR_BIN});
    follower_ = std::make_unique<BackgroundProcess>();
    ASSERT_TRUE(follower_->Start(args, {}, out_));
  }

  std::string key_;
  std::string first_seq_;
  std::string out_;
  std::string err_;
  std::unique_ptr<BackgroundProcess> follower_;
};

TEST_F(CliReadRemoteTest, EveryReadAnswersAsOnTheDataDirectory) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  Populate(3000);  // a property list of several streamed pieces
  ProcessResult imports = Remote(key_, {"--json", "imports"});
  const std::string first_time =
      JsonString(imports.out.substr(imports.out.find("{\"id\":1,")), "finished_at");
  ASSERT_FALSE(first_time.empty()) << imports.out;

  // The same command remotely (TENANT left out: the key's) and on the data
  // directory the server has open: the same bytes, as JSON and as text.
  const std::vector<std::vector<std::string>> reads = {
      {"properties", "source", "1"},
      {"properties", "target", "website"},
      {"properties", "source", "portal", "--as-of", first_seq_},
      {"properties", "source", "1", "--as-of", first_time},
      {"properties", "target", "1", "--limit", "2", "--after", "a"},
      {"properties", "source", "1", "--changed-since", first_seq_},
      {"properties", "target", "1", "--manually-modified"},
      {"property", "target", "1", "b"},
      {"property", "source", "1", "a", "--as-of", first_seq_},
      {"property", "target", "1", "b", "--history"},
      {"imports", "--source", "portal"},
      {"sync-logs", "--target", "1"},
      {"feed"},
      {"feed", "--target", "website", "--types", "property.manual_edit,sync.completed"},
  };
  for (const auto& read : reads) {
    std::vector<std::string> local = read;
    local.insert(local.begin() + 1, "1");  // TENANT, on a data directory
    for (bool json : {true, false}) {
      std::vector<std::string> remote_args = read, local_args = local;
      if (json) {
        remote_args.insert(remote_args.begin(), "--json");
        local_args.insert(local_args.begin(), "--json");
      }
      SCOPED_TRACE(remote_args[json ? 1 : 0] + (json ? " --json" : ""));
      ProcessResult r = Remote(key_, remote_args);
      ExpectOk(r);
      ProcessResult l = Local(local_args);
      ExpectOk(l);
      EXPECT_EQ(r.out, l.out);
    }
  }
  ProcessResult list = Remote(key_, {"properties", "source", "1"});
  EXPECT_EQ(Lines(list.out).size(), 3000u + 4u + 1u);
  // Only b was edited by hand.
  ProcessResult manual = Remote(key_, {"properties", "target", "1", "--manually-modified"});
  ASSERT_EQ(Lines(manual.out).size(), 2u) << manual.out;
  EXPECT_TRUE(Lines(manual.out)[1].starts_with("b ")) << manual.out;

  // The feed's lines are the API's events: joined, they are its JSON page.
  // (From just before the sync: a page scans a bounded part of the log.)
  const std::string since =
      std::to_string(JsonUint(Remote(key_, {"--json", "sync-logs"}).out, "seq") - 1);
  ProcessResult feed = Remote(key_, {"feed", "--since", since, "--target", "1"});
  ASSERT_EQ(Lines(feed.out).size(), 2u) << feed.out;  // sync.completed, the manual edit
  std::string joined;
  for (const std::string& line : Lines(feed.out)) joined += (joined.empty() ? "" : ",") + line;
  HttpClient http(port_);
  http.set_api_key(key_);
  HttpResponse page = http.Get("/feed?since=" + since + "&target_id=1");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.substr(0, page.body.find("],\"last_seq\":")), "{\"events\":[" + joined);
}

TEST_F(CliReadRemoteTest, KeysCreateListRevokeAndARevokedKeyIsRefused) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  ProcessResult tenant = Remote(kAdminKey, {"--json", "tenant", "create", "Acme"});
  const std::string first = JsonString(tenant.out, "api_key");
  ASSERT_FALSE(first.empty());
  ProcessResult created = Remote(kAdminKey, {"key", "create", "Acme"});
  ExpectOk(created, "Created API key smk_");
  const size_t at = created.out.find("API key: ");
  ASSERT_NE(at, std::string::npos) << created.out;
  const std::string second = created.out.substr(at + 9, created.out.find('\n', at) - at - 9);
  const std::string prefix = second.substr(0, 12);
  ExpectOk(Remote(second, {"source", "list"}), "ID  NAME");

  ProcessResult list = Remote(kAdminKey, {"key", "list", "1"});
  ExpectOk(list, prefix + "  1       active");
  EXPECT_EQ(Lines(list.out).size(), 3u) << list.out;
  ExpectOk(Remote(kAdminKey, {"key", "revoke", prefix}), "Revoked API key " + prefix);
  ExpectOneLineError(Remote(second, {"source", "list"}), 1, "unauthorized");
  ExpectOk(Remote(first, {"source", "list"}));  // the tenant's other key still works
  ExpectOk(Remote(kAdminKey, {"key", "list", "Acme"}), prefix + "  1       revoked");
  ExpectOneLineError(Remote(kAdminKey, {"key", "revoke", prefix}), 1, "conflict: ");
  // Keys are the operator's: a tenant key may not list them.
  ExpectOneLineError(Remote(first, {"key", "list", "1"}), 1, "syncmgr: ");
  // The server has the directory open: a key list reads it anyway.
  ExpectOk(Local({"key", "list", "1"}), prefix + "  1       revoked");
}

TEST_F(CliReadRemoteTest, FeedFollowSurvivesAServerRestartWithoutGapsOrRepeats) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  Populate(0);
  const std::string since = std::to_string(JsonUint(Remote(key_, {"--json", "sync-logs"}).out, "seq"));
  StartFollower({"--url", url_, "--api-key", key_, "feed", "--since", since, "--follow"});
  // Events made after the follower started: printed as they commit.
  ExpectOk(Remote(key_, {"import", "1", WriteFile("3.ndjson", "{\"external_id\":\"e\",\"price\":1}\n")}));
  ASSERT_TRUE(WaitForLines(out_, 3)) << ReadAll(out_) << ReadAll(err_);  // manual edit, e, import

  // Kill the server and start it again on the same port and directory.
  ASSERT_TRUE(server_->Stop(SIGKILL, std::chrono::seconds(30)).has_value());
  StartServer({}, port_);
  if (HasFatalFailure()) return;
  ExpectOk(Remote(key_, {"import", "1", WriteFile("4.ndjson", "{\"external_id\":\"f\",\"price\":2}\n")}));
  ASSERT_TRUE(WaitForLines(out_, 5)) << ReadAll(out_) << ReadAll(err_);

  std::optional<int> code = follower_->Stop(SIGINT, std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << ReadAll(err_);
  // Exactly the events after `since`, each once, in order.
  ProcessResult expected = Remote(key_, {"feed", "--since", since});
  ExpectOk(expected);
  EXPECT_EQ(Lines(expected.out).size(), 5u) << expected.out;
  EXPECT_EQ(ReadAll(out_), expected.out);
}

TEST_F(CliReadRemoteTest, FeedFollowOnADirectoryAServerHasOpen) {
  StartServer();
  if (IsSkipped() || HasFatalFailure()) return;
  Populate(0);
  StartFollower({"--db", db_, "feed", "1", "--source", "portal", "--follow"});
  ExpectOk(Remote(key_, {"import", "1", WriteFile("3.ndjson", "{\"external_id\":\"e\",\"price\":1}\n")}));
  const size_t expected_lines = Lines(Remote(key_, {"feed", "--source", "1"}).out).size();
  ASSERT_TRUE(WaitForLines(out_, expected_lines)) << ReadAll(out_) << ReadAll(err_);
  std::optional<int> code = follower_->Stop(SIGTERM, std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << ReadAll(err_);
  EXPECT_EQ(ReadAll(out_), Remote(key_, {"feed", "--source", "1"}).out);
}

}  // namespace
}  // namespace syncmgr::testing
