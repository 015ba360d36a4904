// Test helpers for engine tests: a real engine on a real RocksDB in a
// temporary directory, removed at the end. No mocks.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace syncmgr::testing {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("syncmgr-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    engine_.reset();
    EngineOptions o;
    o.path = dir_.sub("db");
    o.import_buffer_bytes = buffer_bytes_;
    o.write_chunk_bytes = chunk_bytes_;
    o.read_ahead = read_ahead_;
    o.sync_log_scan = sync_log_scan_;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  TenantId NewTenant(const std::string& name = "acme") {
    auto t = engine_->CreateTenant(name);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->tenant.id : 0;
  }

  uint32_t NewSource(TenantId t, std::vector<std::string> ignore = {}, double ratio = 0.2) {
    SourceSpec spec;
    spec.name = "portal";
    spec.ignore_fields = std::move(ignore);
    spec.max_removal_ratio = ratio;
    auto s = engine_->CreateSource(t, spec);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? s->id : 0;
  }

  uint32_t NewTarget(TenantId t) {
    TargetSpec spec;
    spec.name = "website";
    auto r = engine_->CreateTarget(t, spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : 0;
  }

  StatusOr<ImportResult> Import(TenantId t, uint32_t source, const std::string& body,
                                ImportMode mode = ImportMode::kUpsert, bool allow = false) {
    ImportOptions o;
    o.mode = mode;
    o.allow_mass_removal = allow;
    return engine_->Import(t, source, o, body);
  }

  StatusOr<SyncResult> Sync(TenantId t, uint32_t source, uint32_t target,
                            OnConflict c = OnConflict::kKeep, bool dry_run = false) {
    SyncOptions o;
    o.on_conflict = c;
    o.dry_run = dry_run;
    return engine_->Sync(t, source, target, o);
  }

  // Whole current list of a stream as (external_id, data) pairs.
  std::vector<PropertyRecord> List(TenantId t, StreamRef s, ListOptions o = {}) {
    std::vector<PropertyRecord> out;
    auto c = engine_->ListProperties(t, s, o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return out;
    PropertyRecord r;
    while ((*c)->Next(&r)) out.push_back(r);
    EXPECT_TRUE((*c)->status().ok()) << (*c)->status().ToString();
    return out;
  }

  void ExpectViewsEqualFold() {
    std::vector<std::string> diffs;
    Status s = engine_->VerifyViews(&diffs);
    std::string all;
    for (const auto& d : diffs) all += d + "\n";
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << all;
  }

  TempDir dir_;
  uint64_t buffer_bytes_ = 32ull << 20;
  uint64_t chunk_bytes_ = 64ull << 20;
  bool read_ahead_ = true;  // EngineOptions::read_ahead
  bool sync_log_scan_ = true;  // EngineOptions::sync_log_scan
  std::unique_ptr<Engine> engine_;
};

// A fresh data directory at `path` holding tenant 1 (`tenant`) with source 1
// "s" and target 1 "t"; the engine is closed again. For the tests whose
// child processes write to it.
inline void SeedCatalog(const std::string& path, const std::string& tenant) {
  EngineOptions o;
  o.path = path;
  auto e = Engine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_TRUE((*e)->CreateTenant(tenant).ok());
  SourceSpec ss;
  ss.name = "s";
  ASSERT_TRUE((*e)->CreateSource(1, ss).ok());
  TargetSpec ts;
  ts.name = "t";
  ASSERT_TRUE((*e)->CreateTarget(1, ts).ok());
}

inline StreamRef Src(uint32_t id) { return {StreamKind::kSource, id}; }
inline StreamRef Tgt(uint32_t id) { return {StreamKind::kTarget, id}; }

}  // namespace syncmgr::testing
