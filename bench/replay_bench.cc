// replay_bench: point-in-time reads and the replay tool, measured (issue 5).
//
//   1. Replay speed. A generated workload (bench/gen: day 0 of N listings,
//      then `days` daily full imports, each followed by a sync into a
//      target) is written once; then Engine::ReplayInto folds the whole log
//      (and the log up to half its seqs) into fresh directories, and
//      Engine::VerifyViews folds it again and compares. Reported in events/s.
//   2. Single-property as_of latency at several history depths: a source
//      whose properties each have `depth` versions; GetProperty as of a
//      random seq of that range, one SeekForPrev in the history view plus one
//      log read. p50 / p99 over `samples` random reads, in microseconds.
//
// Prints one JSON object on stdout. `--tiny` is the CI smoke size (ctest
// replay_bench_smoke); figures come from a release build at the default size
// (docs/benchmarks.md).
//
//   replay_bench [--tiny] [--n N] [--days D] [--samples S] [--dir DIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/gen/day_model.h"
#include "bench/gen/listing_writer.h"
#include "engine/engine.h"

namespace syncmgr {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Args {
  uint64_t n = 20000;    // listings on day 0
  uint32_t days = 5;     // daily imports after day 0
  uint32_t samples = 20000;  // as_of reads per depth
  std::vector<uint32_t> depths = {1, 16, 256, 2048};
  uint32_t props_per_depth = 32;  // properties with that many versions
  std::string dir;       // default: a fresh directory under $TMPDIR
  bool tiny = false;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "replay_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--tiny") {
      a.tiny = true;
      a.n = 300;
      a.days = 2;
      a.samples = 300;
      a.depths = {1, 8, 64};
      a.props_per_depth = 8;
    } else if (arg == "--n") {
      a.n = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--days") {
      a.days = static_cast<uint32_t>(std::strtoul(next().c_str(), nullptr, 10));
    } else if (arg == "--samples") {
      a.samples = static_cast<uint32_t>(std::strtoul(next().c_str(), nullptr, 10));
    } else if (arg == "--dir") {
      a.dir = next();
    } else {
      Die("unknown argument " + arg + " (see the header of bench/replay_bench.cc)");
    }
  }
  if (a.n == 0) Die("--n must be positive");
  return a;
}

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Day `day` of the generated portal as one NDJSON body.
std::string DayBody(const gen::DayModel& model, gen::ListingWriter& writer, uint32_t day) {
  std::string body;
  for (uint64_t id = 0; id < model.IdLimit(day); ++id) {
    const gen::ListingState s = model.StateAt(id, day);
    if (!s.alive) continue;
    writer.Append(s, day, body);
    body.push_back('\n');
  }
  return body;
}

struct Timed {
  double seconds = 0;
  uint64_t events = 0;
};

std::string TimedJson(const Timed& t) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "{\"events\":%llu,\"seconds\":%.4f,\"events_per_s\":%.0f}",
                static_cast<unsigned long long>(t.events), t.seconds,
                t.seconds > 0 ? static_cast<double>(t.events) / t.seconds : 0.0);
  return buf;
}

int Run(int argc, char** argv) {
  Args a = ParseArgs(argc, argv);
  fs::path root = a.dir.empty() ? fs::temp_directory_path() /
                                      ("syncmgr-replay-bench-" + std::to_string(::getpid()))
                                : fs::path(a.dir);
  fs::remove_all(root);
  fs::create_directories(root);

  EngineOptions eo;
  eo.path = (root / "db").string();
  eo.min_free_bytes = 0;
  auto opened = Engine::Open(eo);
  if (!opened.ok()) Die(opened.status().ToString());
  std::unique_ptr<Engine> engine = std::move(*opened);
  const TenantId tenant = engine->CreateTenant("bench").value().tenant.id;
  SourceSpec portal;
  portal.name = "portal";
  portal.ignore_fields = {"scraped_at"};
  portal.max_removal_ratio = 1.0;
  const uint32_t source = engine->CreateSource(tenant, portal).value().id;
  TargetSpec site;
  site.name = "site";
  const uint32_t target = engine->CreateTarget(tenant, site).value().id;

  // ---- The workload: day 0, then daily full imports and syncs. ----------------
  gen::ModelOptions mo;
  mo.n = a.n;
  mo.seed = 7;
  gen::DayModel model(mo);
  gen::ListingWriter writer(mo);
  uint64_t payload_bytes = 0;
  const auto load_start = Clock::now();
  for (uint32_t day = 0; day <= a.days; ++day) {
    std::string body = DayBody(model, writer, day);
    payload_bytes += body.size();
    ImportOptions io;
    io.format = BodyFormat::kNdjson;
    io.mode = ImportMode::kFull;
    io.mode_explicit = true;
    Check(engine->Import(tenant, source, io, body).status(), "import");
    Check(engine->Sync(tenant, source, target, SyncOptions{}).status(), "sync");
  }
  const double load_seconds = Since(load_start);
  const uint64_t workload_seq = engine->LastSeq(tenant).value();

  // ---- Replay and verify. -------------------------------------------------------
  Timed full, half, verify;
  {
    uint64_t events = 0;
    ReplayOptions ro;
    ro.progress = [&](uint64_t done, uint64_t) { events = done; };
    auto t = Clock::now();
    Check(engine->ReplayInto((root / "replay-all").string(), ro), "replay");
    full = {Since(t), events};
    ro.as_of_seq = workload_seq / 2;
    t = Clock::now();
    Check(engine->ReplayInto((root / "replay-half").string(), ro), "replay half");
    half = {Since(t), events};
    std::vector<std::string> diffs;
    t = Clock::now();
    Check(engine->VerifyViews(&diffs, 20, [&](uint64_t done, uint64_t) { events = done; }),
          "verify");
    verify = {Since(t), events};
  }

  // ---- as_of latency by history depth. -------------------------------------------
  std::string latency = "[";
  std::mt19937_64 rng(11);
  for (size_t d = 0; d < a.depths.size(); ++d) {
    const uint32_t depth = a.depths[d];
    SourceSpec spec;
    spec.name = "depth-" + std::to_string(depth);
    const uint32_t src = engine->CreateSource(tenant, spec).value().id;
    const uint64_t first_seq = engine->LastSeq(tenant).value() + 1;
    for (uint32_t v = 0; v < depth; ++v) {
      std::string body;
      for (uint32_t p = 0; p < a.props_per_depth; ++p) {
        body += "{\"external_id\":\"h" + std::to_string(p) + "\",\"price\":" +
                std::to_string(100000 + v) + ",\"title\":\"flat " + std::to_string(p) +
                "\"}\n";
      }
      ImportOptions io;
      io.format = BodyFormat::kNdjson;
      Check(engine->Import(tenant, src, io, body).status(), "depth import");
    }
    const uint64_t last_seq = engine->LastSeq(tenant).value();
    std::vector<double> micros;
    micros.reserve(a.samples);
    uint64_t found = 0;
    for (uint32_t i = 0; i < a.samples; ++i) {
      ReadOptions ro;
      ro.as_of_seq = first_seq + rng() % (last_seq - first_seq + 1);
      std::string ext = "h" + std::to_string(rng() % a.props_per_depth);
      auto t = Clock::now();
      auto r = engine->GetProperty(tenant, {StreamKind::kSource, src}, ext, ro);
      micros.push_back(Since(t) * 1e6);
      if (r.ok()) ++found;
    }
    std::sort(micros.begin(), micros.end());
    auto pct = [&](double q) {
      return micros[std::min(micros.size() - 1, static_cast<size_t>(q * micros.size()))];
    };
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "%s{\"depth\":%u,\"samples\":%u,\"found\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f}",
                  d ? "," : "", depth, a.samples, static_cast<unsigned long long>(found),
                  pct(0.50), pct(0.99));
    latency += buf;
  }
  latency += "]";

  std::printf(
      "{\"bench\":\"replay\",\"tiny\":%s,\"listings_day0\":%llu,\"days\":%u,"
      "\"payload_bytes\":%llu,\"workload_events\":%llu,\"load_seconds\":%.2f,"
      "\"replay_all\":%s,\"replay_half\":%s,\"verify\":%s,\"as_of_latency\":%s}\n",
      a.tiny ? "true" : "false", static_cast<unsigned long long>(a.n), a.days,
      static_cast<unsigned long long>(payload_bytes),
      static_cast<unsigned long long>(workload_seq), load_seconds, TimedJson(full).c_str(),
      TimedJson(half).c_str(), TimedJson(verify).c_str(), latency.c_str());
  engine.reset();
  fs::remove_all(root);
  return 0;
}

}  // namespace
}  // namespace syncmgr

int main(int argc, char** argv) { return syncmgr::Run(argc, argv); }
