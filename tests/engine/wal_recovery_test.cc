// WAL recovery mode (docs/reliability.md): the engine replays the WAL with
// kTolerateCorruptedTailRecords, so
//   * a byte flipped inside the WAL refuses to open with Corruption and a
//     message saying how to recover — never opens with acknowledged writes
//     silently dropped (the default point-in-time mode would);
//   * a torn tail (the last record cut short, as a crash in the middle of
//     an unacknowledged write leaves it) opens and keeps every earlier write.
// Real files; the data is small so it stays in the WAL (no memtable flush).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/engine/engine_fixture.h"
#include "tests/support/files.h"

namespace syncmgr::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kImports = 8;
constexpr int kItems = 5;

std::string ItemId(int op, int i) { return "op" + std::to_string(op) + "-" + std::to_string(i); }

std::string Body(int op) {
  std::string body = "[";
  for (int i = 0; i < kItems; ++i) {
    body += (i ? "," : "") + std::string("{\"external_id\":\"") + ItemId(op, i) +
            "\",\"n\":" + std::to_string(op * 100 + i) + ",\"pad\":\"" + std::string(300, 'p') +
            "\"}";
  }
  return body + "]";
}

// The newest WAL of a data directory (names are zero-padded numbers).
std::string LastWal(const std::string& dir) {
  std::string last;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string p = e.path().string();
    if (e.path().extension() == ".log" && p > last) last = p;
  }
  return last;
}

uint64_t SizeOf(const std::string& path) { return fs::file_size(path); }

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class WalRecoveryTest : public ::testing::Test {
 protected:
  // One session: a tenant, a source and kImports acknowledged imports; the
  // size of the newest WAL is noted after each import. The directory is
  // copied while the engine still has it open, as a crash leaves it: the
  // WAL holds every write (a clean stop would flush the memtables and leave
  // no WAL to recover).
  void SetUp() override {
    EngineOptions o;
    o.path = live_;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE((*e)->CreateTenant("wal").ok());
    SourceSpec ss;
    ss.name = "s";
    ASSERT_TRUE((*e)->CreateSource(1, ss).ok());
    wal_ = LastWal(live_);
    ASSERT_FALSE(wal_.empty());
    for (int op = 0; op < kImports; ++op) {
      ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(op)).ok());
      ASSERT_EQ(LastWal(live_), wal_) << "the WAL switched; the test data must stay small";
      wal_size_after_.push_back(SizeOf(wal_));
    }
    fs::copy(live_, pristine_, fs::copy_options::recursive);
    wal_ = (fs::path(pristine_) / fs::path(wal_).filename()).string();
  }

  // A fresh copy of the session's directory; returns the path of its WAL.
  std::string Copy() {
    std::error_code ec;
    fs::remove_all(copy_, ec);
    fs::copy(pristine_, copy_, fs::copy_options::recursive);
    return (fs::path(copy_) / fs::path(wal_).filename()).string();
  }

  // Imports [0, n) are all there with their data, and [n, kImports) are not.
  void ExpectExactlyImports(Engine& engine, int n, const std::string& what) {
    for (int op = 0; op < kImports; ++op) {
      for (int i = 0; i < kItems; ++i) {
        auto p = engine.GetProperty(1, {StreamKind::kSource, 1}, ItemId(op, i), {});
        if (op < n) {
          ASSERT_TRUE(p.ok()) << what << ": import " << op << " lost";
          EXPECT_NE(p->data.find("\"n\":" + std::to_string(op * 100 + i)), std::string::npos);
        } else {
          ASSERT_FALSE(p.ok()) << what << ": import " << op << " present";
        }
      }
    }
    std::vector<std::string> diffs;
    EXPECT_TRUE(engine.VerifyViews(&diffs).ok()) << what;
  }

  StatusOr<std::unique_ptr<Engine>> OpenCopy() {
    EngineOptions o;
    o.path = copy_;
    return Engine::Open(o);
  }

  TempDir dir_;
  std::string live_ = dir_.sub("live");
  std::string pristine_ = dir_.sub("pristine");
  std::string copy_ = dir_.sub("copy");
  std::string wal_;
  std::vector<uint64_t> wal_size_after_;  // after import i
};

TEST_F(WalRecoveryTest, UntouchedWalOpensWithEveryWrite) {
  Copy();
  auto e = OpenCopy();
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ExpectExactlyImports(**e, kImports, "untouched");
}

// A clean stop (the engine closed, as SetUp closed it) flushes the memtables:
// the directory a user finds holds table files, not a WAL to replay
// (engine/store.h, Store::FlushForClose), and every write is still there.
TEST_F(WalRecoveryTest, CleanStopLeavesNoWalBytes) {
  uint64_t wal_bytes = 0;
  for (const auto& f : fs::directory_iterator(live_)) {
    if (f.path().extension() == ".log") wal_bytes += SizeOf(f.path().string());
  }
  EXPECT_EQ(wal_bytes, 0u);
  EngineOptions o;
  o.path = live_;
  auto e = Engine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ExpectExactlyImports(**e, kImports, "after a clean stop");
}

TEST_F(WalRecoveryTest, ByteFlippedInTheMiddleRefusesToOpenAndSaysHowToRecover) {
  std::string wal = Copy();
  std::string bytes = ReadFile(wal);
  size_t pos = bytes.size() / 2;
  bytes[pos] = static_cast<char>(bytes[pos] ^ 0x5a);
  WriteAll(wal, bytes);

  auto e = OpenCopy();
  ASSERT_FALSE(e.ok()) << "opened a WAL with a flipped byte at " << pos;
  EXPECT_EQ(e.status().code(), Code::kCorruption) << e.status().ToString();
  const std::string& msg = e.status().message();
  std::printf("open refused: %s\n", e.status().ToString().c_str());
  EXPECT_NE(msg.find("restore"), std::string::npos) << msg;
  EXPECT_NE(msg.find("docs/reliability.md"), std::string::npos) << msg;
  // The failed open changed nothing: the damaged WAL is still there as it was.
  EXPECT_EQ(ReadFile(wal), bytes);
  // Once the byte is repaired, everything is there.
  bytes[pos] = static_cast<char>(bytes[pos] ^ 0x5a);
  WriteAll(wal, bytes);
  auto again = OpenCopy();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectExactlyImports(**again, kImports, "repaired");
}

// Wherever a byte flips, the open either refuses (Corruption) or keeps every
// acknowledged write: it never drops one silently.
TEST_F(WalRecoveryTest, ByteFlippedAnywhereNeverDropsAcknowledgedWrites) {
  uint64_t size = SizeOf(wal_);
  int refused = 0, opened = 0;
  for (int k = 1; k < 32; ++k) {
    std::string wal = Copy();
    std::string bytes = ReadFile(wal);
    size_t pos = size * k / 32;
    bytes[pos] = static_cast<char>(bytes[pos] ^ 0x01);
    WriteAll(wal, bytes);
    auto e = OpenCopy();
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), Code::kCorruption)
          << "flip at " << pos << ": " << e.status().ToString();
      ++refused;
      continue;
    }
    ++opened;  // the flip hit bytes no record covers (block padding)
    ExpectExactlyImports(**e, kImports, "flip at " + std::to_string(pos));
  }
  EXPECT_GT(refused, 0);
  std::printf("wal flips: %d refused to open, %d opened with every write\n", refused, opened);
}

TEST_F(WalRecoveryTest, TornTailOpensAndKeepsEveryEarlierWrite) {
  // The last import's record is cut short at several points, as a crash
  // during its write would leave it: it was never synced, so never acked.
  uint64_t before = wal_size_after_[kImports - 2];
  uint64_t after = wal_size_after_[kImports - 1];
  ASSERT_GT(after, before + 16);
  // Inside the record header (7 bytes), right after it, mid-payload, last byte.
  for (uint64_t cut : {before + 1, before + 6, before + 7, (before + after) / 2, after - 1}) {
    std::string wal = Copy();
    fs::resize_file(wal, cut);
    auto e = OpenCopy();
    ASSERT_TRUE(e.ok()) << "torn at " << cut << ": " << e.status().ToString();
    ExpectExactlyImports(**e, kImports - 1, "torn at " + std::to_string(cut));
    // The directory works on: a write, then a clean reopen.
    ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(kImports - 1)).ok());
    e->reset();
    auto again = OpenCopy();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ExpectExactlyImports(**again, kImports, "rewritten after torn at " + std::to_string(cut));
  }
}

}  // namespace
}  // namespace syncmgr::testing
