// Sync: reconciles a source into a target, all or nothing.
//
// Candidates. The first sync of a (source, target) pair walks the source's
// whole state. Later syncs visit only the ids in the pair's two
// changed-since-last-sync bitmaps (source ids changed by imports; target ids
// changed by manual edits or by syncs from other sources), so a sync with k
// changes among N properties does O(k) work. Every id outside those sets is
// known to be unchanged, which is how `unchanged` is counted without a scan:
//   unchanged = |live(source)| - (live source ids among the candidates)
//               + (candidates found unchanged).
// Conflicts that the sync keeps stay in the pair's target set, so every
// later sync sees (and reports) them again, as a full comparison would.
//
// An incremental sync learns the source's side of its candidates from the
// source's own events since the pair's last sync, read in one scan of the
// log (ScanSourceChanges), when that stretch of the log is about as long as
// the source's changed-id set; else, and for the target's candidates, from
// point reads of the dense ids and state records (CandidateBatch).
#include <algorithm>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/event_codec.h"
#include "engine/keys.h"
#include "engine/reader_thread.h"
#include "engine/state_read.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

// What the sync knows of a source id from the last of the source's events
// since the pair's last sync (ScanSourceChanges): the state the fold made
// of it (ViewFolder::ApplyProperty), so far as a sync reads it, and, when
// the event holds its own document, what UpdatedFields would otherwise
// read from it.
struct SourceChange {
  bool removed = false;
  Hash128 hash;
  uint64_t data_seq = 0;  // the fold's: 0 if removed, else data_ref or the event's seq
  bool holds_data = false;  // data_seq is the event's own seq (no data_ref)
  uint64_t prev_data_seq = 0;
  bool has_changed_fields = false;
  std::vector<std::string> changed_fields;
};

// A candidate's source side as Visit reads it: from a state record (the
// first sync, point reads) or from a SourceChange (the log scan).
struct SourceSide {
  bool live = false;
  Hash128 hash;
  uint64_t data_seq = 0;
  const SourceChange* change = nullptr;  // null: read from a state record

  static SourceSide Of(const fb::PropertyState* state) {
    SourceSide s;
    if (state != nullptr && !state->removed()) {
      s.live = true;
      s.hash = FromFb(state->hash());
      s.data_seq = state->data_seq();
    }
    return s;
  }
  static SourceSide Of(const SourceChange& c) {
    SourceSide s;
    s.live = !c.removed;
    s.hash = c.hash;
    s.data_seq = c.data_seq;
    s.change = &c;
    return s;
  }
};

class SyncRun {
 public:
  SyncRun(EngineImpl* engine, WriteOp* op, const SourceInfo& source, const TargetInfo& target,
          const SyncOptions& options, uint64_t sync_id)
      : engine_(engine),
        op_(op),
        source_(source),
        target_(target),
        options_(options),
        sync_id_(sync_id) {}

  // Visits one candidate id. `src` is its source side, `tgt` its target
  // state (null if the stream never had it). `src_record`, if not null, is
  // the log record at src.data_seq, read ahead by the caller; else an
  // update reads it itself if it needs it.
  Status Visit(std::string_view ext, const SourceSide& src, const fb::PropertyState* tgt,
               const std::string* src_record = nullptr) {
    bool src_live = src.live;
    bool tgt_live = tgt != nullptr && !tgt->removed();
    bool manual = tgt != nullptr && tgt->manually_modified();

    if (src_live) {
      ++live_candidates_;
      if (tgt_live && FromFb(tgt->hash()) == src.hash) {
        ++unchanged_candidates_;
        return Status::Ok();
      }
      if (manual && !Conflict(ext, tgt, tgt_live ? "changed" : "removed")) return Status::Ok();
      return tgt_live ? Write(fb::PropertyChange::Updated, ext, src, tgt, src_record)
                      : Write(fb::PropertyChange::Created, ext, src, tgt);
    }
    // Removed in (or never in) the source: remove it from the target if this
    // source is where the target's copy came from.
    if (!tgt_live || tgt->source_id() != source_.id) return Status::Ok();
    if (manual && !Conflict(ext, tgt, "edited")) return Status::Ok();
    return Write(fb::PropertyChange::Removed, ext, src, tgt);
  }

  SyncStats Stats(uint64_t live_source) const {
    SyncStats s = stats_;
    s.unchanged = live_source - live_candidates_ + unchanged_candidates_;
    return s;
  }
  std::vector<SyncWarning>& warnings() { return warnings_; }
  std::vector<uint32_t>& retained() { return retained_; }

 private:
  StreamRef target_stream() const { return {StreamKind::kTarget, target_.id}; }

  // Records a conflict; returns true if the sync goes on to write anyway.
  bool Conflict(std::string_view ext, const fb::PropertyState* tgt, std::string_view what) {
    ++stats_.conflicts;
    bool overwrite = options_.on_conflict == OnConflict::kOverwrite;
    warnings_.push_back(SyncWarning{
        std::string(ext), "manual_change",
        fmt::format("target property was {} manually since the last sync; {}",
                    what == "changed" ? "edited" : what,
                    overwrite ? "the manual change was overwritten" : "the manual change was kept")});
    if (!overwrite) {
      retained_.push_back(tgt->dense_id());
    }
    return overwrite;
  }

  Status Write(fb::PropertyChange change, std::string_view ext, const SourceSide& src,
               const fb::PropertyState* tgt, const std::string* src_record = nullptr) {
    switch (change) {
      case fb::PropertyChange::Created: ++stats_.created; break;
      case fb::PropertyChange::Updated: ++stats_.updated; break;
      default: ++stats_.removed; break;
    }
    if (options_.dry_run) return Status::Ok();
    PropertyEventSpec spec;
    spec.change = change;
    spec.stream = target_stream();
    spec.external_id = ext;
    spec.cause = CauseKind::kSync;
    spec.cause_id = sync_id_;
    spec.source_id = source_.id;
    if (tgt != nullptr) {
      spec.version = tgt->version() + 1;
      spec.dense_id = tgt->dense_id();
    } else {
      spec.version = 1;
      spec.dense_id = op_->views().next_dense[StreamKey(target_stream())];
    }
    std::vector<std::string> changed;
    if (change != fb::PropertyChange::Removed) {
      spec.hash = src.hash;
      spec.sync_hash = spec.hash;
      spec.data_ref = src.data_seq;  // the payload is written once, in the source's event
      if (change == fb::PropertyChange::Updated) {
        SYNCMGR_RETURN_IF_ERROR(UpdatedFields(tgt->data_seq(), src, src_record, &changed));
        spec.changed_fields = &changed;
      }
    } else if (tgt != nullptr) {
      spec.sync_hash = FromFb(tgt->sync_hash());
    }
    BuildPropertyEvent(&op_->builder(), op_->next_seq(), op_->time_us(), spec);
    return op_->Append();
  }

  // The top-level fields that differ between the target's document (at
  // `tgt_data_seq`) and the source's (at `src_data_seq`). The source's event
  // usually says: an imported update records the data_seq it replaced and
  // the fields it changed from it, computed with this source's ignore_fields
  // (fixed at its creation), so when the target still holds that version
  // (it copied it and nothing changed it since) they are the answer, and the
  // target's old document, most often a cold block of the log's table files,
  // is not read. Otherwise (the target edited, or a version of the source
  // it never got, or an event older than prev_data_seq) both documents are
  // compared, as before. `src_record`: the source's log record if the
  // caller read it already, else null. A SourceChange whose event holds
  // its document carries what that record would say, so neither is read
  // unless both documents are compared.
  Status UpdatedFields(uint64_t tgt_data_seq, const SourceSide& src, const std::string* src_record,
                       std::vector<std::string>* changed) {
    const uint64_t src_data_seq = src.data_seq;
    if (src.change != nullptr && src.change->holds_data) {
      const SourceChange& c = *src.change;
      if (c.prev_data_seq != 0 && c.prev_data_seq == tgt_data_seq && c.has_changed_fields) {
        *changed = c.changed_fields;
        return Status::Ok();
      }
      std::string before, after;
      SYNCMGR_RETURN_IF_ERROR(engine_->ReadData(op_->tenant(), tgt_data_seq, &before));
      SYNCMGR_RETURN_IF_ERROR(engine_->ReadData(op_->tenant(), src_data_seq, &after));
      *changed = ChangedFields(before, after, source_.ignore_fields);
      return Status::Ok();
    }
    std::string bytes;
    if (src_record == nullptr) {
      SYNCMGR_RETURN_IF_ERROR(engine_->ReadLogRecord(op_->tenant(), src_data_seq, &bytes));
      src_record = &bytes;
    }
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(*src_record));
    const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
    if (p == nullptr || p->data() == nullptr) {
      return Status::Corruption(fmt::format("tenant {}: log record {} holds no property data",
                                            op_->tenant(), src_data_seq));
    }
    if (p->prev_data_seq() != 0 && p->prev_data_seq() == tgt_data_seq &&
        p->changed_fields() != nullptr) {
      changed->reserve(p->changed_fields()->size());
      for (const auto* f : *p->changed_fields()) changed->emplace_back(Sv(f));
      return Status::Ok();
    }
    std::string before;
    SYNCMGR_RETURN_IF_ERROR(engine_->ReadData(op_->tenant(), tgt_data_seq, &before));
    *changed = ChangedFields(before, Sv(p->data()), source_.ignore_fields);
    return Status::Ok();
  }

  EngineImpl* engine_;
  WriteOp* op_;
  const SourceInfo& source_;
  const TargetInfo& target_;
  SyncOptions options_;
  uint64_t sync_id_;
  SyncStats stats_;
  uint64_t live_candidates_ = 0;
  uint64_t unchanged_candidates_ = 0;
  std::vector<SyncWarning> warnings_;
  std::vector<uint32_t> retained_;
};

// How the first sync walks a stream's states: without filling the block
// cache, like every whole-stream scan (IteratorOptions::fill_cache). Each
// block is read once by the walk; inserting it into a full cache cost an
// eviction and often fresh pages. In process at 1 M, three alternating
// pairs: 2.86, 3.12, 4.13 s with the fill, 2.71, 2.57, 2.92 s without
// (bench/report_notes.md, "Round 31").
IteratorOptions WalkOptions() {
  IteratorOptions o;
  o.fill_cache = false;
  return o;
}

// A stream's state records in external_id order, read by one iterator:
// for the first sync, which walks the source's states in that same order,
// the target's state of each id is found by moving forward (a merge join)
// instead of a point read per id (a bloom filter probe, an index seek and
// a block per id; ~7 % of a 1 M-listing first sync's CPU into an empty
// target). The iterator sees what a point read would: nothing else writes
// the tenant's states while its write lock is held.
class StateCursor {
 public:
  StateCursor(const Store& store, TenantId tenant, StreamRef stream)
      : prefix_(keys::StatePrefix(tenant, stream)),
        it_(store.NewPrefixIterator(Cf::kState, prefix_, WalkOptions())) {
    it_->SeekToFirst();
  }

  // The state of `ext` (null if none); `*value` holds its bytes.
  // REQUIRES: `ext` greater than at the previous call.
  StatusOr<const fb::PropertyState*> Find(std::string_view ext, std::string* value) {
    // A few steps forward, then a seek: the target may hold many ids the
    // source does not.
    for (int steps = 0; it_->Valid() && Ext() < ext; ++steps) {
      if (steps < kStepsBeforeSeek) {
        it_->Next();
      } else {
        it_->Seek(prefix_ + std::string(ext));
      }
    }
    SYNCMGR_RETURN_IF_ERROR(it_->status("sync: read the target's states"));
    if (!it_->Valid() || Ext() != ext) return static_cast<const fb::PropertyState*>(nullptr);
    return ParseStateRecord(it_->value(), value);
  }

 private:
  static constexpr int kStepsBeforeSeek = 8;
  std::string_view Ext() const { return it_->key().substr(prefix_.size()); }

  const std::string prefix_;
  std::unique_ptr<StoreIterator> it_;
};

// An incremental sync reads its candidates in batches of this many ids,
// each kind of record with one Store::MultiGet: the ids are spread over the
// whole stream, so most of their blocks are cold, and a batch looks each
// index and data block up once for all the keys it holds instead of once
// per key (bench/report_notes.md, "Incremental sync").
constexpr size_t kReadBatch = 512;
// Its point reads do not fill the block cache. Its candidates are spread
// over the whole stream, so nearly every block it reads is cold and read
// for one or two ids; filling the cache with them cost an insert into a
// full cache, an eviction and, often, fresh pages for the block: at 1 M,
// 13,937 target states took ~190 ms of the day-1 sync with the fill and
// ~40 ms without (bench/report_notes.md, "Round 31"). A GET or a later
// sync that wants such a block reads it again.
constexpr bool kFillCache = false;

// The external ids of dense ids[from, to) of `stream`, appended to *out,
// read kReadBatch at a time.
Status ReadExternalIds(const Store& store, TenantId tenant, StreamRef stream,
                       const std::vector<uint32_t>& ids, size_t from, size_t to,
                       std::vector<std::string>* out) {
  std::vector<std::string> keys, values;
  std::vector<bool> found;
  for (size_t b = from; b < to; b += kReadBatch) {
    const size_t n = std::min(kReadBatch, to - b);
    keys.clear();
    for (size_t i = 0; i < n; ++i) keys.push_back(keys::Dense(tenant, stream, ids[b + i]));
    SYNCMGR_RETURN_IF_ERROR(store.MultiGet(Cf::kDense, keys, &values, &found, kFillCache));
    for (size_t i = 0; i < n; ++i) {
      if (!found[i]) {
        return Status::Corruption(
            fmt::format("tenant {}: dense id {} has no external id", tenant, ids[b + i]));
      }
      out->push_back(std::move(values[i]));
    }
  }
  return Status::Ok();
}

// Appends the external ids of `ids` (dense ids of `stream`) to *out; with
// a reader thread, the second half is read on it meanwhile.
Status AppendExternalIds(const Store& store, TenantId tenant, StreamRef stream,
                         const BitmapPtr& ids, ReaderThread* reader,
                         std::vector<std::string>* out) {
  if (!ids) return Status::Ok();
  std::vector<uint32_t> dense(ids->cardinality());
  ids->toUint32Array(dense.data());
  if (reader == nullptr || dense.size() <= kReadBatch) {
    return ReadExternalIds(store, tenant, stream, dense, 0, dense.size(), out);
  }
  const size_t half = dense.size() / 2;
  std::vector<std::string> second;
  reader->Submit([&] { return ReadExternalIds(store, tenant, stream, dense, half, dense.size(), &second); });
  Status mine = ReadExternalIds(store, tenant, stream, dense, 0, half, out);
  Status theirs = reader->Wait();
  SYNCMGR_RETURN_IF_ERROR(mine);
  SYNCMGR_RETURN_IF_ERROR(theirs);
  for (std::string& ext : second) out->push_back(std::move(ext));
  return Status::Ok();
}

// One candidate of an incremental sync: an external id and, when the log
// scan saw the source's change of it, that change (an index into the
// scan's changes; -1: the source's side is read from its state record).
struct Candidate {
  std::string ext;
  int64_t change = -1;
};

// What an incremental sync reads for one batch of candidates with one
// MultiGet: the target state of each id, and the source state of each id
// the log scan did not see change; then, with another, the source's log
// record of each such id the sync will update (UpdatedFields reads it).
struct CandidateBatch {
  size_t begin = 0;
  size_t n = 0;
  std::vector<std::string> keys, states, records;
  std::vector<bool> found, record_found;
  std::vector<SourceSide> src;
  std::vector<const fb::PropertyState*> tgt;
  std::vector<int> record_of;

  Status Read(const Store& store, TenantId tenant, StreamRef src_stream, StreamRef tgt_stream,
              const std::vector<Candidate>& candidates, const std::vector<SourceChange>& changes,
              size_t from, bool dry_run) {
    begin = from;
    n = std::min(kReadBatch, candidates.size() - from);
    src.assign(n, SourceSide{});
    tgt.resize(n);
    record_of.resize(n);
    keys.clear();
    for (size_t i = 0; i < n; ++i) keys.push_back(keys::State(tenant, tgt_stream, candidates[from + i].ext));
    for (size_t i = 0; i < n; ++i) {
      if (candidates[from + i].change < 0) {
        keys.push_back(keys::State(tenant, src_stream, candidates[from + i].ext));
      }
    }
    SYNCMGR_RETURN_IF_ERROR(store.MultiGet(Cf::kState, keys, &states, &found, kFillCache));
    keys.clear();
    size_t next_src = n;  // the source states follow the n target states
    for (size_t i = 0; i < n; ++i) {
      const Candidate& c = candidates[from + i];
      tgt[i] = found[i] ? flatbuffers::GetRoot<fb::PropertyState>(states[i].data()) : nullptr;
      record_of[i] = -1;
      if (c.change >= 0) {
        src[i] = SourceSide::Of(changes[c.change]);
        continue;  // UpdatedFields reads what the change does not carry
      }
      const size_t k = next_src++;
      src[i] = SourceSide::Of(found[k] ? flatbuffers::GetRoot<fb::PropertyState>(states[k].data())
                                       : nullptr);
      const bool update = src[i].live && tgt[i] != nullptr && !tgt[i]->removed() &&
                          src[i].hash != FromFb(tgt[i]->hash());
      if (update && !dry_run) {
        record_of[i] = static_cast<int>(keys.size());
        keys.push_back(keys::Log(tenant, src[i].data_seq));
      }
    }
    return store.MultiGet(Cf::kLog, keys, &records, &record_found, kFillCache);
  }

  // Not found: UpdatedFields reads it again and reports the corruption.
  const std::string* Record(size_t i) const {
    return record_of[i] >= 0 && record_found[record_of[i]] ? &records[record_of[i]] : nullptr;
  }
};

// The log scan of an incremental sync is used when the stretch of the log
// since the pair's last sync holds at most this many events per changed
// source id, plus kScanSlack: a scanned event costs a sequential read and
// a decode (~2 us), a changed id read by points ~3 random block reads;
// and when the source changed at most kMaxScanChanges ids, which bounds
// what the scan keeps in memory (~150 bytes an id).
constexpr uint64_t kScanEventsPerChange = 4;
constexpr uint64_t kScanSlack = 4096;
constexpr uint64_t kMaxScanChanges = 1u << 19;

// The source's changes among the log's seqs (after_seq, last_seq], one
// SourceChange per changed dense id, from the last of its events there.
struct ChangeScan {
  std::vector<SourceChange> changes;
  std::vector<uint32_t> dense;    // of changes[i]
  std::vector<std::string> ext;   // of changes[i]
  std::unordered_map<uint32_t, size_t> index;  // dense id -> i

  Status Scan(const Store& store, TenantId tenant, uint32_t source_id, uint64_t after_seq,
              uint64_t last_seq, size_t expected) {
    changes.reserve(expected);
    dense.reserve(expected);
    ext.reserve(expected);
    index.reserve(expected);
    IteratorOptions io;
    io.fill_cache = false;
    std::unique_ptr<StoreIterator> it = store.NewRangeIterator(
        Cf::kLog, keys::Log(tenant, after_seq + 1), keys::Log(tenant, last_seq + 1), io);
    std::string aligned;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      aligned.assign(it->value());
      SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(aligned));
      const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
      if (p == nullptr || static_cast<StreamKind>(p->stream_kind()) != StreamKind::kSource ||
          p->stream_id() != source_id) {
        continue;
      }
      auto [slot, fresh] = index.try_emplace(p->dense_id(), changes.size());
      if (fresh) {
        changes.emplace_back();
        dense.push_back(p->dense_id());
        ext.emplace_back(Sv(p->external_id()));
      }
      // As the fold makes the state of it (ViewFolder::ApplyProperty).
      SourceChange& c = changes[slot->second];
      c.removed = p->change() == fb::PropertyChange::Removed;
      c.hash = p->hash() != nullptr ? FromFb(p->hash()) : Hash128{};
      c.data_seq = StateDataSeq(*ev, *p);
      c.holds_data = !c.removed && p->data_ref() == 0 && p->data() != nullptr;
      c.prev_data_seq = p->prev_data_seq();
      c.has_changed_fields = p->changed_fields() != nullptr;
      c.changed_fields.clear();
      if (c.has_changed_fields) {
        for (const auto* f : *p->changed_fields()) c.changed_fields.emplace_back(Sv(f));
      }
    }
    return it->status("sync: scan the source's changes");
  }

  // Adds the changes of a scan of later seqs: its change of an id replaces
  // this one's.
  void Append(ChangeScan&& later) {
    for (size_t i = 0; i < later.changes.size(); ++i) {
      auto [slot, fresh] = index.try_emplace(later.dense[i], changes.size());
      if (fresh) {
        changes.push_back(std::move(later.changes[i]));
        dense.push_back(later.dense[i]);
        ext.push_back(std::move(later.ext[i]));
      } else {
        changes[slot->second] = std::move(later.changes[i]);
      }
    }
  }
};

// The source's changes since the pair's last sync, from its events in the
// log's seqs (after_seq, last_seq]: one SourceChange per changed dense id,
// from the last of its events, in `changes`, and its external id in
// `candidates` (Candidate::change indexes `changes`). With a reader thread,
// it scans the later half of the seqs meanwhile. Returns false, adding
// nothing, when the events' dense ids are not exactly `dirty`, the pair's
// source dirty set (which the fold fills from these very events): the
// caller then reads by points, as if no scan had been made. The blocks
// read do not fill the block cache.
StatusOr<bool> ScanSourceChanges(const Store& store, TenantId tenant, uint32_t source_id,
                                 uint64_t after_seq, uint64_t last_seq, const Bitmap& dirty,
                                 ReaderThread* reader, std::vector<SourceChange>* changes,
                                 std::vector<Candidate>* candidates) {
  const size_t expected = dirty.cardinality();
  ChangeScan early, late;
  uint64_t split = last_seq;
  if (reader != nullptr && last_seq - after_seq >= 2 * kReadBatch) {
    split = after_seq + (last_seq - after_seq) / 2;
    reader->Submit([&] { return late.Scan(store, tenant, source_id, split, last_seq, expected / 2); });
  }
  Status mine = early.Scan(store, tenant, source_id, after_seq, split, expected);
  Status theirs = split < last_seq ? reader->Wait() : Status::Ok();
  SYNCMGR_RETURN_IF_ERROR(mine);
  SYNCMGR_RETURN_IF_ERROR(theirs);
  early.Append(std::move(late));
  Bitmap seen;
  seen.addMany(early.dense.size(), early.dense.data());
  if (seen != dirty) return false;
  *changes = std::move(early.changes);
  candidates->reserve(candidates->size() + early.ext.size());
  for (size_t i = 0; i < early.ext.size(); ++i) {
    candidates->push_back(Candidate{std::move(early.ext[i]), static_cast<int64_t>(i)});
  }
  return true;
}

// A first sync's view records per live source id, in WriteBatch bytes
// (measured: 216 at N = 100 k with the benchmark's ids), with a margin, and
// the most it reserves for them (address space: pages are touched only as
// records are written, so the margin costs no memory).
constexpr uint64_t kFirstSyncViewBytesPerId = 256;
// Its log records per live source id, the same way (measured: 217 at 1 M).
// The log batch is written ahead each write_chunk_bytes: it is reserved
// for one chunk at most (WriteOp::ReserveLogBytes), not for all of them.
constexpr uint64_t kFirstSyncLogBytesPerId = 256;
constexpr uint64_t kMaxReserve = 1ull << 30;
// An incremental sync's records per candidate, in WriteBatch bytes, with a
// margin (measured: a 1 % sync at 1 M, 13,938 changes, wrote ~241 bytes of
// log and ~189 of views per change): the batches are reserved once from
// the candidates' count instead of growing by doubling (each a copy into
// fresh pages; ~1/8 of such a sync's CPU on a VM where a page fault costs
// ~5 us). A candidate found unchanged writes nothing, so this may reserve
// more than is written: address space only.
constexpr uint64_t kIncrementalLogBytesPerId = 288;
constexpr uint64_t kIncrementalViewBytesPerId = 224;

}  // namespace

StatusOr<SyncResult> Engine::Sync(TenantId tenant, uint32_t source_id, uint32_t target_id,
                                  const SyncOptions& options) {
  // Read before the operation's time (WriteOp), from the same ordered clock:
  // started_at <= finished_at (the time of its events) whatever the wall
  // clock does. It includes the wait for the tenant's write lock.
  const int64_t started_at_us = impl_->Now();
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(tenant));
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  SYNCMGR_ASSIGN_OR_RETURN(SourceInfo source, impl_->ReadSource(tenant, source_id));
  SYNCMGR_ASSIGN_OR_RETURN(TargetInfo target, impl_->ReadTarget(tenant, target_id));
  uint64_t sync_id = op.views().next_sync_id;
  SyncRun run(impl_.get(), &op, source, target, options, sync_id);
  Store& store = impl_->store();
  StreamRef src_stream{StreamKind::kSource, source_id};
  StreamRef tgt_stream{StreamKind::kTarget, target_id};

  auto pair = op.views().pairs.find({source_id, target_id});
  if (pair == op.views().pairs.end()) {
    // First sync of this pair: every id the source ever had. It writes
    // ~4 view records per live id (state, history, stream index, dense).
    SYNCMGR_ASSIGN_OR_RETURN(BitmapPtr source_live, op.folder().Live(src_stream));
    op.ReserveViewBytes(
        std::min<uint64_t>(source_live->cardinality() * kFirstSyncViewBytesPerId, kMaxReserve));
    op.ReserveLogBytes(
        std::min<uint64_t>(source_live->cardinality() * kFirstSyncLogBytesPerId, kMaxReserve));
    std::unique_ptr<StoreIterator> it =
        store.NewPrefixIterator(Cf::kState, keys::StatePrefix(tenant, src_stream), WalkOptions());
    StateCursor targets(store, tenant, tgt_stream);
    std::string value, tgt_value;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      TenantId owner;
      StreamRef stream;
      std::string_view ext;
      if (!keys::DecodeState(it->key(), &owner, &stream, &ext)) {
        return Status::Corruption("malformed state key");
      }
      SYNCMGR_ASSIGN_OR_RETURN(const fb::PropertyState* tgt, targets.Find(ext, &tgt_value));
      SYNCMGR_RETURN_IF_ERROR(
          run.Visit(ext, SourceSide::Of(ParseStateRecord(it->value(), &value)), tgt));
    }
    SYNCMGR_RETURN_IF_ERROR(it->status("sync scan"));
  } else {
    // Incremental: only what changed on either side since the last sync.
    // In external_id order, each once (an id in both sets is visited once).
    // With more than one batch of candidates, a reader thread reads every
    // other batch (and half of the dense ids) while this one reads the
    // rest: reads are ~3/4 of such a sync's time (engine/reader_thread.h).
    // Reading ahead changes nothing: the sync holds the tenant's write lock
    // and writes only at its commit; batches are visited in order.
    const uint64_t dirty =
        (pair->second.source_dirty ? pair->second.source_dirty->cardinality() : 0) +
        (pair->second.target_dirty ? pair->second.target_dirty->cardinality() : 0);
    if (!options.dry_run) {
      // The log batch also takes the view records at a one-batch commit.
      op.ReserveLogBytes(
          std::min(dirty * (kIncrementalLogBytesPerId + kIncrementalViewBytesPerId), kMaxReserve));
      op.ReserveViewBytes(std::min(dirty * kIncrementalViewBytesPerId, kMaxReserve));
    }
    CandidateBatch batches[2];  // before the reader: it may hold one until it ends
    std::unique_ptr<ReaderThread> reader;
    if (impl_->options().read_ahead && dirty > kReadBatch) reader = ReaderThread::Start();
    // The source's side: from its events since the pair's last sync when
    // that stretch of the log is about as long as its changed-id set
    // (ScanSourceChanges), else by points like the target's.
    const PairState& ps = pair->second;
    const uint64_t source_changed = ps.source_dirty ? ps.source_dirty->cardinality() : 0;
    const uint64_t last_seq = op.views().last_seq;
    std::vector<SourceChange> changes;
    std::vector<Candidate> candidates;
    candidates.reserve(dirty);
    bool scanned = false;
    if (impl_->options().sync_log_scan && source_changed > 0 &&
        source_changed <= kMaxScanChanges && last_seq > ps.last_sync_seq &&
        last_seq - ps.last_sync_seq <= source_changed * kScanEventsPerChange + kScanSlack) {
      SYNCMGR_ASSIGN_OR_RETURN(scanned,
                               ScanSourceChanges(store, tenant, source_id, ps.last_sync_seq,
                                                 last_seq, *ps.source_dirty, reader.get(),
                                                 &changes, &candidates));
    }
    std::vector<std::string> exts;
    if (!scanned) {
      SYNCMGR_RETURN_IF_ERROR(
          AppendExternalIds(store, tenant, src_stream, ps.source_dirty, reader.get(), &exts));
    }
    SYNCMGR_RETURN_IF_ERROR(
        AppendExternalIds(store, tenant, tgt_stream, ps.target_dirty, reader.get(), &exts));
    for (std::string& ext : exts) candidates.push_back(Candidate{std::move(ext), -1});
    // In external_id order, each id once: of an id in both sets, the entry
    // that carries the source's change sorts first and is kept.
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.ext != b.ext ? a.ext < b.ext : a.change > b.change;
    });
    candidates.erase(std::unique(candidates.begin(), candidates.end(),
                                 [](const Candidate& a, const Candidate& b) { return a.ext == b.ext; }),
                     candidates.end());
    auto visit = [&](const CandidateBatch& batch) -> Status {
      for (size_t i = 0; i < batch.n; ++i) {
        SYNCMGR_RETURN_IF_ERROR(run.Visit(candidates[batch.begin + i].ext, batch.src[i],
                                          batch.tgt[i], batch.Record(i)));
      }
      return Status::Ok();
    };
    for (size_t b = 0; b < candidates.size(); b += 2 * kReadBatch) {
      const bool has_second = b + kReadBatch < candidates.size();
      const bool ahead = reader != nullptr && has_second;
      if (ahead) {
        reader->Submit([&, b] {
          return batches[1].Read(store, tenant, src_stream, tgt_stream, candidates, changes,
                                 b + kReadBatch, options.dry_run);
        });
      }
      Status mine = batches[0].Read(store, tenant, src_stream, tgt_stream, candidates, changes,
                                    b, options.dry_run);
      Status theirs = ahead ? reader->Wait() : Status::Ok();
      // In list order: the first batch's error or outcome, then the second's.
      SYNCMGR_RETURN_IF_ERROR(mine);
      SYNCMGR_RETURN_IF_ERROR(visit(batches[0]));
      if (!has_second) break;
      if (!ahead) {
        theirs = batches[1].Read(store, tenant, src_stream, tgt_stream, candidates, changes,
                                 b + kReadBatch, options.dry_run);
      }
      SYNCMGR_RETURN_IF_ERROR(theirs);
      SYNCMGR_RETURN_IF_ERROR(visit(batches[1]));
    }
  }

  SYNCMGR_ASSIGN_OR_RETURN(BitmapPtr live, op.folder().Live(src_stream));
  SyncResult result;
  result.stats = run.Stats(live->cardinality());
  result.warnings = run.warnings();
  if (options.dry_run) {
    result.seq = slot->last_seq.load();
    return result;  // the WriteOp is dropped: nothing written
  }
  SyncCompletedSpec spec;
  spec.sync_id = sync_id;
  spec.source_id = source_id;
  spec.target_id = target_id;
  spec.on_conflict = options.on_conflict;
  spec.started_at_us = started_at_us;
  spec.stats = result.stats;
  spec.warnings = &result.warnings;
  spec.retained_target_ids = &run.retained();
  spec.first_seq = op.first_seq();
  BuildSyncCompleted(&op.builder(), op.next_seq(), op.time_us(), spec);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_ASSIGN_OR_RETURN(result.seq, op.Commit());
  result.sync_id = sync_id;
  return result;
}

}  // namespace syncmgr
