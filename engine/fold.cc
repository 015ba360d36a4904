#include "engine/fold.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "engine/event_codec.h"
#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

rocksdb::Slice S(const std::string& s) { return rocksdb::Slice(s); }
rocksdb::Slice S(const flatbuffers::FlatBufferBuilder& b) {
  return rocksdb::Slice(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

std::string U32Value(uint32_t v) {
  std::string s;
  keys::PutU32(&s, v);
  return s;
}

uint8_t IndexTag(EventType t) { return static_cast<uint8_t>(t); }

}  // namespace

// Rewrites a batch of puts with its records sorted by (column family, key);
// equal keys keep their order, so a later put still wins. RocksDB inserts a
// batch's keys into the memtable's skip list one by one, starting from where
// the previous insert landed: in key order an insert costs a few comparisons,
// in random order (a large import's state and history records come in
// external_id-hash order) a full search with cache misses each — the top
// cost of committing a large import. The views written are the same.
// Leaves the batch as is if it holds anything but puts.
void SortPuts(rocksdb::WriteBatch* batch, const Store& store) {
  if (batch->Count() < 2) return;
  rocksdb::WriteBatch sorted(batch->GetDataSize());
  if (AppendSortedPuts(*batch, store, &sorted)) *batch = std::move(sorted);
}

bool AppendSortedPuts(const rocksdb::WriteBatch& batch, const Store& store,
                      rocksdb::WriteBatch* out) {
  // 16 bytes per record (a 1M-listing import has ~4M): the key's place in
  // the batch's own bytes; the value follows the key there, length-prefixed
  // (varint32), as in every WriteBatch record.
  struct Rec {
    const char* key;
    uint32_t key_size;
    uint32_t cf;
  };
  class Collect : public rocksdb::WriteBatch::Handler {
   public:
    explicit Collect(std::vector<Rec>* out) : out_(out) {}
    rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
      // The value must sit right after the key and its length prefix, else
      // the layout is not the one assumed: give up sorting.
      const char* expect = key.data() + key.size();
      uint32_t n = static_cast<uint32_t>(value.size());
      do {
        ++expect;
        n >>= 7;
      } while (n != 0);
      if (expect != value.data() || key.size() > UINT32_MAX) {
        return rocksdb::Status::NotSupported("unexpected batch layout");
      }
      out_->push_back({key.data(), static_cast<uint32_t>(key.size()), cf});
      return rocksdb::Status::OK();
    }
    // Any other record type: the default handlers refuse it, and the batch
    // is left unsorted.

   private:
    std::vector<Rec>* out_;
  };
  std::vector<Rec> recs;
  recs.reserve(batch.Count());
  Collect collect(&recs);
  if (!batch.Iterate(&collect).ok() || recs.size() != batch.Count()) return false;
  std::vector<std::pair<uint32_t, rocksdb::ColumnFamilyHandle*>> by_id;
  for (int i = 0; i < kNumCfs; ++i) {
    rocksdb::ColumnFamilyHandle* h = store.cf(static_cast<Cf>(i));
    if (h != nullptr) by_id.emplace_back(h->GetID(), h);
  }
  auto handle_of = [&](uint32_t id) -> rocksdb::ColumnFamilyHandle* {
    for (const auto& [cf_id, h] : by_id) {
      if (cf_id == id) return h;
    }
    return nullptr;
  };
  for (const Rec& r : recs) {
    if (handle_of(r.cf) == nullptr) return false;  // not one of ours: leave it
  }
  // Grouped by family (a stable counting sort: a handful of families), then
  // each family's run sorted from where its key order first breaks: a first
  // sync's records come in key order but for a few at the end (external_id
  // order for state and history, seq order for the stream index, dense-id
  // order for dense; then the source's stream index and meta records of
  // sync.completed), and a stable_sort of the whole run pays n log n
  // comparisons on them all the same (~13 % of a 1 M-listing first sync's
  // CPU). The unsorted tail is sorted and merged in, stably: a later put of
  // a key still follows an earlier one.
  std::vector<size_t> start(by_id.size() + 1, 0);
  auto slot_of = [&](uint32_t id) -> size_t {
    size_t i = 0;
    while (by_id[i].first != id) ++i;
    return i;
  };
  std::sort(by_id.begin(), by_id.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const Rec& r : recs) ++start[slot_of(r.cf) + 1];
  for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
  std::vector<Rec> grouped(recs.size());
  {
    std::vector<size_t> next(start.begin(), start.end() - 1);
    for (const Rec& r : recs) grouped[next[slot_of(r.cf)]++] = r;
  }
  recs.swap(grouped);
  auto key_less = [](const Rec& a, const Rec& b) {
    return rocksdb::Slice(a.key, a.key_size).compare(rocksdb::Slice(b.key, b.key_size)) < 0;
  };
  for (size_t i = 0; i + 1 < start.size(); ++i) {
    auto first = recs.begin() + static_cast<std::ptrdiff_t>(start[i]);
    auto last = recs.begin() + static_cast<std::ptrdiff_t>(start[i + 1]);
    auto tail = std::is_sorted_until(first, last, key_less);
    if (tail == last) continue;
    std::stable_sort(tail, last, key_less);
    std::inplace_merge(first, tail, last, key_less);
  }
  out->SetSavePoint();  // a failed Put leaves `out` as it was
  for (const Rec& r : recs) {
    // Decode the value's varint32 length right after the key.
    const auto* p = reinterpret_cast<const unsigned char*>(r.key + r.key_size);
    uint32_t value_size = 0;
    for (int shift = 0;; shift += 7) {
      const unsigned char byte = *p++;
      value_size |= static_cast<uint32_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    const rocksdb::Slice value(reinterpret_cast<const char*>(p), value_size);
    if (!out->Put(handle_of(r.cf), rocksdb::Slice(r.key, r.key_size), value).ok()) {
      (void)out->RollbackToSavePoint();
      return false;
    }
  }
  (void)out->PopSavePoint();
  return true;
}

std::string EncodeBitmap(const Bitmap& bitmap) {
  // Canonical whatever the bitmap's history: the bitmap is rebuilt from its
  // values, so every container is an array (at most 4,096 values) or a
  // bitset, chosen by cardinality alone, before runOptimize decides on runs.
  // Encoding the bitmap as it is would not do: one decoded from the store
  // holds run containers, and where a run container ties in size with the
  // array of the same values, runOptimize keeps whichever it finds.
  // (Roaring::removeRunCompression would also expand runs, but CRoaring
  // 0.2.66 writes out of bounds when a run that ends at 65535 becomes an
  // array.) One pass, the values read out a few thousand at a time into a
  // buffer on the stack: a target's live set at 1 M is 4 MB of values,
  // and a vector of them was 4 MB of fresh pages at every commit that
  // touched the set (~1,000 page faults; ~1/3 of a 1 % sync's fold
  // finish). Adding them in pieces makes the same containers as adding
  // them at once: the values are the same, in the same order.
  constexpr uint32_t kPiece = 2048;
  uint32_t piece[kPiece];
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&bitmap.roaring, &it);
  Bitmap canonical;
  for (uint32_t n; (n = roaring_read_uint32_iterator(&it, piece, kPiece)) > 0;) {
    canonical.addMany(n, piece);
  }
  canonical.runOptimize();
  canonical.shrinkToFit();
  std::string out(canonical.getSizeInBytes(/*portable=*/true), '\0');
  size_t n = canonical.write(out.data(), /*portable=*/true);
  out.resize(n);
  return out;
}

StatusOr<Bitmap> DecodeBitmap(std::string_view bytes) {
  try {
    return Bitmap::readSafe(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    return Status::Corruption(fmt::format("bitmap does not decode: {}", e.what()));
  }
}

std::string EncodeStreamMeta(int format, uint32_t next_dense_id, uint64_t live_count,
                             uint64_t manual_count) {
  flatbuffers::FlatBufferBuilder b(64);
  if (format >= kFormatCounts) {
    b.Finish(fb::CreateStreamMeta(b, next_dense_id, live_count, manual_count));
  } else {
    b.Finish(fb::CreateStreamMeta(b, next_dense_id));
  }
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

StatusOr<TenantViews> LoadTenantViews(const Store& store, TenantId tenant) {
  TenantViews v;
  std::string value;
  Status s = store.Get(Cf::kMeta, keys::TenantMeta(tenant), &value);
  if (s.code() == Code::kNotFound) return v;
  SYNCMGR_RETURN_IF_ERROR(s);
  {
    flatbuffers::Verifier ver(reinterpret_cast<const uint8_t*>(value.data()), value.size());
    if (!ver.VerifyBuffer<fb::TenantMeta>(nullptr)) {
      return Status::Corruption(fmt::format("tenant {} meta does not decode", tenant));
    }
    const auto* m = flatbuffers::GetRoot<fb::TenantMeta>(value.data());
    v.last_seq = m->last_seq();
    v.last_time_us = m->last_time_us();
    v.next_source_id = m->next_source_id();
    v.next_target_id = m->next_target_id();
    v.next_import_id = m->next_import_id();
    v.next_sync_id = m->next_sync_id();
  }
  // Stream counters.
  std::unique_ptr<StoreIterator> it =
      store.NewPrefixIterator(Cf::kMeta, keys::StreamMetaPrefix(tenant));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TenantId owner;
    StreamRef st;
    if (!keys::DecodeStreamMeta(it->key(), &owner, &st)) {
      return Status::Corruption("stream meta key");
    }
    std::string sv(it->value());  // aligned copy for FlatBuffers
    const auto* sm = flatbuffers::GetRoot<fb::StreamMeta>(sv.data());
    v.next_dense[StreamKey(st)] = sm->next_dense_id();
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("load tenant views"));
  // Sync pairs and their changed-since-last-sync sets.
  it = store.NewPrefixIterator(Cf::kMeta, keys::PairPrefix(tenant));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TenantId owner;
    uint32_t source, target;
    if (!keys::DecodePair(it->key(), &owner, &source, &target)) {
      return Status::Corruption("pair key");
    }
    std::string pv(it->value());  // aligned copy for FlatBuffers
    const auto* pr = flatbuffers::GetRoot<fb::PairRecord>(pv.data());
    PairState ps;
    ps.last_sync_id = pr->last_sync_id();
    ps.last_sync_seq = pr->last_sync_seq();
    for (int side = 0; side < 2; ++side) {
      std::string bk = side == 0 ? keys::SourceDirty(tenant, source, target)
                                 : keys::TargetDirty(tenant, source, target);
      std::string bytes;
      Status bs = store.Get(Cf::kBitmaps, bk, &bytes);
      Bitmap bm;
      if (bs.ok()) {
        SYNCMGR_ASSIGN_OR_RETURN(bm, DecodeBitmap(bytes));
      } else if (bs.code() != Code::kNotFound) {
        return bs;
      }
      (side == 0 ? ps.source_dirty : ps.target_dirty) = std::make_shared<const Bitmap>(std::move(bm));
    }
    v.pairs[{source, target}] = std::move(ps);
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("load tenant views"));
  return v;
}

ViewFolder::ViewFolder(TenantId tenant, TenantViews* views, rocksdb::WriteBatch* batch,
                       const Store* store, int format)
    : tenant_(tenant),
      views_(views),
      batch_(batch),
      store_(store),
      counts_((format != 0 ? format : store != nullptr ? store->format() : kFormatVersion) >=
              kFormatCounts) {}

Bitmap* ViewFolder::Mutable(BitmapPtr* p) {
  // Copy on write: the committed TenantViews may share this bitmap.
  if (!*p) {
    *p = std::make_shared<const Bitmap>();
  } else if (p->use_count() > 1) {
    *p = std::make_shared<const Bitmap>(**p);
  }
  return const_cast<Bitmap*>(p->get());
}

Status ViewFolder::LoadBitmap(Cf cf, const std::string& key, BitmapPtr* slot, bool* loaded) {
  if (*loaded) return Status::Ok();
  Bitmap bm;
  if (store_ != nullptr) {
    std::string bytes;
    Status s = store_->Get(cf, key, &bytes);
    if (s.ok()) {
      SYNCMGR_ASSIGN_OR_RETURN(bm, DecodeBitmap(bytes));
    } else if (s.code() != Code::kNotFound) {
      return s;
    }
  }
  *slot = std::make_shared<const Bitmap>(std::move(bm));
  *loaded = true;
  return Status::Ok();
}

StatusOr<BitmapPtr> ViewFolder::Live(StreamRef stream) {
  bool loaded = views_->live.count(StreamKey(stream)) != 0;
  BitmapPtr& slot = views_->live[StreamKey(stream)];
  SYNCMGR_RETURN_IF_ERROR(
      LoadBitmap(Cf::kBitmaps, keys::LiveBitmap(tenant_, stream), &slot, &loaded));
  return slot;
}

StatusOr<Bitmap*> ViewFolder::MutableLive(StreamRef stream) {
  SYNCMGR_RETURN_IF_ERROR(Live(stream).status());
  touched_live_.insert(StreamKey(stream));
  return Mutable(&views_->live[StreamKey(stream)]);
}

StatusOr<Bitmap*> ViewFolder::MutableManual(StreamRef target) {
  bool loaded = views_->manual.count(StreamKey(target)) != 0;
  BitmapPtr& slot = views_->manual[StreamKey(target)];
  SYNCMGR_RETURN_IF_ERROR(
      LoadBitmap(Cf::kManual, keys::ManualBitmap(tenant_, target.id), &slot, &loaded));
  touched_manual_.insert(StreamKey(target));
  return Mutable(&slot);
}

Status ViewFolder::Apply(const fb::Event& ev) {
  if (ev.seq() != views_->last_seq + 1) {
    return Status::Corruption(fmt::format("tenant {}: event seq {} follows {}", tenant_, ev.seq(),
                                          views_->last_seq));
  }
  views_->last_seq = ev.seq();
  views_->last_time_us = std::max(views_->last_time_us, ev.time_us());
  flatbuffers::FlatBufferBuilder b(256);
  switch (ev.body_type()) {
    case fb::EventBody::PropertyChanged:
      return ApplyProperty(ev, *ev.body_as_PropertyChanged());
    case fb::EventBody::SyncCompleted:
      return ApplySyncCompleted(ev, *ev.body_as_SyncCompleted());
    case fb::EventBody::ImportCompleted: {
      const auto* ic = ev.body_as_ImportCompleted();
      batch_->Put(store_cf(Cf::kOpLog), S(keys::ImportLog(tenant_, ic->import_id())),
                  S(keys::OpLogValue(ev.seq())));
      batch_->Put(store_cf(Cf::kStream),
                  S(keys::StreamIndex(tenant_, {StreamKind::kSource, ic->source_id()}, ev.seq())),
                  S(std::string(1, static_cast<char>(IndexTag(EventType::kImportCompleted)))));
      views_->next_import_id = std::max(views_->next_import_id, ic->import_id() + 1);
      return Status::Ok();
    }
    case fb::EventBody::TenantCreated: {
      const auto* tc = ev.body_as_TenantCreated();
      auto name = b.CreateString(Sv(tc->name()));
      b.Finish(fb::CreateTenantRecord(b, tc->tenant_id(), name, ev.time_us()));
      batch_->Put(store_cf(Cf::kCatalog), S(keys::TenantRecord(tenant_)), S(b));
      return Status::Ok();
    }
    case fb::EventBody::ApiKeyCreated: {
      const auto* kc = ev.body_as_ApiKeyCreated();
      if (kc->key_hash() == nullptr) return Status::Corruption("api key event without hash");
      auto prefix = b.CreateString(Sv(kc->prefix()));
      b.Finish(fb::CreateApiKeyRecord(b, tenant_, prefix, false, ev.time_us()));
      std::string key = keys::ApiKeyRecord(
          {reinterpret_cast<const char*>(kc->key_hash()->data()), kc->key_hash()->size()});
      batch_->Put(store_cf(Cf::kAuth), S(key), S(b));
      return Status::Ok();
    }
    case fb::EventBody::ApiKeyRevoked: {
      const auto* kr = ev.body_as_ApiKeyRevoked();
      if (kr->key_hash() == nullptr) return Status::Corruption("api key event without hash");
      auto prefix = b.CreateString(Sv(kr->prefix()));
      b.Finish(fb::CreateApiKeyRecord(b, tenant_, prefix, true, ev.time_us()));
      const std::string_view hash(reinterpret_cast<const char*>(kr->key_hash()->data()),
                                  kr->key_hash()->size());
      batch_->Put(store_cf(Cf::kAuth), S(keys::ApiKeyRecord(hash)), S(b));
      revoked_keys_.emplace_back(hash);
      return Status::Ok();
    }
    case fb::EventBody::SourceCreated: {
      const auto* sc = ev.body_as_SourceCreated();
      std::vector<flatbuffers::Offset<flatbuffers::String>> ignore;
      if (sc->ignore_fields() != nullptr) {
        for (const auto* f : *sc->ignore_fields()) ignore.push_back(b.CreateString(Sv(f)));
      }
      auto name = b.CreateString(Sv(sc->name()));
      auto type = b.CreateString(Sv(sc->type()));
      auto id_field = b.CreateString(Sv(sc->id_field()));
      auto iv = b.CreateVector(ignore);
      b.Finish(fb::CreateSourceRecord(b, sc->source_id(), name, type, id_field, iv,
                                      sc->max_removal_ratio(), ev.time_us(), ev.seq()));
      batch_->Put(store_cf(Cf::kCatalog), S(keys::SourceRecord(tenant_, sc->source_id())), S(b));
      views_->next_source_id = std::max(views_->next_source_id, sc->source_id() + 1);
      return Status::Ok();
    }
    case fb::EventBody::TargetCreated: {
      const auto* tc = ev.body_as_TargetCreated();
      auto name = b.CreateString(Sv(tc->name()));
      auto type = b.CreateString(Sv(tc->type()));
      auto config = b.CreateString(Sv(tc->config_json()));
      b.Finish(fb::CreateTargetRecord(b, tc->target_id(), name, type, config, ev.time_us(),
                                      ev.seq()));
      batch_->Put(store_cf(Cf::kCatalog), S(keys::TargetRecord(tenant_, tc->target_id())), S(b));
      views_->next_target_id = std::max(views_->next_target_id, tc->target_id() + 1);
      return Status::Ok();
    }
    case fb::EventBody::FeedTokenCreated: {
      const auto* ft = ev.body_as_FeedTokenCreated();
      if (ft->token_hash() == nullptr) return Status::Corruption("feed token event without hash");
      b.Finish(fb::CreateFeedTokenRecord(b, tenant_, ft->source_id(), ft->target_id(),
                                         ft->expires_at_us(), ev.time_us()));
      std::string hash(reinterpret_cast<const char*>(ft->token_hash()->data()),
                       ft->token_hash()->size());
      batch_->Put(store_cf(Cf::kCatalog), S(keys::FeedToken(hash)), S(b));
      return Status::Ok();
    }
    case fb::EventBody::NONE:
      break;
  }
  return Status::Corruption(fmt::format("tenant {} seq {}: unknown event body", tenant_, ev.seq()));
}

Status ViewFolder::ApplyProperty(const fb::Event& ev, const fb::PropertyChanged& p) {
  StreamRef stream{static_cast<StreamKind>(p.stream_kind()), p.stream_id()};
  std::string_view ext = Sv(p.external_id());
  bool removed = p.change() == fb::PropertyChange::Removed;

  flatbuffers::FlatBufferBuilder b(128);
  fb::PropertyStateBuilder sb(b);
  sb.add_dense_id(p.dense_id());
  sb.add_version(p.version());
  sb.add_seq(ev.seq());
  sb.add_data_seq(StateDataSeq(ev, p));
  if (p.hash() != nullptr) sb.add_hash(p.hash());
  sb.add_updated_at_us(ev.time_us());
  sb.add_removed(removed);
  sb.add_source_id(p.source_id());
  sb.add_manually_modified(p.cause() == fb::CauseKind::Manual);
  if (p.sync_hash() != nullptr) sb.add_sync_hash(p.sync_hash());
  sb.add_raw_hash(p.raw_hash());
  b.Finish(sb.Finish());
  batch_->Put(store_cf(Cf::kState), S(keys::State(tenant_, stream, ext)), S(b));
  batch_->Put(store_cf(Cf::kHistory), S(keys::History(tenant_, stream, ext, ev.seq())),
              S(U32Value(p.version())));
  batch_->Put(store_cf(Cf::kStream), S(keys::StreamIndex(tenant_, stream, ev.seq())),
              S(std::string(1, static_cast<char>(IndexTag(TypeOf(ev))))));

  uint32_t& next_dense = views_->next_dense[StreamKey(stream)];
  if (p.dense_id() >= next_dense) {
    // First appearance of this external_id in the stream.
    batch_->Put(store_cf(Cf::kDense), S(keys::Dense(tenant_, stream, p.dense_id())),
                rocksdb::Slice(ext.data(), ext.size()));
    next_dense = p.dense_id() + 1;
    touched_streams_.insert(StreamKey(stream));
  }
  SYNCMGR_ASSIGN_OR_RETURN(Bitmap * live, MutableLive(stream));
  if (removed) {
    live->remove(p.dense_id());
  } else {
    live->add(p.dense_id());
  }
  if (counts_ && stream.kind == StreamKind::kTarget) {
    // Live and last changed by hand: an open conflict (manual_count).
    SYNCMGR_ASSIGN_OR_RETURN(Bitmap * manual, MutableManual(stream));
    if (!removed && p.cause() == fb::CauseKind::Manual) {
      manual->add(p.dense_id());
    } else {
      manual->remove(p.dense_id());
    }
  }

  // Remember the change for every sync pair that has not seen it yet.
  for (auto& [pair, state] : views_->pairs) {
    if (stream.kind == StreamKind::kSource && pair.first == stream.id) {
      Mutable(&state.source_dirty)->add(p.dense_id());
      touched_pairs_.insert(pair);
    } else if (stream.kind == StreamKind::kTarget && pair.second == stream.id) {
      // A sync's own writes into its target are already reconciled for its pair.
      bool own_write = p.cause() == fb::CauseKind::Sync && p.source_id() == pair.first;
      if (own_write) continue;
      Mutable(&state.target_dirty)->add(p.dense_id());
      touched_pairs_.insert(pair);
    }
  }
  return Status::Ok();
}

Status ViewFolder::ApplySyncCompleted(const fb::Event& ev, const fb::SyncCompleted& s) {
  batch_->Put(store_cf(Cf::kOpLog), S(keys::SyncLog(tenant_, s.sync_id())),
              S(keys::OpLogValue(ev.seq())));
  std::string tag(1, static_cast<char>(IndexTag(EventType::kSyncCompleted)));
  batch_->Put(store_cf(Cf::kStream),
              S(keys::StreamIndex(tenant_, {StreamKind::kSource, s.source_id()}, ev.seq())), S(tag));
  batch_->Put(store_cf(Cf::kStream),
              S(keys::StreamIndex(tenant_, {StreamKind::kTarget, s.target_id()}, ev.seq())), S(tag));
  views_->next_sync_id = std::max(views_->next_sync_id, s.sync_id() + 1);

  std::pair<uint32_t, uint32_t> key{s.source_id(), s.target_id()};
  PairState& ps = views_->pairs[key];
  ps.last_sync_id = s.sync_id();
  ps.last_sync_seq = ev.seq();
  ps.source_dirty = std::make_shared<const Bitmap>();
  // Conflicts the sync kept stay pending: the next sync must see them again.
  Bitmap retained;
  if (s.retained_target_ids() != nullptr) {
    for (uint32_t id : *s.retained_target_ids()) retained.add(id);
  }
  ps.target_dirty = std::make_shared<const Bitmap>(std::move(retained));
  touched_pairs_.insert(key);
  return Status::Ok();
}

void ViewFolder::Finish(bool sort_for_memtable) {
  flatbuffers::FlatBufferBuilder b(128);
  b.Finish(fb::CreateTenantMeta(b, views_->last_seq, views_->next_source_id,
                                views_->next_target_id, views_->next_import_id,
                                views_->next_sync_id, views_->last_time_us));
  batch_->Put(store_cf(Cf::kMeta), S(keys::TenantMeta(tenant_)), S(b));
  // Before format 3 a stream's meta changes only with its next dense id;
  // from it on, also with its counts, which every property event may change.
  if (counts_) touched_streams_.insert(touched_live_.begin(), touched_live_.end());
  for (uint64_t sk : touched_streams_) {
    uint64_t live_count = 0, manual_count = 0;
    if (counts_) {
      const BitmapPtr& live = views_->live[sk];
      if (live) live_count = live->cardinality();
      auto manual = views_->manual.find(sk);
      if (manual != views_->manual.end() && manual->second) {
        manual_count = manual->second->cardinality();
      }
    }
    batch_->Put(
        store_cf(Cf::kMeta), S(keys::StreamMeta(tenant_, StreamOf(sk))),
        S(EncodeStreamMeta(counts_ ? kFormatCounts : 0, views_->next_dense[sk], live_count,
                           manual_count)));
  }
  for (uint64_t sk : touched_manual_) {
    batch_->Put(store_cf(Cf::kManual), S(keys::ManualBitmap(tenant_, StreamOf(sk).id)),
                S(EncodeBitmap(*views_->manual[sk])));
  }
  for (const auto& key : touched_pairs_) {
    const PairState& ps = views_->pairs[key];
    b.Clear();
    b.Finish(fb::CreatePairRecord(b, ps.last_sync_id, ps.last_sync_seq));
    batch_->Put(store_cf(Cf::kMeta), S(keys::Pair(tenant_, key.first, key.second)), S(b));
    static const Bitmap kEmpty;
    batch_->Put(store_cf(Cf::kBitmaps), S(keys::SourceDirty(tenant_, key.first, key.second)),
                S(EncodeBitmap(ps.source_dirty ? *ps.source_dirty : kEmpty)));
    batch_->Put(store_cf(Cf::kBitmaps), S(keys::TargetDirty(tenant_, key.first, key.second)),
                S(EncodeBitmap(ps.target_dirty ? *ps.target_dirty : kEmpty)));
  }
  for (uint64_t sk : touched_live_) {
    batch_->Put(store_cf(Cf::kBitmaps), S(keys::LiveBitmap(tenant_, StreamOf(sk))),
                S(EncodeBitmap(*views_->live[sk])));
  }
  touched_streams_.clear();
  touched_pairs_.clear();
  touched_live_.clear();
  touched_manual_.clear();
  if (sort_for_memtable) SortForMemtable();
}

void ViewFolder::SortForMemtable() {
  if (store_ != nullptr) SortPuts(batch_, *store_);
}

}  // namespace syncmgr
