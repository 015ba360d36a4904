// Point in time, three ways (issue 5): for many points X of a random seeded
// workload of imports (upsert and full), syncs (keep / overwrite, dry runs,
// conflicts) and manual edits and removals, driven over HTTP against a real
// server,
//   1. `as_of=X` over HTTP (lists, paged lists, single properties),
//   2. a directory replayed at X (Engine::ReplayInto), served by its own
//      server, read without as_of, and
//   3. the test's own model of every source and target, recorded at X,
// all agree. X is a seq (every operation boundary) or an RFC 3339 time
// (taken between operations, in UTC and with an offset).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "server/server.h"
#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

// Workload size: bounded so the test stays well under 30 s with ASan on 2
// cores.
constexpr int kOps = 110;
constexpr int kIds = 24;          // external ids p00..p23
constexpr int kReplays = 6;       // seq points also checked against a replay
constexpr uint32_t kSources = 2;  // source ids 1..2
constexpr uint32_t kTargets = 2;  // target ids 1..2

struct Prop {
  std::string data;  // canonical JSON when live
  uint32_t version = 0;
  bool live = false;
  uint32_t source_id = 0;  // targets: where the copy came from (0: manual)
  bool manual = false;     // targets: last change was manual
};
using Stream = std::map<std::string, Prop>;  // removed ones kept (live = false)

struct Model {
  std::map<uint32_t, Stream> sources;
  std::map<uint32_t, Stream> targets;
};

struct SyncCounts {
  uint64_t created = 0, updated = 0, unchanged = 0, removed = 0, conflicts = 0;
};

std::string Id(int i) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "p%02d", i);
  return buf;
}

// Keys in byte order, no spaces: this is already the canonical form.
std::string ItemJson(const std::string& id, int n, bool tagged) {
  return "{\"external_id\":\"" + id + "\",\"n\":" + std::to_string(n) +
         (tagged ? ",\"t\":\"x\"" : "") + "}";
}

// The model of a sync: a full comparison over every id the source ever had
// (what the engine's incremental sync must be equivalent to).
SyncCounts ModelSync(Model* m, uint32_t s, uint32_t g, bool overwrite, bool dry_run) {
  SyncCounts c;
  Model copy = *m;
  Model& w = dry_run ? copy : *m;
  Stream& tgt = w.targets[g];
  for (const auto& [ext, sp] : w.sources[s]) {
    auto it = tgt.find(ext);
    Prop* tp = it == tgt.end() ? nullptr : &it->second;
    bool tgt_live = tp != nullptr && tp->live;
    bool manual = tp != nullptr && tp->manual;
    if (sp.live) {
      if (tgt_live && tp->data == sp.data) {
        ++c.unchanged;
        continue;
      }
      if (manual) {
        ++c.conflicts;
        if (!overwrite) continue;
      }
      ++(tgt_live ? c.updated : c.created);
      Prop& p = tgt[ext];
      p.version = p.version + 1;
      p.data = sp.data;
      p.live = true;
      p.source_id = s;
      p.manual = false;
    } else {
      if (!tgt_live || tp->source_id != s) continue;
      if (manual) {
        ++c.conflicts;
        if (!overwrite) continue;
      }
      ++c.removed;
      tp->version += 1;
      tp->live = false;
      tp->manual = false;
    }
  }
  return c;
}

// simdjson helpers (exceptions on: a malformed answer fails the test).
std::string Minified(simdjson::dom::element e) { return simdjson::minify(e); }

uint64_t U64(simdjson::dom::element e, const char* key) { return uint64_t(e[key]); }

// Splits a JSON array answer into the minified text of each element.
std::vector<std::string> Elements(const std::string& body) {
  JsonDoc doc = ParseJson(body);
  std::vector<std::string> out;
  simdjson::dom::array arr;
  if (doc.root().get_array().get(arr) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not an array: " << body.substr(0, 300);
    return out;
  }
  for (simdjson::dom::element e : arr) out.push_back(Minified(e));
  return out;
}

class ReplayAgreementTest : public ::testing::Test {
 protected:
  struct Point {
    uint64_t seq = 0;
    Model model;
  };
  struct TimePoint {
    std::string rfc3339;  // as sent
    int64_t time_us = 0;
    size_t point = 0;  // index into points_: the state at that time
  };

  void SetUp() override {
    tenant_ = server_.CreateTenant("acme");
    other_ = server_.CreateTenant("other");
    client_ = std::make_unique<HttpClient>(server_.Client(tenant_.api_key));
    other_client_ = std::make_unique<HttpClient>(server_.Client(other_.api_key));
    for (uint32_t s = 1; s <= kSources; ++s) {
      ASSERT_EQ(client_->Post("/sources", "{\"name\":\"s" + std::to_string(s) +
                                              "\",\"config\":{\"max_removal_ratio\":0.5}}")
                    .status,
                201);
    }
    for (uint32_t g = 1; g <= kTargets; ++g) {
      ASSERT_EQ(client_->Post("/targets", "{\"name\":\"t" + std::to_string(g) + "\"}").status,
                201);
    }
    ASSERT_EQ(other_client_->Post("/sources", R"({"name":"o"})").status, 201);
  }

  // Records the state after an operation that ended at `seq`.
  void Record(uint64_t seq) {
    ASSERT_TRUE(points_.empty() || seq > points_.back().seq) << seq;
    points_.push_back({seq, model_});
  }

  static uint64_t SeqOf(const HttpResponse& r) { return U64(ParseJson(r.body).root(), "seq"); }

  void DoImport(std::mt19937& rng) {
    uint32_t s = 1 + rng() % kSources;
    bool full = rng() % 4 == 0;
    std::map<std::string, std::string> batch;
    int n = 1 + rng() % (full ? kIds : 8);
    for (int i = 0; i < n; ++i) {
      std::string id = Id(rng() % kIds);
      batch[id] = ItemJson(id, rng() % 3, rng() % 5 == 0);
    }
    Stream& src = model_.sources[s];
    uint64_t live = 0, removals = 0;
    for (const auto& [ext, p] : src) {
      if (!p.live) continue;
      ++live;
      if (full && !batch.count(ext)) ++removals;
    }
    // The mass-removal guard (max_removal_ratio 0.5): sometimes asked for,
    // and then only where the answer is clear-cut.
    bool allow = rng() % 2 == 0 || removals * 2 == live;
    bool refused = full && !allow && removals * 2 > live;
    std::string body = "{\"mode\":\"" + std::string(full ? "full" : "upsert") + "\",\"data\":[";
    bool first = true;
    for (const auto& [id, item] : batch) {
      body += (first ? "" : ",") + item;
      first = false;
    }
    body += "]}";
    std::string url = "/sources/" + std::to_string(s) + "/import";
    if (allow) url += "?allow_mass_removal=true";
    HttpResponse r = client_->Post(url, body);
    if (refused) {
      ASSERT_EQ(r.status, 409) << r.body;  // writes nothing: the model stays
      return;
    }
    ASSERT_EQ(r.status, 200) << r.body;
    uint64_t created = 0, updated = 0, unchanged = 0, removed = 0;
    for (const auto& [id, item] : batch) {
      Prop& p = src[id];
      if (!p.live) {
        ++created;
      } else if (p.data == item) {
        ++unchanged;
        continue;
      } else {
        ++updated;
      }
      p.version += 1;
      p.data = item;
      p.live = true;
    }
    if (full) {
      for (auto& [ext, p] : src) {
        if (p.live && !batch.count(ext)) {
          p.live = false;
          p.version += 1;
          ++removed;
        }
      }
    }
    JsonDoc doc = ParseJson(r.body);
    simdjson::dom::element stats = doc["stats"];
    EXPECT_EQ(U64(stats, "created"), created) << r.body;
    EXPECT_EQ(U64(stats, "updated"), updated) << r.body;
    EXPECT_EQ(U64(stats, "unchanged"), unchanged) << r.body;
    EXPECT_EQ(U64(stats, "removed"), removed) << r.body;
    Record(SeqOf(r));
  }

  void DoSync(std::mt19937& rng) {
    uint32_t s = 1 + rng() % kSources;
    uint32_t g = 1 + rng() % kTargets;
    bool overwrite = rng() % 3 == 0;
    bool dry_run = rng() % 6 == 0;
    std::string url = "/sync/" + std::to_string(s) + "/" + std::to_string(g) +
                      "?on_conflict=" + (overwrite ? "overwrite" : "keep") +
                      (dry_run ? "&dry_run=true" : "");
    HttpResponse r = client_->Post(url, "");
    ASSERT_EQ(r.status, 200) << r.body;
    SyncCounts want = ModelSync(&model_, s, g, overwrite, dry_run);
    JsonDoc doc = ParseJson(r.body);
    simdjson::dom::element stats = doc["stats"];
    EXPECT_EQ(U64(stats, "created"), want.created) << url << " " << r.body;
    EXPECT_EQ(U64(stats, "updated"), want.updated) << url << " " << r.body;
    EXPECT_EQ(U64(stats, "unchanged"), want.unchanged) << url << " " << r.body;
    EXPECT_EQ(U64(stats, "removed"), want.removed) << url << " " << r.body;
    EXPECT_EQ(U64(stats, "conflicts"), want.conflicts) << url << " " << r.body;
    if (!dry_run) Record(SeqOf(r));
  }

  void DoManual(std::mt19937& rng) {
    uint32_t g = 1 + rng() % kTargets;
    std::string id = Id(rng() % kIds);
    std::string url = "/targets/" + std::to_string(g) + "/properties/" + id;
    Stream& tgt = model_.targets[g];
    auto it = tgt.find(id);
    bool live = it != tgt.end() && it->second.live;
    if (rng() % 3 == 0) {
      HttpResponse r = client_->Delete(url);
      if (!live) {
        ASSERT_EQ(r.status, 404) << r.body;
        return;
      }
      ASSERT_EQ(r.status, 200) << r.body;
      Prop& p = it->second;
      p.live = false;
      p.version += 1;
      p.manual = true;
      Record(SeqOf(r));
      return;
    }
    std::string data = ItemJson(id, rng() % 3, rng() % 2 == 0);
    HttpResponse r = client_->Put(url, data);
    ASSERT_EQ(r.status, 200) << r.body;
    if (live && it->second.data == data) return;  // idempotent: no version
    Prop& p = tgt[id];
    p.version += 1;
    p.data = data;
    p.live = true;
    p.manual = true;
    Record(SeqOf(r));
  }

  // The other tenant writes too: its seqs and events must not show in ours.
  void DoOtherTenant(std::mt19937& rng) {
    std::string body = "[" + ItemJson(Id(rng() % kIds), rng() % 3, false) + "]";
    ASSERT_EQ(other_client_->Post("/sources/1/import", body).status, 200);
  }

  // A time between two operations: every event of the one before is at or
  // before it, every event of the one after is after it.
  void MarkTime(bool with_offset) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    time_t secs = static_cast<time_t>(now / 1000000);
    int64_t micros = now % 1000000;
    // With an offset, the same instant written as local time at +02:30.
    if (with_offset) secs += 2 * 3600 + 30 * 60;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld%s", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros), with_offset ? "+02:30" : "Z");
    times_.push_back({buf, now, points_.size() - 1});
  }

  // Reads every stream of the tenant as of `as_of` ("" = now) from `client`.
  // Returns the list bodies, keyed "sources/1" etc.
  std::map<std::string, std::string> ReadLists(HttpClient& client, const std::string& as_of) {
    std::map<std::string, std::string> out;
    for (const char* kind : {"sources", "targets"}) {
      uint32_t n = std::string(kind) == "sources" ? kSources : kTargets;
      for (uint32_t id = 1; id <= n; ++id) {
        std::string path = std::string("/") + kind + "/" + std::to_string(id) + "/properties";
        HttpResponse r = client.Get(path + (as_of.empty() ? "" : "?as_of=" + as_of));
        EXPECT_EQ(r.status, 200) << path << " as_of=" << as_of << ": " << r.body;
        out[std::string(kind) + "/" + std::to_string(id)] = r.body;
      }
    }
    return out;
  }

  // A list answer equals the model of a stream.
  void ExpectListMatches(const std::string& body, const Stream& stream, bool target,
                         const std::string& where) {
    std::vector<std::string> want_ids;
    for (const auto& [ext, p] : stream) {
      if (p.live) want_ids.push_back(ext);
    }
    JsonDoc doc = ParseJson(body);
    std::vector<std::string> got_ids;
    simdjson::dom::array arr;
    ASSERT_EQ(doc.root().get_array().get(arr), simdjson::SUCCESS) << where;
    for (simdjson::dom::element e : arr) {
      std::string ext{std::string_view(e["external_id"])};
      got_ids.push_back(ext);
      auto it = stream.find(ext);
      if (it == stream.end() || !it->second.live) continue;  // reported by the id comparison
      ExpectPropertyMatches(e, it->second, target, where + " " + ext);
    }
    EXPECT_EQ(got_ids, want_ids) << where;
  }

  void ExpectPropertyMatches(simdjson::dom::element e, const Prop& p, bool target,
                             const std::string& where) {
    EXPECT_EQ(Minified(e["data"]), p.data) << where;
    EXPECT_EQ(U64(e, "version"), p.version) << where;
    if (target) {
      EXPECT_EQ(bool(e["manually_modified"]), p.manual) << where;
      if (p.source_id == 0) {
        EXPECT_TRUE(e["source_id"].is_null()) << where;
      } else {
        EXPECT_EQ(U64(e, "source_id"), p.source_id) << where;
      }
    }
  }

  // HTTP as_of=X against the model at X: lists, pages, single properties.
  void CheckAsOf(const std::string& as_of, const Model& model, std::mt19937& rng,
                 const std::map<std::string, std::string>& lists) {
    for (const auto& [key, body] : lists) {
      bool target = key.starts_with("targets");
      uint32_t id = static_cast<uint32_t>(std::stoul(key.substr(key.find('/') + 1)));
      const Stream& stream = target ? model.targets.at(id) : model.sources.at(id);
      std::string where = key + " as_of=" + as_of;
      ExpectListMatches(body, stream, target, where);

      // Keyset paging gives the same elements.
      std::vector<std::string> whole = Elements(body);
      std::vector<std::string> paged;
      std::string after;
      uint64_t limit = 1 + rng() % 5;
      for (int page = 0; page <= kIds; ++page) {
        std::string url = "/" + key + "/properties?as_of=" + as_of +
                          "&limit=" + std::to_string(limit) + (after.empty() ? "" : "&after=" + after);
        HttpResponse r = client_->Get(url);
        ASSERT_EQ(r.status, 200) << url << ": " << r.body;
        std::vector<std::string> got = Elements(r.body);
        ASSERT_LE(got.size(), limit) << url;
        paged.insert(paged.end(), got.begin(), got.end());
        if (got.size() < limit) break;
        after = std::string(std::string_view(ParseJson(got.back())["external_id"]));
      }
      EXPECT_EQ(paged, whole) << where << " paged by " << limit;

      // Single properties: a few ids, live, removed or never there at X.
      for (int k = 0; k < 3; ++k) {
        std::string ext = Id(rng() % kIds);
        HttpResponse r = client_->Get("/" + key + "/properties/" + ext + "?as_of=" + as_of);
        auto it = stream.find(ext);
        if (it == stream.end() || !it->second.live) {
          EXPECT_EQ(r.status, 404) << where << " " << ext << ": " << r.body;
        } else {
          ASSERT_EQ(r.status, 200) << where << " " << ext << ": " << r.body;
          ExpectPropertyMatches(ParseJson(r.body).root(), it->second, target,
                                where + " single " + ext);
          // The single read is the list's element, byte for byte.
          bool found = false;
          for (const std::string& el : whole) {
            if (el.find("\"external_id\":\"" + ext + "\"") != std::string::npos) {
              EXPECT_EQ(Minified(ParseJson(r.body).root()), el) << where << " " << ext;
              found = true;
            }
          }
          EXPECT_TRUE(found) << where << " " << ext;
        }
      }
    }
  }

  // A directory replayed at X, served by its own server, read now, equals the
  // live server's as_of=X answers byte for byte.
  // `as_of` is the same point as the live server's as_of parameter.
  void CheckReplay(const ReplayOptions& options, const std::map<std::string, std::string>& want,
                   const std::string& as_of, const std::string& name) {
    std::string dir = scratch_.path() + "/" + name;
    Status st = server_.engine().ReplayInto(dir, options);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EngineOptions eo;
    eo.path = dir;
    auto replayed = Engine::Open(eo);
    ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
    std::vector<std::string> diffs;
    Status verify = (*replayed)->VerifyViews(&diffs);
    EXPECT_TRUE(verify.ok()) << name << ": " << verify.ToString();
    server::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.request_log = [](std::string_view) {};
    server::Server replay_server(**replayed, so);
    ASSERT_TRUE(replay_server.Start().ok());
    HttpClient client(replay_server.port());
    client.set_api_key(tenant_.api_key);  // the tenant's key was replayed too
    std::map<std::string, std::string> got = ReadLists(client, "");
    for (const auto& [key, body] : want) {
      EXPECT_EQ(got[key], body) << name << " " << key;
    }
    // Single properties too, including 404 for those absent then.
    for (int i = 0; i < kIds; i += 5) {
      for (const char* key : {"/sources/1", "/targets/1"}) {
        std::string path = std::string(key) + "/properties/" + Id(i);
        HttpResponse live = client_->Get(path + "?as_of=" + as_of);
        HttpResponse rep = client.Get(path);
        EXPECT_EQ(rep.status, live.status) << name << " " << path;
        EXPECT_EQ(rep.body, live.body) << name << " " << path;
      }
    }
    replay_server.Stop();
  }

  TestServer server_;
  TestServer::Tenant tenant_, other_;
  std::unique_ptr<HttpClient> client_, other_client_;
  Model model_;
  std::vector<Point> points_;
  std::vector<TimePoint> times_;
  TempDir scratch_;
};

TEST_F(ReplayAgreementTest, AsOfReplayAndModelAgreeAtEveryPoint) {
  std::mt19937 rng(20260303);
  for (uint32_t s = 1; s <= kSources; ++s) model_.sources[s];
  for (uint32_t g = 1; g <= kTargets; ++g) model_.targets[g];
  // The empty import gives the seq after the catalog was created.
  HttpResponse first = client_->Post("/sources/1/import", "[]");
  ASSERT_EQ(first.status, 200) << first.body;
  Record(SeqOf(first));
  MarkTime(false);

  for (int op = 0; op < kOps && !HasFatalFailure(); ++op) {
    int what = rng() % 20;
    if (what < 8) {
      DoImport(rng);
    } else if (what < 14) {
      DoSync(rng);
    } else if (what < 18) {
      DoManual(rng);
    } else {
      DoOtherTenant(rng);
    }
    if (op % 29 == 28) MarkTime(op % 58 == 57);
  }
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GE(points_.size(), 60u);
  ASSERT_GE(times_.size(), 4u);

  // Every recorded seq: HTTP as_of against the model; a spread of them also
  // against a replayed directory.
  std::set<size_t> replayed;
  for (int i = 0; i < kReplays; ++i) replayed.insert(i * (points_.size() - 1) / (kReplays - 1));
  for (size_t i = 0; i < points_.size() && !HasFatalFailure(); ++i) {
    const Point& p = points_[i];
    std::string as_of = std::to_string(p.seq);
    SCOPED_TRACE("as_of=" + as_of);
    std::map<std::string, std::string> lists = ReadLists(*client_, as_of);
    CheckAsOf(as_of, p.model, rng, lists);
    if (replayed.count(i)) {
      ReplayOptions o;
      o.as_of_seq = p.seq;
      CheckReplay(o, lists, as_of, "seq-" + as_of);
    }
  }

  // Times: as_of=TIME means the last event at or before it, which is the
  // operation boundary recorded just before the time was taken.
  for (size_t i = 0; i < times_.size() && !HasFatalFailure(); ++i) {
    const TimePoint& t = times_[i];
    SCOPED_TRACE("as_of=" + t.rfc3339);
    std::string encoded = t.rfc3339;
    if (size_t plus = encoded.find('+'); plus != std::string::npos) {
      encoded.replace(plus, 1, "%2B");  // '+' in a query is a space
    }
    std::map<std::string, std::string> lists = ReadLists(*client_, encoded);
    const Point& p = points_[t.point];
    EXPECT_EQ(lists, ReadLists(*client_, std::to_string(p.seq)));
    CheckAsOf(encoded, p.model, rng, lists);
    if (i == 1 || i + 1 == times_.size()) {
      ReplayOptions o;
      o.as_of_time_us = t.time_us;
      CheckReplay(o, lists, encoded, "time-" + std::to_string(i));
    }
  }

  std::printf("checked %zu seq points (%zu replayed) and %zu times\n", points_.size(),
              replayed.size(), times_.size());
  // Past the last seq: the current state; the views still equal the log.
  EXPECT_EQ(ReadLists(*client_, "18446744073709551615"), ReadLists(*client_, ""));
  std::vector<std::string> diffs;
  Status st = server_.engine().VerifyViews(&diffs);
  EXPECT_TRUE(st.ok()) << st.ToString() << (diffs.empty() ? "" : " " + diffs[0]);
}

TEST_F(ReplayAgreementTest, MalformedAsOfIsRefusedAndChangesNothing) {
  ASSERT_EQ(client_->Post("/sources/1/import", R"([{"external_id":"a","n":1}])").status, 200);
  std::string before = client_->Get("/sources/1/properties").body;
  for (const char* bad :
       {"", "-1", "1.5", "0x10", "18446744073709551616", "yesterday", "2026-03-03",
        "2026-03-03T12:00:00", "2026-02-30T12:00:00Z", "2026-03-03T24:00:00Z",
        "2026-03-03T12:00:00.Z", "2026-03-03T12:00:00+2:00", "2026-03-03%2012:00:00Z"}) {
    for (const char* path : {"/sources/1/properties", "/sources/1/properties/a",
                             "/targets/1/properties", "/targets/1/properties/a"}) {
      HttpResponse r = client_->Get(std::string(path) + "?as_of=" + bad);
      EXPECT_EQ(r.status, 400) << path << " as_of=" << bad << ": " << r.body;
      EXPECT_NE(r.body.find("invalid_request"), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(client_->Get("/sources/1/properties").body, before);
  // The history route takes no as_of (it is every version).
  EXPECT_EQ(client_->Get("/sources/1/properties/a/history?as_of=1").status, 400);
}

}  // namespace
}  // namespace syncmgr::testing
