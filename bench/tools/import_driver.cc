// syncmgr-bench-inproc DIR DAY0.ndjson DAY1.ndjson: the end-to-end workload
// in process, without HTTP (for profiling the engine alone: perf record,
// callgrind). Opens a fresh engine in DIR, then times day-0 full import (fed
// in 256 KiB chunks; the server hands over 4 MiB, import_chunk_bytes), sync,
// day-1 full import, sync, and the whole target list (not with
// SYNCMGR_BENCH_SKIP_LIST=1). One JSON line per phase on stdout; an import's
// finish_s is its commit's share. Exit 1 on error.
// Each import passes its file's size as ImportOptions::body_bytes_hint, as
// the server passes a Content-Length (not with SYNCMGR_BENCH_NO_SIZE_HINT=1).
// SYNCMGR_BENCH_GETS=N adds a last phase: N single-property reads of the
// target (GetProperty, ids of the listed rows in a fixed pseudo-random order),
// for the CPU of a point read without HTTP.
// syncmgr-bench-inproc DIR --list-only: only the list phase, on a directory
// an earlier run left (tenant 1, target 1): for A/B runs of the list, warm or
// after dropping the page cache. SYNCMGR_LIST_PREFETCH=0 turns the list's
// log prefetch off (EngineOptions::list_prefetch), SYNCMGR_READ_AHEAD=0
// its reader threads (EngineOptions::read_ahead). SYNCMGR_SYNC_LOG_SCAN=0
// has the day-1 sync read the source's side by points
// (EngineOptions::sync_log_scan).
// syncmgr-bench-inproc DIR --scan-log: reads the whole log in key order
// instead (one iterator, 2 MiB readahead, no block cache fill), each
// property event parsed and its data copied as the list does: what a list
// would cost if its rows' data lay in list order (the layout's bound).
#include <rocksdb/db.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/event_codec.h"
#include "engine/store.h"
#include "events_generated.h"

namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds of the whole process (every thread, RocksDB's included):
// less sensitive than wall time to other load on the machine.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int Fail(const syncmgr::Status& s, const char* what) {
  std::fprintf(stderr, "syncmgr-bench-inproc: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

// The list phase (the whole target), then SYNCMGR_BENCH_GETS reads.
int ListAndGet(syncmgr::Engine& engine, syncmgr::TenantId t, uint32_t target) {
  using namespace syncmgr;
  const auto t2 = Clock::now();
  const double c2 = CpuSeconds();
  auto cursor = engine.ListProperties(t, StreamRef{StreamKind::kTarget, target}, {});
  if (!cursor.ok()) return Fail(cursor.status(), "list");
  const char* gets_env = std::getenv("SYNCMGR_BENCH_GETS");
  const uint64_t gets = gets_env != nullptr ? std::strtoull(gets_env, nullptr, 10) : 0;
  PropertyRecord record;
  uint64_t rows = 0, bytes = 0;
  std::vector<std::string> ids;  // only for the reads below
  while ((*cursor)->Next(&record)) {
    ++rows;
    bytes += record.data.size();
    if (gets > 0) ids.push_back(record.external_id);
  }
  if (!(*cursor)->status().ok()) return Fail((*cursor)->status(), "list");
  const double sec = Since(t2);
  std::printf(
      "{\"phase\":\"list\",\"seconds\":%.3f,\"cpu_s\":%.3f,\"rows\":%llu,\"data_mb_per_s\":%.1f}\n",
      sec, CpuSeconds() - c2, static_cast<unsigned long long>(rows),
      static_cast<double>(bytes) / sec / 1e6);
  if (gets == 0 || ids.empty()) return 0;
  std::fflush(stdout);
  uint64_t x = 88172645463325252ull;  // xorshift64: the same order every run
  const auto t3 = Clock::now();
  const double c3 = CpuSeconds();
  for (uint64_t i = 0; i < gets; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    auto got = engine.GetProperty(t, StreamRef{StreamKind::kTarget, target},
                                 ids[x % ids.size()], ReadOptions{});
    if (!got.ok()) return Fail(got.status(), "get");
  }
  const double get_cpu = CpuSeconds() - c3;
  std::printf("{\"phase\":\"get\",\"seconds\":%.3f,\"cpu_s\":%.3f,\"reads\":%llu,"
              "\"cpu_us_per_read\":%.2f}\n",
              Since(t3), get_cpu, static_cast<unsigned long long>(gets),
              get_cpu / static_cast<double>(gets) * 1e6);
  return 0;
}

// The whole log in key order, as a list would read it if its rows' data
// lay in list order (see the top comment).
int ScanLog(const char* dir) {
  using namespace syncmgr;
  StoreOptions so;
  so.path = dir;
  so.read_only = true;
  auto store = Store::Open(so);
  if (!store.ok()) return Fail(store.status(), "open");
  const auto t0 = Clock::now();
  const double c0 = CpuSeconds();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it((*store)->db()->NewIterator(ro, (*store)->cf(Cf::kLog)));
  uint64_t rows = 0, bytes = 0;
  std::string aligned, data;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    aligned.assign(it->value().data(), it->value().size());
    auto ev = ReadEvent(aligned);
    if (!ev.ok()) return Fail(ev.status(), "scan");
    const fb::PropertyChanged* p = (*ev)->body_as_PropertyChanged();
    if (p == nullptr || p->data() == nullptr) continue;
    data.assign(p->data()->data(), p->data()->size());
    ++rows;
    bytes += data.size();
  }
  if (!it->status().ok()) return Fail(Status::Internal(it->status().ToString()), "scan");
  const double sec = Since(t0);
  std::printf(
      "{\"phase\":\"scan_log\",\"seconds\":%.3f,\"cpu_s\":%.3f,\"rows_with_data\":%llu,"
      "\"data_mb_per_s\":%.1f}\n",
      sec, CpuSeconds() - c0, static_cast<unsigned long long>(rows),
      static_cast<double>(bytes) / sec / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace syncmgr;
  const bool list_only = argc == 3 && std::string_view(argv[2]) == "--list-only";
  const bool scan_log = argc == 3 && std::string_view(argv[2]) == "--scan-log";
  if (argc != 4 && !list_only && !scan_log) {
    std::fprintf(stderr,
                 "usage: syncmgr-bench-inproc DIR DAY0.ndjson DAY1.ndjson\n"
                 "       syncmgr-bench-inproc DIR --list-only | --scan-log\n");
    return 2;
  }
  if (scan_log) return ScanLog(argv[1]);
  EngineOptions options;
  options.path = argv[1];
  if (const char* v = std::getenv("SYNCMGR_LIST_PREFETCH")) {
    options.list_prefetch = std::string_view(v) != "0";
  }
  if (const char* v = std::getenv("SYNCMGR_READ_AHEAD")) {
    options.read_ahead = std::string_view(v) != "0";
  }
  if (const char* v = std::getenv("SYNCMGR_SYNC_LOG_SCAN")) {
    options.sync_log_scan = std::string_view(v) != "0";
  }
  // For A/B runs of the write path: SYNCMGR_BULK_MIN_BYTES=0 turns bulk
  // ingestion off (EngineOptions::bulk_ingest_min_bytes).
  if (const char* v = std::getenv("SYNCMGR_BULK_MIN_BYTES")) {
    options.bulk_ingest_min_bytes = std::strtoull(v, nullptr, 10);
  }
  options.read_only = list_only;  // beside a server on the same directory
  auto engine = Engine::Open(options);
  if (!engine.ok()) return Fail(engine.status(), "open");
  if (list_only) return ListAndGet(**engine, 1, 1);
  auto tenant = (*engine)->CreateTenant("bench");
  if (!tenant.ok()) return Fail(tenant.status(), "tenant");
  const TenantId t = tenant->tenant.id;
  SourceSpec source_spec;
  source_spec.name = "portal";
  source_spec.ignore_fields = {"scraped_at"};
  auto source = (*engine)->CreateSource(t, source_spec);
  if (!source.ok()) return Fail(source.status(), "source");
  TargetSpec target_spec;
  target_spec.name = "website";
  auto target = (*engine)->CreateTarget(t, target_spec);
  if (!target.ok()) return Fail(target.status(), "target");

  std::vector<char> chunk(256 << 10);
  for (int day = 0; day < 2; ++day) {
    std::ifstream in(argv[2 + day], std::ios::binary);
    if (!in) return Fail(Status::NotFound(argv[2 + day]), "input");
    ImportOptions io;
    io.format = BodyFormat::kNdjson;
    io.mode = ImportMode::kFull;
    // As the server passes a Content-Length (SYNCMGR_BENCH_NO_SIZE_HINT=1: not).
    if (std::getenv("SYNCMGR_BENCH_NO_SIZE_HINT") == nullptr) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(argv[2 + day], ec);
      if (!ec) io.body_bytes_hint = size;
    }
    const auto t0 = Clock::now();
    const double c0 = CpuSeconds();
    auto session = (*engine)->BeginImport(t, source->id, io);
    if (!session.ok()) return Fail(session.status(), "begin import");
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto n = static_cast<size_t>(in.gcount());
      if (n == 0) break;
      Status s = (*session)->Append(std::string_view(chunk.data(), n));
      if (!s.ok()) return Fail(s, "import");
    }
    const auto t_finish = Clock::now();
    auto result = (*session)->Finish();
    if (!result.ok()) return Fail(result.status(), "import");
    const double sec = Since(t0);
    const auto& st = result->stats;
    // finish_s: the commit's part of the wall time (ImportSession::Finish).
    std::printf(
        "{\"phase\":\"day%d_import\",\"seconds\":%.3f,\"finish_s\":%.3f,\"cpu_s\":%.3f,"
        "\"per_s\":%.0f,\"received\":%llu,"
        "\"created\":%llu,\"updated\":%llu,\"unchanged\":%llu,\"removed\":%llu}\n",
        day, sec, Since(t_finish), CpuSeconds() - c0, static_cast<double>(st.received) / sec,
        static_cast<unsigned long long>(st.received), static_cast<unsigned long long>(st.created),
        static_cast<unsigned long long>(st.updated), static_cast<unsigned long long>(st.unchanged),
        static_cast<unsigned long long>(st.removed));
    std::fflush(stdout);
    const auto t1 = Clock::now();
    const double c1 = CpuSeconds();
    auto sync = (*engine)->Sync(t, source->id, target->id, SyncOptions{});
    if (!sync.ok()) return Fail(sync.status(), "sync");
    std::printf("{\"phase\":\"day%d_sync\",\"seconds\":%.3f,\"cpu_s\":%.3f}\n", day, Since(t1),
                CpuSeconds() - c1);
    std::fflush(stdout);
  }
  // SYNCMGR_BENCH_SKIP_LIST=1: the imports and syncs only (bench/e2e/same_k.py).
  if (const char* v = std::getenv("SYNCMGR_BENCH_SKIP_LIST"); v != nullptr && std::string_view(v) == "1") {
    return 0;
  }
  return ListAndGet(**engine, t, target->id);
}
