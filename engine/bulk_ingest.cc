#include "engine/bulk_ingest.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engine/huge_pages.h"
#include "engine/ingest_guard.h"

namespace syncmgr {

namespace {

// One record of a batch: 24 bytes, pointing into the batch (a commit of a
// 1 M-listing import holds ~4 M of them at once, so the size is the peak
// memory of the commit beside the batch itself).
struct Entry {
  const char* key;
  const char* value;  // nullptr: a point delete
  uint32_t key_size;
  uint32_t value_size;

  std::string_view Key() const { return {key, key_size}; }
};
static_assert(sizeof(Entry) == 24);

// The records of every column family: one array, each family's records
// contiguous and in batch order. Two passes over the batches: the first
// counts per family (and checks the kinds), the second places each record,
// so the array is allocated once at its exact size (no vector growth, no
// per-family vectors each with its own slack).
struct Collected {
  struct Family {
    uint32_t cf_id;
    size_t begin, end;  // [begin, end) of `entries`
  };
  std::vector<Family> families;  // by cf id
  std::vector<Entry> entries;
};

// Any record other than a put or a point delete (range delete, merge,
// single delete) makes Iterate fail: the Handler's defaults refuse them.
class Counter : public rocksdb::WriteBatch::Handler {
 public:
  // Records per column family id (ids are small: one per family).
  std::vector<size_t> counts;
  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Count(cf_id);
  }
  rocksdb::Status DeleteCF(uint32_t cf_id, const rocksdb::Slice&) override { return Count(cf_id); }

 private:
  rocksdb::Status Count(uint32_t cf_id) {
    if (cf_id >= counts.size()) counts.resize(cf_id + 1);
    ++counts[cf_id];
    return rocksdb::Status::OK();
  }
};

class Placer : public rocksdb::WriteBatch::Handler {
 public:
  // `next[cf_id]`: where the family's next record goes.
  Placer(std::vector<size_t>* next, std::vector<Entry>* out) : next_(*next), out_(*out) {}
  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    // A put's value is never nullptr (that marks a delete), even if empty.
    out_[next_[cf_id]++] = {key.data(), value.data() != nullptr ? value.data() : "",
                            static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())};
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf_id, const rocksdb::Slice& key) override {
    out_[next_[cf_id]++] = {key.data(), nullptr, static_cast<uint32_t>(key.size()), 0};
    return rocksdb::Status::OK();
  }

 private:
  std::vector<size_t>& next_;
  std::vector<Entry>& out_;
};

Status Refused(const rocksdb::Status& s) {
  return Status::InvalidArgument("bulk ingestion takes puts and point deletes only: " +
                                 s.ToString());
}

Status Collect(std::initializer_list<const rocksdb::WriteBatch*> batches, Collected* out) {
  Counter counter;
  for (const rocksdb::WriteBatch* b : batches) {
    rocksdb::Status s = b->Iterate(&counter);
    if (!s.ok()) return Refused(s);
  }
  std::vector<size_t> next(counter.counts.size());
  size_t total = 0;
  for (uint32_t cf_id = 0; cf_id < counter.counts.size(); ++cf_id) {
    if (counter.counts[cf_id] == 0) continue;
    next[cf_id] = total;
    out->families.push_back({cf_id, total, total + counter.counts[cf_id]});
    total += counter.counts[cf_id];
  }
  ReserveHuge(&out->entries, total);
  out->entries.resize(total);
  Placer placer(&next, &out->entries);
  for (const rocksdb::WriteBatch* b : batches) {
    rocksdb::Status s = b->Iterate(&placer);
    if (!s.ok()) return Refused(s);  // not reached: the first pass took them
  }
  return Status::Ok();
}

// Records sorted from batch order lie at random in the batch's memory: the
// loops that read them in key order ask for the bytes of the record this
// many places ahead, so its cache misses overlap the work on this one.
constexpr std::ptrdiff_t kPrefetchAhead = 16;

// Below this many records a plain stable_sort is as fast.
constexpr size_t kMinPrefixSort = 4096;

// Eight key bytes from `offset` as a big-endian number, zero-padded past
// the key's end: ordering by it orders by those bytes (a shorter key,
// padded with the smallest byte, never sorts after a longer one it is a
// prefix of); equal numbers leave the keys' order to the keys themselves.
uint64_t KeyPrefix(const Entry& e, size_t offset) {
  unsigned char bytes[8] = {};
  if (offset < e.key_size) {
    std::memcpy(bytes, e.key + offset, std::min<size_t>(8, e.key_size - offset));
  }
  uint64_t v = 0;
  for (unsigned char b : bytes) v = (v << 8) | b;
  return v;
}

// Stable sort of [first, last) by key, for a large family in no order (a
// 1 M-listing import's states, keyed by external_id). std::stable_sort over
// the entries compares keys through their pointers, one cache miss or two
// per comparison into a batch of hundreds of MB: ~half of such a commit's
// CPU (bench/report_notes.md, "Round 26"). Here the comparisons read a
// 16-byte reference holding the eight key bytes that follow the prefix all
// the keys share and the record's position; the keys themselves only when
// those bytes are equal, the position last, so writes of one key keep
// their order.
void SortByKeyStable(Entry* first, Entry* last) {
  const size_t n = static_cast<size_t>(last - first);
  const std::string_view head = first->Key();
  size_t common = head.size();
  for (const Entry* e = first + 1; e != last && common > 0; ++e) {
    const std::string_view k = e->Key();
    const size_t max = std::min(common, k.size());
    size_t i = 0;
    while (i < max && k[i] == head[i]) ++i;
    common = i;
  }
  struct Ref {
    uint64_t prefix;
    uint64_t index;
  };
  std::vector<Ref> refs;
  ReserveHuge(&refs, n);
  refs.resize(n);
  for (size_t i = 0; i < n; ++i) refs[i] = {KeyPrefix(first[i], common), i};
  std::sort(refs.begin(), refs.end(), [first](const Ref& a, const Ref& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const int c = first[a.index].Key().compare(first[b.index].Key());
    return c != 0 ? c < 0 : a.index < b.index;
  });
  std::vector<Entry> sorted;
  ReserveHuge(&sorted, n);
  sorted.resize(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = first[refs[i].index];
  std::copy(sorted.begin(), sorted.end(), first);
}

// Sorts [first, last) by key and keeps the last write of each key: what the
// batch would leave, as an SST needs it (keys strictly increasing). Returns
// the new end.
Entry* SortLastWins(Entry* first, Entry* last) {
  auto less = [](const Entry& a, const Entry& b) { return a.Key() < b.Key(); };
  // A log chunk is in key order already (seqs of one tenant), and so are a
  // day-0 import's stream index and dense map.
  Entry* const unsorted = std::adjacent_find(
      first, last, [](const Entry& a, const Entry& b) { return !(a.Key() < b.Key()); });
  if (unsorted == last) return last;
  // Often only a few records at the end break the order: a first sync's
  // stream index is in seq order but for the source's record of
  // sync.completed, which sorts before the target's, and a stable_sort of
  // the whole family (1 M records) cost ~6 % of that sync's CPU. So only
  // the unsorted tail is sorted and merged in; both steps are stable, so a
  // later write of a key still follows an earlier one.
  Entry* const tail = std::is_sorted_until(unsorted, last, less);  // strictly up to `unsorted`
  if (static_cast<size_t>(last - tail) >= kMinPrefixSort) {
    SortByKeyStable(tail, last);
  } else {
    std::stable_sort(tail, last, less);
  }
  std::inplace_merge(first, tail, last, less);
  Entry* out = first;
  for (Entry* e = first; e != last; ++e) {
    if (last - e > kPrefetchAhead) __builtin_prefetch(e[kPrefetchAhead].key);
    if (e + 1 != last && e[1].Key() == e->Key()) continue;  // a later write wins
    *out++ = *e;
  }
  return out;
}

rocksdb::ColumnFamilyHandle* HandleOf(const Store& store, uint32_t cf_id) {
  for (int i = 0; i < kNumCfs; ++i) {
    rocksdb::ColumnFamilyHandle* h = store.cf(static_cast<Cf>(i));
    if (h != nullptr && h->GetID() == cf_id) return h;
  }
  return nullptr;
}

// Sorts [first, last) (the last write of a key wins) and writes it as the
// synced table file `path` of `cf`.
Status BuildFile(const Store& store, rocksdb::ColumnFamilyHandle* cf, Entry* first, Entry* last,
                 const std::string& path) {
  last = SortLastWins(first, last);
  // The family's own options (table format, block size, dictionary), but
  // its upper levels' compression (LZ4), not its bottommost one (ZSTD),
  // which SstFileWriter would otherwise pick: these files are written in
  // the foreground of the operation and, at the bottom level, never
  // rewritten. Measured in process at N = 1 M (bench/report_notes.md,
  // "Bulk ingestion"): day-0 import 20.1 CPU-s instead of 24.5, list
  // 250 MB/s instead of 118 (every listed row decompresses one log
  // block), for 0.48x the raw input on disk instead of 0.30x.
  rocksdb::Options options = store.db()->GetOptions(cf);
  options.bottommost_compression = rocksdb::kDisableCompressionOption;
  // Kept in the page cache: a sync reads the state it just imported.
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(options), options, cf,
                                /*invalidate_page_cache=*/false);
  rocksdb::Status s = writer.Open(path);
  for (const Entry* e = first; s.ok() && e != last; ++e) {
    if (last - e > kPrefetchAhead) {
      __builtin_prefetch(e[kPrefetchAhead].key);
      if (e[kPrefetchAhead].value != nullptr) __builtin_prefetch(e[kPrefetchAhead].value);
    }
    s = e->value == nullptr ? writer.Delete(e->Key())
                            : writer.Put(e->Key(), rocksdb::Slice(e->value, e->value_size));
  }
  // Finish syncs the file.
  if (s.ok()) s = writer.Finish();
  return FromRocks(s, "bulk ingestion: write a table file");
}

}  // namespace

BulkIngester::BulkIngester(Store* store, const std::string& db_path, rocksdb::Env* env)
    : store_(store), dir_(db_path), env_(env != nullptr ? env : rocksdb::Env::Default()) {}

Status BulkIngester::Prepare() {
  std::vector<std::string> children;
  SYNCMGR_RETURN_IF_ERROR(FromRocks(env_->GetChildren(dir_, &children), "list " + dir_));
  for (const std::string& name : children) {
    if (!name.starts_with(kStagingPrefix)) continue;
    // Built but never ingested (a crash, or a failure whose cleanup failed):
    // RocksDB never referenced it.
    SYNCMGR_RETURN_IF_ERROR(
        FromRocks(env_->DeleteFile(dir_ + "/" + name), "remove a leftover staging file"));
  }
  return Status::Ok();
}

bool BulkIngester::CanIngest(std::initializer_list<const rocksdb::WriteBatch*> batches) {
  // From the batches' content flags, which RocksDB keeps up to date on every
  // put, delete, ...: no pass over the records (a pass over a 1 M-listing
  // first sync's commit cost ~2 % of its CPU). A batch built from raw bytes
  // computes its flags once, by iterating. Ingest's own pass still refuses
  // any other kind (a blob index, which only RocksDB's internal API writes).
  for (const rocksdb::WriteBatch* b : batches) {
    if (b->HasPutEntity() || b->HasSingleDelete() || b->HasDeleteRange() || b->HasMerge() ||
        b->HasBeginPrepare() || b->HasEndPrepare() || b->HasCommit() || b->HasRollback()) {
      return false;
    }
  }
  return true;
}

StatusOr<int> BulkIngester::Ingest(std::initializer_list<const rocksdb::WriteBatch*> batches,
                                   bool* ingesting) {
  if (ingesting != nullptr) *ingesting = false;
  Collected collected;
  SYNCMGR_RETURN_IF_ERROR(Collect(batches, &collected));
  if (collected.families.empty()) return 0;
  // One table file per family, named before any is built.
  struct File {
    rocksdb::ColumnFamilyHandle* cf;
    Entry* first;
    Entry* last;
    std::string path;
    Status status;
  };
  std::vector<File> files;
  files.reserve(collected.families.size());
  for (const Collected::Family& family : collected.families) {
    rocksdb::ColumnFamilyHandle* cf = HandleOf(*store_, family.cf_id);
    if (cf == nullptr) {
      return Status::Internal(
          fmt::format("bulk ingestion: unknown column family {}", family.cf_id));
    }
    files.push_back({cf, collected.entries.data() + family.begin,
                     collected.entries.data() + family.end,
                     fmt::format("{}/{}{}.sst", dir_, kStagingPrefix,
                                 next_file_.fetch_add(1, std::memory_order_relaxed)),
                     Status::Ok()});
  }
  auto remove_files = [&] {
    // Best effort: Prepare removes what is left at the next open. A file
    // never created is simply not found.
    for (const File& f : files) env_->DeleteFile(f.path).PermitUncheckedError();
  };
  // Built on two threads, largest first: the two cores of the machine this
  // runs on. The families are independent (own records, own file), so each
  // thread takes the next unbuilt one. A first sync's commit at 1 M listings
  // builds five families of 0.1-0.3 GB each (bench/report_notes.md, "First
  // sync").
  std::vector<File*> order;
  for (File& f : files) order.push_back(&f);
  std::stable_sort(order.begin(), order.end(),
                   [](const File* a, const File* b) { return a->last - a->first > b->last - b->first; });
  std::atomic<size_t> next{0};
  auto build = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < order.size();) {
      File* f = order[i];
      f->status = BuildFile(*store_, f->cf, f->first, f->last, f->path);
    }
  };
  std::optional<std::thread> helper;
  if (order.size() > 1) {
    try {
      helper.emplace(build);
    } catch (const std::system_error&) {
      // No thread to be had (a thread limit): this one builds every family.
    }
  }
  build();
  if (helper) helper->join();
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (const File& f : files) {
    if (!f.status.ok()) {
      remove_files();
      return f.status;
    }
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = f.cf;
    arg.external_files = {f.path};
    // Hard-linked, not copied; RocksDB removes the staging name on success.
    arg.options.move_files = true;
    // The file's seqno goes into the MANIFEST edit only: the file is not
    // rewritten (and synced again) in place.
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  if (ingesting != nullptr) *ingesting = true;
  // A failed ingestion's files stay in the directory: its MANIFEST record
  // may name them (engine/ingest_guard.h).
  IngestGuardFs* guard = store_->ingest_guard();
  if (guard != nullptr) guard->Begin();
  rocksdb::Status s = store_->db()->IngestExternalFiles(args);
  if (guard != nullptr) guard->End();
  if (!s.ok()) {
    remove_files();
    return FromRocks(s, "bulk ingestion");
  }
  return static_cast<int>(args.size());
}

// ---- IngestPipeline -----------------------------------------------------------

IngestPipeline::IngestPipeline(BulkIngester* bulk, int threads, size_t batch_bytes)
    : bulk_(bulk), batch_bytes_(batch_bytes) {
  for (int i = 0; i < threads; ++i) {
    try {
      workers_.emplace_back([this] { Run(); });
    } catch (const std::system_error&) {
      break;  // fewer threads (none: Submit ingests on the caller's thread)
    }
  }
  threads_ = workers_.size();
}

IngestPipeline::~IngestPipeline() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  for (std::thread& t : workers_) t.join();
}

Status IngestPipeline::Submit(rocksdb::WriteBatch* batch) {
  MutexLock lock(&mu_);
  if (threads_ == 0) {  // no thread: here, as BulkIngester::Ingest alone would
    if (error_.ok()) error_ = bulk_->Ingest({batch}).status();
    batch->Clear();
    return error_;
  }
  while (error_.ok() && queued_.size() + running_ >= threads_) cv_.Wait(&mu_);
  if (!error_.ok()) {
    batch->Clear();
    return error_;
  }
  queued_.push_back(std::move(*batch));
  if (free_.empty()) {
    // One allocation, touched only as it fills: a batch grown by doubling
    // copies itself into fresh pages at each step (with the page faults,
    // ~2/3 of a day-0 import's apply thread at 200 k before this).
    *batch = rocksdb::WriteBatch(batch_bytes_);
    AdviseHugePages(batch->Data());
  } else {
    *batch = std::move(free_.back());
    free_.pop_back();
  }
  cv_.SignalAll();
  return Status::Ok();
}

Status IngestPipeline::Drain() {
  MutexLock lock(&mu_);
  while (!queued_.empty() || running_ > 0) cv_.Wait(&mu_);
  return error_;
}

void IngestPipeline::Run() {
  MutexLock lock(&mu_);
  while (true) {
    // stop_ only from the destructor: the batches submitted go first.
    while (!stop_ && queued_.empty()) cv_.Wait(&mu_);
    if (queued_.empty()) return;
    rocksdb::WriteBatch batch = std::move(queued_.front());
    queued_.pop_front();
    Status s;
    if (error_.ok()) {  // after an error, what has not started is dropped
      ++running_;
      lock.Unlock();
      s = bulk_->Ingest({&batch}).status();
      lock.Lock();
      --running_;
    }
    batch.Clear();  // keeps its memory for the caller's next batch
    free_.push_back(std::move(batch));
    if (!s.ok() && error_.ok()) error_ = s;
    cv_.SignalAll();
  }
}

}  // namespace syncmgr
