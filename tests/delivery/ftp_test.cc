// The `ftp` push target (SPEC §4 "Push delivery"; delivery/ftp_sink.cc)
// against a real FTP server on loopback (pyftpdlib, tests/support/ftp_server.h):
// the same files as the `file` target, byte for byte, uploaded under a temp
// name and renamed (none left behind, leftovers of a crash swept), snapshots,
// failure classification (a refused login is permanent, a dead server
// transient), config validation, outbound safety and password redaction.
#include <dirent.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "delivery/ndjson_files.h"
#include "delivery/sinks.h"
#include "tests/support/files.h"
#include "tests/support/ftp_server.h"
#include "tests/support/push_workload.h"
#include "tests/support/test_server.h"
#include "wire/json_writer.h"
#include "wire/redact.h"

namespace syncmgr::testing {
namespace {

using delivery::SendResult;

class PushFtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!FtpServer::Available()) GTEST_SKIP() << FtpServer::kMissing;
    ASSERT_TRUE(ftp_.Start()) << ftp_.error();
  }

  std::string Config(const std::string& path, const std::string& password = "") const {
    std::string out = R"({"url":)";
    wire::AppendJsonString(&out, ftp_.Url(path));
    out += R"(,"username":)";
    wire::AppendJsonString(&out, ftp_.user());
    out += R"(,"password":)";
    wire::AppendJsonString(&out, password.empty() ? ftp_.password() : password);
    out += "}";
    return out;
  }

  std::unique_ptr<delivery::Sink> Make(const std::string& config) {
    return MakeLoopbackSink("ftp", config);
  }

  FtpServer ftp_;
};

TEST_F(PushFtpTest, ChangeFilesArriveWholeAndFoldToTheTargetState) {
  PushWorkload w(/*seed=*/31);
  // A directory that does not exist yet on the server: created.
  auto sink = Make(Config("portal/feed/"));
  ASSERT_NE(sink, nullptr);
  const std::string dir = ftp_.root() + "/portal/feed";
  uint64_t delivered = 0;
  std::vector<std::string> expected_names;
  for (int round = 0; round < 3; ++round) {
    w.Run(20);
    for (const delivery::Batch& b : w.Batches(w.TargetEvents(delivered), 8)) {
      auto r = sink->Send(b);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->outcome, SendResult::Outcome::kDelivered) << r->detail;
      const std::string name = delivery::ChangeFileName(b.first_seq, b.last_seq);
      // The same bytes the file target writes.
      EXPECT_EQ(ReadFile(dir + "/" + name), delivery::ChangeFileBody(b));
      expected_names.push_back(name);
      delivered = b.last_seq;
    }
  }
  std::sort(expected_names.begin(), expected_names.end());
  EXPECT_EQ(ListDir(dir), expected_names);  // and no temp name left
  HeldState state;
  std::map<std::string, uint64_t> removed;
  for (const std::string& name : expected_names) {
    FoldFeedLines(ReadFile(dir + "/" + name), &state, &removed);
  }
  EXPECT_EQ(state, w.TargetState());
  EXPECT_GT(state.size(), 3u);

  // A re-sent batch replaces its file (the rename overwrites).
  auto batches = w.Batches(w.TargetEvents(), 5);
  auto r = sink->Send(batches[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, SendResult::Outcome::kDelivered) << r->detail;
  for (const std::string& name : ListDir(dir)) EXPECT_NE(name[0], '.') << name;
}

TEST_F(PushFtpTest, SnapshotIsUploadedWhole) {
  PushWorkload w(/*seed=*/32);
  auto sink = Make(Config("snap/"));
  ASSERT_NE(sink, nullptr);
  w.Run(40);
  auto last = w.engine().LastSeq(w.tenant());
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(sink->WriteSnapshot(*last, w.Visitor()).ok());
  std::string expected;
  for (const PropertyRecord& r : w.TargetRecords()) delivery::AppendSnapshotLine(&expected, r);
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(ReadFile(ftp_.root() + "/snap/" + delivery::SnapshotFileName(*last)), expected);
  EXPECT_EQ(ListDir(ftp_.root() + "/snap"),
            std::vector<std::string>{delivery::SnapshotFileName(*last)});
}

TEST_F(PushFtpTest, TempNamesLeftByACrashAreSwept) {
  const std::string dir = ftp_.root() + "/feed";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::ofstream(dir + "/.changes-1-4.ndjson.tmp") << "{\"partial";
  std::ofstream(dir + "/.snapshot-9.ndjson.tmp") << "{\"partial";
  std::ofstream(dir + "/keep-me.txt") << "not ours";
  PushWorkload w(/*seed=*/33);
  w.Run(5);
  auto sink = Make(Config("feed/"));
  ASSERT_NE(sink, nullptr);
  auto batches = w.Batches(w.TargetEvents(), 1000);
  auto r = sink->Send(batches[0]);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->outcome, SendResult::Outcome::kDelivered) << r->detail;
  EXPECT_EQ(ListDir(dir), (std::vector<std::string>{
                              delivery::ChangeFileName(batches[0].first_seq, batches[0].last_seq),
                              "keep-me.txt"}));
}

TEST_F(PushFtpTest, ARefusedLoginIsPermanentADeadServerTransient) {
  PushWorkload w(/*seed=*/34);
  w.Run(20);
  auto batches = w.Batches(w.TargetEvents(), 1000);
  auto wrong = Make(Config("feed/", "not-the-password"));
  ASSERT_NE(wrong, nullptr);
  auto r = wrong->Send(batches[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, SendResult::Outcome::kRefused) << r->detail;
  EXPECT_NE(r->detail.find("530"), std::string::npos) << r->detail;
  EXPECT_EQ(r->detail.find("not-the-password"), std::string::npos) << r->detail;

  auto sink = Make(Config("feed/"));
  ASSERT_NE(sink, nullptr);
  ftp_.Kill();
  r = sink->Send(batches[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, SendResult::Outcome::kRetry) << r->detail;
  EXPECT_FALSE(sink->WriteSnapshot(1, w.Visitor()).ok());
}

TEST_F(PushFtpTest, OutboundSafetyIsCheckedAtEveryConnection) {
  PushWorkload w(/*seed=*/35);
  w.Run(20);
  auto batches = w.Batches(w.TargetEvents(), 1000);
  // Made without --allow-private-push (as after a restart without the flag):
  // the loopback server is refused when connecting (retried, never reached).
  auto sink = delivery::MakeFtpSink(Config("feed/"), delivery::SinkEnv{});
  ASSERT_TRUE(sink.ok());
  auto r = (*sink)->Send(batches[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, SendResult::Outcome::kRetry) << r->detail;
  EXPECT_NE(r->detail.find("outbound safety: refused to connect to 127.0.0.1"), std::string::npos)
      << r->detail;
  EXPECT_EQ(ListDir(ftp_.root()), std::vector<std::string>{});
}

TEST(PushFtpConfigTest, BadConfigsAreRefused) {
  delivery::SinkEnv open_env;
  open_env.allow_private = true;
  const std::vector<std::string> bad = {
      "{}",
      R"({"url":"ftp://h.example.com/d/","username":"u"})",
      R"({"url":"ftp://h.example.com/d/","password":"p"})",
      R"({"url":"ftp://h.example.com/d/","username":"","password":"p"})",
      R"({"url":"ftp://h.example.com/d","username":"u","password":"p"})",
      R"({"url":"ftp://h.example.com","username":"u","password":"p"})",
      R"({"url":"http://h.example.com/d/","username":"u","password":"p"})",
      R"({"url":"sftp://h.example.com/d/","username":"u","password":"p"})",
      R"({"url":"ftp://u:p@h.example.com/d/","username":"u","password":"p"})",
      R"({"url":"ftp://h.example.com/d/?x=1","username":"u","password":"p"})",
      R"({"url":"ftp://h.example.com/d/#f","username":"u","password":"p"})",
      R"({"url":"ftp:///d/","username":"u","password":"p"})",
      R"({"url":"not a url","username":"u","password":"p"})",
      R"({"url":"ftp://h.example.com/d/","username":"u\r\nDELE x","password":"p"})",
      R"({"url":"ftp://h.example.com/d/","username":"u","password":"p","mode":"x"})",
      R"({"url":5,"username":"u","password":"p"})",
  };
  for (const std::string& config : bad) {
    Status st = delivery::ValidateFtpConfig(config, open_env);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << config << " -> " << st.ToString();
    EXPECT_FALSE(delivery::MakeFtpSink(config, open_env).ok()) << config;
  }
  for (const char* host :
       {"127.0.0.1", "localhost", "10.0.0.7", "169.254.169.254", "[::1]", "192.168.0.10:2121"}) {
    const std::string config =
        std::string(R"({"url":"ftp://)") + host + R"(/feed/","username":"u","password":"p"})";
    Status st = delivery::ValidateFtpConfig(config, delivery::SinkEnv{});
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << config;
    EXPECT_TRUE(delivery::ValidateFtpConfig(config, open_env).ok()) << config;
  }
  EXPECT_EQ(
      wire::RedactConfig(R"({"password":"hunter2","url":"ftp://h.example.com/d/","username":"u"})")
          .json,
      R"({"password":"***","url":"ftp://h.example.com/d/","username":"u"})");
}

// ---- End to end: the real server, its delivery engine and routes ----------------

TEST_F(PushFtpTest, EndToEndTheFilesOnTheServerFoldToTheTarget) {
  TestServerOptions options = LoopbackPushOptions();
  options.server.delivery_backoff_cap_ms = 200;
  ServerWithTenant s(options);
  auto& [server, tenant, c] = s;
  std::string config = Config("out/");
  config.insert(config.size() - 1, R"(,"batch_size":10)");
  auto [source, target] = CreatePushPair(c, "ftp", config);
  ASSERT_NE(target, 0u);
  // The password is stored but never shown.
  HttpResponse shown = c.Get("/targets/" + std::to_string(target));
  EXPECT_EQ(shown.body.find(ftp_.password()), std::string::npos) << shown.body;
  EXPECT_NE(shown.body.find(R"("password":"***")"), std::string::npos) << shown.body;

  HttpPushWorkload w(&c, source, target, /*seed=*/36);
  w.Run(30);
  WaitDelivered(c, target);
  const std::string dir = ftp_.root() + "/out";
  HeldState state;
  std::map<std::string, uint64_t> removed;
  std::vector<std::pair<uint64_t, std::string>> files;
  for (const std::string& name : ListDir(dir)) {
    ASSERT_NE(name[0], '.') << "temp name left: " << name;
    unsigned long long first = 0, last = 0;
    ASSERT_EQ(std::sscanf(name.c_str(), "changes-%llu-%llu.ndjson", &first, &last), 2) << name;
    files.emplace_back(first, name);
  }
  std::sort(files.begin(), files.end());
  for (const auto& [first, name] : files)
    FoldFeedLines(ReadFile(dir + "/" + name), &state, &removed);
  EXPECT_EQ(state, w.TargetState());
  EXPECT_GT(files.size(), 3u);

  HttpResponse snap = c.Post("/targets/" + std::to_string(target) + "/delivery/snapshot", "");
  ASSERT_EQ(snap.status, 200) << snap.body;
  const uint64_t seq = ParseJson(snap.body)["seq"].get_uint64().value();
  const std::string snapshot = ReadFile(dir + "/" + delivery::SnapshotFileName(seq));
  EXPECT_EQ(static_cast<size_t>(std::count(snapshot.begin(), snapshot.end(), '\n')),
            w.TargetState().size());
  for (const std::string& line : server.LogLines()) {
    EXPECT_EQ(line.find(ftp_.password()), std::string::npos) << line;
  }
}

TEST_F(PushFtpTest, EndToEndBadConfigsAnswer400AndCreateNothing) {
  TestServer server;  // without --allow-private-push: the loopback server is refused
  auto tenant = server.CreateTenant("acme");
  HttpClient c = server.Client(tenant.api_key);
  for (const std::string& config :
       {Config("feed/"),
        std::string(R"({"url":"ftp://h.example.com/x","username":"u","password":"p"})"),
        std::string(R"({"url":"http://h.example.com/x/","username":"u","password":"p"})"),
        std::string(R"({"url":"ftp://h.example.com/x/","username":"u"})")}) {
    HttpResponse r = c.Post("/targets", R"({"name":"ftp","type":"ftp","config":)" + config + "}");
    EXPECT_EQ(r.status, 400) << config << " -> " << r.body;
    EXPECT_EQ(r.body.find(ftp_.password()), std::string::npos) << r.body;
  }
  EXPECT_EQ(c.Get("/targets").body, "[]");
  EXPECT_EQ(ListDir(ftp_.root()), std::vector<std::string>{});
}

}  // namespace
}  // namespace syncmgr::testing
