// The engine's side of cluster mode (engine/cluster_hooks.h, engine.h
// "Cluster mode"), on real RocksDB directories: a commit hook sees every
// operation's records before anything is written, and its refusal leaves
// nothing; ApplyFromLog on a second engine reproduces the first engine's
// views byte for byte from those records; gaps are Corruption; cursors are
// stored with the views; WaitForSeq waits for commits; key prefixes are
// reserved through the options' callback.
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

using namespace std::chrono_literals;

// One operation as the hook saw it: every record, with its seq.
struct RecordedOp {
  TenantId tenant = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::vector<std::string> records;
  size_t write_ahead_parts = 0;
  std::string cursor_before;  // LogRecords::cursor at OnCommit
  std::string cursor_after;   // what OnCommit returned
};

// A CommitHook that keeps what it is given, as cluster/ would publish it,
// and can be told to refuse.
class RecordingHook : public CommitHook {
 public:
  Status OnWriteAhead(const LogRecords& part) override {
    std::lock_guard lock(mu_);
    if (refuse_write_ahead_) return Status::Unavailable("refused by the test");
    RecordedOp& op = open_[part.tenant];
    if (op.records.empty()) {
      op.tenant = part.tenant;
      op.first_seq = part.first_seq;
    }
    EXPECT_EQ(part.first_seq, op.first_seq);
    EXPECT_EQ(part.last_seq, op.first_seq + op.records.size() + part.records.size() - 1);
    for (std::string_view r : part.records) op.records.emplace_back(r);
    ++op.write_ahead_parts;
    return Status::Ok();
  }

  StatusOr<std::string> OnCommit(const LogRecords& rest) override {
    std::lock_guard lock(mu_);
    RecordedOp op = std::move(open_[rest.tenant]);
    open_.erase(rest.tenant);
    if (refuse_commit_) return Status::Conflict("fenced (the test)");
    op.tenant = rest.tenant;
    op.first_seq = rest.first_seq;
    op.last_seq = rest.last_seq;
    for (std::string_view r : rest.records) op.records.emplace_back(r);
    EXPECT_EQ(op.records.size(), rest.last_seq - rest.first_seq + 1);
    op.cursor_before = std::string(rest.cursor);
    op.cursor_after = "cursor-" + std::to_string(++commits_);
    committed_.push_back(op);
    return op.cursor_after;
  }

  void OnAbort(TenantId tenant, uint64_t) override {
    std::lock_guard lock(mu_);
    open_.erase(tenant);
    ++aborts_;
  }

  std::vector<RecordedOp> committed() {
    std::lock_guard lock(mu_);
    return committed_;
  }
  int aborts() {
    std::lock_guard lock(mu_);
    return aborts_;
  }
  void set_refuse_commit(bool v) {
    std::lock_guard lock(mu_);
    refuse_commit_ = v;
  }
  void set_refuse_write_ahead(bool v) {
    std::lock_guard lock(mu_);
    refuse_write_ahead_ = v;
  }

 private:
  std::mutex mu_;
  std::map<TenantId, RecordedOp> open_;
  std::vector<RecordedOp> committed_;
  int commits_ = 0;
  int aborts_ = 0;
  bool refuse_commit_ = false;
  bool refuse_write_ahead_ = false;
};

std::unique_ptr<Engine> OpenEngine(const std::string& path, CommitHook* hook,
                                   uint64_t chunk_bytes = 64ull << 20) {
  EngineOptions o;
  o.path = path;
  o.commit_hook = hook;
  o.sync_writes = hook == nullptr;  // cluster mode writes unsynced
  o.write_chunk_bytes = chunk_bytes;
  auto e = Engine::Open(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

// Folds one recorded operation into `engine` as a node's reader would.
Status Apply(Engine& engine, const RecordedOp& op, const std::string& node_cursor = "") {
  return engine.ApplyFromLog(
      op.tenant,
      [&](std::string_view) -> StatusOr<ExternalCommit> {
        ExternalCommit c;
        c.fold = true;
        c.first_seq = op.first_seq;
        c.last_seq = op.last_seq;
        c.tenant_cursor = op.cursor_after;
        c.records = [&](const std::function<Status(uint64_t, std::string_view)>& sink) {
          uint64_t seq = op.first_seq;
          for (const std::string& r : op.records) SYNCMGR_RETURN_IF_ERROR(sink(seq++, r));
          return Status::Ok();
        };
        return c;
      },
      node_cursor);
}

// A message that only moves a tenant's cursor (a fence, a superseded
// commit); `seen` receives the cursor the engine had.
Status MoveCursor(Engine& engine, TenantId tenant, std::string cursor, std::string* seen = nullptr,
                  const std::string& node_cursor = "") {
  return engine.ApplyFromLog(
      tenant,
      [&](std::string_view stored) -> StatusOr<ExternalCommit> {
        if (seen != nullptr) *seen = std::string(stored);
        ExternalCommit c;
        c.tenant_cursor = cursor;
        return c;
      },
      node_cursor);
}

// Every key and value of every column family but `default` and `delivery`
// (neither log nor view), of a closed directory.
std::map<std::string, std::map<std::string, std::string>> Dump(const std::string& path) {
  std::map<std::string, std::map<std::string, std::string>> out;
  rocksdb::DBOptions dbo;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(dbo, path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(dbo, path, cfs, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return out;
  std::unique_ptr<rocksdb::DB> db(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "default" || names[i] == "delivery") continue;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out[names[i]][it->key().ToString()] = it->value().ToString();
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return out;
}

std::string Items(int from, int to, const std::string& tag) {
  std::string body = "[";
  for (int i = from; i < to; ++i) {
    if (body.size() > 1) body += ",";
    body += "{\"external_id\":\"p" + std::to_string(i) + "\",\"tag\":\"" + tag +
            "\",\"text\":\"" + std::string(120, 'a' + i % 26) + "\"}";
  }
  return body + "]";
}

class ClusterApplyTest : public ::testing::Test {
 protected:
  // Writer "a" creates tenant `t` and `sources` sources named "portal",
  // each operation recorded by hook_, then closes.
  void RecordTenantWithSources(TenantId t, int sources) {
    auto a = OpenEngine(dir_.sub("a"), &hook_);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->CreateTenant("acme", t).ok());
    SourceSpec src;
    src.name = "portal";
    for (int i = 0; i < sources; ++i) ASSERT_TRUE(a->CreateSource(t, src).ok());
  }

  TempDir dir_;
  RecordingHook hook_;
};

TEST_F(ClusterApplyTest, ApplyFromLogReproducesTheWritersViewsByteForByte) {
  const std::string a_path = dir_.sub("a"), b_path = dir_.sub("b");
  {
    // A tiny write chunk: every import of more than a few items is written
    // ahead, so the hook sees OnWriteAhead parts.
    auto a = OpenEngine(a_path, &hook_, /*chunk_bytes=*/4096);
    ASSERT_NE(a, nullptr);
    auto created = a->CreateTenant("acme", 7);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_EQ(created->tenant.id, 7u);
    ASSERT_TRUE(a->CreateTenant("globex", 9).ok());
    SourceSpec src;
    src.name = "portal";
    src.max_removal_ratio = 1.0;
    auto source = a->CreateSource(7, src);
    ASSERT_TRUE(source.ok());
    TargetSpec tgt;
    tgt.name = "website";
    auto target = a->CreateTarget(7, tgt);
    ASSERT_TRUE(target.ok());
    ImportOptions upsert;
    ASSERT_TRUE(a->Import(7, source->id, upsert, Items(0, 300, "one")).ok());
    SyncOptions sync;
    ASSERT_TRUE(a->Sync(7, source->id, target->id, sync).ok());
    ASSERT_TRUE(a->PutTargetProperty(7, target->id, "p3", "{\"manual\":true}").ok());
    ASSERT_TRUE(a->DeleteTargetProperty(7, target->id, "p4").ok());
    ImportOptions full;
    full.mode = ImportMode::kFull;
    full.allow_mass_removal = true;
    ASSERT_TRUE(a->Import(7, source->id, full, Items(100, 250, "two")).ok());
    ASSERT_TRUE(a->Sync(7, source->id, target->id, sync).ok());
    auto key = a->CreateApiKey(7);
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(a->RevokeApiKey(key->info.prefix).ok());
    FeedTokenSpec token;
    token.source_id = source->id;
    ASSERT_TRUE(a->CreateFeedToken(7, token).ok());
    ASSERT_TRUE(a->CreateSource(9, src).ok());
  }
  const std::vector<RecordedOp> ops = hook_.committed();
  size_t parts = 0;
  for (const auto& op : ops) parts += op.write_ahead_parts;
  EXPECT_GT(parts, 0u) << "no operation was written ahead: the test does not cover chunks";
  {
    auto b = OpenEngine(b_path, nullptr, /*chunk_bytes=*/4096);
    ASSERT_NE(b, nullptr);
    uint64_t position = 0;
    for (const RecordedOp& op : ops) {
      Status s = Apply(*b, op, "node-at-" + std::to_string(++position));
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    auto node = b->NodeCursor();
    ASSERT_TRUE(node.ok());
    EXPECT_EQ(*node, "node-at-" + std::to_string(ops.size()));
    std::vector<std::string> diffs;
    Status v = b->VerifyViews(&diffs);
    EXPECT_TRUE(v.ok()) << v.ToString() << (diffs.empty() ? "" : "\n" + diffs.front());
    ASSERT_EQ(b->ListTenants().size(), 2u);
    uint64_t expected_last = 0;
    for (const RecordedOp& op : ops) {
      if (op.tenant == 7) expected_last = op.last_seq;
    }
    auto last = b->LastSeq(7);
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(*last, expected_last);
  }
  auto dump_a = Dump(a_path), dump_b = Dump(b_path);
  // The node's cursor is B's own (A never read the log of record).
  dump_b["meta"].erase(std::string(4, '\0') + "K");
  ASSERT_FALSE(dump_a["log"].empty());
  for (const auto& [cf, rows] : dump_a) {
    EXPECT_EQ(rows.size(), dump_b[cf].size()) << cf;
    EXPECT_TRUE(rows == dump_b[cf]) << "column family " << cf << " differs";
  }
  EXPECT_EQ(dump_a.size(), dump_b.size());
}

TEST_F(ClusterApplyTest, HookSeesTheTenantsCursorAndItsAnswerIsStored) {
  {
    auto a = OpenEngine(dir_.sub("a"), &hook_);
    ASSERT_NE(a, nullptr);
    // The tenant's fence came through the log of record first: a cursor,
    // no tenant yet.
    ASSERT_TRUE(MoveCursor(*a, 5, "fence-cursor").ok());
    EXPECT_EQ(a->LastSeq(5).status().code(), Code::kNotFound);
    EXPECT_TRUE(a->ListTenants().empty());
  }
  auto a = OpenEngine(dir_.sub("a"), &hook_);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->CreateTenant("acme", 5).ok());
  SourceSpec src;
  src.name = "portal";
  ASSERT_TRUE(a->CreateSource(5, src).ok());
  const auto ops = hook_.committed();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].cursor_before, "fence-cursor");
  EXPECT_EQ(ops[1].cursor_before, ops[0].cursor_after);
  std::string seen;
  ASSERT_TRUE(MoveCursor(*a, 5, "next", &seen).ok());
  EXPECT_EQ(seen, ops[1].cursor_after);
}

TEST_F(ClusterApplyTest, CreateTenantWithAnIdRefusesATakenOrZeroId) {
  auto a = OpenEngine(dir_.sub("a"), nullptr);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->CreateTenant("acme", 3).ok());
  EXPECT_EQ(a->CreateTenant("other", 3).status().code(), Code::kConflict);
  EXPECT_EQ(a->CreateTenant("other", 0).status().code(), Code::kInvalidArgument);
  // A tenant created without an id never takes one handed out outside.
  auto next = a->CreateTenant("next");
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->tenant.id, 3u);
  EXPECT_EQ(a->ListTenants().size(), 2u);
}

TEST_F(ClusterApplyTest, RefusedCommitLeavesNothingVisibleAnywhere) {
  const std::string path = dir_.sub("a");
  TenantId t = 4;
  uint32_t source = 0;
  uint64_t before = 0;
  {
    auto a = OpenEngine(path, &hook_, /*chunk_bytes=*/4096);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->CreateTenant("acme", t).ok());
    SourceSpec src;
    src.name = "portal";
    auto s = a->CreateSource(t, src);
    ASSERT_TRUE(s.ok());
    source = s->id;
    before = *a->LastSeq(t);
    hook_.set_refuse_commit(true);
    ImportOptions o;
    // Large enough to be written ahead before the refused commit.
    auto r = a->Import(t, source, o, Items(0, 200, "refused"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kConflict) << r.status().ToString();
    EXPECT_EQ(hook_.aborts(), 1);
    EXPECT_EQ(*a->LastSeq(t), before);
    auto imports = a->ListImports(t, std::nullopt, 0);
    ASSERT_TRUE(imports.ok());
    EXPECT_TRUE(imports->empty());
    EXPECT_EQ(a->GetProperty(t, Src(source), "p1", {}).status().code(), Code::kNotFound);
    LogQuery q;
    q.after_seq = before;
    auto page = a->ReadLog(t, q);
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->events.empty());
    // A refused write ahead leaves nothing either.
    hook_.set_refuse_commit(false);
    hook_.set_refuse_write_ahead(true);
    r = a->Import(t, source, o, Items(0, 200, "refused-ahead"));
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
    EXPECT_EQ(hook_.aborts(), 2);
    EXPECT_EQ(*a->LastSeq(t), before);
    hook_.set_refuse_write_ahead(false);
    // The tenant writes again, from the same seq.
    auto ok = a->Import(t, source, o, "[{\"external_id\":\"p1\",\"v\":1}]");
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(hook_.committed().back().first_seq, before + 1);
  }
  auto a = OpenEngine(path, nullptr);
  ASSERT_NE(a, nullptr);
  std::vector<std::string> diffs;
  EXPECT_TRUE(a->VerifyViews(&diffs).ok());
  auto p = a->GetProperty(t, Src(source), "p2", {});
  EXPECT_EQ(p.status().code(), Code::kNotFound);
}

TEST_F(ClusterApplyTest, GapsOverlapsAndMiscountsAreCorruptionAndWriteNothing) {
  RecordTenantWithSources(2, 2);
  if (HasFatalFailure()) return;
  const auto ops = hook_.committed();
  ASSERT_EQ(ops.size(), 3u);
  auto b = OpenEngine(dir_.sub("b"), nullptr);
  ASSERT_NE(b, nullptr);
  // Not starting with the tenant's creation.
  EXPECT_EQ(Apply(*b, ops[1]).code(), Code::kCorruption);
  EXPECT_EQ(b->LastSeq(2).status().code(), Code::kNotFound);
  ASSERT_TRUE(Apply(*b, ops[0], "n1").ok());
  // A gap: seq 4 after seq 2.
  Status gap = Apply(*b, ops[2], "n-gap");
  EXPECT_EQ(gap.code(), Code::kCorruption) << gap.ToString();
  EXPECT_EQ(*b->LastSeq(2), 2u);
  EXPECT_EQ(*b->NodeCursor(), "n1");
  // An overlap: seqs 1..3 after seq 2.
  RecordedOp overlap = ops[0];
  overlap.last_seq = 3;
  overlap.records.push_back(ops[1].records[0]);
  EXPECT_EQ(Apply(*b, overlap).code(), Code::kCorruption);
  // Fewer records than the commit says, and more.
  RecordedOp shorter = ops[1];
  shorter.last_seq = 4;
  EXPECT_EQ(Apply(*b, shorter).code(), Code::kCorruption);
  RecordedOp longer = ops[1];
  longer.records.push_back(ops[2].records[0]);
  EXPECT_EQ(Apply(*b, longer).code(), Code::kCorruption);
  // A record whose seq is not the one it stands for.
  RecordedOp wrong = ops[1];
  wrong.records = ops[2].records;
  EXPECT_EQ(Apply(*b, wrong).code(), Code::kCorruption);
  EXPECT_EQ(*b->LastSeq(2), 2u);
  std::string seen;
  ASSERT_TRUE(MoveCursor(*b, 2, ops[0].cursor_after, &seen).ok());
  EXPECT_EQ(seen, ops[0].cursor_after);
  // In order, everything applies; an operation already applied moves only
  // the cursor.
  ASSERT_TRUE(Apply(*b, ops[1]).ok());
  ASSERT_TRUE(Apply(*b, ops[2]).ok());
  RecordedOp again = ops[1];
  again.cursor_after = "again";
  ASSERT_TRUE(Apply(*b, again).ok());
  EXPECT_EQ(*b->LastSeq(2), 4u);
  ASSERT_TRUE(MoveCursor(*b, 2, "x", &seen).ok());
  EXPECT_EQ(seen, "again");
  std::vector<std::string> diffs;
  EXPECT_TRUE(b->VerifyViews(&diffs).ok());
}

TEST_F(ClusterApplyTest, CursorsSurviveAReopen) {
  {
    auto a = OpenEngine(dir_.sub("a"), nullptr);
    ASSERT_NE(a, nullptr);
    auto fresh = a->NodeCursor();
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(*fresh, "");
    ASSERT_TRUE(a->NoteNodeCursor("position-17").ok());
    ASSERT_TRUE(MoveCursor(*a, 8, "tenant-8", nullptr, "position-18").ok());
  }
  auto a = OpenEngine(dir_.sub("a"), nullptr);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(*a->NodeCursor(), "position-18");
  std::string seen;
  ASSERT_TRUE(MoveCursor(*a, 8, "tenant-8b", &seen).ok());
  EXPECT_EQ(seen, "tenant-8");
  // Cursors are not views: the fold of the log does not miss them.
  std::vector<std::string> diffs;
  EXPECT_TRUE(a->VerifyViews(&diffs).ok());
}

TEST_F(ClusterApplyTest, WaitForSeqWaitsForACommitAndElseAnswersLagging) {
  RecordTenantWithSources(6, 1);
  if (HasFatalFailure()) return;
  const auto ops = hook_.committed();
  auto b = OpenEngine(dir_.sub("b"), nullptr);
  ASSERT_NE(b, nullptr);
  // A tenant this node does not know yet, then does not reach in time.
  Status lag = b->WaitForSeq(6, 1, 50ms);
  EXPECT_EQ(lag.code(), Code::kLagging) << lag.ToString();
  EXPECT_EQ(CodeName(lag.code()), "lagging");
  ASSERT_TRUE(Apply(*b, ops[0]).ok());
  EXPECT_TRUE(b->WaitForSeq(6, 2, 0ms).ok());
  EXPECT_EQ(b->WaitForSeq(6, 3, 20ms).code(), Code::kLagging);
  // Woken by the commit that reaches it (the bound is only a backstop).
  std::atomic<bool> applied{false};
  std::thread writer([&] {
    std::this_thread::sleep_for(100ms);
    applied = Apply(*b, ops[1]).ok();
  });
  Status waited = b->WaitForSeq(6, 3, 60s);
  writer.join();
  EXPECT_TRUE(waited.ok()) << waited.ToString();
  EXPECT_TRUE(applied);
}

TEST_F(ClusterApplyTest, KeyPrefixesAreReservedThroughTheOption) {
  std::vector<std::pair<std::string, TenantId>> asked;
  int refuse_first = 2;
  Code fail_with = Code::kOk;
  EngineOptions o;
  o.path = dir_.sub("a");
  o.reserve_key_prefix = [&](std::string_view prefix, TenantId tenant) -> Status {
    asked.emplace_back(std::string(prefix), tenant);
    if (fail_with != Code::kOk) return Status(fail_with, "reservation failed (the test)");
    if (refuse_first-- > 0) return Status::Conflict("taken (the test)");
    return Status::Ok();
  };
  auto opened = Engine::Open(o);
  ASSERT_TRUE(opened.ok());
  auto& a = *opened;
  auto created = a->CreateTenant("acme", 11);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(asked.size(), 3u);  // two refused, the third reserved
  EXPECT_EQ(asked[2].first, created->api_key.substr(0, 12));
  EXPECT_EQ(asked[2].second, 11u);
  // Any other failure fails the write, which writes nothing.
  const uint64_t before = *a->LastSeq(11);
  fail_with = Code::kUnavailable;
  auto key = a->CreateApiKey(11);
  EXPECT_EQ(key.status().code(), Code::kUnavailable);
  EXPECT_EQ(*a->LastSeq(11), before);
  auto keys = a->ListApiKeys(11);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 1u);
}

// Authenticate answers a key it has seen from memory (engine/auth_cache.h):
// a revocation that reaches a node through the log of record must empty
// that memory there too. B authenticates A's keys (so it holds them), then
// applies A's revocation: B refuses the key as soon as ApplyFromLog has
// returned, and keeps accepting the tenant's other key.
TEST_F(ClusterApplyTest, AnAppliedRevocationIsRefusedOnTheApplyingNode) {
  auto a = OpenEngine(dir_.sub("a"), &hook_);
  auto b = OpenEngine(dir_.sub("b"), nullptr);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto created = a->CreateTenant("acme", 7);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto second = a->CreateApiKey(7);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  size_t applied = 0;
  auto apply_all = [&] {
    const std::vector<RecordedOp> ops = hook_.committed();
    for (; applied < ops.size(); ++applied) {
      Status s = Apply(*b, ops[applied]);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  };
  apply_all();
  for (int i = 0; i < 3; ++i) {  // the first read fills the cache; the others hit it
    auto t = b->Authenticate(second->api_key);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(*t, 7u);
    ASSERT_TRUE(b->Authenticate(created->api_key).ok());
  }
  ASSERT_TRUE(a->RevokeApiKey(second->info.prefix).ok());
  EXPECT_EQ(a->Authenticate(second->api_key).status().code(), Code::kUnauthorized);
  // Not applied yet: B still knows the key as valid, as its views say.
  EXPECT_TRUE(b->Authenticate(second->api_key).ok());
  apply_all();
  EXPECT_EQ(b->Authenticate(second->api_key).status().code(), Code::kUnauthorized);
  auto other = b->Authenticate(created->api_key);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(*other, 7u);
}

}  // namespace
}  // namespace syncmgr::testing
