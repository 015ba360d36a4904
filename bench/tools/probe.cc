// syncmgr-bench-probe: the machine's limits, measured the way scripts/bench.sh
// reports them next to Sync Manager's figures (issue 18, "Done when").
//
//   syncmgr-bench-probe parse FILE [--max-listings N]
//       One core's work per listing on the import's two paths, with the
//       engine's own code over the generated NDJSON (FILE: day0.ndjson):
//         canonical  CanonicalizeObject (simdjson parse, canonical form,
//                    XXH3-128 of it without "scraped_at") — a day-0 listing;
//         raw        RawHash + IsWellFormedObject — what the raw-bytes fast
//                    path spends on an unchanged day-1 listing.
//       Reports listings and MB per CPU-second of this thread
//       (CLOCK_THREAD_CPUTIME_ID: other load on the machine slows the wall
//       clock, not this figure much).
//   syncmgr-bench-probe disk DIR [--write-mib M] [--fsyncs K]
//       The file system of DIR (the data directory's):
//         sequential write: M MiB (default 512) in 1 MiB O_DIRECT writes,
//         then one fdatasync (buffered writes if O_DIRECT is refused);
//         fsync rate: K (default 2000, at most ~5 s) appends of 4 KiB, each
//         followed by fdatasync — the cost of one durable commit.
//       Wall-clock figures (the device's, not a CPU's).
//
// One JSON object on stdout. Exit status 0, or 1 with a message on stderr.
// Leaves nothing behind in DIR.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/canonical_json.h"

namespace {

using Clock = std::chrono::steady_clock;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "syncmgr-bench-probe: %s\n", message.c_str());
  return 1;
}

// The value of `--name V` in argv[from..], or `fallback`.
long Flag(int argc, char** argv, int from, std::string_view name, long fallback) {
  for (int i = from; i + 1 < argc; ++i) {
    if (argv[i] == name) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

int Parse(const std::string& path, long max_listings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read " + path);
  std::vector<std::string> lines;
  uint64_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    bytes += line.size();
    lines.push_back(std::move(line));
    if (max_listings > 0 && static_cast<long>(lines.size()) >= max_listings) break;
  }
  if (lines.empty()) return Fail(path + " holds no listing");
  const std::vector<std::string> ignore = {"scraped_at"};

  // Day 0: every listing canonicalized and hashed.
  syncmgr::CanonicalDoc doc;
  uint64_t checksum = 0;  // keeps the work from being optimised away
  double c0 = ThreadCpuSeconds();
  auto t0 = Clock::now();
  for (const std::string& line : lines) {
    syncmgr::Status s = syncmgr::CanonicalizeObject(line, ignore, &doc);
    if (!s.ok()) return Fail("listing does not canonicalize: " + s.ToString());
    checksum ^= doc.hash.lo;
  }
  const double canonical_cpu = ThreadCpuSeconds() - c0;
  const double canonical_wall = Since(t0);

  // Day 1's fast path: raw hash and validation only.
  c0 = ThreadCpuSeconds();
  t0 = Clock::now();
  for (const std::string& line : lines) {
    checksum ^= syncmgr::RawHash(line);
    if (!syncmgr::IsWellFormedObject(line)) return Fail("listing is not well-formed");
  }
  const double raw_cpu = ThreadCpuSeconds() - c0;
  const double raw_wall = Since(t0);

  const double n = static_cast<double>(lines.size());
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf(
      "{\"probe\":\"parse\",\"listings\":%zu,\"bytes\":%llu,"
      "\"canonical\":{\"cpu_s\":%.4f,\"wall_s\":%.4f,\"listings_per_cpu_s\":%.0f,"
      "\"mb_per_cpu_s\":%.1f,\"cpu_us_per_listing\":%.3f},"
      "\"raw\":{\"cpu_s\":%.4f,\"wall_s\":%.4f,\"listings_per_cpu_s\":%.0f,"
      "\"mb_per_cpu_s\":%.1f,\"cpu_us_per_listing\":%.3f},\"checksum\":%llu}\n",
      lines.size(), static_cast<unsigned long long>(bytes), canonical_cpu, canonical_wall,
      n / canonical_cpu, mb / canonical_cpu, canonical_cpu / n * 1e6, raw_cpu, raw_wall,
      n / raw_cpu, mb / raw_cpu, raw_cpu / n * 1e6,
      static_cast<unsigned long long>(checksum & 0xffff));
  return 0;
}

int Disk(const std::string& dir, long write_mib, long fsyncs) {
  const std::string file = dir + "/.syncmgr-bench-probe";
  constexpr size_t kBlock = 1 << 20;

  // Sequential write bandwidth. O_DIRECT keeps the page cache out of the
  // figure; a file system that refuses it (tmpfs) gets buffered writes.
  void* raw = nullptr;
  if (posix_memalign(&raw, 4096, kBlock) != 0) return Fail("out of memory");
  std::unique_ptr<char, decltype(&std::free)> block(static_cast<char*>(raw), &std::free);
  for (size_t i = 0; i < kBlock; ++i) block.get()[i] = static_cast<char>(i * 131 + 7);
  bool direct = true;
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
  if (fd >= 0 && write(fd, block.get(), kBlock) != static_cast<ssize_t>(kBlock)) {
    close(fd);
    fd = -1;
  }
  if (fd < 0) {
    direct = false;
    fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  if (fd < 0) return Fail("cannot create " + file + ": " + std::strerror(errno));
  const auto t0 = Clock::now();
  for (long i = 0; i < write_mib; ++i) {
    if (write(fd, block.get(), kBlock) != static_cast<ssize_t>(kBlock)) {
      close(fd);
      unlink(file.c_str());
      return Fail("write failed: " + std::string(std::strerror(errno)));
    }
  }
  if (fdatasync(fd) != 0) {
    close(fd);
    unlink(file.c_str());
    return Fail("fdatasync failed");
  }
  const double write_s = Since(t0);
  close(fd);
  unlink(file.c_str());

  // 4 KiB appends, each made durable.
  fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  if (fd < 0) return Fail("cannot create " + file);
  std::vector<double> lat_us;
  lat_us.reserve(static_cast<size_t>(fsyncs));
  const auto t1 = Clock::now();
  for (long i = 0; i < fsyncs && Since(t1) < 5.0; ++i) {
    const auto a = Clock::now();
    if (write(fd, block.get(), 4096) != 4096 || fdatasync(fd) != 0) {
      close(fd);
      unlink(file.c_str());
      return Fail("append + fdatasync failed");
    }
    lat_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
  }
  const double fsync_s = Since(t1);
  close(fd);
  unlink(file.c_str());
  std::sort(lat_us.begin(), lat_us.end());
  auto pct = [&](double p) {
    return lat_us[std::min(lat_us.size() - 1, static_cast<size_t>(p * lat_us.size()))];
  };
  std::printf(
      "{\"probe\":\"disk\",\"o_direct\":%s,\"write_mib\":%ld,\"write_s\":%.3f,"
      "\"write_mb_per_s\":%.1f,\"fsyncs\":%zu,\"fsync_s\":%.3f,\"fsyncs_per_s\":%.0f,"
      "\"fsync_us\":{\"p50\":%.0f,\"p99\":%.0f}}\n",
      direct ? "true" : "false", write_mib, write_s,
      static_cast<double>(write_mib) * kBlock / 1e6 / write_s, lat_us.size(), fsync_s,
      static_cast<double>(lat_us.size()) / fsync_s, pct(0.5), pct(0.99));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view usage =
      "usage: syncmgr-bench-probe parse FILE [--max-listings N]\n"
      "       syncmgr-bench-probe disk DIR [--write-mib M] [--fsyncs K]\n";
  if (argc < 3) {
    std::fputs(usage.data(), stderr);
    return 2;
  }
  const std::string_view what = argv[1];
  if (what == "parse") return Parse(argv[2], Flag(argc, argv, 3, "--max-listings", 0));
  if (what == "disk") {
    const long mib = Flag(argc, argv, 3, "--write-mib", 512);
    const long fsyncs = Flag(argc, argv, 3, "--fsyncs", 2000);
    if (mib < 1 || fsyncs < 1) return Fail("--write-mib and --fsyncs must be at least 1");
    return Disk(argv[2], mib, fsyncs);
  }
  std::fputs(usage.data(), stderr);
  return 2;
}
