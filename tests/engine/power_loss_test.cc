// Power loss (SPEC §3 atomic and durable): a child process runs imports,
// syncs and manual edits with its file I/O going through FaultFs, which at
// a random op (a write, sync, create, rename, delete or directory fsync)
// rewrites the files to what a power cut would keep and ends the process.
// The parent reopens the surviving bytes and checks that
//   * every operation acknowledged before the cut is present,
//   * every import is wholly present or wholly absent, every edit exact,
//   * the views equal the fold of the log (VerifyViews).
// Half the cuts fall while the child opens the directory (recovery, WAL
// replay and flush); some cycles skip the parent's check so that the next
// child recovers from the cut itself, under FaultFs (a cut during recovery).
//
// SYNCMGR_POWER_CUTS=N cuts N times instead of 50 (long runs; bounded by
// kTimeBudget); SYNCMGR_POWER_SEED=S picks other cut points.
#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include "tests/engine/child_process.h"
#include "tests/engine/engine_fixture.h"
#include "tests/support/fault_fs.h"

namespace syncmgr::testing {
namespace {

constexpr int kDefaultCuts = 50;
constexpr int kOpsPerChild = 10;                        // the child stops by itself after these
constexpr auto kTimeBudget = std::chrono::minutes(20);  // long runs stop here
constexpr auto kChildTimeout = std::chrono::seconds(120);

enum class OpKind { kImport, kSync, kManual };
OpKind KindOf(int op) {
  return op % 5 == 3 ? OpKind::kSync : op % 5 == 4 ? OpKind::kManual : OpKind::kImport;
}
int ItemsOf(int op) { return 1 + (op * 37) % 60; }

std::string ItemId(int op, int i) { return "op" + std::to_string(op) + "-" + std::to_string(i); }

std::string ImportBody(int op) {
  std::string body = "[";
  for (int i = 0; i < ItemsOf(op); ++i) {
    body += (i ? "," : "") + std::string("{\"external_id\":\"") + ItemId(op, i) + "\",\"pad\":\"" +
            std::string(200 + (i % 5) * 100, 'x') + "\"}";
  }
  return body + "]";
}

std::string ManualJson(int op) { return "{\"op\":" + std::to_string(op) + "}"; }

void Say(int fd, const std::string& line) {
  std::string l = line + "\n";
  if (write(fd, l.data(), l.size()) < 0) _exit(5);
}

// Child: opens through FaultFs and works until the cut (or kOpsPerChild).
// Reports "open OPS", "ack OP ID" per acknowledged operation, "end OPS".
[[noreturn]] void ChildMain(const std::string& path, int first_op, uint64_t cut_at,
                            FaultFs::CutMode mode, uint64_t seed, int fd) {
  auto fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = FaultFs::NewEnv(fs);
  fs->CutPowerAt(cut_at, mode, seed);
  EngineOptions o;
  o.path = path;
  o.env = env.get();
  o.write_chunk_bytes = 16 << 10;  // imports write ahead before they commit
  // The larger operations write ahead and commit by bulk ingestion, the
  // smaller ones through the WAL: cuts land in both paths.
  o.bulk_ingest_min_bytes = 12 << 10;
  o.import_buffer_bytes = 8 << 10;
  auto e = Engine::Open(o);
  if (!e.ok()) {
    Say(fd, "error open " + e.status().ToString());
    _exit(3);
  }
  Say(fd, "open " + std::to_string(fs->ops()));
  Engine& engine = **e;
  for (int op = first_op; op < first_op + kOpsPerChild; ++op) {
    uint64_t id = 0;
    Status s;
    if (KindOf(op) == OpKind::kImport) {
      auto r = engine.Import(1, 1, ImportOptions(), ImportBody(op));
      s = r.status();
      if (r.ok()) id = r->import_id;
    } else if (KindOf(op) == OpKind::kSync) {
      auto r = engine.Sync(1, 1, 1, SyncOptions());
      s = r.status();
      if (r.ok()) id = r->sync_id;
    } else {
      s = engine.PutTargetProperty(1, 1, "m" + std::to_string(op), ManualJson(op)).status();
    }
    if (!s.ok()) {
      Say(fd, "error op " + std::to_string(op) + " " + s.ToString());
      _exit(4);
    }
    Say(fd, "ack " + std::to_string(op) + " " + std::to_string(id));
  }
  Say(fd, "end " + std::to_string(fs->ops()));
  _exit(0);
}

struct ChildReport {
  std::map<int, uint64_t> acked;  // op -> import / sync id
  uint64_t open_ops = 0;
  uint64_t end_ops = 0;
  std::string error;
  int exit_code = -1;
};

ChildReport RunChild(const std::string& path, int first_op, uint64_t cut_at, FaultFs::CutMode mode,
                     uint64_t seed) {
  ChildReport rep;
  // The program runs ChildMain when it finds SYNCMGR_POWER_CHILD.
  std::string spec = path + "\n" + std::to_string(first_op) + " " + std::to_string(cut_at) + " " +
                     std::to_string(mode == FaultFs::CutMode::kDropUnsynced ? 0 : 1) + " " +
                     std::to_string(seed);
  ChildOutput child =
      RunSelfAsChild("PowerLossTest.*", "SYNCMGR_POWER_CHILD", spec, kChildTimeout);
  rep.exit_code = child.exit_code;
  const std::string& buf = child.out;
  for (size_t pos = 0; pos < buf.size();) {
    size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string line = buf.substr(pos, nl - pos);
    pos = nl + 1;
    int op = 0;
    unsigned long long a = 0;
    if (std::sscanf(line.c_str(), "ack %d %llu", &op, &a) == 2) {
      rep.acked[op] = a;
    } else if (std::sscanf(line.c_str(), "open %llu", &a) == 1) {
      rep.open_ops = a;
    } else if (std::sscanf(line.c_str(), "end %llu", &a) == 1) {
      rep.end_ops = a;
    } else if (line.rfind("error", 0) == 0) {
      rep.error = line;
    }
  }
  return rep;
}

// Checks every invariant on the directory as the cut left it (real Env).
// VerifyViews (the costly part) only when `verify_views`: a view that
// differs from the fold stays so, and the next full check finds it.
void Verify(const std::string& path, const std::map<int, uint64_t>& acked, int next_op, int cycle,
            bool verify_views) {
  EngineOptions o;
  o.path = path;
  auto e = Engine::Open(o);
  ASSERT_TRUE(e.ok()) << "cycle " << cycle << ": " << e.status().ToString();
  Engine& engine = **e;
  for (int op = 0; op < next_op; ++op) {
    auto ack = acked.find(op);
    bool was_acked = ack != acked.end();
    if (KindOf(op) == OpKind::kImport) {
      int present = 0;
      for (int i = 0; i < ItemsOf(op); ++i) {
        if (engine.GetProperty(1, {StreamKind::kSource, 1}, ItemId(op, i), {}).ok()) ++present;
      }
      ASSERT_TRUE(present == 0 || present == ItemsOf(op))
          << "cycle " << cycle << ": import " << op << " is partial: " << present << "/"
          << ItemsOf(op);
      if (was_acked) {
        ASSERT_EQ(present, ItemsOf(op))
            << "cycle " << cycle << ": acknowledged import " << op << " was lost";
        ASSERT_TRUE(engine.GetImport(1, ack->second).ok())
            << "cycle " << cycle << ": import log entry " << ack->second << " lost";
      }
    } else if (KindOf(op) == OpKind::kSync) {
      if (was_acked) {
        ASSERT_TRUE(engine.GetSyncLog(1, ack->second).ok())
            << "cycle " << cycle << ": acknowledged sync " << ack->second << " was lost";
      }
    } else {
      auto p = engine.GetProperty(1, {StreamKind::kTarget, 1}, "m" + std::to_string(op), {});
      if (p.ok()) {
        ASSERT_EQ(p->data, ManualJson(op)) << "cycle " << cycle << ": edit " << op;
      } else {
        ASSERT_FALSE(was_acked) << "cycle " << cycle << ": acknowledged edit " << op
                                << " was lost: " << p.status().ToString();
      }
    }
  }
  if (!verify_views) return;
  std::vector<std::string> diffs;
  Status v = engine.VerifyViews(&diffs);
  ASSERT_TRUE(v.ok()) << "cycle " << cycle << ": " << v.ToString()
                      << (diffs.empty() ? "" : "\n" + diffs[0]);
}

int TargetCuts() {
  const char* env = std::getenv("SYNCMGR_POWER_CUTS");
  int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? n : kDefaultCuts;
}

uint64_t Seed() {
  const char* env = std::getenv("SYNCMGR_POWER_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 20261125;
}

// In a child started by RunChild: runs ChildMain and never returns.
void MaybeRunAsChild() {
  const char* spec = std::getenv("SYNCMGR_POWER_CHILD");
  if (spec == nullptr) return;
  std::string s(spec);
  size_t nl = s.find('\n');
  int first_op = 0, mode = 0, fd = -1;
  unsigned long long cut_at = 0, seed = 0;
  if (nl == std::string::npos || std::sscanf(s.c_str() + nl + 1, "%d %llu %d %llu %d", &first_op,
                                             &cut_at, &mode, &seed, &fd) != 5) {
    _exit(7);
  }
  ChildMain(s.substr(0, nl), first_op, cut_at,
            mode == 0 ? FaultFs::CutMode::kDropUnsynced : FaultFs::CutMode::kKeepUnsyncedPrefix,
            seed, fd);
}

TEST(PowerLossTest, CutsAtRandomFileOpsLoseNothingAcknowledgedAndNothingIsPartial) {
  MaybeRunAsChild();
  // FaultFs decides what is durable, so the medium underneath need not be:
  // a RAM file system, when there is one, keeps the real fsyncs cheap.
  if (std::filesystem::is_directory("/dev/shm")) setenv("TMPDIR", "/dev/shm", 1);
  TempDir dir;
  std::string path = dir.sub("db");
  SeedCatalog(path, "power");
  if (HasFatalFailure()) return;
  const int target_cuts = TargetCuts();
  const uint64_t seed = Seed();
  std::mt19937_64 rng(seed);
  std::map<int, uint64_t> acked;
  int next_op = 0, cuts = 0, cuts_in_open = 0, unverified_cuts = 0, verified = 0;
  uint64_t open_ops = 0, end_ops = 0;  // learned from the children
  auto start = std::chrono::steady_clock::now();
  int cycle = 0;
  for (; cuts < target_cuts && cycle < 2 * target_cuts + 1 &&
         std::chrono::steady_clock::now() - start < kTimeBudget;
       ++cycle) {
    // The first child runs uncut to learn how many ops an open and a
    // workload take; then half the cuts fall in the open, half after it.
    uint64_t cut_at = 0;
    if (cycle > 0 && end_ops > open_ops) {
      cut_at = rng() % 2 == 0 ? 1 + rng() % open_ops : open_ops + 1 + rng() % (end_ops - open_ops);
    }
    auto mode =
        cycle % 2 == 0 ? FaultFs::CutMode::kDropUnsynced : FaultFs::CutMode::kKeepUnsyncedPrefix;
    ChildReport rep = RunChild(path, next_op, cut_at, mode, rng());
    bool cut = rep.exit_code == FaultFs::kPowerCutExitCode;
    ASSERT_TRUE(cut || rep.exit_code == 0)
        << "cycle " << cycle << ": child exit " << rep.exit_code << " " << rep.error;
    if (rep.open_ops > 0) open_ops = rep.open_ops;
    if (rep.end_ops > 0) end_ops = rep.end_ops;
    if (cut) {
      ++cuts;
      if (rep.open_ops == 0) ++cuts_in_open;
    }
    int last = next_op - 1;
    for (const auto& [op, id] : rep.acked) {
      acked[op] = id;
      last = std::max(last, op);
    }
    // The op after the last acknowledged one may or may not have committed.
    next_op = std::min(last + 2, next_op + kOpsPerChild);
    // Now and then leave the cut for the next child to recover, under FaultFs.
    if (cut && rng() % 4 == 0) {
      ++unverified_cuts;
      continue;
    }
    Verify(path, acked, next_op, cycle, /*verify_views=*/verified % 2 == 0);
    if (::testing::Test::HasFatalFailure()) return;
    ++verified;
  }
  Verify(path, acked, next_op, cycle, /*verify_views=*/true);  // the final state, fully
  if (::testing::Test::HasFatalFailure()) return;
  ++verified;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "power-loss (seed %llu): %d cycles, %d power cuts (%d during open/recovery, %d recovered "
      "by the next child), %d verifications, %zu acknowledged operations, %.1f s\n",
      static_cast<unsigned long long>(seed), cycle, cuts, cuts_in_open, unverified_cuts, verified,
      acked.size(), secs);
  EXPECT_GT(acked.size(), 0u);
  EXPECT_GE(cuts, std::min(target_cuts, 10)) << "the children finished before their cut points";
}

}  // namespace
}  // namespace syncmgr::testing
