// The power-cut model of tests/support/fault_fs.h, checked on plain files:
// what survives is the synced bytes under the names of the last directory
// fsync, and nothing else.
#include "tests/support/fault_fs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;

class FaultFsTest : public ::testing::Test {
 protected:
  std::unique_ptr<FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<FSWritableFile> f;
    EXPECT_TRUE(fs_->NewWritableFile(dir_.sub(name), FileOptions(), &f, nullptr).ok());
    return f;
  }
  void Append(FSWritableFile* f, const std::string& bytes) {
    EXPECT_TRUE(f->Append(bytes, IOOptions(), nullptr).ok());
  }
  void Sync(FSWritableFile* f) { EXPECT_TRUE(f->Sync(IOOptions(), nullptr).ok()); }
  void SyncDir() {
    std::unique_ptr<FSDirectory> d;
    ASSERT_TRUE(fs_->NewDirectory(dir_.path(), IOOptions(), &d, nullptr).ok());
    ASSERT_TRUE(d->Fsync(IOOptions(), nullptr).ok());
  }
  // Contents of a file, or "<absent>".
  std::string Read(const std::string& name) {
    std::ifstream in(dir_.sub(name), std::ios::binary);
    if (!in) return "<absent>";
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Cut(FaultFs::CutMode mode = FaultFs::CutMode::kDropUnsynced) {
    ASSERT_TRUE(fs_->SimulatePowerCut(mode, 7).ok());
  }

  TempDir dir_;
  std::shared_ptr<FaultFs> fs_ = std::make_shared<FaultFs>();
};

TEST_F(FaultFsTest, KeepsSyncedBytesOfDurableFilesOnly) {
  auto a = Create("a");
  Append(a.get(), "abc");
  Sync(a.get());
  SyncDir();
  Append(a.get(), "def");  // never synced
  auto b = Create("b");    // its name is never made durable
  Append(b.get(), "xyz");
  Sync(b.get());
  a.reset();
  b.reset();
  EXPECT_EQ(Read("a"), "abcdef");
  Cut();
  EXPECT_EQ(Read("a"), "abc");
  EXPECT_EQ(Read("b"), "<absent>");
}

TEST_F(FaultFsTest, RangeSyncIsNotDurable) {
  auto a = Create("a");
  SyncDir();
  Append(a.get(), "abc");
  ASSERT_TRUE(a->RangeSync(0, 3, IOOptions(), nullptr).ok());
  a.reset();
  Cut();
  EXPECT_EQ(Read("a"), "");
}

TEST_F(FaultFsTest, RenameIsDurableOnlyAfterDirectorySync) {
  auto cur = Create("CURRENT");
  Append(cur.get(), "old");
  Sync(cur.get());
  SyncDir();
  auto tmp = Create("tmp");
  Append(tmp.get(), "new");
  Sync(tmp.get());
  ASSERT_TRUE(fs_->RenameFile(dir_.sub("tmp"), dir_.sub("CURRENT"), IOOptions(), nullptr).ok());
  EXPECT_EQ(Read("CURRENT"), "new");
  Cut();  // the rename was not synced: the old file is back, tmp never was
  EXPECT_EQ(Read("CURRENT"), "old");
  EXPECT_EQ(Read("tmp"), "<absent>");

  auto tmp2 = Create("tmp");
  Append(tmp2.get(), "newer");
  Sync(tmp2.get());
  ASSERT_TRUE(fs_->RenameFile(dir_.sub("tmp"), dir_.sub("CURRENT"), IOOptions(), nullptr).ok());
  SyncDir();
  Cut();
  EXPECT_EQ(Read("CURRENT"), "newer");
  EXPECT_EQ(Read("tmp"), "<absent>");
}

TEST_F(FaultFsTest, DeleteIsUndoneWithoutDirectorySync) {
  auto a = Create("a");
  Append(a.get(), "keep");
  Sync(a.get());
  SyncDir();
  a.reset();
  ASSERT_TRUE(fs_->DeleteFile(dir_.sub("a"), IOOptions(), nullptr).ok());
  EXPECT_EQ(Read("a"), "<absent>");
  Cut();
  EXPECT_EQ(Read("a"), "keep");
  ASSERT_TRUE(fs_->DeleteFile(dir_.sub("a"), IOOptions(), nullptr).ok());
  SyncDir();
  Cut();
  EXPECT_EQ(Read("a"), "<absent>");
}

TEST_F(FaultFsTest, KeepUnsyncedPrefixKeepsAtLeastTheSyncedBytes) {
  auto a = Create("a");
  Append(a.get(), "0123");
  Sync(a.get());
  SyncDir();
  Append(a.get(), "456789");
  a.reset();
  Cut(FaultFs::CutMode::kKeepUnsyncedPrefix);
  std::string got = Read("a");
  EXPECT_GE(got.size(), 4u);
  EXPECT_EQ(got, std::string("0123456789").substr(0, got.size()));
}

TEST_F(FaultFsTest, FailFromFailsWritesAndHealRestores) {
  auto a = Create("a");
  fs_->FailFrom(fs_->ops() + 1, rocksdb::IOStatus::NoSpace("injected"));
  rocksdb::IOStatus s = a->Append("x", IOOptions(), nullptr);
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_EQ(Read("a"), "");
  fs_->Heal();
  EXPECT_TRUE(a->Append("y", IOOptions(), nullptr).ok());
  a.reset();
  EXPECT_EQ(Read("a"), "y");
}

}  // namespace
}  // namespace syncmgr::testing
