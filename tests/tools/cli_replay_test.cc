// `syncmgr replay` and `syncmgr backup`, end to end: the real binary
// (SYNCMGR_BIN) on a temporary data directory, alone and while a real
// `syncmgr serve` child has it open; the outputs served by further `serve`
// children and compared over HTTP with the live server's as_of answers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/support/cli_fixture.h"
#include "tests/support/http_client.h"
#include "tests/support/serve_process.h"

namespace syncmgr::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kAdminKey[] = "cli-replay-admin-key";

// A `syncmgr serve` child on `db`, with the test's admin key (Start() it).
ServeProcess Served(const std::string& db, const std::string& log) {
  ServeOptions o;
  o.binary = SYNCMGR_BIN;
  o.db = db;
  o.log = log;
  o.admin_key = kAdminKey;
  return ServeProcess(o);
}

class CliReplayTest : public CliFixture {
 protected:
  // Tenant 1 with source 1 and target 1; two imports and two syncs. Returns
  // the seq after the first sync; sets key_.
  uint64_t BuildHistory() {
    ProcessResult tenant = Local({"--json", "tenant", "create", "Acme"});
    ExpectOk(tenant, "api_key");
    key_ = JsonString(tenant.out, "api_key");
    ExpectOk(Local({"source", "create", "--tenant", "1", "portal"}));
    ExpectOk(Local({"target", "create", "--tenant", "1", "website"}));
    ExpectOk(Local({"tenant", "create", "Other"}));
    ExpectOk(Local({"source", "create", "--tenant", "2", "o"}));
    std::string first;
    for (int i = 0; i < 40; ++i) {
      first += "{\"external_id\":\"a" + std::to_string(i) + "\",\"price\":" + std::to_string(i) +
               "}\n";
    }
    ExpectOk(Local({"import", "1", "1", WriteFile("first.ndjson", first)}), "created 40");
    ExpectOk(Local({"import", "2", "1", WriteFile("o.ndjson", first)}), "created 40");
    ProcessResult sync = Local({"--json", "sync", "1", "1", "1"});
    ExpectOk(sync, "\"created\":40");
    uint64_t seq = static_cast<uint64_t>(JsonUint(sync.out, "seq"));
    std::string second;
    for (int i = 20; i < 50; ++i) {
      second += "{\"external_id\":\"a" + std::to_string(i) + "\",\"price\":" +
                std::to_string(i * 2) + "}\n";
    }
    ExpectOk(Local({"import", "1", "1", WriteFile("second.ndjson", second), "--mode", "full",
                    "--allow-mass-removal"}),
             "removed 20");
    ExpectOk(Local({"sync", "1", "1", "1"}), "removed 20");
    return seq;
  }

  std::map<std::string, std::string> Lists(HttpClient& c, const std::string& query = "") {
    std::map<std::string, std::string> out;
    for (const char* path : {"/sources/1/properties", "/targets/1/properties"}) {
      HttpResponse r = c.Get(path + query);
      EXPECT_EQ(r.status, 200) << path << query << ": " << r.body;
      out[path] = r.body;
    }
    return out;
  }

  std::string key_;
};

TEST_F(CliReplayTest, ReplayAsOfSeqAndTimeWhileAServerHasTheDirectoryOpen) {
  const uint64_t x = BuildHistory();
  ASSERT_GT(x, 0u);
  ServeProcess live = Served(db_, dir_ + "/live.log");
  ASSERT_TRUE(live.Start());
  HttpClient client = live.Client(key_);
  // One more write through the server, after x.
  ASSERT_EQ(client.Put("/targets/1/properties/a25", R"({"external_id":"a25","price":7})").status,
            200);
  std::map<std::string, std::string> then = Lists(client, "?as_of=" + std::to_string(x));
  ASSERT_NE(then["/targets/1/properties"], Lists(client)["/targets/1/properties"]);
  // The time of the first sync: the updated_at of what it wrote.
  std::string time = JsonString(then["/targets/1/properties"], "updated_at");
  ASSERT_FALSE(time.empty());

  ProcessResult by_seq =
      Local({"replay", "--as-of", std::to_string(x), "--out", dir_ + "/at-seq"});
  ExpectOk(by_seq, "events/s");
  EXPECT_NE(by_seq.out.find("Replayed"), std::string::npos) << by_seq.out;
  ExpectOk(Local({"replay", "--as-of", time, "--out", dir_ + "/at-time"}), "events/s");
  ProcessResult json = Local({"--json", "replay", "--as-of", "1", "--out", dir_ + "/at-1"});
  ExpectOk(json, "\"events\":2");  // seq 1 of each of the two tenants
  // The live views equal the fold of the live log, while the server runs.
  ExpectOk(Local({"replay", "--verify"}), "Views match the log");

  for (const char* name : {"at-seq", "at-time"}) {
    SCOPED_TRACE(name);
    ServeProcess replayed = Served(dir_ + "/" + name, dir_ + "/" + name + ".log");
    ASSERT_TRUE(replayed.Start());
    HttpClient rc = replayed.Client(key_);
    EXPECT_EQ(Lists(rc), then);
    // Single properties too: present, and absent then (a45 came later).
    for (const char* id : {"a3", "a25", "a45"}) {
      std::string path = std::string("/targets/1/properties/") + id;
      HttpResponse want = client.Get(path + "?as_of=" + std::to_string(x));
      HttpResponse got = rc.Get(path);
      EXPECT_EQ(got.status, want.status) << path;
      EXPECT_EQ(got.body, want.body) << path;
    }
    EXPECT_EQ(rc.Get("/targets/1/properties/a45").status, 404);
    EXPECT_EQ(replayed.Stop(), std::optional<int>(0));
  }
  EXPECT_EQ(live.Stop(), std::optional<int>(0)) << live.ReadLog();
}

TEST_F(CliReplayTest, ReplayErrorsAreOneLineAndLeaveTheDirectoryUnchanged) {
  BuildHistory();
  const auto before = Fingerprint(db_);
  ASSERT_FALSE(before.empty());
  fs::create_directory(dir_ + "/exists");

  ExpectOneLineError(Local({"replay", "--as-of", "3", "--out", dir_ + "/exists"}), 1,
                     "already exists");
  EXPECT_TRUE(fs::is_empty(dir_ + "/exists"));
  ExpectOneLineError(Local({"replay", "--as-of", "3", "--out", dir_ + "/none/out"}), 1,
                     "does not exist");
  ExpectOneLineError(
      Syncmgr({"replay", "--db", dir_ + "/missing", "--as-of", "3", "--out", dir_ + "/o"}), 3,
      "does not exist");
  // A directory that is not a data directory: refused, and left empty.
  fs::create_directory(dir_ + "/empty");
  ExpectOneLineError(
      Syncmgr({"replay", "--db", dir_ + "/empty", "--as-of", "3", "--out", dir_ + "/o"}), 3,
      "cannot open data directory");
  EXPECT_TRUE(fs::is_empty(dir_ + "/empty"));
  for (const char* bad : {"yesterday", "-1", "3.5", "2026-02-30T00:00:00Z", "2026-03-03", ""}) {
    SCOPED_TRACE(bad);
    ExpectOneLineError(Local({"replay", "--as-of", bad, "--out", dir_ + "/o"}), 2,
                       "--as-of must be a seq");
  }
  ExpectOneLineError(Local({"replay", "--out", dir_ + "/o"}), 2, "missing --as-of");
  ExpectOneLineError(Local({"replay", "--as-of", "3"}), 2, "missing --out");
  ExpectOneLineError(Local({"replay", "--verify", "--as-of", "3"}), 2, "--verify takes neither");
  ExpectOneLineError(
      Syncmgr({"replay", "--url", "http://127.0.0.1:1", "--as-of", "3", "--out", dir_ + "/o"}), 2,
      "no --url");
  EXPECT_FALSE(fs::exists(dir_ + "/o"));
  EXPECT_EQ(Fingerprint(db_), before);

  // A successful replay and a verify do not write into DIR either.
  ExpectOk(Local({"replay", "--as-of", "2026-01-01T00:00:00+01:00", "--out", dir_ + "/early"}),
           "Replayed 0 events");
  ExpectOk(Local({"replay", "--as-of", "5", "--out", dir_ + "/five"}), "Replayed 10 events");
  ExpectOk(Local({"replay", "--verify"}), "Views match the log");
  EXPECT_EQ(Fingerprint(db_), before);
  // No staging directory is left behind.
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
  }
}

// Opens `db` with plain RocksDB (behind the engine's back) and changes views.
void TamperWithViews(const std::string& db) {
  rocksdb::DBOptions dbo;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(dbo, db, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(dbo, db, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> owned(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "state") {
      ASSERT_TRUE(owned->Put(rocksdb::WriteOptions(), handles[i], "bogus-key", "x").ok());
    }
    if (names[i] == "history") {
      // Drop the first version record of the first property.
      std::unique_ptr<rocksdb::Iterator> it(owned->NewIterator(rocksdb::ReadOptions(), handles[i]));
      it->SeekToFirst();
      ASSERT_TRUE(it->Valid());
      ASSERT_TRUE(owned->Delete(rocksdb::WriteOptions(), handles[i], it->key()).ok());
    }
  }
  for (auto* h : handles) ASSERT_TRUE(owned->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(owned->Close().ok());
}

TEST_F(CliReplayTest, VerifyPassesOnAHealthyDirectoryAndNamesWhatDiffers) {
  BuildHistory();
  ExpectOk(Local({"replay", "--verify"}), "Views match the log");
  ProcessResult json = Local({"--json", "replay", "--verify"});
  ExpectOk(json, "\"ok\":true");
  TamperWithViews(db_);
  if (HasFatalFailure()) return;

  ProcessResult r = Local({"replay", "--verify"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.out.find("differs: state: live view has bogus-key which the log does not produce"),
            std::string::npos)
      << Describe(r);
  EXPECT_NE(r.out.find("differs: history: live view lacks "), std::string::npos) << Describe(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << Describe(r);
  EXPECT_TRUE(r.err.starts_with("syncmgr: corruption: 2 difference(s)")) << Describe(r);
  ProcessResult j = Local({"--json", "replay", "--verify"});
  EXPECT_EQ(j.exit_code, 1) << Describe(j);
  EXPECT_NE(j.out.find("\"ok\":false"), std::string::npos) << Describe(j);
  EXPECT_NE(j.out.find("bogus-key"), std::string::npos) << Describe(j);

  // A replay rebuilds the views from the log: its copy verifies clean and
  // has no trace of the tampering.
  ExpectOk(Local({"replay", "--as-of", "999999", "--out", dir_ + "/rebuilt"}), "Replayed");
  ExpectOk(Syncmgr({"--db", dir_ + "/rebuilt", "replay", "--verify"}), "Views match the log");
}

TEST_F(CliReplayTest, BackupWithAndWithoutARunningServer) {
  BuildHistory();
  const auto before = Fingerprint(db_);
  fs::create_directory(dir_ + "/exists");

  // Errors first: each leaves DIR unchanged.
  ExpectOneLineError(Local({"backup", "--out", dir_ + "/exists"}), 1, "already exists");
  ExpectOneLineError(Local({"backup", "--out", dir_ + "/none/b"}), 1, "does not exist");
  ExpectOneLineError(Syncmgr({"backup", "--db", dir_ + "/missing", "--out", dir_ + "/b"}), 3,
                     "does not exist");
  ExpectOneLineError(Local({"backup"}), 2, "missing --out");
  EXPECT_EQ(Fingerprint(db_), before);
  EXPECT_TRUE(fs::is_empty(dir_ + "/exists"));

  // No server: a local checkpoint (hard links on the same file system).
  ProcessResult local = Local({"backup", "--out", dir_ + "/b1"});
  ExpectOk(local, "Backed up");
  EXPECT_NE(local.out.find("hard-linked"), std::string::npos) << local.out;
  EXPECT_FALSE(fs::exists(dir_ + "/b1/admin.key"));

  ServeProcess live = Served(db_, dir_ + "/live.log");
  ASSERT_TRUE(live.Start());
  HttpClient client = live.Client(key_);
  const std::map<std::string, std::string> at_b1 = Lists(client);

  // The server holds the lock: local mode says to go through it.
  ProcessResult locked = Local({"backup", "--out", dir_ + "/b2"});
  ExpectOneLineError(locked, 3, "--url");
  EXPECT_FALSE(fs::exists(dir_ + "/b2"));
  // Through the server: admin key only.
  ExpectOneLineError(
      Syncmgr({"backup", "--url", live.url(), "--api-key", key_, "--out", dir_ + "/b2"}), 1,
      "forbidden");
  ProcessOptions admin_env;
  admin_env.env = {{"SYNCMGR_ADMIN_KEY", kAdminKey}};
  ProcessResult remote =
      Syncmgr({"--json", "backup", "--url", live.url(), "--out", dir_ + "/b2"}, admin_env);
  ExpectOk(remote, "\"status\":\"success\"");
  EXPECT_EQ(JsonString(remote.out, "out"), dir_ + "/b2");
  // The route itself: absolute new paths only, admin only, strict body.
  HttpClient admin = live.Client(kAdminKey);
  for (const std::string& body :
       {std::string(R"({"out":"relative/dir"})"), R"({"out":")" + dir_ + R"(/b2"})",
        std::string("{}"), std::string(R"({"out":""})"),
        R"({"out":")" + dir_ + R"(/b3","x":1})", std::string(R"({"out":7})"),
        std::string("[")}) {
    HttpResponse r = admin.Post("/admin/backup", body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
  }
  EXPECT_EQ(live.Client(key_).Post("/admin/backup", R"({"out":")" + dir_ + R"(/b3"})").status,
            403);
  EXPECT_EQ(live.Client("").Post("/admin/backup", R"({"out":")" + dir_ + R"(/b3"})").status, 401);
  EXPECT_FALSE(fs::exists(dir_ + "/b3"));
  EXPECT_FALSE(fs::exists(dir_ + "/relative"));

  // Writes after the backup are not in it.
  ASSERT_EQ(client.Put("/targets/1/properties/a1", R"({"external_id":"a1","price":1})").status,
            200);
  EXPECT_NE(Lists(client), at_b1);
  EXPECT_EQ(live.Stop(), std::optional<int>(0)) << live.ReadLog();

  // Both copies open, verify, and serve the state they were taken at.
  for (const char* name : {"b1", "b2"}) {
    SCOPED_TRACE(name);
    ExpectOk(Syncmgr({"--db", dir_ + "/" + name, "replay", "--verify"}), "Views match the log");
    ServeProcess copy = Served(dir_ + "/" + name, dir_ + "/" + name + ".log");
    ASSERT_TRUE(copy.Start());
    HttpClient cc = copy.Client(key_);
    EXPECT_EQ(Lists(cc), at_b1);
    EXPECT_EQ(copy.Stop(), std::optional<int>(0));
  }
}

// A replayed directory holds the push targets with their receivers' real
// addresses: replay parks them (paused, cursor at the end of the replayed
// log) so that serving the replay never re-sends to those receivers.
TEST_F(CliReplayTest, ReplayParksPushTargets) {
  ASSERT_GT(BuildHistory(), 0u);
  const std::string files = dir_ + "/push-files";
  fs::create_directories(files);
  ExpectOk(Local({"target", "create", "--tenant", "1", "--type", "file", "--config",
                  "{\"dir\":\"" + files + "\"}", "portal-files"}));
  ExpectOk(Local({"sync", "1", "1", "2"}), "created 30");
  ProcessResult live = Local({"--json", "delivery", "status", "1", "2"});
  ExpectOk(live, "\"state\"");
  EXPECT_EQ(live.out.find("\"paused\""), std::string::npos) << live.out;

  ProcessResult all = Local({"replay", "--as-of", "2999-01-01T00:00:00Z", "--out", dir_ + "/all"});
  ExpectOk(all, "1 push target(s) paused");
  ProcessResult parked =
      Syncmgr({"--db", dir_ + "/all", "--json", "delivery", "status", "1", "2"});
  ExpectOk(parked, "\"state\":\"paused\"");
  // The internal target is untouched.
  EXPECT_NE(Syncmgr({"--db", dir_ + "/all", "delivery", "status", "1", "1"}).exit_code, 0);
}

}  // namespace
}  // namespace syncmgr::testing
