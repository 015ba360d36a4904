// Push delivery state in the `delivery` column family (engine/delivery_types.h).
//
// Values (integers big-endian, keys in keys.h):
//   DeliveryRecord := version:u8 (=1) delivered_seq:u64 flags:u8 (bit 0: paused)
//                     next_dead_letter_id:u64 dead_letters:u64
//                     last_attempt_at_us:u64 (two's complement) error_len:u32 error
//                     [rewind_until:u64]  (appended later: absent in older records = 0)
//   DeadLetter     := version:u8 (=1) first_seq:u64 last_seq:u64 attempts:u32
//                     failed_at_us:u64 error_len:u32 error
// Readers refuse other versions with Corruption; fields are only appended, and
// a reader takes a record that ends before an appended field (its default).
//
// Cluster mode (EngineOptions::delivery_store) keeps one value per target
// instead, written whole each time (one atomic write in a KV bucket):
//   TargetState    := version:u8 (=1) record_len:u32 DeliveryRecord count:u32
//                     (id:u64 dead_letter_len:u32 DeadLetter)*   (ids ascending)
#include <rocksdb/write_batch.h>

#include <fmt/format.h>

#include <map>

#include "engine/cluster_hooks.h"
#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"

namespace syncmgr {

namespace {

constexpr uint8_t kFormatVersion = 1;

std::string EncodeRecord(const DeliveryRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  keys::PutU64(&out, r.delivered_seq);
  out.push_back(r.paused ? 1 : 0);
  keys::PutU64(&out, r.next_dead_letter_id);
  keys::PutU64(&out, r.dead_letters);
  keys::PutU64(&out, static_cast<uint64_t>(r.last_attempt_at_us));
  keys::PutLengthPrefixed(&out, r.last_error);
  keys::PutU64(&out, r.rewind_until);
  return out;
}

Status DecodeRecord(std::string_view in, DeliveryRecord* r) {
  keys::Reader rd(in);
  uint8_t version = 0, flags = 0;
  uint64_t at = 0;
  if (!rd.U8(&version) || version != kFormatVersion || !rd.U64(&r->delivered_seq) ||
      !rd.U8(&flags) || !rd.U64(&r->next_dead_letter_id) || !rd.U64(&r->dead_letters) ||
      !rd.U64(&at) || !rd.LengthPrefixed(&r->last_error) ||
      !(rd.Done() || rd.U64(&r->rewind_until))) {
    return Status::Corruption("malformed delivery record");
  }
  r->paused = (flags & 1) != 0;
  r->last_attempt_at_us = static_cast<int64_t>(at);
  return Status::Ok();
}

std::string EncodeDeadLetter(const DeadLetter& d) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  keys::PutU64(&out, d.first_seq);
  keys::PutU64(&out, d.last_seq);
  keys::PutU32(&out, d.attempts);
  keys::PutU64(&out, static_cast<uint64_t>(d.failed_at_us));
  keys::PutLengthPrefixed(&out, d.last_error);
  return out;
}

Status DecodeDeadLetter(uint64_t id, std::string_view in, DeadLetter* d) {
  keys::Reader rd(in);
  uint8_t version = 0;
  uint64_t at = 0;
  if (!rd.U8(&version) || version != kFormatVersion || !rd.U64(&d->first_seq) ||
      !rd.U64(&d->last_seq) || !rd.U32(&d->attempts) || !rd.U64(&at) ||
      !rd.LengthPrefixed(&d->last_error)) {
    return Status::Corruption("malformed dead letter");
  }
  d->id = id;
  d->failed_at_us = static_cast<int64_t>(at);
  return Status::Ok();
}

// One target's whole delivery state (cluster mode).
struct TargetState {
  DeliveryRecord record;
  std::map<uint64_t, DeadLetter> dead_letters;
};

std::string EncodeTargetState(const TargetState& state) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  keys::PutLengthPrefixed(&out, EncodeRecord(state.record));
  keys::PutU32(&out, static_cast<uint32_t>(state.dead_letters.size()));
  for (const auto& [id, d] : state.dead_letters) {
    keys::PutU64(&out, id);
    keys::PutLengthPrefixed(&out, EncodeDeadLetter(d));
  }
  return out;
}

Status DecodeTargetState(std::string_view in, TargetState* state) {
  keys::Reader rd(in);
  uint8_t version = 0;
  std::string record;
  uint32_t count = 0;
  if (!rd.U8(&version) || version != kFormatVersion || !rd.LengthPrefixed(&record) ||
      !rd.U32(&count)) {
    return Status::Corruption("malformed delivery state");
  }
  SYNCMGR_RETURN_IF_ERROR(DecodeRecord(record, &state->record));
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t id = 0;
    std::string bytes;
    if (!rd.U64(&id) || !rd.LengthPrefixed(&bytes)) {
      return Status::Corruption("malformed delivery state");
    }
    DeadLetter d;
    SYNCMGR_RETURN_IF_ERROR(DecodeDeadLetter(id, bytes, &d));
    state->dead_letters.emplace(id, std::move(d));
  }
  if (!rd.Done()) return Status::Corruption("malformed delivery state");
  return Status::Ok();
}

// The target's state in the cluster's store; a default one if never written.
StatusOr<TargetState> ReadTargetState(DeliveryStateStore& store, TenantId tenant,
                                      uint32_t target_id) {
  TargetState state;
  StatusOr<std::string> value = store.Get(tenant, target_id);
  if (!value.ok() && value.status().code() == Code::kNotFound) return state;
  if (!value.ok()) return value.status();
  SYNCMGR_RETURN_IF_ERROR(DecodeTargetState(*value, &state));
  return state;
}

}  // namespace

StatusOr<DeliveryRecord> Engine::GetDelivery(TenantId tenant, uint32_t target_id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->ReadTarget(tenant, target_id).status());
  if (DeliveryStateStore* cluster = impl_->options().delivery_store) {
    SYNCMGR_ASSIGN_OR_RETURN(TargetState state, ReadTargetState(*cluster, tenant, target_id));
    return state.record;
  }
  std::string value;
  Status s = impl_->store().Get(Cf::kDelivery, keys::DeliveryState(tenant, target_id), &value);
  DeliveryRecord record;
  if (s.code() == Code::kNotFound) return record;
  SYNCMGR_RETURN_IF_ERROR(s);
  SYNCMGR_RETURN_IF_ERROR(DecodeRecord(value, &record));
  return record;
}

Status Engine::WriteDelivery(TenantId tenant, uint32_t target_id, const DeliveryWrite& write) {
  SYNCMGR_RETURN_IF_ERROR(impl_->ReadTarget(tenant, target_id).status());
  if (DeliveryStateStore* cluster = impl_->options().delivery_store) {
    // The dead letters kept are those of the value read here; the store's
    // compare-and-set refuses the write if another node wrote in between.
    SYNCMGR_ASSIGN_OR_RETURN(TargetState state, ReadTargetState(*cluster, tenant, target_id));
    state.record = write.record;
    for (const DeadLetter& d : write.put_dead_letters) state.dead_letters[d.id] = d;
    for (uint64_t id : write.delete_dead_letters) state.dead_letters.erase(id);
    return cluster->Put(tenant, target_id, EncodeTargetState(state));
  }
  SYNCMGR_RETURN_IF_ERROR(impl_->disk_guard().Check());
  Store& store = impl_->store();
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* cf = store.cf(Cf::kDelivery);
  if (cf == nullptr) {  // an older format opened without upgrading it (store.h)
    return Status::Unavailable("the data directory is open without upgrading its format");
  }
  rocksdb::Status s = batch.Put(cf, keys::DeliveryState(tenant, target_id),
                                EncodeRecord(write.record));
  for (const DeadLetter& d : write.put_dead_letters) {
    if (!s.ok()) break;
    s = batch.Put(cf, keys::DeadLetterKey(tenant, target_id, d.id), EncodeDeadLetter(d));
  }
  for (uint64_t id : write.delete_dead_letters) {
    if (!s.ok()) break;
    s = batch.Delete(cf, keys::DeadLetterKey(tenant, target_id, id));
  }
  if (!s.ok()) return FromRocks(s, "delivery state");
  return store.Write(&batch, write.sync);
}

StatusOr<std::vector<DeadLetter>> Engine::ListDeadLetters(TenantId tenant, uint32_t target_id,
                                                          uint64_t after_id, uint32_t limit) {
  SYNCMGR_RETURN_IF_ERROR(impl_->ReadTarget(tenant, target_id).status());
  if (DeliveryStateStore* cluster = impl_->options().delivery_store) {
    SYNCMGR_ASSIGN_OR_RETURN(TargetState state, ReadTargetState(*cluster, tenant, target_id));
    std::vector<DeadLetter> out;
    for (auto it = state.dead_letters.upper_bound(after_id);
         it != state.dead_letters.end() && (limit == 0 || out.size() < limit); ++it) {
      out.push_back(it->second);
    }
    return out;
  }
  std::unique_ptr<StoreIterator> it =
      impl_->store().NewPrefixIterator(Cf::kDelivery, keys::DeadLetterPrefix(tenant, target_id));
  std::vector<DeadLetter> out;
  for (it->Seek(keys::DeadLetterKey(tenant, target_id, after_id + 1));
       it->Valid() && (limit == 0 || out.size() < limit); it->Next()) {
    TenantId owner;
    uint32_t target;
    uint64_t id;
    if (!keys::DecodeDeadLetterKey(it->key(), &owner, &target, &id)) {
      return Status::Corruption("bad dead letter key");
    }
    DeadLetter d;
    SYNCMGR_RETURN_IF_ERROR(DecodeDeadLetter(id, it->value(), &d));
    out.push_back(std::move(d));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("read dead letters"));
  return out;
}

StatusOr<DeadLetter> Engine::GetDeadLetter(TenantId tenant, uint32_t target_id, uint64_t id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->ReadTarget(tenant, target_id).status());
  std::string value;
  Status s = Status::Ok();
  if (DeliveryStateStore* cluster = impl_->options().delivery_store) {
    SYNCMGR_ASSIGN_OR_RETURN(TargetState state, ReadTargetState(*cluster, tenant, target_id));
    auto it = state.dead_letters.find(id);
    if (it != state.dead_letters.end()) return it->second;
    s = Status::NotFound("");
  } else {
    s = impl_->store().Get(Cf::kDelivery, keys::DeadLetterKey(tenant, target_id, id), &value);
  }
  if (s.code() == Code::kNotFound) {
    return Status::NotFound(fmt::format("dead letter {} of target {} does not exist", id,
                                        target_id));
  }
  SYNCMGR_RETURN_IF_ERROR(s);
  DeadLetter d;
  SYNCMGR_RETURN_IF_ERROR(DecodeDeadLetter(id, value, &d));
  return d;
}

StatusOr<uint64_t> Engine::CountStreamEvents(TenantId tenant, StreamRef stream,
                                             uint64_t after_seq, uint64_t upto_seq) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  upto_seq = std::min(upto_seq, slot->last_seq.load(std::memory_order_acquire));
  if (after_seq >= upto_seq) return uint64_t{0};
  IteratorOptions io;
  io.fill_cache = false;
  std::unique_ptr<StoreIterator> it =
      impl_->store().NewRangeIterator(Cf::kStream, keys::StreamIndex(tenant, stream, after_seq + 1),
                                      keys::StreamIndex(tenant, stream, upto_seq + 1), io);
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  SYNCMGR_RETURN_IF_ERROR(it->status("count stream events"));
  return n;
}

}  // namespace syncmgr
