// Reads: one property (now or as of a seq), property lists (streamed),
// history, the import and sync logs, and the log itself.
//
// Every read is bounded by the tenant's committed last_seq, so records that
// an operation wrote ahead of its commit are never seen.
#include <algorithm>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/counts.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"
#include "engine/reader_thread.h"
#include "engine/log_prefetch.h"
#include "engine/state_read.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

Status CheckStream(EngineImpl* e, TenantId tenant, StreamRef stream) {
  if (stream.kind == StreamKind::kSource) return e->ReadSource(tenant, stream.id).status();
  return e->ReadTarget(tenant, stream.id).status();
}

// The seq of a history key.
StatusOr<uint64_t> HistorySeq(std::string_view key) {
  TenantId tenant;
  StreamRef stream;
  std::string external_id;
  uint64_t seq;
  if (!keys::DecodeHistory(key, &tenant, &stream, &external_id, &seq)) {
    return Status::Corruption("history key does not parse");
  }
  return seq;
}

// Fills a record from a property's state record.
Status FromState(EngineImpl* e, TenantId tenant, std::string_view ext,
                 const fb::PropertyState& st, PropertyRecord* out) {
  out->external_id.assign(ext);
  SYNCMGR_RETURN_IF_ERROR(e->ReadData(tenant, st.data_seq(), &out->data));
  out->hash = FromFb(st.hash()).Hex();
  out->version = st.version();
  out->updated_at_us = st.updated_at_us();
  out->seq = st.seq();
  out->source_id = st.source_id();
  out->manually_modified = st.manually_modified();
  out->removed = false;
  return Status::Ok();
}

// Fills a record from the event that made a version; false if it removed it.
StatusOr<bool> FromEvent(EngineImpl* e, TenantId tenant, uint64_t seq, PropertyRecord* out) {
  std::string bytes;
  SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, seq, &bytes));
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
  const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
  if (p == nullptr) return Status::Corruption(fmt::format("seq {} is not a property event", seq));
  if (p->change() == fb::PropertyChange::Removed) return false;
  out->external_id.assign(Sv(p->external_id()));
  if (p->data_ref() != 0) {
    SYNCMGR_RETURN_IF_ERROR(e->ReadData(tenant, p->data_ref(), &out->data));
  } else {
    out->data.assign(Sv(p->data()));
  }
  out->hash = FromFb(p->hash()).Hex();
  out->version = p->version();
  out->updated_at_us = ev->time_us();
  out->seq = seq;
  out->source_id = p->source_id();
  out->manually_modified = p->cause() == fb::CauseKind::Manual;
  out->removed = false;
  return true;
}

// The record of a live property's state, without its data.
void RowFromState(std::string_view ext, const fb::PropertyState& st, PropertyRecord* r) {
  r->external_id.assign(ext);
  r->hash = FromFb(st.hash()).Hex();
  r->version = st.version();
  r->updated_at_us = st.updated_at_us();
  r->seq = st.seq();
  r->source_id = st.source_id();
  r->manually_modified = st.manually_modified();
  r->removed = false;
}

// Reads the data of rows[0..n) (rows[i]'s is in the log record
// data_keys[i]) with one MultiGet. The data of consecutive rows lies
// anywhere in the log (external_id order is not log order: a list follows
// the order its source's import received the rows); one batched,
// seq-sorted lookup costs far less than as many Gets.
Status FillData(EngineImpl* e, TenantId tenant, const rocksdb::ReadOptions& ro,
                const std::vector<std::string>& data_keys, PropertyRecord* rows, size_t n) {
  std::vector<rocksdb::PinnableSlice> values;
  std::vector<bool> found;
  SYNCMGR_RETURN_IF_ERROR(e->store().MultiGet(
      Cf::kLog, std::span<const std::string>(data_keys.data(), n), ro, &values, &found));
  std::string aligned;
  for (size_t i = 0; i < n; ++i) {
    PropertyRecord& row = rows[i];
    if (!found[i]) {
      return Status::Corruption(
          fmt::format("tenant {}: log record of {} is missing", tenant, row.external_id));
    }
    // FlatBuffers wants its scalars aligned (8 bytes at most in an Event).
    // A value RocksDB copied into the PinnableSlice's own string is (malloc);
    // one pinned in a block is not, and is copied.
    std::string_view bytes = values[i].ToStringView();
    if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) {
      aligned.assign(bytes);
      bytes = aligned;
    }
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
    if (p == nullptr || p->data() == nullptr) {
      return Status::Corruption(
          fmt::format("tenant {}: log record of {} holds no data", tenant, row.external_id));
    }
    row.data.assign(p->data()->data(), p->data()->size());
  }
  return Status::Ok();
}

// Current state, in external_id order, a batch of rows at a time: their
// states from the state scan, then their data with one MultiGet. From the
// second batch on, the next batch's data is read on a thread of the
// cursor's own while the caller takes the current batch's rows
// (ReaderThread), unless EngineOptions::read_ahead is off or no
// reader thread is free. Either way a batch's rows are handed out only
// once its data is read whole: a batch whose read fails hands out none.
class StateCursor final : public PropertyCursor {
 public:
  StateCursor(EngineImpl* e, TenantId tenant, StreamRef stream, const ListOptions& o)
      : e_(e), tenant_(tenant), stream_(stream), options_(o) {
    IteratorOptions io;
    io.fill_cache = false;  // a full listing must not evict the hot set
    it_ = e->store().NewPrefixIterator(Cf::kState, keys::StatePrefix(tenant, stream), io);
    if (o.after) {
      std::string from = keys::State(tenant, stream, *o.after);
      it_->Seek(from);
      if (it_->Valid() && it_->key() == from) it_->Next();
    } else {
      it_->SeekToFirst();
    }
    // Only a list from the start: the rows a list after an id will read
    // cannot be told from the stream's live count.
    prefetch_wanted_ = e->options().list_prefetch && !o.after;
    read_ahead_wanted_ = e->options().read_ahead;
  }
  // The reader threads go first (declared last, they would anyway): they
  // may hold batches.
  ~StateCursor() override { readers_.clear(); }
  StateCursor(const StateCursor&) = delete;
  StateCursor& operator=(const StateCursor&) = delete;

  bool Next(PropertyRecord* out) override {
    Batch& b = batches_[current_];
    if (pos_ == b.count) {
      if (!Fill()) return false;
      return Next(out);
    }
    // A swap, not a move: the caller's previous record goes back to the
    // batch and its strings' buffers are reused by a later fill.
    std::swap(*out, b.rows[pos_++]);
    return true;
  }

  Status status() const override { return status_; }

 private:
  // Rows read ahead: their data is fetched with one MultiGet (FillData).
  static constexpr size_t kReadAhead = 128;
  // Reader threads of one list at most, and the batches they and the
  // caller hold.
  static constexpr int kReaders = 2;
  static constexpr int kBatches = kReaders + 1;

  struct Batch {
    std::vector<PropertyRecord> rows;  // [0, count) are this batch's
    std::vector<std::string> data_keys;
    size_t count = 0;
  };

  // Makes the next batch current; false at the end or on error (status_).
  bool Fill() {
    if (!status_.ok()) return false;
    const int next = (current_ + 1) % kBatches;
    if (in_flight_ > 0) {
      // The oldest batch with a reader is the next one: wait for its data.
      --in_flight_;
      status_ = readers_[reader_of_[next]]->Wait();
      if (!status_.ok()) return false;
    } else {
      size_t scanned = 0;
      if (!Scan(&batches_[next], &scanned, /*ahead=*/false)) return false;
      if (prefetch_wanted_) StartPrefetch(batches_[next], scanned);
      status_ = ReadData(&batches_[next]);
      if (!status_.ok()) return false;
      // A list past its first batch is a long one: read ahead from now on.
      if (read_ahead_wanted_ && ++filled_ == 2) StartReaders();
    }
    current_ = next;
    pos_ = 0;
    // Keep every reader busy with a batch after this one, in list order. A
    // scan that fails here ends the list after the batches before it
    // (ahead_status_).
    while (in_flight_ < readers_.size()) {
      const int b = (current_ + 1 + static_cast<int>(in_flight_)) % kBatches;
      size_t scanned = 0;
      if (!Scan(&batches_[b], &scanned, /*ahead=*/true)) break;
      // Batches are waited for oldest first, so readers free up in the
      // order they were given work.
      const size_t r = next_reader_++ % readers_.size();
      reader_of_[b] = r;
      Batch* batch = &batches_[b];
      readers_[r]->Submit([this, batch] { return ReadData(batch); });
      ++in_flight_;
    }
    return true;
  }

  // Up to kReaders reader threads, as many as are free (ReaderThread).
  void StartReaders() {
    for (int i = 0; i < kReaders; ++i) {
      std::unique_ptr<ReaderThread> r = ReaderThread::Start();
      if (r == nullptr) break;
      readers_.push_back(std::move(r));
    }
  }

  // Scans the next rows' states into `b`; false at the end of the rows or
  // on error: in status_, or in ahead_status_ for a scan made ahead of the
  // current batch's rows (reported once they are handed out). `scanned`:
  // the states read, filtered ones included.
  bool Scan(Batch* b, size_t* scanned, bool ahead) {
    if (!ahead_status_.ok()) {
      if (!ahead) status_ = std::move(ahead_status_);
      return false;
    }
    b->count = 0;
    Status s;
    while (it_->Valid() && b->count < kReadAhead) {
      if (options_.limit != 0 && assigned_ >= options_.limit) break;
      const fb::PropertyState* st = ParseStateRecord(it_->value(), &value_);
      TenantId owner;
      StreamRef stream;
      std::string_view ext;
      if (!keys::DecodeState(it_->key(), &owner, &stream, &ext)) {
        s = Status::Corruption("malformed state key");
        break;
      }
      ++*scanned;
      bool skip = st->removed() ||
                  (options_.changed_since && st->seq() <= *options_.changed_since) ||
                  (options_.manually_modified && !st->manually_modified());
      if (!skip) {
        if (b->count == b->rows.size()) b->rows.emplace_back();
        RowFromState(ext, *st, &b->rows[b->count]);
        if (b->count == b->data_keys.size()) b->data_keys.emplace_back();
        b->data_keys[b->count] = keys::Log(tenant_, st->data_seq());  // 12 bytes: no allocation
        ++b->count;
        ++assigned_;
      }
      it_->Next();
    }
    if (s.ok()) s = it_->status("list");
    if (!s.ok()) {
      // Rows scanned before the error are not handed out (as when a batch's
      // data read fails): the list ends with the error after the batches
      // before this one.
      b->count = 0;
      if (ahead) {
        ahead_status_ = std::move(s);
      } else {
        status_ = std::move(s);
      }
      prefetch_.reset();
      return false;
    }
    if (b->count == 0) {
      prefetch_.reset();  // the list is over: stop reading ahead for it
      return false;
    }
    return true;
  }

  // The data of b's rows (FillData); on the reader thread or the caller's.
  Status ReadData(Batch* b) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;  // like the state scan: a full listing must not evict the hot set
    return FillData(e_, tenant_, ro, b->data_keys, b->rows.data(), b->count);
  }

  // Once, at the first batch: starts reading ahead the log files the list
  // will read much of (engine/log_prefetch.h). The reads it expects: the
  // stream's live count, scaled by the share of the first batch's states
  // that passed the filters, and bounded by the limit.
  void StartPrefetch(const Batch& b, size_t scanned) {
    prefetch_wanted_ = false;
    StatusOr<StreamCounts> counts = ReadStreamCounts(e_->store(), tenant_, stream_);
    if (!counts.ok() || scanned == 0) return;  // only an optimisation: list without it
    uint64_t expected = counts->live * b.count / scanned;
    if (options_.limit != 0) expected = std::min(expected, options_.limit);
    std::vector<std::string> sample(b.data_keys.begin(), b.data_keys.begin() + b.count);
    prefetch_ = LogPrefetch::Start(e_->store(), tenant_, sample, expected);
  }

  // batches_[current_] is handed out; the in_flight_ after it (in ring
  // order) are with readers (batch b with readers_[reader_of_[b]]); the
  // rest are free.
  Batch batches_[kBatches];
  size_t reader_of_[kBatches] = {};
  int current_ = 0;
  size_t pos_ = 0;
  EngineImpl* e_;
  TenantId tenant_;
  StreamRef stream_;
  ListOptions options_;
  std::string value_;
  std::unique_ptr<StoreIterator> it_;
  uint64_t assigned_ = 0;  // rows put into batches so far (the limit counts these)
  Status status_;
  Status ahead_status_;  // a scan's error, reported after the current batch
  bool prefetch_wanted_ = false;
  bool read_ahead_wanted_ = false;
  int filled_ = 0;  // batches read in this thread
  size_t in_flight_ = 0;
  size_t next_reader_ = 0;
  std::unique_ptr<LogPrefetch> prefetch_;
  std::vector<std::unique_ptr<ReaderThread>> readers_;
};

// State as of a seq, streamed from the history view: for each external_id
// (in order) its last version at or before the seq.
class AsOfCursor final : public PropertyCursor {
 public:
  AsOfCursor(EngineImpl* e, TenantId tenant, StreamRef stream, const ListOptions& o)
      : e_(e), tenant_(tenant), options_(o), as_of_(*o.as_of_seq) {
    IteratorOptions io;
    io.fill_cache = false;
    it_ = e->store().NewPrefixIterator(Cf::kHistory, keys::HistoryStreamPrefix(tenant, stream), io);
    if (o.after) {
      it_->Seek(keys::PrefixEnd(keys::HistoryPrefix(tenant, stream, *o.after)));
    } else {
      it_->SeekToFirst();
    }
  }

  bool Next(PropertyRecord* out) override {
    while (status_.ok() && it_->Valid()) {
      if (options_.limit != 0 && emitted_ >= options_.limit) return false;
      // One group of keys per external_id, in seq order: find its last seq
      // <= as_of.
      if (!DecodeKey()) return false;
      group_ = key_id_;
      uint64_t best = 0;
      for (; it_->Valid(); it_->Next()) {
        if (!DecodeKey()) return false;
        if (key_id_ != group_) break;
        if (key_seq_ <= as_of_) best = key_seq_;
      }
      if (best == 0) continue;
      if (options_.changed_since && best <= *options_.changed_since) continue;
      StatusOr<bool> live = FromEvent(e_, tenant_, best, out);
      if (!live.ok()) {
        status_ = live.status();
        return false;
      }
      if (*live && (!options_.manually_modified || out->manually_modified)) {
        ++emitted_;
        return true;
      }
    }
    if (status_.ok()) status_ = it_->status("list");
    return false;
  }

  Status status() const override { return status_; }

 private:
  // Decodes the key the iterator is at into key_id_ and key_seq_; false
  // (and status_ set) if it does not parse. REQUIRES: it_->Valid().
  bool DecodeKey() {
    TenantId tenant;
    StreamRef stream;
    if (keys::DecodeHistory(it_->key(), &tenant, &stream, &key_id_, &key_seq_)) return true;
    status_ = Status::Corruption("history key does not parse");
    return false;
  }

  EngineImpl* e_;
  TenantId tenant_;
  ListOptions options_;
  uint64_t as_of_;
  std::unique_ptr<StoreIterator> it_;
  std::string key_id_;    // the external_id of the last key decoded
  uint64_t key_seq_ = 0;  // its seq
  std::string group_;     // the external_id whose keys are being read
  uint64_t emitted_ = 0;
  Status status_;
};

// The live properties of a target whose last change was manual, now, in
// external_id order: from the target's manual bitmap (format 3 on; fold.h).
// Init resolves every id of the set (dense -> external_id, one MultiGet)
// and sorts them; rows are then read in batches (states, then data, each
// one MultiGet). So a call costs O(M log M) in the M manual edits of the
// target, plus the rows it returns — not the size of the target. All reads
// are at one snapshot (none on a secondary, which is frozen between
// catch-ups anyway), so the set and the states agree.
class ManualCursor final : public PropertyCursor {
 public:
  ManualCursor(EngineImpl* e, TenantId tenant, uint32_t target_id, const ListOptions& o)
      : e_(e), tenant_(tenant), stream_{StreamKind::kTarget, target_id}, options_(o) {
    if (e->options().secondary_path.empty()) ro_.snapshot = e->store().db()->GetSnapshot();
  }
  ~ManualCursor() override {
    if (ro_.snapshot != nullptr) e_->store().db()->ReleaseSnapshot(ro_.snapshot);
  }
  ManualCursor(const ManualCursor&) = delete;
  ManualCursor& operator=(const ManualCursor&) = delete;

  Status Init() {
    Store& store = e_->store();
    std::string bytes;
    rocksdb::Status s = store.db()->Get(ro_, store.cf(Cf::kManual),
                                        keys::ManualBitmap(tenant_, stream_.id), &bytes);
    if (s.IsNotFound()) return Status::Ok();  // no property yet
    SYNCMGR_RETURN_IF_ERROR(FromRocks(s, "list manual edits"));
    SYNCMGR_ASSIGN_OR_RETURN(Bitmap manual, DecodeBitmap(bytes));
    std::vector<std::string> dense_keys;
    dense_keys.reserve(manual.cardinality());
    for (uint32_t id : manual) dense_keys.push_back(keys::Dense(tenant_, stream_, id));
    std::vector<rocksdb::PinnableSlice> values;
    std::vector<bool> found;
    SYNCMGR_RETURN_IF_ERROR(store.MultiGet(Cf::kDense, dense_keys, ro_, &values, &found));
    ids_.reserve(dense_keys.size());
    for (size_t i = 0; i < dense_keys.size(); ++i) {
      if (!found[i]) {
        return Status::Corruption(
            fmt::format("tenant {}: target {}: a manual edit's dense id has no external_id",
                        tenant_, stream_.id));
      }
      std::string_view ext = values[i].ToStringView();
      if (!options_.after || ext > *options_.after) ids_.emplace_back(ext);
    }
    std::sort(ids_.begin(), ids_.end());
    return Status::Ok();
  }

  bool Next(PropertyRecord* out) override {
    if (options_.limit != 0 && emitted_ >= options_.limit) return false;
    if (pos_ == ready_.size() && !Fill()) return false;
    *out = std::move(ready_[pos_++]);
    ++emitted_;
    return true;
  }

  Status status() const override { return status_; }

 private:
  static constexpr size_t kBatch = 128;

  bool Fill() {
    ready_.clear();
    pos_ = 0;
    Store& store = e_->store();
    while (status_.ok() && ready_.empty() && next_ < ids_.size()) {
      size_t n = std::min(kBatch, ids_.size() - next_);
      if (options_.limit != 0) n = std::min<uint64_t>(n, options_.limit - emitted_);
      std::vector<std::string> state_keys;
      for (size_t i = 0; i < n; ++i) {
        state_keys.push_back(keys::State(tenant_, stream_, ids_[next_ + i]));
      }
      std::vector<rocksdb::PinnableSlice> values;
      std::vector<bool> found;
      status_ = store.MultiGet(Cf::kState, state_keys, ro_, &values, &found);
      if (!status_.ok()) return false;
      std::vector<std::string> data_keys;
      std::string aligned;
      for (size_t i = 0; i < n; ++i) {
        const std::string& ext = ids_[next_ + i];
        if (!found[i]) {
          status_ = Status::Corruption(
              fmt::format("tenant {}: manual edit {} has no state", tenant_, ext));
          return false;
        }
        const fb::PropertyState* st = ParseStateRecord(values[i].ToStringView(), &aligned);
        // The set and the states are read at one snapshot; the checks keep a
        // damaged view from listing what is not a live manual edit.
        if (st->removed() || !st->manually_modified()) continue;
        if (options_.changed_since && st->seq() <= *options_.changed_since) continue;
        RowFromState(ext, *st, &ready_.emplace_back());
        data_keys.push_back(keys::Log(tenant_, st->data_seq()));
      }
      next_ += n;
      if (!ready_.empty()) {
        status_ = FillData(e_, tenant_, ro_, data_keys, ready_.data(), ready_.size());
      }
    }
    return status_.ok() && !ready_.empty();
  }

  EngineImpl* e_;
  TenantId tenant_;
  StreamRef stream_;
  ListOptions options_;
  rocksdb::ReadOptions ro_;
  std::vector<std::string> ids_;  // sorted external_ids after options_.after
  size_t next_ = 0;               // next index into ids_ to read
  std::vector<PropertyRecord> ready_;
  size_t pos_ = 0;
  uint64_t emitted_ = 0;
  Status status_;
};

}  // namespace

StatusOr<PropertyRecord> Engine::GetProperty(TenantId tenant, StreamRef stream,
                                             std::string_view external_id,
                                             const ReadOptions& options) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  auto not_found = [&] {
    return Status::NotFound(fmt::format("property \"{}\" not found", external_id));
  };
  PropertyRecord rec;
  if (!options.as_of_seq) {
    // The state record first: streams are never deleted, so a property's
    // record proves its stream exists, and the stream's catalog record is
    // read only to tell an unknown stream (its own 404) from an absent
    // property. Two point reads per hit instead of three.
    std::string value;
    SYNCMGR_ASSIGN_OR_RETURN(const fb::PropertyState* st,
                             ReadStateRecord(impl_->store(), tenant, stream, external_id, &value));
    if (st == nullptr || st->removed()) {
      SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
      return not_found();
    }
    SYNCMGR_RETURN_IF_ERROR(FromState(impl_.get(), tenant, external_id, *st, &rec));
    return rec;
  }
  SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
  // One seek in the property's history: its last version at or before as_of.
  uint64_t as_of = std::min(*options.as_of_seq, slot->last_seq.load());
  std::unique_ptr<StoreIterator> it = impl_->store().NewPrefixIterator(
      Cf::kHistory, keys::HistoryPrefix(tenant, stream, external_id));
  it->SeekForPrev(keys::History(tenant, stream, external_id, as_of));
  if (!it->Valid()) {
    SYNCMGR_RETURN_IF_ERROR(it->status("history"));
    return not_found();
  }
  SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, HistorySeq(it->key()));
  SYNCMGR_ASSIGN_OR_RETURN(bool live, FromEvent(impl_.get(), tenant, seq, &rec));
  if (!live) return not_found();
  return rec;
}

StatusOr<std::unique_ptr<PropertyCursor>> Engine::ListProperties(TenantId tenant,
                                                                 StreamRef stream,
                                                                 const ListOptions& options) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
  if (options.manually_modified && stream.kind != StreamKind::kTarget) {
    return Status::InvalidArgument(
        "manually_modified applies to targets only: a source's properties are never edited by "
        "hand");
  }
  if (options.manually_modified && !options.as_of_seq &&
      impl_->store().format() >= kFormatCounts) {
    auto cursor = std::make_unique<ManualCursor>(impl_.get(), tenant, stream.id, options);
    SYNCMGR_RETURN_IF_ERROR(cursor->Init());
    return std::unique_ptr<PropertyCursor>(std::move(cursor));
  }
  if (options.as_of_seq) {
    ListOptions o = options;
    o.as_of_seq = std::min(*options.as_of_seq, slot->last_seq.load());
    return std::unique_ptr<PropertyCursor>(new AsOfCursor(impl_.get(), tenant, stream, o));
  }
  return std::unique_ptr<PropertyCursor>(new StateCursor(impl_.get(), tenant, stream, options));
}

StatusOr<std::vector<HistoryEntry>> Engine::History(TenantId tenant, StreamRef stream,
                                                    std::string_view external_id) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
  uint64_t bound = slot->last_seq.load();
  std::vector<HistoryEntry> out;
  std::unique_ptr<StoreIterator> it = impl_->store().NewPrefixIterator(
      Cf::kHistory, keys::HistoryPrefix(tenant, stream, external_id));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, HistorySeq(it->key()));
    if (seq > bound) break;
    std::string bytes;
    SYNCMGR_RETURN_IF_ERROR(impl_->ReadLogRecord(tenant, seq, &bytes));
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
    if (p == nullptr) return Status::Corruption("history points at a non-property event");
    HistoryEntry h;
    h.version = p->version();
    h.seq = seq;
    h.time_us = ev->time_us();
    h.removed = p->change() == fb::PropertyChange::Removed;
    if (!h.removed) {
      h.hash = FromFb(p->hash()).Hex();
      std::string data;
      if (p->data_ref() != 0) {
        SYNCMGR_RETURN_IF_ERROR(impl_->ReadData(tenant, p->data_ref(), &data));
      } else {
        data.assign(Sv(p->data()));
      }
      h.data = std::move(data);
    }
    if (p->changed_fields() != nullptr) {
      std::vector<std::string> fields;
      for (const auto* f : *p->changed_fields()) fields.emplace_back(Sv(f));
      h.changed_fields = std::move(fields);
    }
    h.cause = static_cast<CauseKind>(p->cause());
    h.cause_id = p->cause_id();
    out.push_back(std::move(h));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("history"));
  if (out.empty()) {
    return Status::NotFound(fmt::format("property \"{}\" has no history", external_id));
  }
  return out;
}

namespace {

// Newest first over one kind of op-log entry (the import log's or the sync
// log's prefix).
template <typename Entry, typename Convert, typename Keep>
StatusOr<std::vector<Entry>> ScanOpLog(EngineImpl* e, TenantId tenant, std::string_view prefix,
                                       uint32_t limit, Convert convert, Keep keep) {
  std::vector<Entry> out;
  std::unique_ptr<StoreIterator> it = e->store().NewPrefixIterator(Cf::kOpLog, prefix);
  for (it->SeekToLast(); it->Valid() && (limit == 0 || out.size() < limit); it->Prev()) {
    uint64_t seq;
    if (!keys::DecodeOpLogValue(it->value(), &seq)) {
      return Status::Corruption("malformed op log entry");
    }
    std::string bytes;
    SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, seq, &bytes));
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    Entry entry = convert(*ev);
    if (keep(entry)) out.push_back(std::move(entry));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("op log"));
  return out;
}

template <typename Entry, typename Convert>
StatusOr<Entry> ReadOpLog(EngineImpl* e, TenantId tenant, const std::string& key,
                          std::string_view what, uint64_t id, Convert convert) {
  std::string value;
  Status s = e->store().Get(Cf::kOpLog, key, &value);
  if (s.code() == Code::kNotFound) return Status::NotFound(fmt::format("{} {} not found", what, id));
  SYNCMGR_RETURN_IF_ERROR(s);
  uint64_t seq;
  if (!keys::DecodeOpLogValue(value, &seq)) return Status::Corruption("malformed op log entry");
  std::string bytes;
  SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, seq, &bytes));
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
  return convert(*ev);
}

}  // namespace

StatusOr<std::vector<ImportLogEntry>> Engine::ListImports(TenantId tenant,
                                                          std::optional<uint32_t> source_id,
                                                          uint32_t limit) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ScanOpLog<ImportLogEntry>(
      impl_.get(), tenant, keys::ImportLogPrefix(tenant), limit, ToImportLogEntry,
      [&](const ImportLogEntry& e) { return !source_id || e.source_id == *source_id; });
}

StatusOr<ImportLogEntry> Engine::GetImport(TenantId tenant, uint64_t import_id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ReadOpLog<ImportLogEntry>(impl_.get(), tenant, keys::ImportLog(tenant, import_id),
                                   "import", import_id, ToImportLogEntry);
}

StatusOr<std::vector<SyncLogEntry>> Engine::ListSyncLogs(TenantId tenant,
                                                         const SyncLogFilter& filter) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ScanOpLog<SyncLogEntry>(impl_.get(), tenant, keys::SyncLogPrefix(tenant), filter.limit,
                                 ToSyncLogEntry, [&](const SyncLogEntry& e) {
                                   return (!filter.source_id || e.source_id == *filter.source_id) &&
                                          (!filter.target_id || e.target_id == *filter.target_id);
                                 });
}

StatusOr<SyncLogEntry> Engine::GetSyncLog(TenantId tenant, uint64_t sync_id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ReadOpLog<SyncLogEntry>(impl_.get(), tenant, keys::SyncLog(tenant, sync_id), "sync log",
                                 sync_id, ToSyncLogEntry);
}

}  // namespace syncmgr
