// Engine: the cluster-mode calls (engine.h, "Cluster mode"; docs/scaling.md
// "The engine API"): folding messages of the log of record, the node's
// cursor, and waiting for a seq.
#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/event_codec.h"
#include "engine/keys.h"

namespace syncmgr {

namespace {

// A fold from seq 1 creates the tenant: its first record must say so.
Status CheckCreates(TenantId tenant, uint64_t seq, std::string_view record) {
  if (seq != 1) return Status::Ok();
  std::string aligned(record);
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(aligned));
  const fb::TenantCreated* tc = ev->body_as_TenantCreated();
  if (tc == nullptr || tc->tenant_id() != tenant) {
    return Status::Corruption(
        fmt::format("tenant {}: the log of record starts with another event than its creation",
                    tenant));
  }
  return Status::Ok();
}

}  // namespace

Status Engine::ApplyFromLog(
    TenantId tenant,
    const std::function<StatusOr<ExternalCommit>(std::string_view cursor)>& decide,
    std::string_view node_cursor) {
  if (tenant == 0) return Status::InvalidArgument("tenant id 0 is reserved");
  if (impl_->options().read_only) return Status::Unavailable("the data directory is read-only");
  SYNCMGR_RETURN_IF_ERROR(impl_->disk_guard().Check());  // as SlotForWrite does
  SYNCMGR_RETURN_IF_ERROR(impl_->ResumeIfNeeded());
  TenantSlot* slot = impl_->SlotForApply(tenant);
  // Holds the tenant's write lock from here, also when only the cursors move.
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  SYNCMGR_ASSIGN_OR_RETURN(ExternalCommit commit, decide(slot->cursor));
  const uint64_t have = slot->views.last_seq;
  if (!commit.fold || commit.last_seq <= have) {
    if (commit.fold && commit.first_seq > commit.last_seq) {
      return Status::Corruption(fmt::format("tenant {}: a commit of seqs {}..{}", tenant,
                                            commit.first_seq, commit.last_seq));
    }
    // Only the cursors move: no event, so no commit notification.
    rocksdb::WriteBatch batch;
    Store& store = impl_->store();
    batch.Put(store.cf(Cf::kMeta), keys::ClusterCursor(tenant), commit.tenant_cursor);
    if (!node_cursor.empty()) {
      batch.Put(store.cf(Cf::kMeta), keys::ClusterCursor(0),
                rocksdb::Slice(node_cursor.data(), node_cursor.size()));
    }
    Status s = store.Write(&batch, /*sync=*/false);
    if (!s.ok()) {
      impl_->NoteWriteFailed();
      return s;
    }
    slot->cursor = std::move(commit.tenant_cursor);
    return Status::Ok();
  }
  if (commit.first_seq != have + 1 || commit.last_seq < commit.first_seq) {
    return Status::Corruption(fmt::format(
        "tenant {}: the log of record has seqs {}..{} where this node's views end at seq {}",
        tenant, commit.first_seq, commit.last_seq, have));
  }
  op.FromLog(std::move(commit.tenant_cursor), std::string(node_cursor));
  SYNCMGR_RETURN_IF_ERROR(commit.records([&](uint64_t seq, std::string_view record) -> Status {
    if (seq > commit.last_seq) {
      return Status::Corruption(
          fmt::format("tenant {}: a commit of seqs {}..{} holds seq {}", tenant, commit.first_seq,
                      commit.last_seq, seq));
    }
    SYNCMGR_RETURN_IF_ERROR(CheckCreates(tenant, seq, record));
    return op.AppendRecord(seq, record);
  }));
  if (op.next_seq() != commit.last_seq + 1) {
    return Status::Corruption(fmt::format("tenant {}: a commit of seqs {}..{} holds {} records",
                                          tenant, commit.first_seq, commit.last_seq,
                                          op.next_seq() - commit.first_seq));
  }
  // A revocation from the log of record: Commit drops the key from this
  // node's AuthCache too.
  return op.Commit().status();
}

StatusOr<std::string> Engine::NodeCursor() {
  std::string value;
  Status s = impl_->store().Get(Cf::kMeta, keys::ClusterCursor(0), &value);
  if (s.code() == Code::kNotFound) return std::string();
  SYNCMGR_RETURN_IF_ERROR(s);
  return value;
}

Status Engine::NoteNodeCursor(std::string_view node_cursor) {
  if (impl_->options().read_only) return Status::Unavailable("the data directory is read-only");
  rocksdb::WriteBatch batch;
  batch.Put(impl_->store().cf(Cf::kMeta), keys::ClusterCursor(0),
            rocksdb::Slice(node_cursor.data(), node_cursor.size()));
  Status s = impl_->store().Write(&batch, /*sync=*/false);
  if (!s.ok()) impl_->NoteWriteFailed();
  return s;
}

Status Engine::WaitForSeq(TenantId tenant, uint64_t seq, std::chrono::milliseconds timeout) {
  return impl_->WaitForSeq(tenant, seq, timeout);
}

}  // namespace syncmgr
