// Import: a batch of properties into a source, all or nothing.
//
// Parsing and canonicalisation (the CPU-heavy part) run before the tenant's
// write lock is taken; parsed items are buffered up to import_buffer_bytes.
// Past that, or at Finish, the session takes the lock and turns items into
// events (reading the committed state of each id with one MultiGet per
// buffer). Only the commit at Finish makes any of it visible.
#include <rocksdb/db.h>

#include <unordered_set>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/import_parser.h"
#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

class ImportSessionImpl final : public ImportSession {
 public:
  ImportSessionImpl(EngineImpl* engine, TenantId tenant, SourceInfo source, ImportOptions options)
      : engine_(engine),
        tenant_(tenant),
        source_(std::move(source)),
        options_(options),
        parser_(ImportParserOptions{options.format, source_.id_field, source_.ignore_fields}),
        started_at_us_(NowMicros()) {}

  Status Append(std::string_view chunk) override {
    if (!dead_.ok()) return dead_;
    Status s = parser_.Feed(chunk, [this](ParsedItem&& item) { return Buffer(std::move(item)); });
    if (!s.ok()) dead_ = s;
    return s;
  }

  StatusOr<ImportResult> Finish() override {
    if (!dead_.ok()) return dead_;
    if (finished_) return Status::Internal("import session already finished");
    finished_ = true;
    Status s = parser_.Finish([this](ParsedItem&& item) { return Buffer(std::move(item)); });
    if (s.ok()) s = ResolveMode();
    if (s.ok()) s = ProcessPending();
    if (!s.ok()) {
      dead_ = s;
      return s;
    }
    return Complete();
  }

  uint64_t items_received() const override { return parser_.items(); }

 private:
  Status Buffer(ParsedItem&& item) {
    pending_bytes_ += item.doc.json.size() + item.external_id.size() + sizeof(ParsedItem);
    pending_.push_back(std::move(item));
    if (pending_bytes_ >= engine_->options().import_buffer_bytes) return ProcessPending();
    return Status::Ok();
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
    SYNCMGR_ASSIGN_OR_RETURN(lock_, engine_->LockForWrite(tenant_, &slot_));
    // The source may not change under us now; re-check it still exists.
    SYNCMGR_RETURN_IF_ERROR(engine_->ReadSource(tenant_, source_.id).status());
    op_ = std::make_unique<WriteOp>(engine_, tenant_, slot_);
    import_id_ = op_->views().next_import_id;
    SYNCMGR_ASSIGN_OR_RETURN(BitmapPtr live, op_->folder().Live(stream()));
    live_before_ = live->cardinality();
    return Status::Ok();
  }

  StreamRef stream() const { return StreamRef{StreamKind::kSource, source_.id}; }

  Status ProcessPending() {
    if (pending_.empty()) return Status::Ok();
    SYNCMGR_RETURN_IF_ERROR(EnsureLocked());
    // Duplicate ids are refused before any state is read.
    for (const ParsedItem& item : pending_) {
      if (!seen_.insert(item.external_id).second) {
        return Status::InvalidArgument(fmt::format(
            "item {}: id \"{}\" appears more than once in the batch", item.index,
            item.external_id));
      }
    }
    std::vector<std::string> key_bytes;
    key_bytes.reserve(pending_.size());
    for (const ParsedItem& item : pending_) {
      key_bytes.push_back(keys::State(tenant_, stream(), item.external_id));
    }
    std::vector<rocksdb::Slice> key_slices(key_bytes.begin(), key_bytes.end());
    std::vector<rocksdb::PinnableSlice> values(pending_.size());
    std::vector<rocksdb::Status> statuses(pending_.size());
    Store& store = engine_->store();
    store.db()->MultiGet(rocksdb::ReadOptions(), store.cf(Cf::kState), key_slices.size(),
                         key_slices.data(), values.data(), statuses.data());
    std::string aligned;
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (!statuses[i].ok() && !statuses[i].IsNotFound()) return FromRocks(statuses[i], "import");
      // FlatBuffers wants aligned bytes; pinned block-cache memory is not.
      if (statuses[i].ok()) aligned.assign(values[i].data(), values[i].size());
      const fb::PropertyState* state =
          statuses[i].ok() ? flatbuffers::GetRoot<fb::PropertyState>(aligned.data()) : nullptr;
      SYNCMGR_RETURN_IF_ERROR(ApplyItem(pending_[i], state));
    }
    pending_.clear();
    pending_bytes_ = 0;
    return Status::Ok();
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
      SYNCMGR_RETURN_IF_ERROR(store.Get(Cf::kState, keys::State(tenant_, stream(), ext), &value));
      const auto* state = flatbuffers::GetRoot<fb::PropertyState>(value.data());
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

  StatusOr<ImportResult> Complete() {
    Status s = EnsureLocked();
    if (s.ok() && mode_ == ImportMode::kFull) s = RemoveAbsent();
    if (!s.ok()) {
      dead_ = s;
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
    StatusOr<uint64_t> last = op_->Commit(lock_);
    if (!last.ok()) return last.status();
    return ImportResult{import_id_, *last, stats_};
  }

  EngineImpl* engine_;
  TenantId tenant_;
  SourceInfo source_;
  ImportOptions options_;
  ImportParser parser_;
  int64_t started_at_us_;
  Status dead_;
  bool finished_ = false;
  ImportMode mode_ = ImportMode::kUpsert;
  bool allow_mass_removal_ = false;

  std::vector<ParsedItem> pending_;
  uint64_t pending_bytes_ = 0;

  // Set once the tenant is locked.
  TenantSlot* slot_ = nullptr;
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<WriteOp> op_;  // declared after lock_: destroyed before it
  uint64_t import_id_ = 0;
  uint64_t live_before_ = 0;
  std::unordered_set<std::string> seen_;
  Bitmap present_;  // dense ids of the batch's items that are live after it
  ImportStats stats_;
};

}  // namespace

StatusOr<std::unique_ptr<ImportSession>> Engine::BeginImport(TenantId tenant, uint32_t source_id,
                                                             const ImportOptions& options) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  SYNCMGR_ASSIGN_OR_RETURN(SourceInfo source, impl_->ReadSource(tenant, source_id));
  return std::unique_ptr<ImportSession>(
      new ImportSessionImpl(impl_.get(), tenant, std::move(source), options));
}

StatusOr<ImportResult> Engine::Import(TenantId tenant, uint32_t source_id,
                                      const ImportOptions& options, std::string_view body) {
  SYNCMGR_ASSIGN_OR_RETURN(auto session, BeginImport(tenant, source_id, options));
  SYNCMGR_RETURN_IF_ERROR(session->Append(body));
  return session->Finish();
}

}  // namespace syncmgr
