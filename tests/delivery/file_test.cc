// The `file` push target (SPEC §4 "Push delivery"; delivery/file_sink.cc,
// delivery/ndjson_files.h): change files that fold to the target's state,
// snapshots equal to it, atomic writes (no partial file after a SIGKILL, no
// temp file left behind), and config validation. Sink level, on a real engine;
// the end-to-end run through `syncmgr serve` is in push_e2e tests.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "delivery/ndjson_files.h"
#include "delivery/sinks.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/push_workload.h"
#include "tests/support/serve_process.h"
#include "tests/support/test_server.h"
#include "wire/api_render.h"
#include "wire/redact.h"

namespace syncmgr::testing {
namespace {

using delivery::SendResult;

std::string FileConfig(const std::string& dir) { return R"({"dir":")" + dir + R"("})"; }

std::unique_ptr<delivery::Sink> MakeSink(const std::string& dir) {
  delivery::SinkEnv env;
  EXPECT_TRUE(delivery::ValidateFileConfig(FileConfig(dir), env).ok());
  auto sink = delivery::MakeFileSink(FileConfig(dir), env);
  EXPECT_TRUE(sink.ok()) << sink.status().ToString();
  return sink.ok() ? std::move(sink).value() : nullptr;
}

struct ChangeFile {
  uint64_t first = 0, last = 0;
  std::string name;
};

// The change files of `dir` in the order a consumer reads them: by the first
// seq in the name, numerically. Fails on any other name.
std::vector<ChangeFile> ChangeFiles(const std::string& dir) {
  std::vector<ChangeFile> out;
  for (const std::string& name : ListDir(dir)) {
    if (name.rfind("snapshot-", 0) == 0) continue;
    ChangeFile f;
    f.name = name;
    char tail[16] = {};
    unsigned long long a = 0, b = 0;
    EXPECT_EQ(std::sscanf(name.c_str(), "changes-%llu-%llu%15s", &a, &b, tail), 3) << name;
    EXPECT_STREQ(tail, ".ndjson") << name;
    f.first = a;
    f.last = b;
    out.push_back(f);
  }
  std::sort(out.begin(), out.end(),
            [](const ChangeFile& x, const ChangeFile& y) { return x.first < y.first; });
  return out;
}

HeldState FoldDir(const std::string& dir) {
  HeldState state;
  std::map<std::string, uint64_t> removed;
  for (const ChangeFile& f : ChangeFiles(dir)) {
    FoldFeedLines(ReadFile(dir + "/" + f.name), &state, &removed);
  }
  return state;
}

TEST(PushFileTest, ChangeFilesFoldToTheTargetState) {
  PushWorkload w(/*seed=*/11);
  PushTempDir tmp;
  const std::string dir = tmp.path() + "/feed/a";  // created at the first write
  auto sink = MakeSink(dir);
  ASSERT_NE(sink, nullptr);
  uint64_t delivered = 0;
  for (int round = 0; round < 4; ++round) {
    w.Run(25);
    std::vector<LogEvent> events = w.TargetEvents(delivered);
    for (const delivery::Batch& b : w.Batches(events, 7)) {
      auto r = sink->Send(b);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->outcome, SendResult::Outcome::kDelivered) << r->detail;
      // The file holds exactly the batch, as GET /feed shows each event.
      EXPECT_EQ(ReadFile(dir + "/" + delivery::ChangeFileName(b.first_seq, b.last_seq)),
                delivery::ChangeFileBody(b));
      delivered = b.last_seq;
    }
    EXPECT_EQ(FoldDir(dir), w.TargetState()) << "round " << round;
  }
  EXPECT_GT(w.TargetState().size(), 5u);
  for (const std::string& name : ListDir(dir)) EXPECT_NE(name[0], '.') << "temp file " << name;
  // Every event of the target is in exactly one file, in seq order.
  std::vector<ChangeFile> files = ChangeFiles(dir);
  std::vector<LogEvent> all = w.TargetEvents(0);
  size_t lines = 0;
  for (const ChangeFile& f : files) {
    std::string text = ReadFile(dir + "/" + f.name);
    lines += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  EXPECT_EQ(lines, all.size());
}

TEST(PushFileTest, ResentAndOutOfOrderBatchesFoldToTheSameState) {
  PushWorkload w(/*seed=*/12);
  PushTempDir tmp;
  auto sink = MakeSink(tmp.path());
  ASSERT_NE(sink, nullptr);
  w.Run(60);
  std::vector<delivery::Batch> batches = w.Batches(w.TargetEvents(), 5);
  ASSERT_GT(batches.size(), 4u);
  // Batch 1 fails (a dead letter), the rest go on, then it is retried late;
  // a timeout re-sends batch 2 as well.
  for (size_t i = 0; i < batches.size(); ++i) {
    if (i == 1) continue;
    ASSERT_EQ(sink->Send(batches[i])->outcome, SendResult::Outcome::kDelivered);
  }
  ASSERT_EQ(sink->Send(batches[1])->outcome, SendResult::Outcome::kDelivered);
  ASSERT_EQ(sink->Send(batches[2])->outcome, SendResult::Outcome::kDelivered);
  EXPECT_EQ(FoldDir(tmp.path()), w.TargetState());
  EXPECT_EQ(ChangeFiles(tmp.path()).size(), batches.size());
}

TEST(PushFileTest, SnapshotEqualsTheCurrentStateAndFoldsWithLaterChanges) {
  PushWorkload w(/*seed=*/13);
  PushTempDir tmp;
  auto sink = MakeSink(tmp.path());
  ASSERT_NE(sink, nullptr);
  w.Run(50);
  auto last = w.engine().LastSeq(w.tenant());
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(sink->WriteSnapshot(*last, w.Visitor()).ok());
  const std::string snapshot = ReadFile(tmp.path() + "/" + delivery::SnapshotFileName(*last));
  // One line per live property, as GET /targets/{id}/properties shows it.
  std::string expected;
  for (const PropertyRecord& r : w.TargetRecords()) {
    wire::JsonWriter jw(&expected);
    wire::WriteProperty(jw, r, StreamKind::kTarget);
    expected += '\n';
  }
  EXPECT_EQ(snapshot, expected);
  EXPECT_FALSE(snapshot.empty());

  // A consumer starting from the snapshot and the change files after it ends
  // at the target's state.
  const uint64_t snap_seq = *last;
  w.Run(30);
  for (const delivery::Batch& b : w.Batches(w.TargetEvents(snap_seq), 6)) {
    ASSERT_EQ(sink->Send(b)->outcome, SendResult::Outcome::kDelivered);
  }
  HeldState state;
  std::map<std::string, uint64_t> removed;
  simdjson::dom::parser parser;
  std::istringstream lines(snapshot);
  std::string line;
  while (std::getline(lines, line)) {
    simdjson::dom::element e = parser.parse(line).value();
    state[std::string(e["external_id"].get_string().value())] = {
        simdjson::minify(e["data"].value()),
        static_cast<uint32_t>(e["version"].get_uint64().value()), e["seq"].get_uint64().value()};
  }
  for (const ChangeFile& f : ChangeFiles(tmp.path())) {
    if (f.last <= snap_seq) continue;
    FoldFeedLines(ReadFile(tmp.path() + "/" + f.name), &state, &removed);
  }
  EXPECT_EQ(state, w.TargetState());
}

TEST(PushFileTest, EmptyTargetSnapshotIsAnEmptyFile) {
  PushWorkload w(/*seed=*/14);
  PushTempDir tmp;
  auto sink = MakeSink(tmp.path());
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->WriteSnapshot(0, w.Visitor()).ok());
  struct stat st {};
  ASSERT_EQ(::stat((tmp.path() + "/snapshot-0.ndjson").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
}

// A writer killed with SIGKILL at a random instant leaves only complete
// change files (and at most a temp file, which the next sink sweeps).
TEST(PushFileTest, SigkillMidWriteLeavesNoPartialFile) {
  PushWorkload w(/*seed=*/15);
  PushTempDir tmp;
  // Big events, so a kill lands inside a write more often than not.
  LogEvent big;
  big.type = EventType::kPropertyCreated;
  big.stream = {StreamKind::kTarget, w.target()};
  big.version = 1;
  big.hash = std::string(32, 'a');
  big.data = R"({"blob":")" + std::string(200 << 10, 'x') + R"("})";
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::string dir = tmp.path() + "/kill" + std::to_string(attempt);
    ASSERT_TRUE(delivery::MakeDirs(dir).ok());
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto sink = delivery::MakeFileSink(FileConfig(dir), {});
      if (!sink.ok()) _exit(2);
      for (uint64_t seq = 1; seq < 100000; seq += 10) {
        delivery::Batch b;
        b.tenant = w.tenant();
        b.target_id = w.target();
        for (uint64_t s = seq; s < seq + 10; ++s) {
          LogEvent e = big;
          e.seq = s;
          e.external_id = "p" + std::to_string(s);
          b.events.push_back(std::move(e));
        }
        b.first_seq = seq;
        b.last_seq = seq + 9;
        auto r = (*sink)->Send(b);
        if (!r.ok() || r->outcome != SendResult::Outcome::kDelivered) _exit(3);
      }
      _exit(0);
    }
    // Kill once `attempt + 1` change files are complete and, when it shows up
    // in time, while the next one is being written (a temp file). Both waits
    // poll the directory, bounded; no fixed delay, which a loaded machine
    // outruns (a 2 MB file may take far longer than usual to appear).
    int status = 0;
    bool ended = false;
    auto count = [&](bool temp) {
      size_t n = 0;
      for (const std::string& name : ListDir(dir)) n += (name[0] == '.') == temp;
      return n;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!ended && count(false) <= static_cast<size_t>(attempt) &&
           std::chrono::steady_clock::now() < deadline) {
      ended = ::waitpid(pid, &status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto writing = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!ended && count(true) == 0 && std::chrono::steady_clock::now() < writing) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!ended) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended before the kill: " << status;
    size_t complete = 0;
    for (const std::string& name : ListDir(dir)) {
      if (name[0] == '.') continue;  // a temp file: not a change file
      std::string text = ReadFile(dir + "/" + name);
      ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 10) << name << " is partial";
      HeldState state;
      std::map<std::string, uint64_t> removed;
      FoldFeedLines(text, &state, &removed);
      EXPECT_EQ(state.size(), 10u);
      ++complete;
    }
    EXPECT_GT(complete, static_cast<size_t>(attempt));
    // A new sink on the directory sweeps what the killed one left.
    auto sink = MakeSink(dir);
    ASSERT_NE(sink, nullptr);
    for (const std::string& name : ListDir(dir)) EXPECT_NE(name[0], '.') << name;
  }
}

TEST(PushFileTest, WriteFailureIsRetriedWithTheReason) {
  PushTempDir tmp;
  // The directory's parent is a regular file: nothing can be created.
  const std::string blocker = tmp.path() + "/plain-file";
  std::ofstream(blocker) << "x";
  auto sink = MakeSink(blocker + "/sub");
  ASSERT_NE(sink, nullptr);
  PushWorkload w(/*seed=*/16);
  w.Run(5);
  auto batches = w.Batches(w.TargetEvents(), 100);
  ASSERT_FALSE(batches.empty());
  auto r = sink->Send(batches[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, SendResult::Outcome::kRetry);
  EXPECT_NE(r->detail.find("plain-file"), std::string::npos) << r->detail;
  EXPECT_FALSE(sink->WriteSnapshot(1, w.Visitor()).ok());
}

TEST(PushFileTest, BadConfigsAreRefusedAndCreateNothing) {
  PushTempDir tmp;
  const std::string file = tmp.path() + "/a-file";
  std::ofstream(file) << "x";
  delivery::SinkEnv env;
  const std::vector<std::string> bad = {
      "{}",
      R"({"dir":""})",
      R"({"dir":"relative/path"})",
      R"({"dir":5})",
      R"({"dir":")" + tmp.path() + R"(/a/../b"})",
      R"({"dir":")" + tmp.path() + R"(/./b"})",
      R"({"dir":")" + tmp.path() + R"(//b"})",
      R"({"dir":")" + tmp.path() + R"(/x\ny"})",
      R"({"dir":")" + file + R"("})",
      R"({"dir":")" + tmp.path() + R"(/new","extra":1})",
      R"([1])",
      "not json",
  };
  for (const std::string& config : bad) {
    Status st = delivery::ValidateFileConfig(config, env);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << config << " -> " << st.ToString();
    EXPECT_FALSE(delivery::MakeFileSink(config, env).ok()) << config;
  }
  EXPECT_EQ(ListDir(tmp.path()), std::vector<std::string>{"a-file"});
  // Good ones, including a directory that does not exist yet (not created
  // until the first delivery).
  EXPECT_TRUE(delivery::ValidateFileConfig(FileConfig(tmp.path() + "/later/"), env).ok());
  EXPECT_TRUE(delivery::ValidateFileConfig(FileConfig(tmp.path()), env).ok());
  EXPECT_EQ(ListDir(tmp.path()), std::vector<std::string>{"a-file"});
  EXPECT_EQ(wire::RedactConfig(FileConfig("/x")).json, FileConfig("/x"));
}

// On a shared server (--file-push-root ROOT) tenant 7's file targets must
// stay in ROOT/7; without a root, file targets are refused over HTTP. The
// operator's own tools (no rule) take any plain absolute directory.
TEST(PushFileTest, FileRootKeepsEachTenantInItsOwnDirectory) {
  PushTempDir tmp;
  const std::string root = tmp.path() + "/files";
  delivery::SinkEnv env;
  env.file_root = root;
  env.file_tenant = 7;
  for (const std::string& dir : {root + "/7", root + "/7/", root + "/7/site/feed"}) {
    Status st = delivery::ValidateFileConfig(FileConfig(dir), env);
    EXPECT_TRUE(st.ok()) << dir << " -> " << st.ToString();
  }
  for (const std::string& dir :
       std::vector<std::string>{root, root + "/", root + "/70", root + "/8/x", root + "/7x",
                                tmp.path(), "/etc", "/tmp/7"}) {
    Status st = delivery::ValidateFileConfig(FileConfig(dir), env);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << dir;
    EXPECT_NE(st.message().find("must be " + root + "/7 or a directory below it"),
              std::string::npos)
        << st.message();
  }
  // A malformed dir keeps its own message.
  EXPECT_NE(delivery::ValidateFileConfig(FileConfig(root + "/7/../8"), env)
                .message()
                .find("plain absolute path"),
            std::string::npos);
  env.file_root = "";
  Status off = delivery::ValidateFileConfig(FileConfig(root + "/7"), env);
  EXPECT_EQ(off.code(), Code::kInvalidArgument);
  EXPECT_NE(off.message().find("--file-push-root"), std::string::npos) << off.message();
  env.file_root.reset();
  EXPECT_TRUE(delivery::ValidateFileConfig(FileConfig("/srv/any/where"), env).ok());
  EXPECT_TRUE(ListDir(tmp.path()).empty());  // validation creates nothing
}

TEST(PushFileTest, NamesAndTempNames) {
  EXPECT_EQ(delivery::ChangeFileName(7, 42), "changes-7-42.ndjson");
  EXPECT_EQ(delivery::SnapshotFileName(42), "snapshot-42.ndjson");
  EXPECT_EQ(delivery::TempFileName("changes-7-42.ndjson"), ".changes-7-42.ndjson.tmp");
  EXPECT_TRUE(delivery::IsTempFileName(".changes-7-42.ndjson.tmp"));
  EXPECT_TRUE(delivery::IsTempFileName(".snapshot-1.ndjson.tmp"));
  EXPECT_FALSE(delivery::IsTempFileName("changes-7-42.ndjson"));
  EXPECT_FALSE(delivery::IsTempFileName(".bashrc.tmp"));
}

// ---- End to end: the real server, its delivery engine and routes ----------------

TestServerOptions FastRetries(const std::string& file_root) {
  TestServerOptions o;
  o.server.delivery_backoff_base_ms = 20;
  o.server.delivery_backoff_cap_ms = 200;
  o.server.file_push_root = file_root;
  return o;
}

TEST(PushFileEndToEndTest, ChangeFilesFoldToTheTargetAndASnapshotEqualsIt) {
  PushTempDir tmp;
  TestServer server(FastRetries(tmp.path()));
  auto tenant = server.CreateTenant("acme");
  HttpClient c = server.Client(tenant.api_key);
  const std::string dir = tmp.path() + "/" + std::to_string(tenant.id) + "/portal";
  auto [source, target] = CreatePushPair(c, "file", R"({"dir":")" + dir + R"(","batch_size":7})");
  ASSERT_NE(target, 0u);
  HttpPushWorkload w(&c, source, target, /*seed=*/17);
  for (int round = 0; round < 3; ++round) {
    w.Run(25);
    WaitDelivered(c, target);
    EXPECT_EQ(FoldDir(dir), w.TargetState()) << "round " << round;
  }
  // Every change file is a whole batch of at most batch_size events, and
  // together they hold every event of the target once, in seq order.
  uint64_t previous_last = 0;
  for (const ChangeFile& f : ChangeFiles(dir)) {
    EXPECT_GT(f.first, previous_last) << f.name;
    previous_last = f.last;
    std::string text = ReadFile(dir + "/" + f.name);
    EXPECT_LE(std::count(text.begin(), text.end(), '\n'), 7) << f.name;
  }
  std::string all_lines;
  for (const ChangeFile& f : ChangeFiles(dir)) all_lines += ReadFile(dir + "/" + f.name);
  std::string from_feed;
  uint64_t since = 0;
  for (int page = 0; page < 1000; ++page) {
    // The target's feed less its target.created: push delivery sends changes only.
    HttpResponse feed = c.Get("/feed?since=" + std::to_string(since) +
                              "&target_id=" + std::to_string(target) + "&limit=100" +
                              "&types=property.created,property.updated,property.removed,"
                              "property.manual_edit,sync.completed");
    ASSERT_EQ(feed.status, 200) << feed.body;
    JsonDoc doc = ParseJson(feed.body);
    size_t n = 0;
    simdjson::dom::array events = doc["events"].get_array().value();
    for (simdjson::dom::element e : events) {
      from_feed += simdjson::minify(e);
      from_feed += '\n';
      ++n;
    }
    const uint64_t last = doc["last_seq"].get_uint64().value();
    if (n == 0 && last == since) break;
    since = last;
  }
  EXPECT_EQ(all_lines, from_feed);  // the same bytes GET /feed shows

  HttpResponse snap = c.Post("/targets/" + std::to_string(target) + "/delivery/snapshot", "");
  ASSERT_EQ(snap.status, 200) << snap.body;
  const uint64_t seq = ParseJson(snap.body)["seq"].get_uint64().value();
  std::string expected;
  HttpResponse props =
      c.Get("/targets/" + std::to_string(target) + "/properties?as_of=" + std::to_string(seq));
  ASSERT_EQ(props.status, 200);
  JsonDoc props_doc = ParseJson(props.body);
  simdjson::dom::array props_array = props_doc.root().get_array().value();
  for (simdjson::dom::element e : props_array) {
    expected += simdjson::minify(e);
    expected += '\n';
  }
  EXPECT_EQ(ReadFile(dir + "/" + delivery::SnapshotFileName(seq)), expected);
  for (const std::string& name : ListDir(dir)) EXPECT_NE(name[0], '.') << "temp file " << name;
}

TEST(PushFileEndToEndTest, BadConfigsAnswer400AndCreateNothing) {
  PushTempDir tmp;
  TestServer server(FastRetries(tmp.path()));
  auto tenant = server.CreateTenant("acme");
  auto other = server.CreateTenant("other");
  HttpClient c = server.Client(tenant.api_key);
  const std::string own = tmp.path() + "/" + std::to_string(tenant.id);
  const std::string plain = tmp.path() + "/plain";
  std::ofstream(plain) << "x";
  for (const std::string& config :
       {std::string(R"({})"), std::string(R"({"dir":"relative"})"),
        R"({"dir":")" + own + R"(/a/../b"})", R"({"dir":")" + plain + R"("})",
        R"({"dir":")" + own + R"(/new","unknown":1})",
        R"({"dir":")" + own + R"(/new","batch_size":0})",
        // Outside the tenant's own directory of --file-push-root:
        R"({"dir":")" + tmp.path() + R"("})",
        R"({"dir":")" + tmp.path() + "/" + std::to_string(other.id) + R"(/site"})",
        R"({"dir":")" + own + R"(0"})", std::string(R"({"dir":"/etc/cron.d"})")}) {
    HttpResponse r = c.Post("/targets", R"({"name":"site","type":"file","config":)" + config + "}");
    EXPECT_EQ(r.status, 400) << config << " -> " << r.body;
    EXPECT_NE(r.body.find("invalid_request"), std::string::npos) << r.body;
  }
  HttpResponse r = c.Post("/targets", R"({"name":"site","type":"file"})");
  EXPECT_EQ(r.status, 400) << r.body;
  HttpResponse list = c.Get("/targets");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body, "[]");
  EXPECT_EQ(ListDir(tmp.path()), std::vector<std::string>{"plain"});
}

// Without --file-push-root a server refuses file targets (a tenant must not
// choose where the server's own process writes), and nothing is created.
TEST(PushFileEndToEndTest, WithoutAFileRootFileTargetsAreRefused) {
  PushTempDir tmp;
  TestServer server;
  auto tenant = server.CreateTenant("acme");
  HttpClient c = server.Client(tenant.api_key);
  HttpResponse r = c.Post("/targets", R"({"name":"site","type":"file","config":{"dir":")" +
                                          tmp.path() + R"(/site"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("file targets are off on this server"), std::string::npos) << r.body;
  EXPECT_EQ(c.Get("/targets").body, "[]");
  EXPECT_TRUE(ListDir(tmp.path()).empty());
}

// File targets made before the server had --file-push-root (here with the
// operator's command line on the data directory, which applies no rule) are
// held to the root at delivery: one whose dir lies outside the tenant's
// directory gets every batch refused for good — a dead letter whose
// last_error names the root — and nothing is written there; one inside keeps
// delivering.
TEST(PushFileEndToEndTest, TargetsMadeBeforeTheRootAreHeldToItAtDelivery) {
  PushTempDir tmp;
  const std::string db = tmp.path() + "/db";
  const std::string root = tmp.path() + "/files";
  const std::string outside = tmp.path() + "/elsewhere/site";
  auto syncmgr = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {SYNCMGR_BIN, "--db", db});
    ProcessResult r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << args.back() << ": " << r.err;
    return r;
  };
  ProcessResult tenant = syncmgr({"--json", "tenant", "create", "acme"});
  JsonDoc tenant_doc = ParseJson(tenant.out);
  const std::string key(tenant_doc["api_key"].get_string().value());
  const uint64_t tenant_id = tenant_doc["id"].get_uint64().value();
  const std::string inside = root + "/" + std::to_string(tenant_id) + "/site";
  const std::string t = std::to_string(tenant_id);
  syncmgr({"source", "create", "--tenant", t, "portal", "--max-removal-ratio", "1"});
  syncmgr({"target", "create", "--tenant", t, "out", "--type", "file", "--config",
           R"({"dir":")" + outside + R"(","batch_size":5})"});
  syncmgr({"target", "create", "--tenant", t, "in", "--type", "file", "--config",
           R"({"dir":")" + inside + R"(","batch_size":5})"});
  if (HasFailure()) return;
  const uint32_t source = 1, out_target = 1, in_target = 2;

  ServeOptions options;
  options.binary = SYNCMGR_BIN;
  options.db = db;
  options.log = tmp.path() + "/serve.log";
  options.flags = {"--file-push-root", root};
  ServeProcess serve(options);
  ASSERT_TRUE(serve.Start());
  HttpClient c = serve.Client(key);
  HttpPushWorkload w(&c, source, in_target, /*seed=*/18);
  w.Run(20);
  ASSERT_EQ(c.Post("/sync/1/" + std::to_string(out_target), "").status, 200);
  WaitDelivered(c, in_target);
  const std::string out_status = WaitDelivered(c, out_target);

  // Inside the root: delivered as ever.
  EXPECT_EQ(FoldDir(inside), w.TargetState());
  // Outside: every batch a dead letter naming the root, the cursor past
  // them, nothing written (the directory was never even created).
  JsonDoc status = ParseJson(out_status);
  EXPECT_GT(status["delivered_seq"].get_uint64().value(), 0u) << out_status;
  const uint64_t dead = status["dead_letters"].get_uint64().value();
  EXPECT_GT(dead, 0u) << out_status;
  HttpResponse letters = c.Get("/targets/" + std::to_string(out_target) + "/dead_letters");
  ASSERT_EQ(letters.status, 200);
  JsonDoc letters_doc = ParseJson(letters.body);
  simdjson::dom::array list = letters_doc.root().get_array().value();
  EXPECT_EQ(list.size(), dead);
  for (simdjson::dom::element letter : list) {
    const std::string error(letter["last_error"].get_string().value());
    EXPECT_NE(error.find("--file-push-root " + root), std::string::npos) << error;
    EXPECT_NE(error.find(outside), std::string::npos) << error;
    EXPECT_EQ(letter["attempts"].get_uint64().value(), 1u) << "a refusal is not retried";
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/elsewhere"));
  HttpResponse snap = c.Post("/targets/" + std::to_string(out_target) + "/delivery/snapshot", "");
  EXPECT_EQ(snap.status, 400) << snap.body;
  EXPECT_NE(snap.body.find(root), std::string::npos) << snap.body;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/elsewhere"));
  // Under the root, only the inside target's directory.
  EXPECT_EQ(ListDir(root), std::vector<std::string>{std::to_string(tenant_id)});
  EXPECT_EQ(serve.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace syncmgr::testing
