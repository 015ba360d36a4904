// Shared by the push sink tests (delivery_postgres_test, delivery_file_test,
// delivery_ftp_test): a real engine in a temp dir with one tenant, source and
// target, a seeded random workload of imports (upsert and full), syncs and
// manual edits / removals on it, and the target's events cut into batches the
// way the delivery engine hands them to a sink. Also: folding change-file
// lines (feed events) into a state, to compare with the target's.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "delivery/sink.h"
#include "engine/engine.h"
#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

namespace syncmgr::testing {

// The sink a target of `type` ("postgres", "ftp", ...) with `config` gets
// when its receiver is on loopback (private addresses allowed); null, with a
// test failure, when the config is refused.
inline std::unique_ptr<delivery::Sink> MakeLoopbackSink(std::string_view type,
                                                        const std::string& config) {
  delivery::SinkEnv env;
  env.allow_private = true;
  Status st = delivery::ValidateConfig(type, config, env);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return nullptr;
  auto sink = delivery::MakeSink(type, config, env);
  EXPECT_TRUE(sink.ok()) << sink.status().ToString();
  return sink.ok() ? std::move(sink).value() : nullptr;
}

// A directory under the system temp dir, removed with its contents at scope exit.
class PushTempDir {
 public:
  PushTempDir() {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("syncmgr-push-" + std::to_string(::getpid()) + "-" + std::to_string(rd())))
                .string();
    std::filesystem::create_directories(path_);
  }
  ~PushTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One property as a receiver should hold it.
struct HeldProperty {
  std::string data;  // canonical JSON
  uint32_t version = 0;
  uint64_t seq = 0;
  bool operator==(const HeldProperty& o) const {
    return data == o.data && version == o.version && seq == o.seq;
  }
};
using HeldState = std::map<std::string, HeldProperty>;

inline std::ostream& operator<<(std::ostream& os, const HeldProperty& p) {
  return os << "{v" << p.version << " seq " << p.seq << " " << p.data << "}";
}

class PushWorkload {
 public:
  explicit PushWorkload(uint64_t seed) : rng_(seed) {
    EngineOptions o;
    o.path = dir_.path() + "/db";
    auto e = Engine::Open(o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return;
    engine_ = std::move(e).value();
    tenant_ = engine_->CreateTenant("acme")->tenant.id;
    SourceSpec s;
    s.name = "portal";
    s.max_removal_ratio = 1.0;
    source_ = engine_->CreateSource(tenant_, s)->id;
    TargetSpec t;
    t.name = "website";
    target_ = engine_->CreateTarget(tenant_, t)->id;
  }

  Engine& engine() { return *engine_; }
  TenantId tenant() const { return tenant_; }
  uint32_t target() const { return target_; }

  // `steps` random operations over a pool of `ids` listings.
  void Run(int steps, int ids = 60) {
    for (int i = 0; i < steps; ++i) {
      const int op = static_cast<int>(rng_() % 10);
      if (op < 4) {
        ImportSome(ids, /*full=*/false);
      } else if (op < 5) {
        ImportSome(ids, /*full=*/true);
      } else if (op < 8) {
        SyncOptions so;
        so.on_conflict = rng_() % 2 ? OnConflict::kKeep : OnConflict::kOverwrite;
        auto r = engine_->Sync(tenant_, source_, target_, so);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      } else if (op < 9) {
        const std::string id = "p" + std::to_string(rng_() % ids);
        auto r = engine_->PutTargetProperty(
            tenant_, target_, id,
            R"({"id":")" + id + R"(","manual":)" + std::to_string(rng_() % 1000) + "}");
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      } else {
        const std::string id = "p" + std::to_string(rng_() % ids);
        auto r = engine_->DeleteTargetProperty(tenant_, target_, id);
        ASSERT_TRUE(r.ok() || r.status().code() == Code::kNotFound) << r.status().ToString();
      }
    }
  }

  // The target's events with seq > after, in order.
  std::vector<LogEvent> TargetEvents(uint64_t after = 0) {
    std::vector<LogEvent> out;
    for (int guard = 0; guard < 100000; ++guard) {
      LogQuery q;
      q.after_seq = after;
      q.stream = StreamRef{StreamKind::kTarget, target_};
      q.limit = 1000;
      auto page = engine_->ReadLog(tenant_, q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (LogEvent& e : page->events) out.push_back(std::move(e));
      if (page->last_seq <= after) break;
      after = page->last_seq;
    }
    return out;
  }

  // Cuts events into batches of 1..max_size events.
  std::vector<delivery::Batch> Batches(const std::vector<LogEvent>& events, size_t max_size) {
    std::vector<delivery::Batch> out;
    size_t i = 0;
    while (i < events.size()) {
      size_t n = std::min<size_t>(events.size() - i, 1 + rng_() % max_size);
      delivery::Batch b;
      b.tenant = tenant_;
      b.target_id = target_;
      b.events.assign(events.begin() + i, events.begin() + i + n);
      b.first_seq = b.events.front().seq;
      b.last_seq = b.events.back().seq;
      out.push_back(std::move(b));
      i += n;
    }
    return out;
  }

  std::vector<PropertyRecord> TargetRecords() {
    std::vector<PropertyRecord> out;
    auto cursor = engine_->ListProperties(tenant_, StreamRef{StreamKind::kTarget, target_}, {});
    EXPECT_TRUE(cursor.ok());
    if (!cursor.ok()) return out;
    PropertyRecord r;
    while ((*cursor)->Next(&r)) out.push_back(r);
    EXPECT_TRUE((*cursor)->status().ok());
    return out;
  }

  HeldState TargetState() {
    HeldState out;
    for (const PropertyRecord& r : TargetRecords()) out[r.external_id] = {r.data, r.version, r.seq};
    return out;
  }

  // The StateVisitor a snapshot gets: the target's current state.
  delivery::StateVisitor Visitor() {
    return [this](const std::function<bool(const PropertyRecord&)>& row) -> Status {
      auto cursor = engine_->ListProperties(tenant_, StreamRef{StreamKind::kTarget, target_}, {});
      if (!cursor.ok()) return cursor.status();
      PropertyRecord r;
      while ((*cursor)->Next(&r)) {
        if (!row(r)) break;
      }
      return (*cursor)->status();
    };
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  void ImportSome(int ids, bool full) {
    std::string body = "[";
    const int n = 1 + static_cast<int>(rng_() % (full ? ids : 12));
    std::vector<int> picked;
    for (int i = 0; i < n; ++i) picked.push_back(static_cast<int>(rng_() % ids));
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    for (int k : picked) {
      if (body.size() > 1) body += ",";
      body += R"({"id":"p)" + std::to_string(k) + R"(","price":)" +
              std::to_string(100000 + rng_() % 5 * 1000) + R"(,"rooms":)" +
              std::to_string(1 + rng_() % 3) + R"(,"title":"Flat \"nice\" )" + std::to_string(k) +
              " é\"}";
    }
    body += "]";
    ImportOptions o;
    o.mode = full ? ImportMode::kFull : ImportMode::kUpsert;
    o.allow_mass_removal = true;
    auto r = engine_->Import(tenant_, source_, o, body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  PushTempDir dir_;
  std::mt19937_64 rng_;
  std::unique_ptr<Engine> engine_;
  TenantId tenant_ = 0;
  uint32_t source_ = 0;
  uint32_t target_ = 0;
};

// Folds feed-event lines (NDJSON, as change files hold them) into *state:
// property events with data set the property, without data remove it; an
// event older than what *state holds for its property (or its removal) is
// skipped — the receiver rule of docs/push.md. `removed` keeps removal seqs.
inline void FoldFeedLines(const std::string& text, HeldState* state,
                          std::map<std::string, uint64_t>* removed, size_t* lines = nullptr) {
  simdjson::dom::parser parser;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    ASSERT_NE(eol, std::string::npos) << "a line without its newline: a partial file";
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (lines) ++*lines;
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS) << line;
    std::string_view type = e["type"].get_string().value();
    if (type != "property.created" && type != "property.updated" && type != "property.removed" &&
        type != "property.manual_edit") {
      continue;
    }
    std::string id(e["external_id"].get_string().value());
    uint64_t seq = e["seq"].get_uint64().value();
    uint64_t have = 0;
    if (auto it = state->find(id); it != state->end()) have = it->second.seq;
    if (auto it = removed->find(id); it != removed->end()) have = std::max(have, it->second);
    if (seq <= have) continue;
    if (e["data"].is_null()) {
      state->erase(id);
      (*removed)[id] = seq;
    } else {
      HeldProperty p;
      p.data = simdjson::minify(e["data"].value());
      p.version = static_cast<uint32_t>(e["version"].get_uint64().value());
      p.seq = seq;
      (*state)[id] = p;
      removed->erase(id);
    }
  }
}

// The same kind of workload over HTTP, against a running server (in-process
// TestServer or a `syncmgr serve` child): imports, syncs, manual edits and
// removals of one source and one (push) target.
class HttpPushWorkload {
 public:
  HttpPushWorkload(HttpClient* client, uint32_t source, uint32_t target, uint64_t seed)
      : c_(client), source_(source), target_(target), rng_(seed) {}

  // `steps` random operations over `ids` listings; each listing about
  // `pad` bytes larger than its few fields.
  void Run(int steps, int ids = 60, size_t pad = 0) {
    for (int i = 0; i < steps; ++i) {
      const int op = static_cast<int>(rng_() % 10);
      if (op < 4) {
        Import(ids, /*full=*/false, pad);
      } else if (op < 5) {
        Import(ids, /*full=*/true, pad);
      } else if (op < 8) {
        Sync();
      } else if (op < 9) {
        const std::string id = "p" + std::to_string(rng_() % ids);
        HttpResponse r =
            c_->Put("/targets/" + std::to_string(target_) + "/properties/" + id,
                    R"({"id":")" + id + R"(","manual":)" + std::to_string(rng_() % 1000) + "}");
        ASSERT_EQ(r.status, 200) << r.body;
      } else {
        const std::string id = "p" + std::to_string(rng_() % ids);
        HttpResponse r = c_->Delete("/targets/" + std::to_string(target_) + "/properties/" + id);
        ASSERT_TRUE(r.status == 200 || r.status == 404) << r.status << " " << r.body;
      }
    }
  }

  // Imports `n` listings p<first>..p<first+n-1> (upsert) and syncs.
  void Bulk(int first, int n, size_t pad, int version) {
    std::string body = "[";
    for (int k = first; k < first + n; ++k) {
      if (body.size() > 1) body += ",";
      body += Listing(k, version, pad);
    }
    body += "]";
    HttpResponse r =
        c_->Post("/sources/" + std::to_string(source_) + "/import", R"({"data":)" + body + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    Sync();
  }

  void Sync() {
    const char* mode = rng_() % 2 ? "keep" : "overwrite";
    HttpResponse r = c_->Post(
        "/sync/" + std::to_string(source_) + "/" + std::to_string(target_) + "?on_conflict=" + mode,
        "");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // GET /targets/{id}/properties as a HeldState.
  HeldState TargetState() {
    HeldState out;
    HttpResponse r = c_->Get("/targets/" + std::to_string(target_) + "/properties");
    EXPECT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser parser;
    simdjson::dom::array array;
    if (parser.parse(r.body).get(array) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not an array: " << r.body.substr(0, 200);
      return out;
    }
    for (simdjson::dom::element e : array) {
      out[std::string(e["external_id"].get_string().value())] = {
          simdjson::minify(e["data"].value()),
          static_cast<uint32_t>(e["version"].get_uint64().value()), e["seq"].get_uint64().value()};
    }
    return out;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::string Listing(int k, int version, size_t pad) {
    return R"({"id":"p)" + std::to_string(k) + R"(","price":)" +
           std::to_string(100000 + version * 1000 + static_cast<int>(rng_() % 5)) + R"(,"rooms":)" +
           std::to_string(1 + rng_() % 3) + R"(,"title":"Flat \"nice\" )" + std::to_string(k) +
           R"( é","text":")" + std::string(pad, 'x') + "\"}";
  }

  void Import(int ids, bool full, size_t pad) {
    std::string body = "[";
    const int n = 1 + static_cast<int>(rng_() % (full ? ids : 12));
    std::vector<int> picked;
    for (int i = 0; i < n; ++i) picked.push_back(static_cast<int>(rng_() % ids));
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    for (int k : picked) {
      if (body.size() > 1) body += ",";
      body += Listing(k, static_cast<int>(rng_() % 4), pad);
    }
    body += "]";
    HttpResponse r = c_->Post("/sources/" + std::to_string(source_) + "/import" +
                                  (full ? "?mode=full&allow_mass_removal=true" : ""),
                              R"({"data":)" + body + "}");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  HttpClient* c_;
  uint32_t source_;
  uint32_t target_;
  std::mt19937_64 rng_;
};

// GET /targets/{id}/delivery until every event is delivered (pending_events
// 0, state idle) or `timeout` passes. The last answer's body.
inline std::string WaitDelivered(HttpClient& c, uint32_t target,
                                 std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  simdjson::dom::parser parser;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResponse r = c.Get("/targets/" + std::to_string(target) + "/delivery");
    last = r.body;
    simdjson::dom::element e;
    if (r.status == 200 && parser.parse(r.body).get(e) == simdjson::SUCCESS &&
        e["pending_events"].get_uint64().value() == 0 &&
        e["state"].get_string().value() == "idle") {
      return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "delivery did not finish within " << timeout.count() << " s: " << last;
  return last;
}

// Options of a server that pushes to receivers on loopback (private
// addresses allowed) and retries after 20 ms.
inline TestServerOptions LoopbackPushOptions() {
  TestServerOptions o;
  o.server.allow_private_push = true;
  o.server.delivery_backoff_base_ms = 20;
  return o;
}

// A server of `options` with one tenant ("acme") and a client holding its key.
struct ServerWithTenant {
  explicit ServerWithTenant(TestServerOptions options = {})
      : server(std::move(options)),
        tenant(server.CreateTenant("acme")),
        client(server.Client(tenant.api_key)) {}

  TestServer server;
  TestServer::Tenant tenant;
  HttpClient client;
};

// Creates a source (max_removal_ratio 1) and a target of `type` with
// `config`; returns {source, target}, or {0, 0} after a failure.
inline std::pair<uint32_t, uint32_t> CreatePushPair(HttpClient& c, const std::string& type,
                                                    const std::string& config) {
  HttpResponse s = c.Post("/sources", R"({"name":"portal","config":{"max_removal_ratio":1}})");
  EXPECT_EQ(s.status, 201) << s.body;
  HttpResponse t =
      c.Post("/targets", R"({"name":"site","type":")" + type + R"(","config":)" + config + "}");
  EXPECT_EQ(t.status, 201) << t.body;
  if (s.status != 201 || t.status != 201) return {0, 0};
  simdjson::dom::parser p1, p2;
  return {static_cast<uint32_t>(p1.parse(s.body)["id"].get_uint64().value()),
          static_cast<uint32_t>(p2.parse(t.body)["id"].get_uint64().value())};
}

}  // namespace syncmgr::testing
