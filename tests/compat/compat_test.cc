// Format compatibility (docs/reliability.md, "Format compatibility"): each
// golden data directory of tests/compat/golden/, written by an earlier build
// (tests/compat/make_golden.sh), is opened by this build in every mode —
// read-only and secondary (in process, served over HTTP), `syncmgr replay
// --verify` and `--as-of` (a secondary), `syncmgr backup --db`, and
// read-write (`syncmgr serve`) — and must answer the reads it answered when
// written (its manifest.json and expected/*.json) and take new writes.
// The modes that do not write run on a pristine copy first, before a
// read-write open upgrades it, and again after. The committed directories are
// never opened: every step works on a copy.
#include <gtest/gtest.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "engine/engine.h"
#include "engine/store.h"
#include "server/server.h"
#include "tests/support/fault_fs.h"
#include "tests/support/files.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"
#include "tests/support/test_server.h"

#ifndef SYNCMGR_BIN
#error "SYNCMGR_BIN must name the built syncmgr binary"
#endif
#ifndef SYNCMGR_GOLDEN_DIR
#error "SYNCMGR_GOLDEN_DIR must name tests/compat/golden"
#endif

namespace syncmgr::testing {
namespace {

namespace fs = std::filesystem;
using simdjson::dom::element;
using simdjson::dom::element_type;

// ---- Structural comparison of JSON answers -----------------------------------

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

bool NumbersEqual(element a, element b) {
  if (a.type() == element_type::DOUBLE || b.type() == element_type::DOUBLE) {
    return double(a.get_double().value()) == double(b.get_double().value());
  }
  if (a.is_uint64() && b.is_uint64()) return uint64_t(a) == uint64_t(b);
  if (a.is_int64() && b.is_int64()) return int64_t(a) == int64_t(b);
  return false;  // one negative, one past INT64_MAX
}

// Adds to `diffs` every way in which `got` fails to hold `want`: each member
// of a recorded object must be present with an equal value (members this
// build adds are new fields, allowed); arrays must have the same length and
// hold element by element. One exception, `by_seq`: the `events` of a feed
// answer are matched by seq, and events that were not recorded are allowed —
// issue 16 puts every catalog event into the unfiltered feed, which earlier
// builds left out; every event they did serve must still be there, the same.
void Compare(element want, element got, const std::string& path, bool feed,
             std::vector<std::string>* diffs) {
  if (diffs->size() > 20) return;
  if (IsNumber(want.type()) && IsNumber(got.type())) {
    if (!NumbersEqual(want, got)) {
      diffs->push_back(path + ": " + simdjson::to_string(got) + ", recorded " +
                       simdjson::to_string(want));
    }
    return;
  }
  if (want.type() != got.type()) {
    diffs->push_back(path + ": " + simdjson::to_string(got) + ", recorded " +
                     simdjson::to_string(want));
    return;
  }
  switch (want.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object got_obj = got.get_object();
      for (auto [key, value] : want.get_object()) {
        element member;
        if (got_obj[key].get(member) != simdjson::SUCCESS) {
          diffs->push_back(path + "." + std::string(key) + ": missing");
          continue;
        }
        Compare(value, member, path + "." + std::string(key), feed, diffs);
      }
      return;
    }
    case element_type::ARRAY: {
      simdjson::dom::array w = want.get_array(), g = got.get_array();
      if (feed && path == "$.events") {
        std::map<uint64_t, element> by_seq;
        for (element e : g) by_seq[uint64_t(e["seq"])] = e;
        for (element e : w) {
          uint64_t seq = uint64_t(e["seq"]);
          auto it = by_seq.find(seq);
          if (it == by_seq.end()) {
            diffs->push_back(path + ": event seq " + std::to_string(seq) + " missing");
          } else {
            Compare(e, it->second, path + "[seq " + std::to_string(seq) + "]", feed, diffs);
          }
        }
        return;
      }
      if (w.size() != g.size()) {
        diffs->push_back(path + ": " + std::to_string(g.size()) + " elements, recorded " +
                         std::to_string(w.size()));
        return;
      }
      size_t i = 0;
      auto gi = g.begin();
      for (element e : w) {
        Compare(e, *gi, path + "[" + std::to_string(i++) + "]", feed, diffs);
        ++gi;
      }
      return;
    }
    default:
      if (simdjson::to_string(want) != simdjson::to_string(got)) {
        diffs->push_back(path + ": " + simdjson::to_string(got) + ", recorded " +
                         simdjson::to_string(want));
      }
  }
}

// ---- A golden directory --------------------------------------------------------

struct Read {
  std::string name, key, path;
  int status = 0;
};

struct Golden {
  std::string name;  // "b2bb978-wal"
  std::string dir;
  int format_version = 0;
  std::map<std::string, std::string> keys;  // "admin", "t1", "t2", ...
  uint64_t as_of_seq = 0;
  std::string as_of_time;
  std::vector<Read> reads;

  std::string Expected(const std::string& read) const {
    return ReadFile(dir + "/expected/" + read + ".json");
  }
};

Golden LoadGolden(const std::string& name) {
  Golden g;
  g.name = name;
  g.dir = std::string(SYNCMGR_GOLDEN_DIR) + "/" + name;
  JsonDoc doc = ParseJson(ReadFile(g.dir + "/manifest.json"));
  g.format_version = static_cast<int>(int64_t(doc["format_version"]));
  for (auto [k, v] : doc["keys"].get_object()) {
    g.keys[std::string(k)] = std::string(v.get_string().value());
  }
  g.as_of_seq = uint64_t(doc["as_of_seq"]);
  g.as_of_time = std::string(doc["as_of_time"].get_string().value());
  for (element r : doc["reads"].get_array()) {
    g.reads.push_back(Read{
        std::string(r["name"].get_string().value()), std::string(r["key"].get_string().value()),
        std::string(r["path"].get_string().value()), static_cast<int>(int64_t(r["status"]))});
  }
  return g;
}

std::vector<std::string> GoldenNames() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(SYNCMGR_GOLDEN_DIR, ec)) {
    if (fs::exists(e.path() / "manifest.json")) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every file of a directory (not the info LOG) with its size and
// modification time: equal fingerprints mean nothing was written.
std::map<std::string, std::pair<uintmax_t, int64_t>> Fingerprint(const std::string& dir) {
  std::map<std::string, std::pair<uintmax_t, int64_t>> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with("LOG")) continue;  // RocksDB's diagnostics, also on read-only opens
    out[name] = {e.file_size(), e.last_write_time().time_since_epoch().count()};
  }
  return out;
}

// ---- Raw RocksDB views of a directory (what the engine would not show) ----------

class NullLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

std::vector<std::string> ColumnFamilies(const std::string& dir) {
  std::vector<std::string> names;
  rocksdb::DBOptions o;
  o.info_log = std::make_shared<NullLogger>();
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(o, dir, &names);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::sort(names.begin(), names.end());
  return names;
}

// Opens `dir` with every family it has (read-only, or read-write), runs fn.
void WithRawDb(const std::string& dir, bool read_only,
               const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
  rocksdb::DBOptions o;
  o.info_log = std::make_shared<NullLogger>();
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const std::string& name : ColumnFamilies(dir)) {
    descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(o, dir, descs, &handles, &db)
                                : rocksdb::DB::Open(o, dir, descs, &handles, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
  for (size_t i = 0; i < descs.size(); ++i) {
    if (descs[i].name == rocksdb::kDefaultColumnFamilyName) default_cf = handles[i];
  }
  fn(db, default_cf);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db->Close().PermitUncheckedError();
  delete db;
}

// The directory's format record ("" when absent).
std::string FormatRecord(const std::string& dir) {
  std::string value;
  WithRawDb(dir, /*read_only=*/true, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    if (!db->Get(rocksdb::ReadOptions(), cf, "format_version", &value).ok()) value.clear();
  });
  return value;
}

// The families a directory of `format` has, sorted.
std::vector<std::string> FamiliesOfFormat(int format) {
  std::vector<std::string> names = {"default", "log",  "stream", "state", "history", "dense",
                                    "catalog", "auth", "oplog",  "meta",  "bitmaps"};
  if (format >= 2) names.push_back("delivery");
  if (format >= 3) names.push_back("manual");
  std::sort(names.begin(), names.end());
  return names;
}

// ---- Servers ------------------------------------------------------------------------

// Where the reads go: a port, and the golden's keys.
class Reader {
 public:
  Reader(const Golden& golden, uint16_t port) : golden_(golden), port_(port) {}

  HttpClient Client(const std::string& key_name) const {
    HttpClient c(port_);
    auto it = golden_.keys.find(key_name);
    EXPECT_NE(it, golden_.keys.end()) << key_name;
    if (it != golden_.keys.end()) c.set_api_key(it->second);
    return c;
  }

  // GET path with a key; compares the answer with a recorded one.
  void ExpectAnswer(const std::string& key, const std::string& path, int status,
                    const std::string& recorded, const std::string& what) const {
    HttpClient c = Client(key);
    HttpResponse r = c.Get(path);
    ASSERT_EQ(r.status, status) << what << ": GET " << path << " " << r.body << c.error();
    JsonDoc want = ParseJson(recorded);
    JsonDoc got = ParseJson(r.body);
    std::vector<std::string> diffs;
    Compare(want.root(), got.root(), "$", path.starts_with("/feed"), &diffs);
    EXPECT_TRUE(diffs.empty()) << what << ": GET " << path
                               << " differs from the recorded answer:\n  " << [&] {
                                    std::string s;
                                    for (const auto& d : diffs) s += d + "\n  ";
                                    return s;
                                  }();
  }

  // Every recorded read answers as it did when the directory was written,
  // and the counts agree with the recorded lists (ExpectCounts).
  void ExpectRecordedReads(const std::string& what) const {
    for (const Read& read : golden_.reads) {
      ExpectAnswer(read.key, read.path, read.status, golden_.Expected(read.name),
                   what + " [" + read.name + "]");
    }
    ExpectCounts(what);
  }

  // live_count, manual_count and ?manually_modified=true (format 3; SPEC §4),
  // whatever format the directory is in and however it is opened: for every
  // stream whose whole list was recorded (t1_target_1_properties, ...), its
  // live_count is the length of that list, a target's manual_count the
  // number of its rows with manually_modified, and its manually_modified
  // list exactly those rows. Builds before format 3 never served these: the
  // values come from the state they recorded. (In every golden directory
  // target 1 of t1 has two: m1, created by hand, and r09, edited after the
  // last sync; r10 was removed by hand and is not live.)
  void ExpectCounts(const std::string& what) const {
    int streams = 0;
    for (const Read& read : golden_.reads) {
      // "t1_target_3_properties": key, kind, id.
      std::vector<std::string> part;
      std::stringstream ss(read.name);
      for (std::string p; std::getline(ss, p, '_');) part.push_back(p);
      if (part.size() != 4 || part[3] != "properties" || read.status != 200) continue;
      if (part[1] != "source" && part[1] != "target") continue;
      ++streams;
      const std::string base = "/" + part[1] + "s/" + part[2];
      const std::string trace = what + " [" + read.name + " counts]";
      JsonDoc recorded = ParseJson(golden_.Expected(read.name));
      std::string manual_rows = "[";
      size_t live = 0, manual = 0;
      for (element row : simdjson::dom::array(recorded.root())) {
        ++live;
        bool edited = false;
        if (row["manually_modified"].get_bool().get(edited) == simdjson::SUCCESS && edited) {
          manual_rows += (manual++ ? "," : "") + simdjson::to_string(row);
        }
      }
      manual_rows += "]";
      HttpClient c = Client(part[0]);
      HttpResponse one = c.Get(base);
      ASSERT_EQ(one.status, 200) << trace << " " << one.body;
      JsonDoc got = ParseJson(one.body);
      uint64_t n = 0;
      EXPECT_EQ(got["live_count"].get_uint64().get(n), simdjson::SUCCESS) << trace << one.body;
      EXPECT_EQ(n, live) << trace;
      if (part[1] == "target") {
        EXPECT_EQ(got["manual_count"].get_uint64().get(n), simdjson::SUCCESS) << trace << one.body;
        EXPECT_EQ(n, manual) << trace;
        ExpectAnswer(part[0], base + "/properties?manually_modified=true", 200, manual_rows, trace);
        if (read.name == "t1_target_1_properties") {
          EXPECT_EQ(manual, 2u) << trace << ": m1 and r09";
        }
      } else {
        EXPECT_TRUE(got["manual_count"].error()) << trace;
      }
    }
    EXPECT_GE(streams, 4) << what << ": no recorded lists to count";
  }

  // A directory replayed to the golden's as_of point (`which`: "seq" or
  // "time") serves, as its current state, what the writing build answered
  // for that point in the past, with the counts of that state.
  void ExpectReplayedState(const std::string& which, const std::string& what) const {
    for (const std::string stream : {"source_1", "source_2", "target_1", "target_2"}) {
      std::string kind = stream.substr(0, stream.find('_')) + "s";
      std::string id = stream.substr(stream.find('_') + 1);
      const std::string recorded = golden_.Expected("t1_" + stream + "_as_of_" + which);
      ExpectAnswer("t1", "/" + kind + "/" + id + "/properties", 200, recorded,
                   what + " " + stream);
      JsonDoc then = ParseJson(recorded);
      JsonDoc now = ParseJson(Client("t1").Get("/" + kind + "/" + id).body);
      uint64_t live = 0;
      EXPECT_EQ(now["live_count"].get_uint64().get(live), simdjson::SUCCESS) << what << stream;
      EXPECT_EQ(live, simdjson::dom::array(then.root()).size()) << what << " " << stream;
    }
  }

 private:
  const Golden& golden_;
  uint16_t port_;
};

// This build's engine on `db` opened read-only or as a secondary, served in
// process by the real server.
class InProcess {
 public:
  InProcess(const Golden& golden, const std::string& db, const std::string& secondary) {
    EngineOptions eo;
    eo.path = db;
    eo.read_only = secondary.empty();
    eo.secondary_path = secondary;
    eo.min_free_bytes = 0;
    StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(eo);
    if (!engine.ok()) {
      ADD_FAILURE() << "Engine::Open of " << db << ": " << engine.status().ToString();
      return;
    }
    engine_ = std::move(*engine);
    server::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.admin_key_sha256 = server::HashAdminKey(golden.keys.at("admin"));
    so.request_log = [](std::string_view) {};
    server_ = std::make_unique<server::Server>(*engine_, so);
    Status st = server_->Start();
    if (!st.ok()) {
      ADD_FAILURE() << "Server::Start: " << st.ToString();
      server_.reset();
    }
  }
  ~InProcess() {
    if (server_) server_->Stop();
    server_.reset();
    engine_.reset();
  }
  bool ok() const { return server_ != nullptr; }
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<server::Server> server_;
};

// `syncmgr serve` of this build on `db`, with the golden's admin key (Start() it).
ServeProcess Serve(const Golden& golden, const std::string& db, const std::string& log) {
  ServeOptions o;
  o.binary = SYNCMGR_BIN;
  o.db = db;
  o.log = log;
  o.admin_key = golden.keys.at("admin");
  return ServeProcess(o);
}

// ---- The test -------------------------------------------------------------------

class CompatTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    golden_ = LoadGolden(GetParam());
    ASSERT_FALSE(golden_.reads.empty()) << golden_.dir;
  }

  // A fresh copy of the golden db/ (the committed one is never opened).
  std::string Copy(const std::string& name) {
    std::string to = tmp_.path() + "/" + name;
    fs::copy(golden_.dir + "/db", to, fs::copy_options::recursive);
    return to;
  }
  std::string Path(const std::string& name) const { return tmp_.path() + "/" + name; }

  ProcessResult Syncmgr(std::vector<std::string> args) {
    args.insert(args.begin(), SYNCMGR_BIN);
    return RunProcess(args);
  }

  // Serves `db` with `syncmgr serve` and checks every recorded read.
  void ServeAndRead(const std::string& db, const std::string& what) {
    ServeProcess serve = Serve(golden_, db, db + ".serve.log");
    ASSERT_TRUE(serve.Start());
    Reader(golden_, serve.port()).ExpectRecordedReads(what);
    EXPECT_EQ(serve.Stop(), std::optional<int>(0)) << what;
  }

  // The modes that write nothing into `db`: read-only and secondary opens
  // served in process, replay --verify, replay --as-of SEQ and TIME (each
  // output served); then the files of `db` are as they were.
  void ReadOnlyModes(const std::string& db, const std::string& when) {
    const auto before = Fingerprint(db);
    {
      SCOPED_TRACE("read-only open " + when);
      InProcess served(golden_, db, "");
      ASSERT_TRUE(served.ok());
      Reader reader(golden_, served.port());
      reader.ExpectRecordedReads("read-only " + when);
      // Writes are refused, not attempted.
      HttpResponse r = reader.Client("t1").Post("/sources", R"({"name":"refused"})");
      EXPECT_EQ(r.status, 503) << r.body;
    }
    {
      SCOPED_TRACE("secondary open " + when);
      std::string scratch = db + ".secondary";
      fs::create_directories(scratch);
      InProcess served(golden_, db, scratch);
      ASSERT_TRUE(served.ok());
      Reader(golden_, served.port()).ExpectRecordedReads("secondary " + when);
    }
    {
      SCOPED_TRACE("replay --verify " + when);
      ProcessResult r = Syncmgr({"replay", "--db", db, "--verify", "--no-progress"});
      EXPECT_EQ(r.exit_code, 0) << Describe(r);
      EXPECT_NE(r.out.find("Views match the log"), std::string::npos) << Describe(r);
    }
    for (const std::string which : {"seq", "time"}) {
      SCOPED_TRACE("replay --as-of " + which + " " + when);
      std::string point = which == "seq" ? std::to_string(golden_.as_of_seq) : golden_.as_of_time;
      std::string out = db + ".as-of-" + which;
      ProcessResult r =
          Syncmgr({"replay", "--db", db, "--as-of", point, "--out", out, "--no-progress"});
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
      ServeProcess serve = Serve(golden_, out, out + ".serve.log");
      ASSERT_TRUE(serve.Start());
      Reader(golden_, serve.port()).ExpectReplayedState(which, "replay --as-of " + which);
    }
    EXPECT_EQ(Fingerprint(db), before)
        << "a mode that does not write changed " << db << " " << when;
  }

  // `syncmgr backup --db` (no server): the copy keeps the format of `db`, and
  // so does `db`; the copy then serves every recorded read.
  void OfflineBackup(const std::string& db, const std::string& when) {
    SCOPED_TRACE("backup --db " + when);
    const std::vector<std::string> families = ColumnFamilies(db);
    const std::string record = FormatRecord(db);
    std::string out = db + ".backup";
    ProcessResult r = Syncmgr({"backup", "--db", db, "--out", out});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(ColumnFamilies(db), families) << "backup changed the format of what it copied";
    EXPECT_EQ(FormatRecord(db), record);
    EXPECT_EQ(ColumnFamilies(out), families) << "the backup is not in the format it copied";
    EXPECT_EQ(FormatRecord(out), record);
    ServeAndRead(out, "backup --db " + when);
  }

  Golden golden_;
  TempDir tmp_;
};

TEST_P(CompatTest, EveryOpenMode) {
  const std::string format = std::to_string(golden_.format_version);
  // Pristine: as the earlier build left it.
  const std::string pristine = Copy("pristine");
  ASSERT_EQ(ColumnFamilies(pristine), FamiliesOfFormat(golden_.format_version));
  // The builds of formats 1 and 2 whose directories are here wrote no
  // format record; from format 3 on every build writes it.
  const std::string record =
      golden_.format_version > kLastFormatWithoutRecord ? format : std::string();
  ASSERT_EQ(FormatRecord(pristine), record) << "the format record as the writing build left it";
  ReadOnlyModes(pristine, "(pristine, format " + format + ")");
  EXPECT_EQ(FormatRecord(pristine), record) << "a read-only mode wrote the format record";
  EXPECT_EQ(ColumnFamilies(pristine), FamiliesOfFormat(golden_.format_version));
  OfflineBackup(Copy("pristine-for-backup"), "(pristine, format " + format + ")");

  // Read-write: serve upgrades the directory to this build's format and
  // answers the same.
  const std::string live = Copy("live");
  ServeAndRead(live, "serve (read-write, from format " + format + ")");
  EXPECT_EQ(ColumnFamilies(live), FamiliesOfFormat(kFormatVersion));
  EXPECT_EQ(FormatRecord(live), std::to_string(kFormatVersion));

  // Upgraded: every mode again.
  ReadOnlyModes(live, "(upgraded)");
  OfflineBackup(live, "(upgraded)");

  // A server on it: a secondary follows it (replay), a backup goes through
  // it, and new writes succeed.
  {
    SCOPED_TRACE("server running");
    ServeProcess serve = Serve(golden_, live, live + ".serve2.log");
    ASSERT_TRUE(serve.Start());
    Reader reader(golden_, serve.port());
    ProcessResult verify = Syncmgr({"replay", "--db", live, "--verify", "--no-progress"});
    EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
    std::string replayed = Path("live-as-of-time");
    ProcessResult replay = Syncmgr({"replay", "--db", live, "--as-of", golden_.as_of_time, "--out",
                                    replayed, "--no-progress"});
    ASSERT_EQ(replay.exit_code, 0) << Describe(replay);
    std::string backup = Path("live-online-backup");
    ProcessResult online = RunProcess({SYNCMGR_BIN, "backup", "--url",
                                       "http://127.0.0.1:" + std::to_string(serve.port()),
                                       "--api-key", golden_.keys.at("admin"), "--out", backup});
    ASSERT_EQ(online.exit_code, 0) << Describe(online);

    HttpClient t1 = reader.Client("t1");
    HttpResponse imported = t1.Post(
        "/sources/1/import", R"([{"ref":"r99","title":"Flat 99","price":99,"scraped_at":"x"}])");
    ASSERT_EQ(imported.status, 200) << imported.body;
    EXPECT_NE(imported.body.find("\"created\":1"), std::string::npos) << imported.body;
    HttpResponse synced = t1.Post("/sync/1/1", "");
    ASSERT_EQ(synced.status, 200) << synced.body;
    EXPECT_NE(synced.body.find("\"created\":1"), std::string::npos) << synced.body;
    EXPECT_EQ(t1.Get("/targets/1/properties/r99").status, 200);
    const uint64_t manual_before = uint64_t(ParseJson(t1.Get("/targets/1").body)["manual_count"]);
    HttpResponse edited = t1.Put("/targets/1/properties/r99", R"({"ref":"r99","price":100})");
    EXPECT_EQ(edited.status, 200) << edited.body;
    // The upgraded views go on counting: one more open conflict, listed.
    JsonDoc target = ParseJson(t1.Get("/targets/1").body);
    EXPECT_EQ(uint64_t(target["manual_count"]), manual_before + 1);
    HttpResponse manual = t1.Get("/targets/1/properties?manually_modified=true&after=r98&limit=1");
    EXPECT_NE(manual.body.find("\"external_id\":\"r99\""), std::string::npos) << manual.body;
    HttpResponse tenant = reader.Client("admin").Post("/tenants", R"({"name":"After upgrade"})");
    EXPECT_EQ(tenant.status, 201) << tenant.body;
    EXPECT_EQ(serve.Stop(), std::optional<int>(0));

    ServeAndRead(backup, "backup --url (upgraded)");
    ServeProcess replay_serve = Serve(golden_, replayed, replayed + ".serve.log");
    ASSERT_TRUE(replay_serve.Start());
    Reader(golden_, replay_serve.port()).ExpectReplayedState("time", "replay of a served dir");
  }
  ProcessResult verify = Syncmgr({"replay", "--db", live, "--verify", "--no-progress"});
  EXPECT_EQ(verify.exit_code, 0) << "after new writes: " << Describe(verify);
}

// The upgrade to format 3 builds views (the counts, the manual bitmaps) and
// writes them with the format record in one batch. A power cut at any point
// of a read-write open of an older directory leaves it either as it was
// (no record: the old format, read as such, its counts found by scanning)
// or upgraded whole; the next open finishes the job. Each cut runs in a
// child whose file I/O goes through FaultFs (tests/support/fault_fs.h).
TEST_P(CompatTest, PowerCutDuringTheUpgradeLeavesOldOrNewFormat) {
  if (golden_.format_version >= kFormatCounts) GTEST_SKIP() << "no upgrade from this format";
  // The child: opens `db` read-write (upgrading it) through FaultFs, cut at
  // op `cut` (0: never); writes the ops its open took to `ops_file`.
  auto child = [](const std::string& db, uint64_t cut, const std::string& ops_file) -> int {
    pid_t pid = fork();
    if (pid == 0) {
      auto fs = std::make_shared<FaultFs>();
      std::unique_ptr<rocksdb::Env> env = FaultFs::NewEnv(fs);
      fs->CutPowerAt(cut, FaultFs::CutMode::kKeepUnsyncedPrefix, cut);
      EngineOptions o;
      o.path = db;
      o.env = env.get();
      o.min_free_bytes = 0;
      auto e = Engine::Open(o);
      if (!e.ok()) _exit(3);
      std::ofstream(ops_file) << fs->ops();
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  };
  // What every state a cut may leave must satisfy: the format is the old one
  // or 3, the views equal the fold of the log at that format, and the counts
  // are those of the recorded lists.
  auto check = [&](const std::string& db, const std::string& what) {
    const std::string record = FormatRecord(db);
    EXPECT_TRUE(record.empty() || record == std::to_string(kFormatVersion)) << what << record;
    EngineOptions o;
    o.path = db;
    o.read_only = true;
    o.min_free_bytes = 0;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << what << ": " << e.status().ToString();
    std::vector<std::string> diffs;
    Status verified = (*e)->VerifyViews(&diffs);
    EXPECT_TRUE(verified.ok()) << what << ": " << verified.ToString()
                               << (diffs.empty() ? "" : "\n" + diffs[0]);
    auto target = (*e)->GetTarget(1, 1);
    ASSERT_TRUE(target.ok()) << what;
    EXPECT_EQ(target->live_count, std::optional<uint64_t>(12)) << what;
    EXPECT_EQ(target->manual_count, std::optional<uint64_t>(2)) << what;  // m1, r09
  };

  const std::string ops_file = Path("ops");
  ASSERT_EQ(child(Copy("probe"), 0, ops_file), 0);
  uint64_t open_ops = 0;
  std::ifstream(ops_file) >> open_ops;
  ASSERT_GT(open_ops, 0u);
  // Where to cut: N points spread over the open's ops, and every one of its
  // last N ops (the upgrade's batch and the format record are written at the
  // end of the open, after RocksDB's recovery). N = 12 in CI (each cut costs
  // two opens and two verifies, seconds under ASan); SYNCMGR_COMPAT_CUTS=N
  // for another N, 0 for every op (scripts/soak-format-upgrade.sh).
  uint64_t n = 12;
  if (const char* env = std::getenv("SYNCMGR_COMPAT_CUTS")) n = std::strtoull(env, nullptr, 10);
  std::set<uint64_t> cuts;
  const uint64_t step = n == 0 ? 1 : std::max<uint64_t>(1, open_ops / n);
  for (uint64_t cut = 1; cut <= open_ops; cut += step) cuts.insert(cut);
  for (uint64_t cut = open_ops > n ? open_ops - n + 1 : 1; cut <= open_ops; ++cut) cuts.insert(cut);
  int cut_old = 0, cut_new = 0;
  for (const uint64_t cut : cuts) {
    SCOPED_TRACE("power cut at op " + std::to_string(cut) + " of " + std::to_string(open_ops));
    const std::string db = Copy("cut-" + std::to_string(cut));
    const int code = child(db, cut, ops_file);
    ASSERT_TRUE(code == FaultFs::kPowerCutExitCode || code == 0) << "child exit " << code;
    (FormatRecord(db).empty() ? cut_old : cut_new)++;
    check(db, "after the cut");
    // The next open upgrades (or finds it upgraded), and all is well.
    ASSERT_EQ(child(db, 0, ops_file), 0);
    EXPECT_EQ(FormatRecord(db), std::to_string(kFormatVersion));
    check(db, "reopened");
    fs::remove_all(db);
  }
  // Both outcomes were met: cuts before the upgrade's batch was durable, and after.
  EXPECT_GT(cut_old, 0);
  EXPECT_GT(cut_new, 0);
}

INSTANTIATE_TEST_SUITE_P(Golden, CompatTest, ::testing::ValuesIn(GoldenNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Every format this build reads has its golden directories, in both forms.
TEST(CompatGolden, EveryFormatHasGoldenDirectories) {
  std::map<int, std::set<std::string>> forms;
  for (const std::string& name : GoldenNames()) {
    Golden g = LoadGolden(name);
    forms[g.format_version].insert(name.substr(name.rfind('-') + 1));
  }
  for (int v = 1; v <= kFormatVersion; ++v) {
    EXPECT_EQ(forms[v], (std::set<std::string>{"backup", "wal"})) << "format " << v;
  }
}

// ---- Directories this build must refuse ---------------------------------------------

// A copy of the golden directory of this build's own format (the WAL form).
std::string CopyOfNewestGolden(const std::string& to) {
  for (const std::string& name : GoldenNames()) {
    Golden g = LoadGolden(name);
    if (g.format_version == kFormatVersion && name.ends_with("-wal")) {
      fs::copy(g.dir + "/db", to, fs::copy_options::recursive);
      return g.keys.at("admin");
    }
  }
  ADD_FAILURE() << "no golden directory of format " << kFormatVersion;
  return "";
}

// Every mode of this build refuses `db`, each with one message containing
// `why` and naming what to run; none creates its output.
void ExpectRefusedEverywhere(const std::string& db, const std::string& admin_key,
                             const std::string& why, const std::string& scratch) {
  // Exit 3 (the data directory cannot be used), one line, no usage hint.
  auto expect_refused = [&](const ProcessResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 3) << what << ": " << Describe(r);
    EXPECT_FALSE(r.timed_out) << what;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << Describe(r);
    EXPECT_TRUE(r.err.starts_with("syncmgr: conflict: data directory "))
        << what << ": " << Describe(r);
    EXPECT_EQ(r.err.find("--help"), std::string::npos) << what << ": " << Describe(r);
    EXPECT_NE(r.err.find(why), std::string::npos) << what << ": " << Describe(r);
    EXPECT_NE(r.err.find("newer syncmgr"), std::string::npos) << what << ": " << Describe(r);
    EXPECT_NE(r.err.find("Open it with the syncmgr that wrote it or a later one"),
              std::string::npos)
        << what << ": " << Describe(r);
  };
  ProcessOptions po;
  po.env = {{"SYNCMGR_ADMIN_KEY", admin_key}};
  po.timeout = std::chrono::seconds(60);
  expect_refused(
      RunProcess({SYNCMGR_BIN, "serve", "--db", db, "--port", std::to_string(FreeLoopbackPort())},
                 po),
      "serve");
  expect_refused(RunProcess({SYNCMGR_BIN, "replay", "--db", db, "--verify", "--no-progress"}),
                 "replay --verify");
  expect_refused(RunProcess({SYNCMGR_BIN, "replay", "--db", db, "--as-of", "1", "--out",
                             scratch + "/replayed", "--no-progress"}),
                 "replay --as-of");
  EXPECT_FALSE(fs::exists(scratch + "/replayed"));
  expect_refused(RunProcess({SYNCMGR_BIN, "backup", "--db", db, "--out", scratch + "/backup"}),
                 "backup --db");
  EXPECT_FALSE(fs::exists(scratch + "/backup"));
  EngineOptions eo;
  eo.path = db;
  eo.read_only = true;
  StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(eo);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), Code::kConflict);
  EXPECT_NE(engine.status().message().find(why), std::string::npos) << engine.status().ToString();
}

TEST(CompatRefusal, NewerFormatRecordIsRefusedInEveryMode) {
  TempDir tmp;
  const std::string db = tmp.path() + "/db";
  const std::string admin = CopyOfNewestGolden(db);
  const std::string newer = std::to_string(kFormatVersion + 1);
  WithRawDb(db, /*read_only=*/false, [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* cf) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(raw->Put(wo, cf, "format_version", newer).ok());
  });
  const std::vector<std::string> families = ColumnFamilies(db);
  ExpectRefusedEverywhere(db, admin, "on-disk format " + newer, tmp.path());
  // Refused before the engine read or wrote anything of its own.
  EXPECT_EQ(FormatRecord(db), newer);
  EXPECT_EQ(ColumnFamilies(db), families);
}

TEST(CompatRefusal, UnknownColumnFamilyIsRefusedBeforeOpening) {
  TempDir tmp;
  const std::string db = tmp.path() + "/db";
  const std::string admin = CopyOfNewestGolden(db);
  WithRawDb(db, /*read_only=*/false, [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle*) {
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(raw->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "future", &h).ok());
    raw->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  });
  const auto before = Fingerprint(db);
  ExpectRefusedEverywhere(db, admin, "column family this build does not know, 'future'",
                          tmp.path());
  EXPECT_EQ(Fingerprint(db), before) << "a refused open changed the directory";
}

TEST(CompatFormat, NewDirectoryHasTheFormatRecord) {
  TempDir tmp;
  const std::string db = tmp.path() + "/db";
  ProcessResult r = RunProcess({SYNCMGR_BIN, "--db", db, "tenant", "create", "Acme"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ColumnFamilies(db), FamiliesOfFormat(kFormatVersion));
  EXPECT_EQ(FormatRecord(db), std::to_string(kFormatVersion));
}

}  // namespace
}  // namespace syncmgr::testing
