// Manual edits and removals of target properties (not made by a sync).
#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/import_parser.h"
#include "engine/state_read.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

Status CheckExternalId(std::string_view ext) {
  if (ext.empty()) return Status::InvalidArgument("external_id must not be empty");
  if (ext.size() > kMaxExternalIdBytes) {
    return Status::InvalidArgument(
        fmt::format("external_id is longer than {} bytes", kMaxExternalIdBytes));
  }
  return Status::Ok();
}

// The property a manual edit changes: its state record (null if it never
// existed).
struct TargetEdit {
  std::string value;  // owns *old's bytes
  const fb::PropertyState* old = nullptr;
};

// Checks the target exists and reads the property's state into *edit, under
// the tenant's write lock (the edit is decided on committed state). `slot`
// names that lock for clang's analysis.
Status ReadTargetEdit(EngineImpl* e, [[maybe_unused]] TenantSlot* slot, TenantId tenant,
                      uint32_t target_id, std::string_view external_id, TargetEdit* edit)
    REQUIRES(slot->write_mu) {
  SYNCMGR_RETURN_IF_ERROR(e->ReadTarget(tenant, target_id).status());
  SYNCMGR_ASSIGN_OR_RETURN(
      edit->old, ReadStateRecord(e->store(), tenant, {StreamKind::kTarget, target_id}, external_id,
                                 &edit->value));
  return Status::Ok();
}

}  // namespace

StatusOr<PropertyRecord> Engine::PutTargetProperty(TenantId tenant, uint32_t target_id,
                                                   std::string_view external_id,
                                                   std::string_view json) {
  SYNCMGR_RETURN_IF_ERROR(CheckExternalId(external_id));
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(tenant));
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  TargetEdit edit;
  SYNCMGR_RETURN_IF_ERROR(
      ReadTargetEdit(impl_.get(), slot, tenant, target_id, external_id, &edit));
  const fb::PropertyState* old = edit.old;
  bool old_live = old != nullptr && !old->removed();
  // Hash with the ignore_fields of the source the copy came from, so that a
  // manual edit and the source's version compare like for like.
  std::vector<std::string> ignore;
  if (old != nullptr && old->source_id() != 0) {
    auto src = impl_->ReadSource(tenant, old->source_id());
    if (src.ok()) ignore = src->ignore_fields;
  }
  CanonicalDoc doc;
  SYNCMGR_RETURN_IF_ERROR(CanonicalizeObject(json, ignore, &doc));

  std::string before;
  if (old_live) SYNCMGR_RETURN_IF_ERROR(impl_->ReadData(tenant, old->data_seq(), &before));
  if (old_live && before == doc.json) {
    // Same content: a PUT is idempotent and makes no new version.
    return GetProperty(tenant, {StreamKind::kTarget, target_id}, external_id, ReadOptions());
  }
  StreamRef stream{StreamKind::kTarget, target_id};
  PropertyEventSpec spec;
  spec.change = fb::PropertyChange::ManualEdit;
  spec.stream = stream;
  spec.external_id = external_id;
  spec.version = old != nullptr ? old->version() + 1 : 1;
  spec.dense_id =
      old != nullptr ? old->dense_id() : op.views().next_dense[StreamKey(stream)];
  spec.hash = doc.hash;
  spec.data = doc.json;
  spec.cause = CauseKind::kManual;
  spec.source_id = old != nullptr ? old->source_id() : 0;
  if (old != nullptr) spec.sync_hash = FromFb(old->sync_hash());
  std::vector<std::string> changed;
  if (old_live) {
    changed = ChangedFields(before, doc.json, ignore);
    spec.changed_fields = &changed;
  }
  BuildPropertyEvent(&op.builder(), op.next_seq(), op.time_us(), spec);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, op.Commit());
  PropertyRecord rec;
  rec.external_id = std::string(external_id);
  rec.data = std::move(doc.json);
  rec.hash = doc.hash.Hex();
  rec.version = spec.version;
  rec.updated_at_us = op.time_us();
  rec.seq = seq;
  rec.source_id = spec.source_id;
  rec.manually_modified = true;
  return rec;
}

StatusOr<PropertyRecord> Engine::DeleteTargetProperty(TenantId tenant, uint32_t target_id,
                                                      std::string_view external_id) {
  SYNCMGR_RETURN_IF_ERROR(CheckExternalId(external_id));
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(tenant));
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  TargetEdit edit;
  SYNCMGR_RETURN_IF_ERROR(
      ReadTargetEdit(impl_.get(), slot, tenant, target_id, external_id, &edit));
  const fb::PropertyState* old = edit.old;
  if (old == nullptr || old->removed()) {
    return Status::NotFound(
        fmt::format("property \"{}\" not found in target {}", external_id, target_id));
  }
  PropertyEventSpec spec;
  spec.change = fb::PropertyChange::Removed;
  spec.stream = {StreamKind::kTarget, target_id};
  spec.external_id = external_id;
  spec.version = old->version() + 1;
  spec.dense_id = old->dense_id();
  spec.cause = CauseKind::kManual;
  spec.source_id = old->source_id();
  spec.sync_hash = FromFb(old->sync_hash());
  BuildPropertyEvent(&op.builder(), op.next_seq(), op.time_us(), spec);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, op.Commit());
  PropertyRecord rec;
  rec.external_id = std::string(external_id);
  rec.version = spec.version;
  rec.updated_at_us = op.time_us();
  rec.seq = seq;
  rec.removed = true;
  rec.source_id = spec.source_id;
  rec.manually_modified = true;
  return rec;
}

}  // namespace syncmgr
