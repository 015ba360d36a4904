// Import: a batch of properties into a source, all or nothing.
//
// Parsing and canonicalisation (the CPU-heavy part) run on the caller's
// thread, outside the tenant's write lock; parsed items are buffered up to
// import_buffer_bytes. Past that, the buffer is handed to the session's apply
// thread, which takes the lock and turns items into events (reading the
// committed state of each id with one MultiGet per buffer) while the caller
// parses the next buffer. A body smaller than one buffer never starts the
// thread (all of it runs at Finish, on the caller's thread). Log records
// past write_chunk_bytes are written ahead of the commit; with bulk
// ingestion their table files are built on the operation's own pipeline
// threads (IngestPipeline, bulk_ingest.h), not on the apply thread. Only
// the commit at Finish makes any of it visible.
//
// Raw-bytes fast path: into a source that already has properties, items are
// parsed with ImportParserOptions::defer_canonical, and an item whose
// raw_hash (its bytes, ignored members masked) equals the live version's is
// unchanged without being validated or canonicalized; the others are
// validated and canonicalized on the apply thread. Into an empty source every item is new, so items are
// canonicalized eagerly, on the parsing thread.
//
// Two parsing threads (NDJSON): a chunk of at least kMinSplitBytes (below it
// the hand-over costs more than it saves) is cut at
// a line boundary near its middle; the caller's thread parses the first part
// (which continues the line carried over from the previous chunk) while the
// session's parse worker parses the second part's whole lines
// (ParseNdjsonLines); the bytes after the chunk's last newline wait for the
// next chunk as before. Items reach the buffer in body order (the first
// part's, then the second's, renumbered by ImportParser::Adopt). If the
// second part holds a bad line and the first does not, its items are thrown
// away and the same bytes are fed to the session's parser, so the error,
// its item number and everything before it are exactly the single-threaded
// parser's. Once the apply thread holds the tenant lock (nothing else can
// change the source's states until the commit), each parsing thread also
// reads the states of its part's items (one MultiGet per part) and settles
// the raw-bytes fast path there; the apply thread reads states only for
// items parsed before the lock was held.
#include <rocksdb/db.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/huge_pages.h"
#include "engine/id_set.h"
#include "engine/import_parser.h"
#include "engine/keys.h"
#include "engine/mutex.h"
#include "engine/state_read.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

// One thread that runs an import's locked work — applying buffers, the
// commit, the abort — in order, one task at a time. Post waits for the
// previous task first, so at most one buffer waits while one is applied.
// Every task that takes or releases the tenant lock runs here, so the thread
// that locks the mutex is the one that unlocks it. After a task fails, later
// tasks are skipped unless posted with `always`; the first error is kept.
class ApplyThread {
 public:
  ApplyThread() : thread_([this] { Run(); }) {}
  ~ApplyThread() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    cv_.SignalAll();
    thread_.join();
  }
  ApplyThread(const ApplyThread&) = delete;
  ApplyThread& operator=(const ApplyThread&) = delete;

  // Waits for the previous task, queues `task` and returns the first error
  // of the tasks run so far (without waiting for this one).
  Status Post(std::function<Status()> task, bool always = false) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    while (task_ || running_) cv_.Wait(&mu_);
    if (!error_.ok() && !always) return error_;
    task_ = std::move(task);
    cv_.SignalAll();
    return error_;
  }
  // Waits until every posted task has run; the first error of them all.
  Status Drain() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    while (task_ || running_) cv_.Wait(&mu_);
    return error_;
  }

 private:
  void Run() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    while (true) {
      while (!stop_ && !task_) cv_.Wait(&mu_);
      if (!task_) return;  // stop_, and nothing left to run
      std::function<Status()> task = std::move(task_);
      task_ = nullptr;
      running_ = true;
      lock.Unlock();
      Status s = task();
      lock.Lock();
      running_ = false;
      if (!s.ok() && error_.ok()) error_ = s;
      cv_.SignalAll();
    }
  }

  Mutex mu_;
  CondVar cv_;  // a task was posted or finished, or stop_
  std::function<Status()> task_ GUARDED_BY(mu_);
  bool running_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  Status error_ GUARDED_BY(mu_);
  std::thread thread_;  // last: starts after the members above exist
};

class ImportSessionImpl final : public ImportSession {
 public:
  ImportSessionImpl(EngineImpl* engine, TenantId tenant, SourceInfo source, ImportOptions options,
                    bool defer_canonical)
      : engine_(engine),
        tenant_(tenant),
        source_(std::move(source)),
        options_(options),
        parser_options_{options.format, source_.id_field, source_.ignore_fields, defer_canonical},
        parser_(parser_options_),
        // The ordered clock: the WriteOp made later reads a time >= this.
        started_at_us_(engine->Now()) {}

  ~ImportSessionImpl() override {
    if (!applier_) return;
    // Unfinished or failed: abort on the thread that holds the lock.
    applier_
        ->Post(
            [this] {
              op_.reset();  // drops records written ahead, releases the lock
              return Status::Ok();
            },
            /*always=*/true)
        .IgnoreError();  // an earlier task's error: the session is being dropped anyway
    applier_.reset();  // joins
  }

  Status Append(std::string_view chunk) override {
    if (!dead_.ok()) return dead_;
    Status s = Parse(chunk);
    if (!s.ok()) dead_ = s;
    return s;
  }

  StatusOr<ImportResult> Finish() override {
    if (!dead_.ok()) return dead_;
    if (finished_) return Status::Internal("import session already finished");
    finished_ = true;
    Status s = parser_.Finish([this](ParsedItem&& item) { return Buffer(std::move(item), {}); });
    if (s.ok()) s = ResolveMode();
    if (s.ok() && applier_) {
      // The apply thread holds the lock: the rest and the commit run there.
      auto rest = std::make_shared<Batch>(std::move(pending_));
      pending_ = Batch();
      s = applier_->Post([this, rest] { return ProcessBatch(*rest); });
      if (s.ok()) {
        s = applier_->Post([this] {
          result_ = Complete();
          return result_->status();
        });
      }
      Status drained = applier_->Drain();
      if (s.ok()) s = drained;
      if (s.ok()) {
        ImportResult result = std::move(**result_);
        ReleaseCommitted();
        return result;
      }
    } else if (s.ok()) {
      s = ProcessBatch(pending_);
      pending_ = Batch();
      if (s.ok()) {
        StatusOr<ImportResult> result = Complete();
        if (result.ok()) {
          ReleaseCommitted();
          return result;
        }
        s = result.status();
      }
    }
    dead_ = s;
    return s;
  }

  uint64_t items_received() const override { return parser_.items(); }

 private:
  // An item's state as read on a parsing thread (StateLookup::kNone: not
  // read there; the apply thread reads it).
  struct StateLookup {
    enum class Kind : uint8_t { kNone, kUnchanged, kFound, kAbsent };
    Kind kind = Kind::kNone;
    uint32_t dense_id = 0;  // kUnchanged, kFound: the id's, from its state record
    std::string state;      // kFound: the state record's bytes
  };
  struct Batch {
    std::vector<ParsedItem> items;
    std::vector<StateLookup> lookups;  // one per item
  };

  // Smallest chunk parsed by two threads. Unit: bytes. The server hands
  // over 4 MiB chunks (import_chunk_bytes); tests feed pieces on either
  // side of it to compare the two ways.
  static constexpr size_t kMinSplitBytes = 64u << 10;

  Status Parse(std::string_view chunk) {
    const auto sink = [this](ParsedItem&& item) { return Buffer(std::move(item), {}); };
    const char* base = chunk.data();
    const void* last_nl =
        parser_options_.format == BodyFormat::kNdjson && chunk.size() >= kMinSplitBytes
            ? memrchr(base, '\n', chunk.size())
            : nullptr;
    if (last_nl == nullptr) return parser_.Feed(chunk, sink);
    // head: the end of a line carried over from the previous chunk (to the
    // parser); mine = [head end, split) and theirs = [split, last newline]:
    // whole lines, parsed on this thread and on the parse worker; tail: the
    // start of a line that continues in the next chunk (to the parser).
    const size_t lines_end = static_cast<size_t>(static_cast<const char*>(last_nl) - base) + 1;
    const size_t head_end =
        parser_.at_line_start()
            ? 0
            : static_cast<size_t>(static_cast<const char*>(std::memchr(base, '\n', lines_end)) -
                                  base) +
                  1;
    const size_t mid = std::max(head_end, chunk.size() / 2);
    const void* nl = mid < lines_end ? std::memchr(base + mid, '\n', lines_end - mid) : nullptr;
    const size_t split =
        nl == nullptr ? lines_end : static_cast<size_t>(static_cast<const char*>(nl) - base) + 1;
    const std::string_view head = chunk.substr(0, head_end);
    const std::string_view mine = chunk.substr(head_end, split - head_end);
    const std::string_view theirs = chunk.substr(split, lines_end - split);
    const std::string_view tail = chunk.substr(lines_end);

    if (!parse_worker_) parse_worker_ = std::make_unique<ApplyThread>();
    Piece their_piece;
    // The task reports through the piece and always succeeds, so the worker
    // never skips a later chunk's task.
    SYNCMGR_RETURN_IF_ERROR(parse_worker_->Post([&] {
      ParsePiece(theirs, &their_piece);
      return Status::Ok();
    }));
    Batch head_items;
    const Status head_status = parser_.Feed(head, [&head_items](ParsedItem&& item) {
      head_items.items.push_back(std::move(item));
      return Status::Ok();
    });
    LookUpStates(&head_items);  // sizes its lookups, whatever the status
    Piece my_piece;
    if (head_status.ok()) ParsePiece(mine, &my_piece);
    SYNCMGR_RETURN_IF_ERROR(parse_worker_->Drain());  // their_piece is complete
    // In body order, as the single-threaded parser would have gone.
    for (size_t i = 0; i < head_items.items.size(); ++i) {
      SYNCMGR_RETURN_IF_ERROR(
          Buffer(std::move(head_items.items[i]), std::move(head_items.lookups[i])));
    }
    SYNCMGR_RETURN_IF_ERROR(head_status);
    SYNCMGR_RETURN_IF_ERROR(AdoptPiece(mine, &my_piece));
    SYNCMGR_RETURN_IF_ERROR(AdoptPiece(theirs, &their_piece));
    return parser_.Feed(tail, sink);
  }

  // Whole lines parsed apart from the session's parser (ParseNdjsonLines).
  struct Piece {
    Status status;
    Batch batch;
  };

  void ParsePiece(std::string_view lines, Piece* piece) {
    piece->status = ParseNdjsonLines(parser_options_, lines, &piece->batch.items);
    if (!piece->status.ok()) return;
    LookUpStates(&piece->batch);
    // Bytes borrowed from the chunk are kept only by items still to decide.
    for (size_t i = 0; i < piece->batch.items.size(); ++i) {
      if (piece->batch.lookups[i].kind != StateLookup::Kind::kUnchanged) {
        OwnRaw(&piece->batch.items[i]);
      }
    }
  }

  // Hands a parsed piece's items to the buffer through the session's parser;
  // if the piece holds an error, feeds its bytes to the parser instead, so
  // the error (and its item number) is the single-threaded parser's.
  Status AdoptPiece(std::string_view lines, Piece* piece) {
    if (!piece->status.ok()) {
      return parser_.Feed(lines, [this](ParsedItem&& item) { return Buffer(std::move(item), {}); });
    }
    size_t i = 0;
    return parser_.Adopt(lines, std::move(piece->batch.items), [this, piece, &i](ParsedItem&& item) {
      return Buffer(std::move(item), std::move(piece->batch.lookups[i++]));
    });
  }

  // On a parsing thread: once the apply thread holds the tenant lock, reads
  // the batch's states and settles the raw-bytes fast path; before that
  // (or into a stream that never had a state) leaves every lookup kNone.
  void LookUpStates(Batch* batch) {
    batch->lookups.assign(batch->items.size(), StateLookup());
    if (!parser_options_.defer_canonical || batch->items.empty() ||
        !locked_.load(std::memory_order_acquire) || never_had_state_) {
      return;
    }
    if (!ReadStates(batch, /*only_unread=*/false).ok()) {
      // Read again on the apply thread, which reports the error.
      for (StateLookup& lookup : batch->lookups) lookup = StateLookup();
    }
  }

  // Reads the states of the batch's items (only those still kNone if
  // only_unread) with one MultiGet and fills their lookups. An unchanged
  // deferred item (its raw_hash equals the live version's) is settled:
  // kUnchanged, its raw bytes freed.
  Status ReadStates(Batch* batch, bool only_unread) {
    std::vector<size_t> which;
    std::vector<std::string> key_bytes;
    which.reserve(batch->items.size());
    key_bytes.reserve(batch->items.size());
    for (size_t i = 0; i < batch->items.size(); ++i) {
      if (only_unread && batch->lookups[i].kind != StateLookup::Kind::kNone) continue;
      which.push_back(i);
      key_bytes.push_back(keys::State(tenant_, stream(), batch->items[i].external_id));
    }
    if (which.empty()) return Status::Ok();
    std::vector<rocksdb::PinnableSlice> values;
    std::vector<bool> found;
    SYNCMGR_RETURN_IF_ERROR(engine_->store().MultiGet(Cf::kState, key_bytes,
                                                      rocksdb::ReadOptions(), &values, &found));
    std::string aligned;
    for (size_t k = 0; k < which.size(); ++k) {
      ParsedItem& item = batch->items[which[k]];
      StateLookup& lookup = batch->lookups[which[k]];
      if (!found[k]) {
        lookup.kind = StateLookup::Kind::kAbsent;
        continue;
      }
      const fb::PropertyState* state = ParseStateRecord(values[k].ToStringView(), &aligned);
      // Raw-bytes fast path: the same bytes (ignored scalars aside) as the
      // live version's, so well-formed and the same hash (ScanRaw says why).
      if (item.deferred && !state->removed() && state->raw_hash() != 0 &&
          state->raw_hash() == item.raw_hash) {
        lookup.kind = StateLookup::Kind::kUnchanged;
        lookup.dense_id = state->dense_id();
        std::string().swap(item.raw);
        continue;
      }
      lookup.kind = StateLookup::Kind::kFound;
      lookup.dense_id = state->dense_id();
      lookup.state.assign(values[k].data(), values[k].size());
    }
    return Status::Ok();
  }

  Status Buffer(ParsedItem&& item, StateLookup&& lookup) {
    pending_bytes_ += item.doc.json.size() + item.raw.size() + item.external_id.size() +
                      lookup.state.size() + sizeof(ParsedItem) + sizeof(StateLookup);
    pending_.items.push_back(std::move(item));
    pending_.lookups.push_back(std::move(lookup));
    if (pending_bytes_ < engine_->options().import_buffer_bytes) return Status::Ok();
    // Hand the buffer to the apply thread and go on parsing.
    if (!applier_) applier_ = std::make_unique<ApplyThread>();
    auto batch = std::make_shared<Batch>(std::move(pending_));
    pending_ = Batch();
    pending_bytes_ = 0;
    // The next buffer likely holds about as many items: room for them at
    // once (an eighth more) instead of growing by doubling, each step a
    // move of every item into fresh pages. A 1 M day-1 import's buffers hold
    // ~130 k mostly unchanged items, ~25 MB of ParsedItem and StateLookup:
    // their growth was ~9 % of the import's CPU. Address space only until
    // filled.
    const size_t expect = batch->items.size() + batch->items.size() / 8;
    ReserveHuge(&pending_.items, expect);
    ReserveHuge(&pending_.lookups, expect);
    return applier_->Post([this, batch] { return ProcessBatch(*batch); });
  }

  // After a successful commit: frees what the session held for it now, not
  // when the caller drops the session (a caller that syncs before it does —
  // syncmgr-bench-inproc, an API user — would otherwise hold, at 1 M
  // listings, the committed view batch (~0.2 GB), the last log chunk's
  // buffer and the set of seen ids (~75 MB) through its next phase).
  void ReleaseCommitted() {
    applier_.reset();  // idle (drained); joins
    op_.reset();       // committed: the lock is already released
    seen_.Clear();
    seen_dense_ = Bitmap();
    pending_ = Batch();
    present_ = Bitmap();
  }

  Status ResolveMode() {
    mode_ = options_.mode;
    if (auto body = parser_.body_mode()) {
      if (options_.mode_explicit && *body != options_.mode) {
        return Status::InvalidArgument("the body's \"mode\" contradicts the mode parameter");
      }
      mode_ = *body;
    }
    allow_mass_removal_ =
        options_.allow_mass_removal || parser_.body_allow_mass_removal().value_or(false);
    return Status::Ok();
  }

  Status EnsureLocked() {
    if (op_) return Status::Ok();
    SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, engine_->SlotForWrite(tenant_));
    auto op = std::make_unique<WriteOp>(engine_, tenant_, slot);
    SYNCMGR_RETURN_IF_ERROR(op->status());  // dropping it releases the lock
    // The source may not change under us now; re-check it still exists.
    SYNCMGR_RETURN_IF_ERROR(engine_->ReadSource(tenant_, source_.id).status());
    import_id_ = op->views().next_import_id;
    // No dense id ever given out in the stream: it has no state record
    // (every one carries a dense id), and none can appear while the lock is
    // held but this import's own, whose ids are distinct (seen_).
    const auto& next_dense = op->views().next_dense;
    auto it = next_dense.find(StreamKey(stream()));
    never_had_state_ = it == next_dense.end() || it->second == 0;
    if (never_had_state_ && options_.body_bytes_hint > 0) {
      // Every item is new and writes its views (~200 bytes: state, dense id,
      // stream index, history) into one batch kept until the commit: at
      // 1-3 KB per listing, an eighth of the body. Address space only until
      // written (WriteOp::ReserveViewBytes).
      op->ReserveViewBytes(std::min<uint64_t>(options_.body_bytes_hint / kBodyBytesPerViewByte,
                                              kMaxViewReserve));
    }
    if (options_.body_bytes_hint > 0) {
      // An item's event holds its canonical document, about as long as its
      // JSON in the body (2.15 KB per listing in the benchmark's input):
      // the log batch is reserved for the whole body and an eighth, up to a
      // chunk (WriteOp::ReserveLogBytes), instead of growing by doubling.
      // An import that finds most items unchanged writes less: address
      // space only.
      op->ReserveLogBytes(options_.body_bytes_hint + options_.body_bytes_hint / 8);
    }
    SYNCMGR_ASSIGN_OR_RETURN(BitmapPtr live, op->folder().Live(stream()));
    live_before_ = live->cardinality();
    op_ = std::move(op);
    locked_.store(true, std::memory_order_release);  // never_had_state_ is set
    return Status::Ok();
  }

  StreamRef stream() const { return StreamRef{StreamKind::kSource, source_.id}; }

  // Turns a buffer of items into events. Runs under the tenant lock, on the
  // apply thread once it exists.
  Status ProcessBatch(Batch& batch) {
    if (batch.items.empty()) return Status::Ok();
    SYNCMGR_RETURN_IF_ERROR(EnsureLocked());
    if (never_had_state_) {
      // Every item is new: no state to read (a day-0 import; the MultiGet
      // below cost ~5 % of its CPU, finding nothing). Duplicate ids are
      // refused before any item of the batch is applied.
      for (const ParsedItem& item : batch.items) {
        if (!seen_.Insert(item.external_id)) return Duplicate(item);
      }
      for (ParsedItem& item : batch.items) {
        if (item.deferred) SYNCMGR_RETURN_IF_ERROR(CanonicalizeDeferred(&item, parser_options_));
        SYNCMGR_RETURN_IF_ERROR(ApplyItem(item, nullptr));
      }
      return Status::Ok();
    }
    // States not read on a parsing thread (items parsed before the lock).
    SYNCMGR_RETURN_IF_ERROR(ReadStates(&batch, /*only_unread=*/true));
    // Duplicate ids are refused before any item of the batch is applied.
    // An id with a state record is known by its dense id (one per id in the
    // stream), so only new ids are kept as strings.
    for (size_t i = 0; i < batch.items.size(); ++i) {
      const ParsedItem& item = batch.items[i];
      const bool first = batch.lookups[i].kind == StateLookup::Kind::kAbsent
                             ? seen_.Insert(item.external_id)
                             : seen_dense_.addChecked(batch.lookups[i].dense_id);
      if (!first) return Duplicate(item);
    }
    std::string aligned;
    for (size_t i = 0; i < batch.items.size(); ++i) {
      ParsedItem& item = batch.items[i];
      const StateLookup& lookup = batch.lookups[i];
      if (lookup.kind == StateLookup::Kind::kUnchanged) {
        ++stats_.received;
        ++stats_.unchanged;
        present_.add(lookup.dense_id);
        continue;
      }
      const fb::PropertyState* state = lookup.kind == StateLookup::Kind::kFound
                                           ? ParseStateRecord(lookup.state, &aligned)
                                           : nullptr;
      // Not settled by the fast path: canonicalize now.
      if (item.deferred) SYNCMGR_RETURN_IF_ERROR(CanonicalizeDeferred(&item, parser_options_));
      SYNCMGR_RETURN_IF_ERROR(ApplyItem(item, state));
    }
    return Status::Ok();
  }

  static Status Duplicate(const ParsedItem& item) {
    return Status::InvalidArgument(fmt::format(
        "item {}: id \"{}\" appears more than once in the batch", item.index, item.external_id));
  }

  Status ApplyItem(const ParsedItem& item, const fb::PropertyState* state) {
    ++stats_.received;
    PropertyEventSpec spec;
    spec.stream = stream();
    spec.external_id = item.external_id;
    spec.hash = item.doc.hash;
    spec.data = item.doc.json;
    spec.cause = CauseKind::kImport;
    spec.cause_id = import_id_;
    spec.raw_hash = item.raw_hash;
    std::vector<std::string> changed;
    if (state != nullptr && !state->removed()) {
      present_.add(state->dense_id());
      if (FromFb(state->hash()) == item.doc.hash) {
        ++stats_.unchanged;
        return Status::Ok();
      }
      std::string before;
      SYNCMGR_RETURN_IF_ERROR(engine_->ReadData(tenant_, state->data_seq(), &before));
      changed = ChangedFields(before, item.doc.json, source_.ignore_fields);
      spec.change = fb::PropertyChange::Updated;
      spec.version = state->version() + 1;
      spec.dense_id = state->dense_id();
      spec.changed_fields = &changed;
      spec.prev_data_seq = state->data_seq();  // what `changed` was computed against
      ++stats_.updated;
    } else {
      spec.change = fb::PropertyChange::Created;
      if (state != nullptr) {  // re-created after a removal
        spec.version = state->version() + 1;
        spec.dense_id = state->dense_id();
      } else {
        spec.version = 1;
        spec.dense_id = op_->views().next_dense[StreamKey(stream())];
      }
      present_.add(spec.dense_id);
      ++stats_.created;
    }
    BuildPropertyEvent(&op_->builder(), op_->next_seq(), op_->time_us(), spec);
    return op_->Append();
  }

  Status RemoveAbsent() {
    SYNCMGR_ASSIGN_OR_RETURN(BitmapPtr live, op_->folder().Live(stream()));
    Bitmap absent = *live - present_;
    uint64_t n = absent.cardinality();
    if (n == 0) return Status::Ok();
    double limit = source_.max_removal_ratio * static_cast<double>(live_before_);
    if (!allow_mass_removal_ && static_cast<double>(n) > limit) {
      return Status::MassRemoval(fmt::format(
          "this full import would remove {} of {} live properties ({:.1f}%), more than the "
          "source's max_removal_ratio of {:.0f}%; nothing was written. Resend with "
          "allow_mass_removal=true if that is intended",
          n, live_before_, 100.0 * static_cast<double>(n) / static_cast<double>(live_before_),
          100.0 * source_.max_removal_ratio));
    }
    Store& store = engine_->store();
    for (uint32_t dense : absent) {
      std::string ext, value;
      SYNCMGR_RETURN_IF_ERROR(store.Get(Cf::kDense, keys::Dense(tenant_, stream(), dense), &ext));
      SYNCMGR_ASSIGN_OR_RETURN(const fb::PropertyState* state,
                               ReadStateRecord(store, tenant_, stream(), ext, &value));
      if (state == nullptr) {
        return Status::Corruption(
            fmt::format("live id {} of source {} has no state record", dense, source_.id));
      }
      PropertyEventSpec spec;
      spec.change = fb::PropertyChange::Removed;
      spec.stream = stream();
      spec.external_id = ext;
      spec.version = state->version() + 1;
      spec.dense_id = dense;
      spec.cause = CauseKind::kImport;
      spec.cause_id = import_id_;
      BuildPropertyEvent(&op_->builder(), op_->next_seq(), op_->time_us(), spec);
      SYNCMGR_RETURN_IF_ERROR(op_->Append());
      ++stats_.removed;
    }
    return Status::Ok();
  }

  // Not checked by clang's analysis: the tenant's write lock was taken by
  // EnsureLocked, in this call or an earlier task of this import, and lives
  // in op_ across calls; the analysis follows a lock within one function.
  StatusOr<ImportResult> Complete() NO_THREAD_SAFETY_ANALYSIS {
    Status s = EnsureLocked();
    if (s.ok() && mode_ == ImportMode::kFull) s = RemoveAbsent();
    if (!s.ok()) {
      op_.reset();  // aborts: nothing becomes visible
      return s;
    }
    ImportCompletedSpec spec;
    spec.import_id = import_id_;
    spec.source_id = source_.id;
    spec.mode = mode_;
    spec.started_at_us = started_at_us_;
    spec.stats = stats_;
    spec.first_seq = op_->first_seq();
    BuildImportCompleted(&op_->builder(), op_->next_seq(), op_->time_us(), spec);
    s = op_->Append();
    if (!s.ok()) return s;
    StatusOr<uint64_t> last = op_->Commit();
    if (!last.ok()) return last.status();
    return ImportResult{import_id_, *last, stats_};
  }

  EngineImpl* engine_;
  TenantId tenant_;
  SourceInfo source_;
  ImportOptions options_;
  // The view batch reserved from the body's size (EnsureLocked): an eighth
  // of it, at most 1 GiB.
  static constexpr uint64_t kBodyBytesPerViewByte = 8;
  static constexpr uint64_t kMaxViewReserve = uint64_t{1} << 30;
  ImportParserOptions parser_options_;
  ImportParser parser_;
  int64_t started_at_us_;
  Status dead_;
  bool finished_ = false;
  ImportMode mode_ = ImportMode::kUpsert;
  bool allow_mass_removal_ = false;

  Batch pending_;
  uint64_t pending_bytes_ = 0;
  // Parses the second part of a split chunk (Parse); started at the first.
  std::unique_ptr<ApplyThread> parse_worker_;

  // Set once the tenant is locked: the operation, which holds the lock.
  std::unique_ptr<WriteOp> op_;
  uint64_t import_id_ = 0;
  uint64_t live_before_ = 0;
  bool never_had_state_ = false;  // set by EnsureLocked
  // Set once op_ holds the tenant lock (and never_had_state_ is set): from
  // then on the parsing threads may read states (LookUpStates).
  std::atomic<bool> locked_{false};
  // The batch's ids so far: new ones (no state record), and the dense ids
  // of the others.
  IdSet seen_;  // the new ids (no state record) met so far
  Bitmap seen_dense_;
  Bitmap present_;  // dense ids of the batch's items that are live after it
  ImportStats stats_;
  std::optional<StatusOr<ImportResult>> result_;  // Complete's, when run on the apply thread
  // Started when the first buffer fills; from then on every locked step runs
  // on it. Last member: the destructor body joins it before the rest goes.
  std::unique_ptr<ApplyThread> applier_;
};

// Whether the stream has any state record (live or removed): then items are
// parsed for the raw-bytes fast path. A hint read without the lock: the
// choice affects only speed.
bool HasState(EngineImpl* engine, TenantId tenant, StreamRef stream) {
  std::unique_ptr<StoreIterator> it =
      engine->store().NewPrefixIterator(Cf::kState, keys::StatePrefix(tenant, stream));
  it->SeekToFirst();
  return it->Valid() || !it->status("has state").ok();  // unreadable: assume so
}

}  // namespace

StatusOr<std::unique_ptr<ImportSession>> Engine::BeginImport(TenantId tenant, uint32_t source_id,
                                                             const ImportOptions& options) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  SYNCMGR_ASSIGN_OR_RETURN(SourceInfo source, impl_->ReadSource(tenant, source_id));
  const bool defer = HasState(impl_.get(), tenant, StreamRef{StreamKind::kSource, source_id});
  return std::unique_ptr<ImportSession>(
      new ImportSessionImpl(impl_.get(), tenant, std::move(source), options, defer));
}

StatusOr<ImportResult> Engine::Import(TenantId tenant, uint32_t source_id,
                                      const ImportOptions& options, std::string_view body) {
  SYNCMGR_ASSIGN_OR_RETURN(auto session, BeginImport(tenant, source_id, options));
  SYNCMGR_RETURN_IF_ERROR(session->Append(body));
  return session->Finish();
}

}  // namespace syncmgr
