// syncmgr-gen: writes one day's full snapshot of a deterministic real-estate
// listing feed (NDJSON or {"data": [...]}) and the changes it implies relative
// to the previous day. See bench/README.md and day_model.h.
//
//   syncmgr-gen --n N --day D [--seed S] [--out FILE] [--json-array [--mode M]]
//               [--stats] [--stats-out FILE] [--stats-only]
//               [--update-ppm P] [--remove-ppm P] [--create-ppm P]
//
// Same arguments => byte-identical output. Exit status 0, or 2 with a one-line
// error on bad arguments, 1 on an I/O error.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "day_model.h"
#include "listing_writer.h"

namespace syncmgr::gen {
namespace {

// Output is flushed in chunks of about this size. Default: 4 MiB.
constexpr size_t kFlushBytes = size_t{4} << 20;

struct Args {
  ModelOptions model;
  uint32_t day = 0;
  bool n_given = false;
  bool day_given = false;
  std::string out_path;  // empty: stdout
  bool json_array = false;
  std::string mode;  // with --json-array: adds "mode": M
  bool stats = false;
  std::string stats_path;
  bool stats_only = false;
};

constexpr std::string_view kUsage =
    "usage: syncmgr-gen --n N --day D [--seed S] [--out FILE] [--json-array [--mode upsert|full]]\n"
    "                   [--stats] [--stats-out FILE] [--stats-only]\n"
    "                   [--update-ppm P] [--remove-ppm P] [--create-ppm P]\n"
    "Writes day D's full snapshot of N (day-0) generated listings as NDJSON.\n"
    "  --seed S        PRNG seed (default 1); same arguments => same bytes\n"
    "  --out FILE      write to FILE instead of stdout\n"
    "  --json-array    write {\"data\":[...]} instead of NDJSON\n"
    "  --mode M        with --json-array, add \"mode\":\"M\" to the body\n"
    "  --stats         print the expected import/sync stats vs day D-1 to stderr (JSON)\n"
    "  --stats-out F   write them to file F\n"
    "  --stats-only    compute the stats, write no listings\n"
    "  --update-ppm P  daily update probability, parts per million (default 10000 = 1 %)\n"
    "  --remove-ppm P  daily removal probability (default 2000 = 0.2 %)\n"
    "  --create-ppm P  new listings per day, ppm of N (default 2000 = 0.2 %)\n";

[[noreturn]] void Fail(int code, const std::string& message) {
  std::fprintf(stderr, "syncmgr-gen: %s\n", message.c_str());
  std::exit(code);
}

template <typename T>
T ParseUint(std::string_view flag, std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    Fail(2, std::string(flag) + " wants a non-negative integer, got '" + std::string(text) + "'");
  }
  return v;
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) Fail(2, std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--n") {
      a.model.n = ParseUint<uint64_t>(flag, value());
      a.n_given = true;
    } else if (flag == "--day") {
      a.day = ParseUint<uint32_t>(flag, value());
      a.day_given = true;
    } else if (flag == "--seed") {
      a.model.seed = ParseUint<uint64_t>(flag, value());
    } else if (flag == "--out") {
      a.out_path = value();
    } else if (flag == "--json-array") {
      a.json_array = true;
    } else if (flag == "--mode") {
      a.mode = value();
      if (a.mode != "upsert" && a.mode != "full") Fail(2, "--mode is upsert or full");
    } else if (flag == "--stats") {
      a.stats = true;
    } else if (flag == "--stats-out") {
      a.stats_path = value();
    } else if (flag == "--stats-only") {
      a.stats_only = true;
    } else if (flag == "--update-ppm") {
      a.model.update_ppm = ParseUint<uint32_t>(flag, value());
    } else if (flag == "--remove-ppm") {
      a.model.remove_ppm = ParseUint<uint32_t>(flag, value());
    } else if (flag == "--create-ppm") {
      a.model.create_ppm = ParseUint<uint32_t>(flag, value());
    } else if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    } else {
      Fail(2, "unknown argument '" + std::string(flag) + "' (see --help)");
    }
  }
  if (!a.n_given || !a.day_given) Fail(2, "--n and --day are required (see --help)");
  if (a.model.n == 0) Fail(2, "--n must be positive");
  if (!a.mode.empty() && !a.json_array) Fail(2, "--mode needs --json-array");
  if (a.model.update_ppm + uint64_t{a.model.remove_ppm} > 1000000) {
    Fail(2, "--update-ppm + --remove-ppm must not exceed 1000000");
  }
  DayModel m(a.model);
  if (m.IdLimit(a.day) >= kIdModulus - 1) Fail(2, "--n and --day give more than 2^31 - 2 ids");
  return a;
}

// Writes to a file or stdout from a background thread, so that generating the
// next chunk overlaps the write(2) of the previous one (page-cache writes cost
// about as much CPU as generating the bytes).
class Output {
 public:
  explicit Output(const std::string& path) {
    if (path.empty()) {
      fd_ = STDOUT_FILENO;
    } else {
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd_ < 0) Fail(1, "cannot open " + path + ": " + std::strerror(errno));
      owned_ = true;
    }
    writer_ = std::thread([this] { WriterLoop(); });
  }
  ~Output() { Close(); }

  // Takes the contents of `buf` (leaving it empty, capacity kept) and queues
  // them; waits while the previous chunk is still being written.
  void Submit(std::string& buf) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !has_pending_; });
    pending_.swap(buf);
    buf.clear();
    has_pending_ = true;
    bytes_ += pending_.size();
    cv_.notify_all();
  }
  // Writes everything queued and closes. Idempotent.
  void Close() {
    if (!writer_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      cv_.notify_all();
    }
    writer_.join();
    if (owned_ && ::close(fd_) != 0) Fail(1, std::string("close failed: ") + std::strerror(errno));
  }
  uint64_t bytes() const { return bytes_; }

 private:
  void WriterLoop() {
    std::string chunk;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return has_pending_ || closing_; });
        if (!has_pending_) return;  // closing and drained
        chunk.swap(pending_);
        has_pending_ = false;
        cv_.notify_all();
      }
      size_t off = 0;
      while (off < chunk.size()) {
        ssize_t n = ::write(fd_, chunk.data() + off, chunk.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) Fail(1, std::string("write failed: ") + std::strerror(errno));
        off += static_cast<size_t>(n);
      }
      chunk.clear();
    }
  }

  int fd_ = -1;
  bool owned_ = false;
  uint64_t bytes_ = 0;  // submitted so far; only touched by the producer
  std::thread writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;       // guarded by mu_
  bool has_pending_ = false;  // guarded by mu_
  bool closing_ = false;      // guarded by mu_
};

std::string StatsJson(const Args& a, const DayStats& st, std::optional<uint64_t> bytes) {
  char buf[512];
  int len = std::snprintf(
      buf, sizeof buf,
      "{\"generator\":\"syncmgr-gen\",\"n\":%llu,\"day\":%u,\"seed\":%llu,\"received\":%llu,"
      "\"created\":%llu,\"updated\":%llu,\"unchanged\":%llu,\"removed\":%llu",
      static_cast<unsigned long long>(a.model.n), a.day,
      static_cast<unsigned long long>(a.model.seed), static_cast<unsigned long long>(st.received),
      static_cast<unsigned long long>(st.created), static_cast<unsigned long long>(st.updated),
      static_cast<unsigned long long>(st.unchanged), static_cast<unsigned long long>(st.removed));
  std::string out(buf, static_cast<size_t>(len));
  if (bytes) out += ",\"bytes\":" + std::to_string(*bytes);
  out += "}\n";
  return out;
}

int Run(int argc, char** argv) {
  const Args a = ParseArgs(argc, argv);
  const DayModel model(a.model);
  DayStats st;
  std::optional<uint64_t> bytes;

  if (a.stats_only) {
    st = model.Stats(a.day);
  } else {
    Output out(a.out_path);
    ListingWriter writer(a.model);
    std::string buf;
    buf.reserve(kFlushBytes + (64 << 10));
    buf.append(a.json_array ? "{\"data\":[" : "");
    bool first = true;
    const uint64_t limit = model.IdLimit(a.day);
    for (uint64_t id = 0; id < limit; ++id) {
      const ListingState s = model.StateAt(id, a.day);
      st.Add(s);
      if (!s.alive) continue;
      if (a.json_array && !first) buf.push_back(',');
      first = false;
      writer.Append(s, a.day, buf);
      if (!a.json_array) buf.push_back('\n');
      if (buf.size() >= kFlushBytes) out.Submit(buf);
    }
    if (a.json_array) {
      buf.append("]");
      if (!a.mode.empty()) buf.append(",\"mode\":\"" + a.mode + "\"");
      buf.append("}\n");
    }
    out.Submit(buf);
    out.Close();
    bytes = out.bytes();
  }

  const std::string json = StatsJson(a, st, bytes);
  if (a.stats || a.stats_only) std::fputs(json.c_str(), stderr);
  if (!a.stats_path.empty()) {
    std::FILE* f = std::fopen(a.stats_path.c_str(), "w");
    if (f == nullptr || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0) {
      Fail(1, "cannot write " + a.stats_path);
    }
  }
  return 0;
}

}  // namespace
}  // namespace syncmgr::gen

int main(int argc, char** argv) { return syncmgr::gen::Run(argc, argv); }
