// Replay: fold the log into fresh views (ReplayInto), and compare a fresh
// fold with the live views (VerifyViews). Both use ViewFolder, the same fold
// as the live write path, so equal logs give byte-for-byte equal views.
#include <rocksdb/snapshot.h>

#include <unistd.h>

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
// Progress is reported every this many events.
constexpr uint64_t kProgressEvery = 4096;

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

// The seq of the tenant's last event at or before `time_us` among seqs
// 1..committed (0 if none), as seen by `ro`.
StatusOr<uint64_t> SeqAtTimeIn(Store& src, const rocksdb::ReadOptions& ro, TenantId tenant,
                               uint64_t committed, int64_t time_us) {
  return LastSeqAtTime(committed, time_us, [&](uint64_t seq, std::string* bytes) {
    rocksdb::Status s = src.db()->Get(ro, src.cf(Cf::kLog), keys::Log(tenant, seq), bytes);
    if (s.IsNotFound()) {
      return Status::Corruption(fmt::format("tenant {}: log record {} is missing", tenant, seq));
    }
    return FromRocks(s, "replay bound");
  });
}

// The iterator options matching `ro` (a snapshot, no cache fill).
IteratorOptions IterOptions(const rocksdb::ReadOptions& ro) {
  IteratorOptions io;
  io.snapshot = ro.snapshot;
  io.fill_cache = ro.fill_cache;
  return io;
}

struct TenantBound {
  TenantId tenant = 0;
  uint64_t last_seq = 0;  // fold seqs 1..last_seq
};

// Every tenant that has a log, with the last seq to fold: its committed seq,
// lowered to the bound. Tenants are found by seeking from one log prefix to
// the next (one seek per tenant, not a scan).
StatusOr<std::vector<TenantBound>> TenantBounds(Store& src, const rocksdb::ReadOptions& ro,
                                                const ReplayBounds& bounds) {
  std::vector<TenantBound> out;
  std::unique_ptr<StoreIterator> it = src.NewPrefixIterator(Cf::kLog, "", IterOptions(ro));
  for (it->SeekToFirst(); it->Valid();) {
    TenantId tenant;
    uint64_t seq;
    if (!keys::DecodeLog(it->key(), &tenant, &seq)) return Status::Corruption("malformed log key");
    uint64_t last = CommittedSeq(src, ro, tenant);
    if (bounds.as_of_seq) last = std::min(last, *bounds.as_of_seq);
    if (bounds.as_of_time_us) {
      SYNCMGR_ASSIGN_OR_RETURN(last, SeqAtTimeIn(src, ro, tenant, last, *bounds.as_of_time_us));
    }
    out.push_back({tenant, last});
    if (tenant == UINT32_MAX) break;
    it->Seek(keys::LogPrefix(tenant + 1));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("replay scan"));
  return out;
}

// Folds the committed log of every tenant in `src` (as seen by `ro`) into
// `out`: the log records up to the bound are copied, the views rebuilt.
// Tenants are listed by their catalog record, which their first event
// (seq 1) writes, so a tenant whose log starts after the bound is absent.
//
// `format`: the on-disk format whose views to write (VerifyViews folds at
// the format of the directory it compares with; a replay writes a new
// directory, of this build's format).
Status Fold(Store& src, const rocksdb::ReadOptions& ro, Store* out, const ReplayBounds& bounds,
            const ProgressFn& progress, int format) {
  SYNCMGR_ASSIGN_OR_RETURN(std::vector<TenantBound> tenants, TenantBounds(src, ro, bounds));
  uint64_t total = 0;
  for (const TenantBound& t : tenants) total += t.last_seq;
  if (progress) progress(0, total);
  rocksdb::WriteBatch batch;
  uint64_t done = 0;
  for (const TenantBound& t : tenants) {
    if (t.last_seq == 0) continue;
    TenantViews views;
    ViewFolder folder(t.tenant, &views, &batch, out, format);
    uint64_t expect = 1;
    // Seqs 1..last_seq of the tenant.
    std::unique_ptr<StoreIterator> it = src.NewRangeIterator(
        Cf::kLog, keys::Log(t.tenant, 1), keys::Log(t.tenant, t.last_seq + 1), IterOptions(ro));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      TenantId tenant;
      uint64_t seq;
      if (!keys::DecodeLog(it->key(), &tenant, &seq)) {
        return Status::Corruption("malformed log key");
      }
      if (seq != expect) {
        return Status::Corruption(
            fmt::format("tenant {}: the log jumps from seq {} to {}", t.tenant, expect - 1, seq));
      }
      ++expect;
      std::string bytes(it->value());  // aligned copy for FlatBuffers
      SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
      batch.Put(out->cf(Cf::kLog), it->key(), bytes);
      SYNCMGR_RETURN_IF_ERROR(folder.Apply(*ev));
      if (batch.GetDataSize() >= kReplayFlushBytes) {
        SYNCMGR_RETURN_IF_ERROR(out->Write(&batch, /*sync=*/false));
        batch.Clear();
      }
      if (progress && (++done % kProgressEvery) == 0) progress(done, total);
    }
    SYNCMGR_RETURN_IF_ERROR(it->status("replay scan"));
    if (expect <= t.last_seq) {
      return Status::Corruption(fmt::format("tenant {}: log records {}..{} are missing", t.tenant,
                                            expect, t.last_seq));
    }
    if (views.last_seq > 0) folder.Finish();
  }
  SYNCMGR_RETURN_IF_ERROR(out->Write(&batch, /*sync=*/true));
  if (progress) progress(total, total);
  return Status::Ok();
}

// The reads of a fold: at one snapshot of the engine's store, released on
// destruction, without filling the block cache. A secondary instance has no
// snapshots, but is frozen between catch-ups anyway.
class FoldSnapshot {
 public:
  explicit FoldSnapshot(EngineImpl* engine) : store_(engine->store()) {
    if (engine->options().secondary_path.empty()) ro_.snapshot = store_.db()->GetSnapshot();
    ro_.fill_cache = false;
  }
  ~FoldSnapshot() {
    if (ro_.snapshot != nullptr) store_.db()->ReleaseSnapshot(ro_.snapshot);
  }
  FoldSnapshot(const FoldSnapshot&) = delete;
  FoldSnapshot& operator=(const FoldSnapshot&) = delete;

  const rocksdb::ReadOptions& read_options() const { return ro_; }

 private:
  Store& store_;
  rocksdb::ReadOptions ro_;
};

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
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path out = fs::path(out_path).lexically_normal();
  if (out.has_parent_path() && !out.has_filename()) out = out.parent_path();
  if (fs::exists(out, ec) || fs::is_symlink(out, ec)) {
    return Status::InvalidArgument(
        fmt::format("{} already exists; replay writes a new directory", out_path));
  }
  fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) {
    return Status::InvalidArgument(
        fmt::format("parent directory {} of {} does not exist", parent.string(), out_path));
  }
  // Built under a staging name and renamed at the end: `out_path` either
  // does not exist or holds a complete replay.
  fs::path staging = out.string() + fmt::format(".partial-{}", ::getpid());
  fs::remove_all(staging, ec);
  Status s;
  {
    StoreOptions so;
    so.path = staging.string();
    so.error_if_exists = true;
    StatusOr<std::unique_ptr<Store>> opened = Store::Open(so);
    if (!opened.ok()) {
      fs::remove_all(staging, ec);
      return opened.status();
    }
    std::unique_ptr<Store> dest = std::move(*opened);
    FoldSnapshot snap(impl_.get());
    s = Fold(impl_->store(), snap.read_options(), dest.get(),
             ReplayBounds{options.as_of_seq, options.as_of_time_us}, options.progress,
             kFormatVersion);
  }  // the output store is closed here, before the rename
  if (s.ok()) {
    fs::rename(staging, out, ec);
    if (ec) {
      s = Status::Internal(fmt::format("cannot rename {} to {}: {}", staging.string(), out_path,
                                       ec.message()));
    }
  }
  if (!s.ok()) fs::remove_all(staging, ec);
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
    FoldSnapshot snap(impl_.get());
    const rocksdb::ReadOptions& ro = snap.read_options();
    result = Fold(live, ro, fresh.get(), {}, progress, live.format());
    for (Cf cf : kViewCfs) {
      if (!result.ok() || diffs->size() >= max_diffs) break;
      std::unique_ptr<StoreIterator> a = live.NewPrefixIterator(cf, "", IterOptions(ro));
      std::unique_ptr<StoreIterator> b = fresh->NewPrefixIterator(cf, "");
      a->SeekToFirst();
      b->SeekToFirst();
      while ((a->Valid() || b->Valid()) && diffs->size() < max_diffs) {
        // Cluster cursors say where the views are in the log of record;
        // they are not a fold of the log (keys.h).
        TenantId cursor_owner;
        if (cf == Cf::kMeta && a->Valid() && keys::DecodeClusterCursor(a->key(), &cursor_owner)) {
          a->Next();
          continue;
        }
        int c = !a->Valid() ? 1 : !b->Valid() ? -1 : a->key().compare(b->key());
        if (c < 0) {
          diffs->push_back(fmt::format("{}: live view has {} which the log does not produce",
                                       CfName(cf), Printable(a->key())));
          a->Next();
        } else if (c > 0) {
          diffs->push_back(fmt::format("{}: live view lacks {} which the log produces", CfName(cf),
                                       Printable(b->key())));
          b->Next();
        } else {
          if (a->value() != b->value()) {
            diffs->push_back(fmt::format("{}: value of {} differs from the log's fold", CfName(cf),
                                         Printable(a->key())));
          }
          a->Next();
          b->Next();
        }
      }
      if (!a->status("verify").ok()) result = a->status("verify");
      if (!b->status("verify").ok()) result = b->status("verify");
    }
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
