// Disk full and I/O errors (issue 7 item 3, engine side).
//   * The free-space reserve (EngineOptions::min_free_bytes), on a small
//     tmpfs mounted by the test: writes are refused with NoSpace before
//     RocksDB runs out, nothing is half-written, reads go on, and writes
//     work again once space is freed. Skipped where mount is not allowed.
//   * I/O errors injected by FaultFs (EIO, ENOSPC) at each step of a write
//     (WAL append, WAL sync, ...): the write fails with a clear "outcome
//     unknown" error, no crash; once the I/O heals, writes work again
//     without a restart; the directory reopens with nothing half-written.
#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/engine/engine_fixture.h"
#include "tests/support/fault_fs.h"

namespace syncmgr::testing {
namespace {

constexpr uint64_t kTmpfsBytes = 64ull << 20;
constexpr uint64_t kReserve = 8ull << 20;
constexpr uint64_t kHeadroom = 2ull << 20;  // free space left above the reserve
constexpr int kMaxImports = 100;            // the reserve is hit well before
// Longer than DiskGuard's cache, so the next write sees fresh figures.
constexpr auto kPastGuardCache = std::chrono::milliseconds(150);

std::string Body(const std::string& prefix, int items, size_t pad) {
  std::string body = "[";
  for (int i = 0; i < items; ++i) {
    body += (i ? "," : "") + std::string("{\"external_id\":\"") + prefix + "-" + std::to_string(i) +
            "\",\"pad\":\"" + std::string(pad, 'z') + "\"}";
  }
  return body + "]";
}

uint64_t FreeBytes(const std::string& path) {
  struct statvfs v;
  if (statvfs(path.c_str(), &v) != 0) return 0;
  return static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
}

// A tmpfs mounted for one test, unmounted at the end.
class Tmpfs {
 public:
  Tmpfs(const std::string& path, uint64_t bytes) : path_(path) {
    std::filesystem::create_directories(path);
    std::string opts = "size=" + std::to_string(bytes);
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_ && ::umount(path_.c_str()) != 0) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

TEST(DiskFullTest, ReserveRefusesWritesKeepsReadsAndRecoversWhenSpaceReturns) {
  TempDir dir;
  Tmpfs tmpfs(dir.sub("mnt"), kTmpfsBytes);
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << tmpfs.error();
  std::string mnt = dir.sub("mnt");
  {
    EngineOptions o;
    o.path = mnt + "/db";
    o.min_free_bytes = kReserve;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    Engine& engine = **e;
    ASSERT_TRUE(engine.CreateTenant("full").ok());
    SourceSpec ss;
    ss.name = "s";
    ASSERT_TRUE(engine.CreateSource(1, ss).ok());
    TargetSpec ts;
    ts.name = "t";
    ASSERT_TRUE(engine.CreateTarget(1, ts).ok());
    ASSERT_TRUE(engine.Import(1, 1, ImportOptions(), Body("first", 20, 100)).ok());

    // Fill the file system up to kHeadroom above the reserve.
    uint64_t free = FreeBytes(mnt);
    ASSERT_GT(free, kReserve + kHeadroom) << "tmpfs already full";
    std::string filler = mnt + "/filler";
    {
      std::ofstream out(filler, std::ios::binary);
      std::string block(1 << 20, 'f');
      for (uint64_t left = free - kReserve - kHeadroom; left > 0 && out;) {
        uint64_t n = std::min<uint64_t>(left, block.size());
        out.write(block.data(), static_cast<std::streamsize>(n));
        left -= n;
      }
      ASSERT_TRUE(out.good());
    }

    // Import until the reserve refuses one (each waits out the guard's cache).
    int imported = 0;
    Status refused;
    for (int i = 0; i < kMaxImports; ++i) {
      std::this_thread::sleep_for(kPastGuardCache);
      uint64_t seq_before = *engine.LastSeq(1);
      auto r = engine.Import(1, 1, ImportOptions(), Body("fill" + std::to_string(i), 16, 16000));
      if (!r.ok()) {
        refused = r.status();
        EXPECT_EQ(*engine.LastSeq(1), seq_before) << "a refused import moved the log";
        EXPECT_FALSE(engine.GetProperty(1, Src(1), "fill" + std::to_string(i) + "-0", {}).ok());
        break;
      }
      ++imported;
    }
    ASSERT_EQ(refused.code(), Code::kNoSpace) << refused.ToString();
    EXPECT_NE(refused.message().find("min_free_bytes"), std::string::npos) << refused.message();
    EXPECT_GT(imported, 0);
    EXPECT_GE(FreeBytes(mnt), kReserve / 2) << "RocksDB came close to the real end of space";
    std::printf("disk full: %d imports accepted, then refused: %s\n", imported,
                refused.ToString().c_str());

    // Every other write is refused too; reads go on.
    uint64_t seq = *engine.LastSeq(1);
    EXPECT_EQ(engine.CreateTenant("other").status().code(), Code::kNoSpace);
    EXPECT_EQ(engine.PutTargetProperty(1, 1, "m", "{\"a\":1}").status().code(), Code::kNoSpace);
    EXPECT_EQ(engine.Sync(1, 1, 1, SyncOptions()).status().code(), Code::kNoSpace);
    EXPECT_EQ(*engine.LastSeq(1), seq);
    EXPECT_TRUE(engine.GetProperty(1, Src(1), "first-0", {}).ok());
    EXPECT_TRUE(engine.GetProperty(1, Src(1), "fill0-15", {}).ok());
    auto cursor = engine.ListProperties(1, Src(1), {});
    ASSERT_TRUE(cursor.ok());
    PropertyRecord rec;
    int listed = 0;
    while ((*cursor)->Next(&rec)) ++listed;
    EXPECT_EQ(listed, 20 + imported * 16);
    std::vector<std::string> diffs;
    EXPECT_TRUE(engine.VerifyViews(&diffs).ok());

    // Space returns: writes work again, without a restart.
    std::filesystem::remove(filler);
    std::this_thread::sleep_for(kPastGuardCache);
    auto r = engine.Import(1, 1, ImportOptions(), Body("after", 16, 1000));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(*engine.LastSeq(1), seq);
    ASSERT_TRUE(engine.Sync(1, 1, 1, SyncOptions()).ok());
    EXPECT_TRUE(engine.VerifyViews(&diffs).ok());
  }
  // Everything acknowledged is there after a reopen.
  EngineOptions o;
  o.path = mnt + "/db";
  o.min_free_bytes = kReserve;
  auto e = Engine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE((*e)->GetProperty(1, Src(1), "after-15", {}).ok());
  std::vector<std::string> diffs;
  EXPECT_TRUE((*e)->VerifyViews(&diffs).ok());
}

// Without the reserve, RocksDB itself meets ENOSPC on a full tmpfs. With
// RocksDB's stock info LOG this aborted the process (an assertion in
// Debian's librocksdb when the LOG append failed); with the engine's own
// LOG writer (engine/info_log.h) the write fails cleanly, and writes resume
// in-process once space returns (EngineImpl::ResumeIfNeeded).
TEST(DiskFullTest, RealEnospcWithoutTheReserveFailsCleanlyAndResumes) {
  TempDir dir;
  Tmpfs tmpfs(dir.sub("mnt"), kTmpfsBytes);
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << tmpfs.error();
  const std::string mnt = dir.sub("mnt");
  EngineOptions o;
  o.path = mnt + "/db";
  o.min_free_bytes = 0;  // the reserve off: RocksDB runs into the wall
  {
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    Engine& engine = **e;
    ASSERT_TRUE(engine.CreateTenant("full").ok());
    SourceSpec ss;
    ss.name = "s";
    ASSERT_TRUE(engine.CreateSource(1, ss).ok());
    ASSERT_TRUE(engine.Import(1, 1, ImportOptions(), Body("first", 20, 100)).ok());
    // Fill the file system completely.
    const std::string filler = mnt + "/filler";
    {
      std::ofstream out(filler, std::ios::binary);
      std::string block(64 << 10, 'f');
      for (int i = 0; i < 4096 && out.write(block.data(), block.size()); ++i) {
      }
    }
    int failed = 0, acked = 0;
    std::vector<int> acked_ids;
    for (int i = 0; i < 40 && failed < 3; ++i) {
      auto r = engine.Import(1, 1, ImportOptions(), Body("x" + std::to_string(i), 8, 8000));
      if (r.ok()) {
        ++acked;
        acked_ids.push_back(i);
      } else {
        ++failed;
        EXPECT_EQ(r.status().code(), Code::kNoSpace) << r.status().ToString();
      }
    }
    ASSERT_GT(failed, 0) << "the disk never filled";
    EXPECT_TRUE(engine.GetProperty(1, Src(1), "first-0", {}).ok());  // reads go on
    std::filesystem::remove(filler);
    // RocksDB's own recovery from ENOSPC (its SstFileManager polls the free
    // space every few seconds) may be under way: writes answer Unavailable
    // ("retry in a few seconds") until it is done. Bounded: 30 s.
    StatusOr<ImportResult> r = Status::Internal("not tried");
    int retries = 0;
    for (; retries < 300; ++retries) {
      r = engine.Import(1, 1, ImportOptions(), Body("after", 4, 100));
      if (r.ok() || r.status().code() != Code::kUnavailable) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (int i : acked_ids) {
      EXPECT_TRUE(engine.GetProperty(1, Src(1), "x" + std::to_string(i) + "-7", {}).ok()) << i;
    }
    std::vector<std::string> diffs;
    EXPECT_TRUE(engine.VerifyViews(&diffs).ok()) << (diffs.empty() ? "" : diffs[0]);
    std::printf("real ENOSPC without the reserve: %d imports acknowledged, %d refused; no abort; "
                "writes resumed in-process after space returned (%d retries of 100 ms)\n",
                acked, failed, retries);
  }
  auto e = Engine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE((*e)->GetProperty(1, Src(1), "after-3", {}).ok());
  std::vector<std::string> diffs;
  EXPECT_TRUE((*e)->VerifyViews(&diffs).ok());
}

constexpr uint64_t kMaxFaultPoints = 8;

// One write whose k-th file op (and every later one) fails with `error`.
struct FaultCase {
  const char* name;
  rocksdb::IOStatus error;
  Code expected;
};

TEST(DiskFullTest, InjectedIoErrorsFailTheWriteCleanlyAndNothingIsHalfWritten) {
  const FaultCase cases[] = {
      {"ENOSPC", rocksdb::IOStatus::NoSpace("injected: No space left on device"), Code::kNoSpace},
      {"EIO", rocksdb::IOStatus::IOError("injected: Input/output error"), Code::kUnavailable},
  };
  int tried = 0, resumed = 0, needed_restart = 0;
  bool acknowledged_healed = false;
  uint64_t ops_per_import = 1;  // learned from the first acknowledged import
  for (const FaultCase& fc : cases) {
    for (uint64_t k = 1; k <= ops_per_import && k <= kMaxFaultPoints; ++k) {
      SCOPED_TRACE(std::string(fc.name) + " from op +" + std::to_string(k));
      TempDir dir;
      std::string path = dir.sub("db");
      auto fs = std::make_shared<FaultFs>();
      std::unique_ptr<rocksdb::Env> env = FaultFs::NewEnv(fs);
      EngineOptions o;
      o.path = path;
      o.env = env.get();
      o.min_free_bytes = 0;  // the injected errors, not the reserve
      {
        auto e = Engine::Open(o);
        ASSERT_TRUE(e.ok()) << e.status().ToString();
        Engine& engine = **e;
        ASSERT_TRUE(engine.CreateTenant("io").ok());
        SourceSpec ss;
        ss.name = "s";
        ASSERT_TRUE(engine.CreateSource(1, ss).ok());
        uint64_t ops_before = fs->ops();
        ASSERT_TRUE(engine.Import(1, 1, ImportOptions(), Body("ok", 10, 100)).ok());
        ops_per_import = std::max(ops_per_import, fs->ops() - ops_before);
        uint64_t seq = *engine.LastSeq(1);

        fs->FailFrom(fs->ops() + k, fc.error);
        auto r = engine.Import(1, 1, ImportOptions(), Body("bad", 10, 100));
        if (r.ok()) {
          // The import needed fewer file ops than the one measured (which may
          // have included a background job's): the fault lay past it.
          fs->Heal();
          continue;
        }
        EXPECT_EQ(r.status().code(), fc.expected) << r.status().ToString();
        // The commit may have reached the WAL: the answer says the outcome
        // is unknown and where to look (issue 7, item 6c).
        EXPECT_NE(r.status().message().find("outcome unknown"), std::string::npos)
            << r.status().message();
        EXPECT_NE(r.status().message().find("import log"), std::string::npos);
        EXPECT_EQ(*engine.LastSeq(1), seq) << "a failed write is visible in the log";
        // Reads go on.
        EXPECT_TRUE(engine.GetProperty(1, Src(1), "ok-9", {}).ok());
        // Later writes fail too while the I/O does, and do not crash.
        EXPECT_FALSE(engine.Import(1, 1, ImportOptions(), Body("bad2", 3, 10)).ok());
        fs->Heal();
        // I/O works again: so do writes, without a restart (DB::Resume and a
        // flush, EngineImpl::ResumeIfNeeded) — except after an EIO on a WAL
        // write, which librocksdb 7.8 deems fatal: then the answer says a
        // restart is needed.
        auto healed = engine.Import(1, 1, ImportOptions(), Body("healed", 5, 10));
        if (!healed.ok()) {
          EXPECT_EQ(fc.expected, Code::kUnavailable) << healed.status().ToString();
          EXPECT_NE(healed.status().message().find("restarting"), std::string::npos)
              << healed.status().ToString();
          ++needed_restart;
        } else {
          ++resumed;
          EXPECT_TRUE(engine.GetProperty(1, Src(1), "healed-4", {}).ok());
          EXPECT_TRUE(engine.CreateTenant("after").ok());
          std::vector<std::string> diffs;
          EXPECT_TRUE(engine.VerifyViews(&diffs).ok()) << (diffs.empty() ? "" : diffs[0]);
        }
        acknowledged_healed = healed.ok();
      }
      // Reopened on healthy I/O: the acknowledged import is there, the failed
      // one wholly or not at all, views = fold(log), and writes work.
      auto e = Engine::Open(o);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      Engine& engine = **e;
      EXPECT_TRUE(engine.GetProperty(1, Src(1), "ok-9", {}).ok());
      EXPECT_EQ(engine.GetProperty(1, Src(1), "healed-4", {}).ok(), acknowledged_healed);
      int present = 0;
      for (int i = 0; i < 10; ++i) {
        present += engine.GetProperty(1, Src(1), "bad-" + std::to_string(i), {}).ok();
      }
      EXPECT_TRUE(present == 0 || present == 10) << present << "/10 of the failed import";
      std::vector<std::string> diffs;
      EXPECT_TRUE(engine.VerifyViews(&diffs).ok()) << (diffs.empty() ? "" : diffs[0]);
      EXPECT_TRUE(engine.Import(1, 1, ImportOptions(), Body("again", 3, 10)).ok());
      ++tried;
    }
  }
  EXPECT_GE(tried, 4);
  EXPECT_GE(resumed, 2);  // at least every ENOSPC point resumed in-process
  std::printf(
      "io errors: %d fault points (%llu file ops per import); writes resumed in-process after "
      "%d, a restart was needed after %d\n",
      tried, static_cast<unsigned long long>(ops_per_import), resumed, needed_restart);
}

}  // namespace
}  // namespace syncmgr::testing
