// Replay: fold the log into fresh views (ReplayInto), and compare a fresh
// fold with the live views (VerifyViews). Both use ViewFolder, the same fold
// as the live write path, so equal logs give byte-for-byte equal views.
#include <rocksdb/iterator.h>
#include <rocksdb/snapshot.h>

#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

constexpr uint64_t kReplayFlushBytes = 32ull << 20;

struct ReplayBounds {
  std::optional<uint64_t> as_of_seq;
  std::optional<int64_t> as_of_time_us;
};

// Committed last seq of a tenant as seen by `ro`.
uint64_t CommittedSeq(Store& src, const rocksdb::ReadOptions& ro, TenantId tenant) {
  std::string value;
  if (!src.db()->Get(ro, src.cf(Cf::kMeta), keys::TenantMeta(tenant), &value).ok()) return 0;
  return flatbuffers::GetRoot<fb::TenantMeta>(value.data())->last_seq();
}

// Folds the committed log of every tenant in `src` (as seen by `ro`) into
// `out`: the log records up to the bound are copied, the views rebuilt.
Status Fold(Store& src, const rocksdb::ReadOptions& ro, Store* out, const ReplayBounds& bounds,
            const ProgressFn& progress) {
  std::unique_ptr<rocksdb::Iterator> it(src.db()->NewIterator(ro, src.cf(Cf::kLog)));
  rocksdb::WriteBatch batch;
  uint64_t done = 0;
  it->SeekToFirst();
  while (it->Valid()) {
    TenantId tenant = keys::GetU32({it->key().data(), 4});
    uint64_t bound = CommittedSeq(src, ro, tenant);
    if (bounds.as_of_seq) bound = std::min(bound, *bounds.as_of_seq);
    TenantViews views;
    ViewFolder folder(tenant, &views, &batch, out);
    for (; it->Valid() && keys::GetU32({it->key().data(), 4}) == tenant; it->Next()) {
      uint64_t seq = keys::GetU64({it->key().data() + 4, 8});
      if (seq > bound) continue;
      std::string bytes = it->value().ToString();  // aligned copy for FlatBuffers
      SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
      if (bounds.as_of_time_us && ev->time_us() > *bounds.as_of_time_us) {
        bound = seq - 1;  // times never go backwards within a tenant
        continue;
      }
      batch.Put(out->cf(Cf::kLog), it->key(), it->value());
      SYNCMGR_RETURN_IF_ERROR(folder.Apply(*ev));
      if (batch.GetDataSize() >= kReplayFlushBytes) {
        SYNCMGR_RETURN_IF_ERROR(out->Write(&batch, /*sync=*/false));
        batch.Clear();
      }
      if (progress && (++done & 4095) == 0) progress(done, 0);
    }
    if (views.last_seq > 0) folder.Finish();
  }
  SYNCMGR_RETURN_IF_ERROR(FromRocks(it->status(), "replay scan"));
  // Tenants are listed by their catalog record, which their first event
  // (seq 1) writes; a tenant whose log is past the bound has none.
  SYNCMGR_RETURN_IF_ERROR(out->Write(&batch, /*sync=*/true));
  if (progress) progress(done, done);
  return Status::Ok();
}

std::string Printable(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

}  // namespace

Status Engine::ReplayInto(const std::string& out_path, const ReplayOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec)) {
    return Status::InvalidArgument(fmt::format("{} already exists; replay writes a new directory",
                                               out_path));
  }
  StoreOptions so;
  so.path = out_path;
  so.error_if_exists = true;
  SYNCMGR_ASSIGN_OR_RETURN(auto out, Store::Open(so));
  Store& src = impl_->store();
  // A secondary instance is frozen between catch-ups and has no snapshots.
  bool secondary = !impl_->options().secondary_path.empty();
  const rocksdb::Snapshot* snap = secondary ? nullptr : src.db()->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  ro.fill_cache = false;
  Status s = Fold(src, ro, out.get(), ReplayBounds{options.as_of_seq, options.as_of_time_us},
                  options.progress);
  if (snap != nullptr) src.db()->ReleaseSnapshot(snap);
  return s;
}

Status Engine::VerifyViews(std::vector<std::string>* diffs, size_t max_diffs,
                           const ProgressFn& progress) {
  diffs->clear();
  std::filesystem::path scratch =
      std::filesystem::temp_directory_path() /
      fmt::format("syncmgr-verify-{}-{}", ::getpid(), std::random_device()());
  Status result;
  {
    StoreOptions so;
    so.path = scratch.string();
    so.error_if_exists = true;
    SYNCMGR_ASSIGN_OR_RETURN(auto fresh, Store::Open(so));
    Store& live = impl_->store();
    // One snapshot for both the fold and the comparison: a consistent view
    // even while writers go on.
    bool secondary = !impl_->options().secondary_path.empty();
    const rocksdb::Snapshot* snap = secondary ? nullptr : live.db()->GetSnapshot();
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    ro.fill_cache = false;
    result = Fold(live, ro, fresh.get(), {}, progress);
    for (Cf cf : kViewCfs) {
      if (!result.ok() || diffs->size() >= max_diffs) break;
      std::unique_ptr<rocksdb::Iterator> a(live.db()->NewIterator(ro, live.cf(cf)));
      std::unique_ptr<rocksdb::Iterator> b(
          fresh->db()->NewIterator(rocksdb::ReadOptions(), fresh->cf(cf)));
      a->SeekToFirst();
      b->SeekToFirst();
      while ((a->Valid() || b->Valid()) && diffs->size() < max_diffs) {
        int c = !a->Valid() ? 1 : !b->Valid() ? -1 : a->key().compare(b->key());
        if (c < 0) {
          diffs->push_back(fmt::format("{}: live view has {} which the log does not produce",
                                       CfName(cf), Printable(a->key().ToStringView())));
          a->Next();
        } else if (c > 0) {
          diffs->push_back(fmt::format("{}: live view lacks {} which the log produces",
                                       CfName(cf), Printable(b->key().ToStringView())));
          b->Next();
        } else {
          if (a->value() != b->value()) {
            diffs->push_back(fmt::format("{}: value of {} differs from the log's fold",
                                         CfName(cf), Printable(a->key().ToStringView())));
          }
          a->Next();
          b->Next();
        }
      }
      if (!a->status().ok()) result = FromRocks(a->status(), "verify");
      if (!b->status().ok()) result = FromRocks(b->status(), "verify");
    }
    if (snap != nullptr) live.db()->ReleaseSnapshot(snap);
  }
  std::filesystem::remove_all(scratch);
  SYNCMGR_RETURN_IF_ERROR(result);
  if (!diffs->empty()) {
    return Status::Corruption(fmt::format("{} difference(s) between the views and the log{}",
                                          diffs->size(),
                                          diffs->size() >= max_diffs ? " (first ones shown)" : ""));
  }
  return Status::Ok();
}

}  // namespace syncmgr
