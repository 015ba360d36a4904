#include "engine/counts.h"

#include <fmt/format.h>

#include "engine/keys.h"
#include "engine/state_read.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

// The cardinality of a stored bitmap (0 when absent).
StatusOr<uint64_t> StoredCardinality(const Store& store, const std::string& key) {
  std::string bytes;
  Status s = store.Get(Cf::kBitmaps, key, &bytes);
  if (s.code() == Code::kNotFound) return uint64_t{0};
  SYNCMGR_RETURN_IF_ERROR(s);
  SYNCMGR_ASSIGN_OR_RETURN(Bitmap bm, DecodeBitmap(bytes));
  return bm.cardinality();
}

const fb::StreamMeta* ParseStreamMeta(std::string_view bytes, std::string* aligned) {
  aligned->assign(bytes.data(), bytes.size());
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(aligned->data()), aligned->size());
  if (!v.VerifyBuffer<fb::StreamMeta>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<fb::StreamMeta>(aligned->data());
}

}  // namespace

StatusOr<StreamCounts> ReadStreamCounts(const Store& store, TenantId tenant, StreamRef stream) {
  StreamCounts counts;
  if (store.format() >= kFormatCounts) {
    std::string value, aligned;
    Status s = store.Get(Cf::kMeta, keys::StreamMeta(tenant, stream), &value);
    if (s.code() == Code::kNotFound) return counts;  // no property yet
    SYNCMGR_RETURN_IF_ERROR(s);
    const fb::StreamMeta* meta = ParseStreamMeta(value, &aligned);
    if (meta == nullptr) {
      return Status::Corruption(fmt::format("tenant {}: stream meta does not decode", tenant));
    }
    counts.live = meta->live_count();
    counts.manual = meta->manual_count();
    return counts;
  }
  // An older directory read as it is.
  SYNCMGR_ASSIGN_OR_RETURN(counts.live, StoredCardinality(store, keys::LiveBitmap(tenant, stream)));
  if (stream.kind == StreamKind::kTarget) {
    IteratorOptions io;
    io.fill_cache = false;
    SYNCMGR_ASSIGN_OR_RETURN(Bitmap manual, ScanManualIds(store, tenant, stream.id, io));
    counts.manual = manual.cardinality();
  }
  return counts;
}

StatusOr<Bitmap> ScanManualIds(const Store& store, TenantId tenant, uint32_t target_id,
                               const IteratorOptions& options) {
  Bitmap ids;
  std::string aligned;
  std::unique_ptr<StoreIterator> it = store.NewPrefixIterator(
      Cf::kState, keys::StatePrefix(tenant, {StreamKind::kTarget, target_id}), options);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const fb::PropertyState* st = ParseStateRecord(it->value(), &aligned);
    if (!st->removed() && st->manually_modified()) ids.add(st->dense_id());
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("scan manual edits"));
  return ids;
}

Status AddCountViews(const Store& store, rocksdb::WriteBatch* batch) {
  IteratorOptions io;
  io.fill_cache = false;
  // Every stream that ever had a property has a StreamMeta (the fold writes
  // it with the stream's first dense id); the fold at format 3 writes the
  // counts there and, for a target, its manual bitmap.
  std::unique_ptr<StoreIterator> it = store.NewPrefixIterator(Cf::kMeta, "", io);
  std::string aligned;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TenantId tenant;
    StreamRef stream;
    if (!keys::DecodeStreamMeta(it->key(), &tenant, &stream)) continue;  // another kind
    const fb::StreamMeta* meta = ParseStreamMeta(it->value(), &aligned);
    if (meta == nullptr) {
      return Status::Corruption(fmt::format("tenant {}: stream meta does not decode", tenant));
    }
    const uint32_t next_dense = meta->next_dense_id();
    SYNCMGR_ASSIGN_OR_RETURN(uint64_t live,
                             StoredCardinality(store, keys::LiveBitmap(tenant, stream)));
    uint64_t manual_count = 0;
    if (stream.kind == StreamKind::kTarget) {
      SYNCMGR_ASSIGN_OR_RETURN(Bitmap manual, ScanManualIds(store, tenant, stream.id, io));
      manual_count = manual.cardinality();
      SYNCMGR_RETURN_IF_ERROR(FromRocks(
          batch->Put(store.cf(Cf::kManual), keys::ManualBitmap(tenant, stream.id),
                     EncodeBitmap(manual)),
          "upgrade batch"));
    }
    SYNCMGR_RETURN_IF_ERROR(FromRocks(
        batch->Put(store.cf(Cf::kMeta), it->key(),
                   EncodeStreamMeta(kFormatCounts, next_dense, live, manual_count)),
        "upgrade batch"));
  }
  return it->status("upgrade: scan stream metas");
}

}  // namespace syncmgr
