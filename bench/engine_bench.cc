// Micro benchmarks of the engine (Google Benchmark): the canonical hash, an
// import batch, and an incremental sync whose cost follows the number of
// changes k, not the number of properties N. Results go to
// docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>

#include "engine/canonical_json.h"
#include "engine/engine.h"

namespace syncmgr {
namespace {

std::string Listing(uint64_t id, uint64_t version) {
  std::string s = "{\"external_id\":\"L" + std::to_string(id) + "\",\"title\":\"Flat " +
                  std::to_string(id) + "\",\"price\":" + std::to_string(100000 + id * 7 + version) +
                  ",\"currency\":\"EUR\",\"rooms\":" + std::to_string(1 + id % 6) +
                  ",\"geo\":{\"lat\":48." + std::to_string(id % 1000) + ",\"lon\":2.35}," +
                  "\"features\":[\"balcony\",\"lift\",\"parking\"],\"photos\":[";
  for (int i = 0; i < 10; ++i) {
    s += (i ? "," : "") + std::string("\"https://img.example/") + std::to_string(id) + "/" +
         std::to_string(i) + ".jpg\"";
  }
  s += "],\"description\":\"" + std::string(1200, 'd') + "\",\"scraped_at\":\"" +
       std::to_string(version) + "\"}";
  return s;
}

class Dir {
 public:
  Dir() : path_(std::filesystem::temp_directory_path() /
                ("syncmgr-bench-" + std::to_string(std::random_device()()))) {}
  ~Dir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

void BM_CanonicalHash(benchmark::State& state) {
  std::string doc = Listing(42, 1);
  std::vector<std::string> ignore = {"scraped_at"};
  CanonicalDoc out;
  for (auto _ : state) {
    Status s = CanonicalizeObject(doc, ignore, &out);
    benchmark::DoNotOptimize(out.hash);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
}
BENCHMARK(BM_CanonicalHash);

struct Fixture {
  Dir dir;
  std::unique_ptr<Engine> engine;
  Fixture() {
    EngineOptions o;
    o.path = dir.path();
    engine = std::move(Engine::Open(o)).value();
    engine->CreateTenant("bench").status().IgnoreError();
    SourceSpec s;
    s.name = "portal";
    s.ignore_fields = {"scraped_at"};
    engine->CreateSource(1, s).status().IgnoreError();
    TargetSpec t;
    t.name = "site";
    engine->CreateTarget(1, t).status().IgnoreError();
  }
  Status ImportRange(uint64_t from, uint64_t to, uint64_t version) {
    ImportOptions o;
    o.format = BodyFormat::kNdjson;
    auto session = engine->BeginImport(1, 1, o);
    if (!session.ok()) return session.status();
    std::string chunk;
    for (uint64_t i = from; i < to; ++i) {
      chunk += Listing(i, version);
      chunk += '\n';
      if (chunk.size() > (1 << 20)) {
        SYNCMGR_RETURN_IF_ERROR((*session)->Append(chunk));
        chunk.clear();
      }
    }
    SYNCMGR_RETURN_IF_ERROR((*session)->Append(chunk));
    return (*session)->Finish().status();
  }
};

// Import of a batch of new listings (durable, one commit).
void BM_ImportBatch(benchmark::State& state) {
  Fixture f;
  uint64_t n = static_cast<uint64_t>(state.range(0)), next = 0;
  for (auto _ : state) {
    Status s = f.ImportRange(next, next + n, 1);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    next += n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ImportBatch)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Incremental sync of k changes among N properties: the time follows k.
void BM_IncrementalSync(benchmark::State& state) {
  uint64_t n = static_cast<uint64_t>(state.range(0));
  uint64_t k = static_cast<uint64_t>(state.range(1));
  Fixture f;
  if (!f.ImportRange(0, n, 1).ok() || !f.engine->Sync(1, 1, 1, SyncOptions()).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  uint64_t version = 2;
  for (auto _ : state) {
    state.PauseTiming();
    Status s = f.ImportRange(0, k, version++);  // k updated listings
    state.ResumeTiming();
    auto r = f.engine->Sync(1, 1, 1, SyncOptions());
    if (!s.ok() || !r.ok() || r->stats.updated != k) state.SkipWithError("sync failed");
  }
  state.counters["N"] = static_cast<double>(n);
  state.counters["k"] = static_cast<double>(k);
}
BENCHMARK(BM_IncrementalSync)
    ->Args({1000, 64})
    ->Args({10000, 64})
    ->Args({100000, 64})
    ->Args({100000, 1000})
    ->Unit(benchmark::kMillisecond);

// Streaming a whole list.
void BM_ListStream(benchmark::State& state) {
  uint64_t n = static_cast<uint64_t>(state.range(0));
  Fixture f;
  if (!f.ImportRange(0, n, 1).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto c = f.engine->ListProperties(1, {StreamKind::kSource, 1}, {});
    PropertyRecord rec;
    while ((*c)->Next(&rec)) bytes += rec.data.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ListStream)->Arg(1000)->Arg(20000)->Unit(benchmark::kMillisecond);

// One property as of an old seq: a seek in its history.
void BM_GetAsOf(benchmark::State& state) {
  Fixture f;
  uint64_t versions = static_cast<uint64_t>(state.range(0));
  for (uint64_t v = 1; v <= versions; ++v) f.ImportRange(0, 10, v).IgnoreError();
  ReadOptions ro;
  ro.as_of_seq = 20;
  for (auto _ : state) {
    auto r = f.engine->GetProperty(1, {StreamKind::kSource, 1}, "L3", ro);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_GetAsOf)->Arg(64)->Arg(512);

}  // namespace
}  // namespace syncmgr

BENCHMARK_MAIN();
