// StoreIterator (engine/store.h): the one way engine/ iterates RocksDB.
// Bounded by a prefix or a range in both directions, on a real RocksDB in a
// temporary directory.
#include <gtest/gtest.h>
#include <rocksdb/write_batch.h>

#include <string>
#include <vector>

#include "engine/store.h"
#include "tests/engine/store_fixture.h"

namespace syncmgr {
namespace {


class StoreIteratorTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    // "a", "b", "b\0", "b\x01", "b\xff", "b\xff\xff", "c": the prefix "b"
    // holds the five in the middle, "b\xff" the last two.
    Put({"a", "b", std::string("b\0", 2), "b\x01", "b\xff", "b\xff\xff", "c"});
  }

  void Put(const std::vector<std::string>& keys) {
    rocksdb::WriteBatch batch;
    for (const std::string& k : keys) {
      ASSERT_TRUE(batch.Put(store_->cf(Cf::kMeta), k, "v" + k).ok());
    }
    ASSERT_TRUE(store_->Write(&batch, /*sync=*/false).ok());
  }

  // Every key from the iterator's current position on, forward or back.
  static std::vector<std::string> Rest(StoreIterator* it, bool forward = true) {
    std::vector<std::string> out;
    for (; it->Valid(); forward ? it->Next() : it->Prev()) {
      out.emplace_back(it->key());
      EXPECT_EQ(it->value(), "v" + out.back());
    }
    EXPECT_TRUE(it->status("test").ok());
    return out;
  }
};

using Keys = std::vector<std::string>;
const std::string kB0("b\0", 2);

// Store::MultiGet (the batched point read next to Get): each value at its
// key's position whatever the keys' order, absent keys found false, and a
// second call reusing the vectors holds only its own answers.
TEST_F(StoreIteratorTest, MultiGetAnswersEachKeyInItsPlace) {
  std::vector<std::string> values;
  std::vector<bool> found;
  ASSERT_TRUE(store_->MultiGet(Cf::kMeta, {"c", "zz", "a", kB0, "b\xfe"}, &values, &found).ok());
  EXPECT_EQ(found, (std::vector<bool>{true, false, true, true, false}));
  EXPECT_EQ(values[0], "vc");
  EXPECT_EQ(values[2], "va");
  EXPECT_EQ(values[3], "v" + kB0);
  ASSERT_TRUE(store_->MultiGet(Cf::kMeta, {"zz", "b"}, &values, &found).ok());
  EXPECT_EQ(found, (std::vector<bool>{false, true}));
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[1], "vb");
  ASSERT_TRUE(store_->MultiGet(Cf::kMeta, {}, &values, &found).ok());
  EXPECT_TRUE(values.empty());
  EXPECT_TRUE(found.empty());
}

TEST_F(StoreIteratorTest, PrefixIteratorStopsAtTheEndsOfItsPrefix) {
  auto it = store_->NewPrefixIterator(Cf::kMeta, "b");
  it->SeekToFirst();
  EXPECT_EQ(Rest(it.get()), (Keys{"b", kB0, "b\x01", "b\xff", "b\xff\xff"}));
  it->SeekToLast();
  EXPECT_EQ(Rest(it.get(), /*forward=*/false), (Keys{"b\xff\xff", "b\xff", "b\x01", kB0, "b"}));
}

TEST_F(StoreIteratorTest, SeeksOutsideThePrefixLandAtItsNearestEnd) {
  auto it = store_->NewPrefixIterator(Cf::kMeta, "b");
  it->Seek("a");  // before the prefix: its first key
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Seek("c");  // past it: nothing
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("z");  // past it, backwards: its last key
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b\xff\xff");
  it->SeekForPrev("a");  // before it, backwards: nothing
  EXPECT_FALSE(it->Valid());
  it->Seek("b\x01");
  EXPECT_EQ(Rest(it.get()), (Keys{"b\x01", "b\xff", "b\xff\xff"}));
}

TEST_F(StoreIteratorTest, PrefixOfAllFfBytesAndEmptyPrefix) {
  auto ff = store_->NewPrefixIterator(Cf::kMeta, "b\xff");
  ff->SeekToFirst();
  EXPECT_EQ(Rest(ff.get()), (Keys{"b\xff", "b\xff\xff"}));
  auto all = store_->NewPrefixIterator(Cf::kMeta, "");
  all->SeekToFirst();
  EXPECT_EQ(Rest(all.get()), (Keys{"a", "b", kB0, "b\x01", "b\xff", "b\xff\xff", "c"}));
  auto none = store_->NewPrefixIterator(Cf::kMeta, "bb");
  none->SeekToFirst();
  EXPECT_FALSE(none->Valid());
  none->SeekToLast();
  EXPECT_FALSE(none->Valid());
  EXPECT_TRUE(none->status("test").ok());
}

TEST_F(StoreIteratorTest, RangeIteratorIsHalfOpen) {
  auto it = store_->NewRangeIterator(Cf::kMeta, kB0, "b\xff");
  it->SeekToFirst();
  EXPECT_EQ(Rest(it.get()), (Keys{kB0, "b\x01"}));
  it->SeekToLast();
  EXPECT_EQ(Rest(it.get(), /*forward=*/false), (Keys{"b\x01", kB0}));
}

TEST_F(StoreIteratorTest, ReadsTheSnapshotItIsGiven) {
  const rocksdb::Snapshot* snap = store_->db()->GetSnapshot();
  Put({"b\x02"});
  IteratorOptions io;
  io.snapshot = snap;
  io.fill_cache = false;
  auto then = store_->NewPrefixIterator(Cf::kMeta, "b", io);
  then->SeekToFirst();
  EXPECT_EQ(Rest(then.get()).size(), 5u);
  auto now = store_->NewPrefixIterator(Cf::kMeta, "b");
  now->SeekToFirst();
  EXPECT_EQ(Rest(now.get()).size(), 6u);
  store_->db()->ReleaseSnapshot(snap);
}

}  // namespace
}  // namespace syncmgr
