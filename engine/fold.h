// The fold: how one log event changes the views. Internal to engine/.
//
// Views = fold(log) holds because there is exactly one piece of code that
// turns events into view records, this one, and both the live write path
// (WriteOp) and replay (ReplayInto / VerifyViews) go through it. Every view
// record is a function of events alone; the fold never reads a view record
// from the database except through TenantViews' bitmaps and counters, which
// are themselves views loaded from (or rebuilt into) the `meta` and
// `bitmaps` column families.
//
// Thread-safety: a TenantViews is owned by one writer at a time (the
// tenant's write lock); a ViewFolder is used by one thread.
#pragma once

#include <rocksdb/write_batch.h>
#include <roaring/roaring.hh>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "engine/store.h"
#include "engine/types.h"
#include "events_generated.h"

namespace syncmgr {

using Bitmap = ::Roaring;  // CRoaring 0.2.x puts its C++ class in the global namespace
using BitmapPtr = std::shared_ptr<const Bitmap>;

// Stream identity packed for map keys: kind in the high byte.
inline uint64_t StreamKey(StreamRef s) { return (uint64_t{static_cast<uint8_t>(s.kind)} << 32) | s.id; }
inline StreamRef StreamOf(uint64_t key) {
  return StreamRef{static_cast<StreamKind>(key >> 32), static_cast<uint32_t>(key)};
}

struct PairState {
  uint64_t last_sync_id = 0;
  uint64_t last_sync_seq = 0;
  BitmapPtr source_dirty;  // source dense ids changed since the pair's last sync
  BitmapPtr target_dirty;  // target dense ids changed by others since then
};

// The per-tenant derived state a writer needs in memory: counters, live
// sets and sync pairs. Copying is cheap: bitmaps are shared, copied on write.
struct TenantViews {
  uint64_t last_seq = 0;
  int64_t last_time_us = 0;
  uint32_t next_source_id = 1;
  uint32_t next_target_id = 1;
  uint64_t next_import_id = 1;
  uint64_t next_sync_id = 1;
  std::map<uint64_t, uint32_t> next_dense;   // StreamKey -> next dense id
  std::map<uint64_t, BitmapPtr> live;         // StreamKey -> live dense ids (loaded lazily)
  // StreamKey of a target -> its live dense ids whose last change was manual
  // (loaded lazily; kept from on-disk format 3 on).
  std::map<uint64_t, BitmapPtr> manual;
  std::map<std::pair<uint32_t, uint32_t>, PairState> pairs;  // (source, target)
};

// The data_seq the fold gives a property's state after `p` (the event
// `ev`): the seq of the event holding its document, 0 once removed. The
// sync's log scan (sync.cc) derives states from events with it too.
inline uint64_t StateDataSeq(const fb::Event& ev, const fb::PropertyChanged& p) {
  if (p.change() == fb::PropertyChange::Removed) return 0;
  return p.data_ref() != 0 ? p.data_ref() : ev.seq();
}

// Serialises a bitmap in a canonical form (run-optimised, portable format)
// so that equal sets give equal bytes.
std::string EncodeBitmap(const Bitmap& bitmap);
StatusOr<Bitmap> DecodeBitmap(std::string_view bytes);

// The StreamMeta record the fold writes for a stream at on-disk format
// `format`: the counts only from kFormatCounts on (a directory of an older
// format is folded as it was written, so VerifyViews compares like with
// like). Shared with the format upgrade (upgrade.h), which must write the
// very bytes the fold would.
std::string EncodeStreamMeta(int format, uint32_t next_dense_id, uint64_t live_count,
                             uint64_t manual_count);

// Loads a tenant's views from `store` (empty views if the tenant is new).
// Live bitmaps are loaded lazily by ViewFolder / LiveSet.
StatusOr<TenantViews> LoadTenantViews(const Store& store, TenantId tenant);

// Rewrites a batch of puts with its records sorted by (column family, key);
// equal keys keep their order, so a later put still wins, and the views
// written are the same. Memtable inserts in key order cost a few
// comparisons each, in random order a full skip-list search. Leaves the
// batch as is if it holds anything but puts into `store`'s families. A
// batch that goes to bulk ingestion needs none: the ingester sorts each
// family's records itself.
void SortPuts(rocksdb::WriteBatch* batch, const Store& store);

// The same records, sorted the same way, appended to `*out` instead of
// replacing the batch: one copy where sorting and then appending is two.
// Returns false, having appended nothing, where SortPuts would leave the
// batch as is.
bool AppendSortedPuts(const rocksdb::WriteBatch& batch, const Store& store,
                      rocksdb::WriteBatch* out);

// Applies events to views, writing view records into a batch.
//
// From on-disk format 3 (kFormatCounts) on, the fold also keeps, per
// target, the set of live dense ids whose last change was manual (the
// `manual` family: what GET /targets/{id}/properties?manually_modified=true
// lists), and writes each touched stream's StreamMeta with its live
// and manual counts (what live_count / manual_count answer in O(1)). Both
// are written whenever a property event touches the stream, so whether a
// record exists, like its value, is a function of the log alone.
class ViewFolder {
 public:
  // `views` is modified in place; `batch` receives the view records; `store`
  // is where not-yet-loaded bitmaps are read from. `format`: the on-disk
  // format whose views to write; 0 means the store's (Store::format(), or
  // kFormatVersion without a store). VerifyViews folds a directory of an
  // older format at that format.
  ViewFolder(TenantId tenant, TenantViews* views, rocksdb::WriteBatch* batch, const Store* store,
             int format = 0);

  // Applies one event. REQUIRES: event.seq() == views->last_seq + 1.
  Status Apply(const fb::Event& event);
  // Writes the counters, touched stream metas, pairs and touched bitmaps.
  // Then, unless `sort_for_memtable` is false, SortForMemtable.
  void Finish(bool sort_for_memtable = true);
  // Rewrites the batch with its puts in (column family, key) order, for the
  // memtable's sake (fold.cc, SortPuts). A batch added by bulk ingestion is
  // sorted there instead, per family and in place, without this copy of the
  // whole batch (+0.2 GB at the commit of a 1 M-listing import).
  void SortForMemtable();

  // The live set of a stream (loaded on first use).
  StatusOr<BitmapPtr> Live(StreamRef stream);
  // The key hashes of the ApiKeyRevoked events applied: what the writer
  // tells the engine's AuthCache to forget once its batch is written.
  const std::vector<std::string>& revoked_keys() const { return revoked_keys_; }

 private:
  Status ApplyProperty(const fb::Event& ev, const fb::PropertyChanged& p);
  Status ApplySyncCompleted(const fb::Event& ev, const fb::SyncCompleted& s);
  StatusOr<Bitmap*> MutableLive(StreamRef stream);
  // The manual set of a target, loaded on first use, marked as touched.
  StatusOr<Bitmap*> MutableManual(StreamRef target);
  // Loads the bitmap at `key` of `cf` into `*slot` unless `*loaded`.
  Status LoadBitmap(Cf cf, const std::string& key, BitmapPtr* slot, bool* loaded);
  static Bitmap* Mutable(BitmapPtr* p);
  rocksdb::ColumnFamilyHandle* store_cf(Cf which) const { return store_->cf(which); }

  TenantId tenant_;
  TenantViews* views_;
  rocksdb::WriteBatch* batch_;
  const Store* store_;
  const bool counts_;  // format >= kFormatCounts: keep the manual sets and the counts
  std::set<uint64_t> touched_live_;
  std::set<uint64_t> touched_manual_;
  std::set<uint64_t> touched_streams_;
  std::set<std::pair<uint32_t, uint32_t>> touched_pairs_;
  std::vector<std::string> revoked_keys_;
};

}  // namespace syncmgr
