// End-to-end tests of the syncmgr command line: the real binary (path from
// the build, SYNCMGR_BIN) run as a child process on a temporary data
// directory, and against a real `syncmgr serve` child on a loopback port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/cli_fixture.h"
#include "tests/support/files.h"
#include "tests/support/http_client.h"
#include "tests/support/serve_process.h"

namespace syncmgr::testing {
namespace {

namespace fs = std::filesystem;

const char kThreeListings[] = R"([{"external_id":"a","price":100,"scraped_at":"t1"},)"
                              R"({"external_id":"b","price":200},{"id":3,"price":300}])";

TEST_F(CliTest, HelpOnEveryCommand) {
  std::vector<std::vector<std::string>> cases = {{"--help"},
                                                 {"-h"},
                                                 {"help"},
                                                 {"help", "import"},
                                                 {"tenant", "--help"},
                                                 {"tenant", "create", "--help"},
                                                 {"tenant", "list", "--help"},
                                                 {"source", "--help"},
                                                 {"source", "create", "--help"},
                                                 {"source", "list", "--help"},
                                                 {"target", "--help"},
                                                 {"target", "create", "--help"},
                                                 {"target", "list", "--help"},
                                                 {"import", "--help"},
                                                 {"sync", "--help"},
                                                 {"serve", "--help"},
                                                 {"sync", "1", "--help"},
                                                 {"properties", "--help"},
                                                 {"property", "--help"},
                                                 {"imports", "--help"},
                                                 {"sync-logs", "--help"},
                                                 {"feed", "--help"},
                                                 {"key", "--help"},
                                                 {"key", "create", "--help"},
                                                 {"key", "list", "--help"},
                                                 {"key", "revoke", "--help"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c[0] + (c.size() > 1 ? " " + c[1] : ""));
    ProcessResult r = Syncmgr(c);
    ExpectOk(r, "Usage: syncmgr");
  }
  EXPECT_NE(Syncmgr({"import", "--help"}).out.find("--mode MODE"), std::string::npos);
  EXPECT_NE(Syncmgr({"--help"}).out.find("Exit status"), std::string::npos);
}

TEST_F(CliTest, BadUsageIsExit2AndOneLine) {
  std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "missing command"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"tenant"}, "missing subcommand for 'tenant'"},
      {{"tenant", "delete", "x"}, "unknown command 'tenant delete'"},
      {{"tenant", "create"}, "missing argument NAME"},
      {{"tenant", "create", "a", "b"}, "unexpected argument 'b'"},
      {{"import", "1", "1", "f.json", "--bogus"}, "unknown flag --bogus"},
      {{"import", "1", "1"}, "missing argument FILE"},
      {{"import", "1", "1", "f.json", "--mode", "replace"}, "--mode must be upsert or full"},
      {{"import", "1", "1", "f.json", "--mode"}, "needs a value"},
      {{"sync", "1", "1", "1", "--on-conflict", "merge"}, "--on-conflict must be"},
      {{"sync", "1", "1"}, "missing argument TARGET"},
      {{"source", "create", "x"}, "missing --tenant"},
      {{"source", "create", "--tenant", "1", "x", "--max-removal-ratio", "2"},
       "--max-removal-ratio must be"},
      {{"target", "create", "--tenant", "1", "x", "--config", "{nope"}, "--config must be"},
      {{"--db", "d", "--url", "http://127.0.0.1:1", "tenant", "list"}, "exclude each other"},
      {{"--url", "ftp://x", "--api-key", "k", "tenant", "list"}, "--url must look like"},
      {{"--url", "http://127.0.0.1:1", "tenant", "list"}, "needs the admin key"},
      {{"serve", "--port", "99999"}, "--port must be"},
      {{"serve", "--bulk-ingest-min-bytes", "16k"}, "--bulk-ingest-min-bytes must be"},
      {{"serve", "--write-chunk-bytes", "0"}, "--write-chunk-bytes must be a number of bytes"},
      {{"serve", "--write-chunk-bytes", "-1"}, "--write-chunk-bytes must be"},
      {{"serve", "--url", "http://x"}, "serve runs the server"},
      {{"serve", "--file-push-root", "/"}, "--file-push-root must name a directory other than '/'"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(message);
    ProcessResult r = Syncmgr(args);
    ExpectOneLineError(r, 2, message);
    EXPECT_NE(r.err.find("(run 'syncmgr"), std::string::npos) << r.err;
  }
}

TEST_F(CliTest, MissingDataDirectoryIsExit3) {
  ExpectOneLineError(Local({"source", "list", "--tenant", "1"}), 3, "does not exist");
  EXPECT_FALSE(fs::exists(db_));  // not created by a read
}

TEST_F(CliTest, CatalogCommands) {
  CreateCatalog();
  ProcessResult beta = Local({"--json", "tenant", "create", "Beta"});
  ExpectOk(beta, "\"api_key\":\"");
  EXPECT_EQ(JsonUint(beta.out, "id"), 2);
  ExpectOk(Local({"tenant", "list"}), "Acme");
  EXPECT_NE(Local({"tenant", "list"}).out.find("Beta"), std::string::npos);

  ExpectOk(Local({"source", "create", "--tenant", "Acme", "second", "--id-field", "ref",
                  "--max-removal-ratio", "1"}),
           "Created source 2 (second).");
  ProcessResult sources = Local({"source", "list", "--tenant", "1"});
  ExpectOk(sources, "portal");
  EXPECT_NE(sources.out.find("second"), std::string::npos);
  EXPECT_NE(sources.out.find("scraped_at"), std::string::npos);
  ProcessResult json = Local({"source", "list", "--tenant", "1", "--json"});
  ExpectOk(json, "[{\"id\":1,");
  EXPECT_NE(json.out.find("\"id_field\":\"ref\""), std::string::npos);
  ExpectOk(Local({"target", "list", "--tenant", "1"}), "website");

  // Other tenants' catalogs are separate; unknown tenants are errors.
  ProcessResult other = Local({"source", "list", "--tenant", "2"});
  ExpectOk(other);
  EXPECT_EQ(other.out.find("portal"), std::string::npos);
  ExpectOneLineError(Local({"source", "list", "--tenant", "nobody"}), 1, "not_found");
  ExpectOneLineError(Local({"source", "create", "--tenant", "99", "x"}), 1, "not_found");
}

TEST_F(CliTest, ImportFormatsAndSync) {
  CreateCatalog();
  std::string json = WriteFile("three.json", kThreeListings);
  ExpectOk(Local({"import", "1", "1", json}),
           "received 3, created 3, updated 0, unchanged 0, removed 0");

  std::string ndjson = WriteFile("changes.ndjson",
                                 "{\"external_id\":\"a\",\"price\":90}\n"
                                 "{\"external_id\":\"d\",\"price\":400}\n");
  ExpectOk(Local({"import", "1", "1", ndjson}), "received 2, created 1, updated 1, unchanged 0");

  // stdin, NDJSON recognised by its content; scraped_at is ignored by the hash.
  ProcessOptions ndjson_stdin;
  ndjson_stdin.stdin_data =
      "{\"external_id\":\"b\",\"price\":200,\"scraped_at\":\"t9\"}\n"
      "{\"external_id\":\"e\",\"price\":1}\n";
  ExpectOk(Local({"import", "Acme", "portal", "-"}, ndjson_stdin),
           "received 2, created 1, updated 0, unchanged 1");

  // stdin, the {"data": [...]} form (pretty-printed), other key order.
  ProcessOptions wrapper;
  wrapper.stdin_data = "{\n  \"data\": [ {\"price\": 90, \"external_id\": \"a\"} ]\n}\n";
  ExpectOk(Local({"import", "1", "1", "-"}, wrapper),
           "received 1, created 0, updated 0, unchanged 1");

  ProcessResult sync = Local({"sync", "1", "1", "1"});
  ExpectOk(sync, "Synced source 1 -> target 1: created 5, updated 0");
  EXPECT_NE(sync.out.find("conflicts 0"), std::string::npos);
  ExpectOk(Local({"sync", "Acme", "portal", "website"}), "created 0, updated 0");

  // A full import of one listing would remove 4 of 5: refused, nothing written.
  std::string one = WriteFile("one.json", R"([{"external_id":"a","price":90}])");
  ExpectOneLineError(Local({"import", "1", "1", one, "--mode", "full"}), 1, "mass_removal: ");
  EXPECT_NE(Local({"import", "1", "1", one, "--mode", "full"}).err.find("--allow-mass-removal"),
            std::string::npos);
  ExpectOk(Local({"import", "1", "1", one, "--mode", "full", "--allow-mass-removal"}),
           "received 1, created 0, updated 0, unchanged 1, removed 4");

  ProcessResult dry = Local({"sync", "1", "1", "1", "--dry-run"});
  ExpectOk(dry, "Dry run, nothing written");
  EXPECT_NE(dry.out.find("removed 4"), std::string::npos);
  ProcessResult real = Local({"--json", "sync", "1", "1", "1"});
  ExpectOk(real, "\"stats\":{");
  EXPECT_EQ(JsonUint(real.out, "removed"), 4);
  EXPECT_NE(real.out.find("\"warnings\":["), std::string::npos);
}

TEST_F(CliTest, BadImportChangesNothing) {
  CreateCatalog();
  std::string good = WriteFile("good.json", kThreeListings);
  ProcessResult first = Local({"--json", "import", "1", "1", good});
  ExpectOk(first, "\"created\":3");
  ProcessResult second = Local({"--json", "import", "1", "1", good});
  ExpectOk(second, "\"unchanged\":3");

  std::string malformed =
      WriteFile("bad.json", R"([{"external_id":"x","price":1},{"external_id":"y","price":)");
  ExpectOneLineError(Local({"import", "1", "1", malformed}), 1, "syncmgr: invalid_json: ");
  std::string dup = WriteFile("dup.ndjson", "{\"id\":\"z\"}\n{\"id\":\"q\"}\n{\"id\":\"z\"}\n");
  ExpectOneLineError(Local({"import", "1", "1", dup}), 1, "syncmgr: invalid_request: ");
  std::string not_object = WriteFile("num.json", R"([{"id":"w"}, 7])");
  ExpectOneLineError(Local({"import", "1", "1", not_object}), 1, "syncmgr: invalid_request: ");
  ExpectOneLineError(Local({"import", "1", "1", dir_ + "/absent.json"}), 1, "not_found: ");
  ExpectOneLineError(Local({"import", "1", "9", good}), 1, "not_found: ");

  // Re-importing adds exactly as many events as the previous re-import did:
  // the rejected imports wrote nothing (and x, y, z, w do not exist).
  ProcessResult third = Local({"--json", "import", "1", "1", good});
  ExpectOk(third, "\"unchanged\":3");
  EXPECT_EQ(JsonUint(third.out, "created"), 0);
  EXPECT_EQ(JsonUint(third.out, "seq") - JsonUint(second.out, "seq"),
            JsonUint(second.out, "seq") - JsonUint(first.out, "seq"));
  ProcessResult sync = Local({"sync", "1", "1", "1"});
  ExpectOk(sync, "created 3,");
}

TEST_F(CliTest, CorruptDataDirectorySaysHowToRecover) {
  ExpectOk(Local({"tenant", "create", "Acme"}));
  std::ofstream(db_ + "/CURRENT", std::ios::trunc) << "garbage";
  ExpectOneLineError(Local({"tenant", "list"}), 3, "syncmgr: corruption: ");
  EXPECT_NE(Local({"tenant", "list"}).err.find("docs/reliability.md"), std::string::npos);
}

// ---- Remote mode against a real `syncmgr serve` -----------------------------

// `serve --file-push-root DIR` (normalised: "./" and a trailing '/' go) lets
// each tenant create file targets under DIR/<its id>/ and nowhere else.
TEST_F(CliRemoteTest, FilePushRootConfinesFileTargetsToTheTenantsDirectory) {
  // Absolute and plain, as a `dir` must be.
  std::string base = std::filesystem::absolute(dir_).lexically_normal().string();
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  StartServer({"--file-push-root", base + "/./files/"});
  if (HasFatalFailure()) return;
  ProcessResult tenant = Remote(kAdminKey, {"--json", "tenant", "create", "Acme"});
  const std::string key = JsonString(tenant.out, "api_key");
  ASSERT_FALSE(key.empty()) << Describe(tenant);
  const int64_t id = JsonUint(tenant.out, "id");
  ASSERT_GT(id, 0) << tenant.out;
  const std::string own = base + "/files/" + std::to_string(id);
  ExpectOk(Remote(key, {"target", "create", "site", "--type", "file", "--config",
                        R"({"dir":")" + own + R"(/site"})"}),
           "Created target 1 (site, file).");
  ProcessResult r = Remote(key, {"target", "create", "elsewhere", "--type", "file", "--config",
                                 R"({"dir":")" + base + R"(/elsewhere"})"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("must be " + own + " or a directory below it"), std::string::npos)
      << r.err;
  ExpectOk(Remote(key, {"target", "list"}), "site");
  EXPECT_FALSE(std::filesystem::exists(base + "/elsewhere"));
}

TEST_F(CliRemoteTest, WorkflowAgainstServer) {
  StartServer();
  if (HasFatalFailure()) return;

  // Admin: the key from SYNCMGR_ADMIN_KEY when --api-key is not given.
  ProcessOptions admin_env;
  admin_env.env = {{"SYNCMGR_URL", url_}, {"SYNCMGR_ADMIN_KEY", kAdminKey}};
  ProcessResult tenant = Syncmgr({"--json", "tenant", "create", "Acme"}, admin_env);
  ExpectOk(tenant, "\"api_key\":\"");
  const std::string key = JsonString(tenant.out, "api_key");
  ASSERT_FALSE(key.empty()) << tenant.out;
  ExpectOk(Remote(kAdminKey, {"tenant", "list"}), "Acme");

  // Tenant commands: the key names the tenant (no --tenant needed).
  ExpectOk(Remote(key, {"source", "create", "portal", "--ignore-field", "scraped_at"}),
           "Created source 1 (portal).");
  ExpectOk(Remote(key, {"target", "create", "website"}), "Created target 1 (website, internal).");
  ExpectOk(Remote(key, {"source", "list"}), "portal");
  ExpectOk(Remote(key, {"target", "list", "--json"}), "\"name\":\"website\"");

  std::string json = WriteFile("three.json", kThreeListings);
  ExpectOk(Remote(key, {"import", "1", json}), "received 3, created 3, updated 0");
  // TENANT may still be given (it is not checked: the key decides).
  std::string big;
  for (int i = 0; i < 20000; ++i) {
    big += "{\"external_id\":\"n" + std::to_string(i) + "\",\"price\":" + std::to_string(i) +
           ",\"text\":\"" + std::string(40, 'x') + "\"}\n";
  }
  std::string ndjson = WriteFile("many.ndjson", big);
  ExpectOk(Remote(key, {"import", "1", "portal", ndjson}), "received 20000, created 20000");

  ProcessOptions env_key;  // URL and key from the environment, stdin body
  env_key.env = {{"SYNCMGR_URL", url_}, {"SYNCMGR_API_KEY", key}};
  env_key.stdin_data =
      "{\"external_id\":\"a\",\"price\":1}\n{\"external_id\":\"b\",\"price\":200}\n";
  ExpectOk(Syncmgr({"import", "1", "-"}, env_key), "received 2, created 0, updated 1, unchanged 1");

  // A JSON array larger than the server's JSON body limit (16 MiB) is sent
  // as NDJSON, streamed.
  std::string large = "[";
  for (int i = 0; i < 4000; ++i) {
    large += std::string(i ? "," : "") + "\n  {\"external_id\": \"big" + std::to_string(i) +
             "\", \"text\": \"" + std::string(4500, 'y') + "\"}";
  }
  large += "\n]\n";
  ASSERT_GT(large.size(), 17u << 20);
  ExpectOk(Remote(key, {"import", "1", WriteFile("large.json", large)}),
           "received 4000, created 4000");

  std::string malformed = WriteFile("bad.json", R"([{"external_id":"x"},{"external_id":)");
  ExpectOneLineError(Remote(key, {"import", "1", malformed}), 1, "syncmgr: invalid_json: ");
  std::string bad_nd = WriteFile("bad.ndjson", "{\"id\":\"q\"}\n{\"id\":\n");
  ExpectOneLineError(Remote(key, {"import", "1", bad_nd}), 1, "syncmgr: invalid_json: ");

  ProcessResult sync = Remote(key, {"sync", "1", "1"});
  ExpectOk(sync, "Synced source 1 -> target 1: created 24003, updated 0");
  ProcessResult again = Remote(key, {"--json", "sync", "portal", "website", "--dry-run"});
  ExpectOk(again, "\"stats\":{");
  EXPECT_EQ(JsonUint(again.out, "created"), 0);

  // A manual edit of a target listing (over HTTP), then a change in the
  // source: the sync reports the conflict as a warning line.
  HttpClient http(server_->port());
  http.set_api_key(key);
  ASSERT_EQ(http.Put("/targets/1/properties/a", R"({"external_id":"a","price":7})").status, 200);
  std::string change = WriteFile("change.ndjson", "{\"external_id\":\"a\",\"price\":2}\n");
  ExpectOk(Remote(key, {"import", "1", change}), "updated 1");
  ProcessResult kept = Remote(key, {"sync", "1", "1"});
  ExpectOk(kept, "conflicts 1");
  EXPECT_NE(kept.out.find("\nwarning: a: manual_change: "), std::string::npos) << kept.out;
  ProcessResult overwritten = Remote(key, {"sync", "1", "1", "--on-conflict", "overwrite"});
  ExpectOk(overwritten, "updated 1");

  // An empty array is a valid (full) import, in remote mode as locally.
  std::string empty = WriteFile("empty.json", " [ ]\n");
  ExpectOneLineError(Remote(key, {"import", "1", empty, "--mode", "full"}), 1, "mass_removal: ");
  ExpectOk(Remote(key, {"import", "1", empty, "--mode", "full", "--allow-mass-removal"}),
           "received 0, created 0, updated 0, unchanged 0, removed 24003");

  ExpectOneLineError(Remote(key, {"sync", "1", "7"}), 1, "not_found: ");
  ProcessResult remote_sources = Remote(key, {"--json", "source", "list"});
  ProcessResult remote_targets = Remote(key, {"--json", "target", "list"});
  ExpectOk(remote_sources, "portal");
  ExpectOneLineError(Remote("wrong-key", {"source", "list"}), 1, "unauthorized");
  ExpectOneLineError(Remote(key, {"tenant", "list"}), 1, "syncmgr: ");

  // The server holds the data directory: local mode cannot open it.
  ExpectOneLineError(Local({"tenant", "list"}), 3, "in use by another process");

  auto code = server_->Stop(SIGTERM, std::chrono::seconds(120));
  ASSERT_TRUE(code.has_value()) << "serve did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << server_->ReadLog();
  ExpectOneLineError(Remote(key, {"source", "list"}), 3, "cannot connect to ");

  // After the server is gone, local mode sees everything it wrote, and its
  // --json output has the server's shapes, byte for byte.
  ExpectOk(Local({"source", "list", "--tenant", "1"}), "portal");
  EXPECT_EQ(Local({"--json", "source", "list", "--tenant", "1"}).out, remote_sources.out);
  EXPECT_EQ(Local({"--json", "target", "list", "--tenant", "1"}).out, remote_targets.out);
}

}  // namespace
}  // namespace syncmgr::testing
