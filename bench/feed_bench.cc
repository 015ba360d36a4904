// feed_bench: the change feed, measured end to end over loopback HTTP
// (issue 4; docs/feed.md).
//
//   1. Commit → delivery latency with 1, 100 and 500 SSE subscribers. A real
//      Server runs in process on 127.0.0.1; the subscribers are raw sockets
//      served by one poll thread (no thread per subscriber on this side
//      either). A writer thread commits small imports, one every
//      `interval_ms`; the engine's commit callback stamps each commit's last
//      seq, the poll thread stamps when each subscriber reads the frame with
//      that `id:`. p50 / p99 over every (commit, subscriber) pair, in ms.
//   2. Catch-up throughput from seq 0: a log of `catchup_events` events is
//      read by one SSE subscriber until `caught_up`, and by a JSON client
//      paging with limit=1000, in events/s.
//
// Prints one JSON object on stdout. `--tiny` is the CI smoke size (ctest
// feed_bench_smoke; no timing asserted); figures come from a release build at
// the default size (docs/benchmarks.md).
//
//   feed_bench [--tiny] [--commits N] [--interval-ms MS] [--catchup-events N]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "server/server.h"

namespace syncmgr {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Args {
  std::vector<int> subscribers = {1, 100, 500};
  int commits = 200;         // commits measured per subscriber count
  int interval_ms = 20;      // between commits
  int catchup_events = 200'000;
  bool tiny = false;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "feed_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> int {
      if (i + 1 >= argc) Die("missing value after " + arg);
      return std::atoi(argv[++i]);
    };
    if (arg == "--tiny") {
      a.tiny = true;
      a.subscribers = {1, 10, 20};
      a.commits = 10;
      a.interval_ms = 10;
      a.catchup_events = 2000;
    } else if (arg == "--commits") {
      a.commits = value();
    } else if (arg == "--interval-ms") {
      a.interval_ms = value();
    } else if (arg == "--catchup-events") {
      a.catchup_events = value();
    } else {
      Die("unknown argument " + arg);
    }
  }
  return a;
}

void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int ConnectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("socket");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Die(std::string("connect: ") + std::strerror(errno));
  }
  return fd;
}

void SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) Die("send");
    sent += static_cast<size_t>(n);
  }
}

// One SSE subscriber: a socket and the lines read from it. Chunk boundaries
// fall between SSE frames (the server writes whole frames), so the chunk
// size lines simply show up as lines of their own and are ignored.
struct Subscriber {
  int fd = -1;
  std::string partial;
  uint64_t last_id = 0;
  bool caught_up = false;
  uint64_t events = 0;
};

// Reads what is available; calls on_id(seq) for each `id:` line of a feed
// event. False when the connection closed.
template <typename OnId>
bool Pump(Subscriber& s, OnId&& on_id) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(s.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    s.partial.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    uint64_t pending_id = 0;
    for (size_t nl; (nl = s.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(s.partial.data() + start, nl - start);
      if (line.starts_with("id: ")) {
        pending_id = std::strtoull(std::string(line.substr(4)).c_str(), nullptr, 10);
      } else if (line.starts_with("event: ")) {
        if (line == "event: caught_up") {
          s.caught_up = true;
        } else if (line != "event: checkpoint") {
          s.last_id = pending_id;
          ++s.events;
          on_id(pending_id);
        }
      }
    }
    s.partial.erase(0, start);
  }
}

std::vector<Subscriber> OpenSubscribers(uint16_t port, const std::string& key, int count,
                                        uint64_t since) {
  std::vector<Subscriber> subs(count);
  const std::string req = "GET /feed?since=" + std::to_string(since) +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                          "X-API-Key: " + key + "\r\n\r\n";
  for (Subscriber& s : subs) {
    s.fd = ConnectLoopback(port);
    SendAll(s.fd, req);
  }
  return subs;
}

// Polls until pred() or the deadline; returns pred().
template <typename OnId, typename Pred>
bool PollUntil(std::vector<Subscriber>& subs, OnId&& on_id, Pred&& pred,
               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<pollfd> fds(subs.size());
  for (size_t i = 0; i < subs.size(); ++i) fds[i] = pollfd{subs[i].fd, POLLIN, 0};
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
    for (size_t i = 0; i < subs.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (!Pump(subs[i], [&](uint64_t seq) { on_id(i, seq); })) Die("a subscriber was closed");
    }
  }
  return true;
}

std::string Item(const std::string& id, int price, size_t pad) {
  return R"({"external_id":")" + id + R"(","price":)" + std::to_string(price) +
         R"(,"city":"Lyon","rooms":3,"text":")" + std::string(pad, 'x') + R"("})";
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

struct LatencyResult {
  int subscribers = 0;
  size_t samples = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

LatencyResult MeasureLatency(Engine& engine, uint16_t port, TenantId tenant,
                             const std::string& key, int count, const Args& args) {
  std::mutex mu;
  std::map<uint64_t, Clock::time_point> committed;  // last seq of a commit → when
  const uint64_t handle = engine.SubscribeCommits([&](TenantId t, uint64_t seq) {
    if (t != tenant) return;
    std::lock_guard lock(mu);
    committed[seq] = Clock::now();
  });
  const uint64_t start = *engine.LastSeq(tenant);
  std::vector<Subscriber> subs = OpenSubscribers(port, key, count, start);
  // Arrival times per seq; matched with the commit stamps afterwards (a
  // subscriber that is awake may read a commit as soon as it is published,
  // a hair before the commit callbacks have run: that counts as 0).
  std::vector<std::pair<uint64_t, Clock::time_point>> arrivals;
  auto on_id = [&](size_t, uint64_t seq) { arrivals.emplace_back(seq, Clock::now()); };
  if (!PollUntil(subs, on_id,
                 [&] {
                   return std::all_of(subs.begin(), subs.end(),
                                      [](const Subscriber& s) { return s.caught_up; });
                 },
                 std::chrono::seconds(120))) {
    Die("subscribers did not catch up");
  }
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; i < args.commits; ++i) {
      ImportOptions io;
      StatusOr<ImportResult> r =
          engine.Import(tenant, 1, io, "[" + Item("lat" + std::to_string(i), i, 200) + "]");
      Check(r.status(), "import");
      std::this_thread::sleep_for(std::chrono::milliseconds(args.interval_ms));
    }
    writing.store(false);
  });
  uint64_t end = 0;
  PollUntil(subs, on_id,
            [&] {
              if (writing.load()) return false;
              if (end == 0) end = *engine.LastSeq(tenant);
              return std::all_of(subs.begin(), subs.end(),
                                 [&](const Subscriber& s) { return s.last_id >= end; });
            },
            std::chrono::seconds(300));
  writer.join();
  engine.UnsubscribeCommits(handle);
  for (Subscriber& s : subs) ::close(s.fd);
  LatencyResult r;
  r.subscribers = count;
  {
    std::lock_guard lock(mu);
    std::vector<double> latencies_ms;
    for (const auto& [seq, at] : arrivals) {
      auto it = committed.find(seq);
      if (it == committed.end()) continue;  // not the last seq of a commit
      latencies_ms.push_back(
          std::max(0.0, std::chrono::duration<double, std::milli>(at - it->second).count()));
    }
    r.samples = latencies_ms.size();
    r.p50_ms = Percentile(latencies_ms, 0.50);
    r.p99_ms = Percentile(latencies_ms, 0.99);
    r.max_ms = latencies_ms.empty() ? 0 : *std::max_element(latencies_ms.begin(), latencies_ms.end());
  }
  if (r.samples != static_cast<size_t>(args.commits) * count) {
    std::fprintf(stderr, "feed_bench: %zu samples, expected %d (a commit may cover several)\n",
                 r.samples, args.commits * count);
  }
  return r;
}

// GET with Connection: close; returns the body (chunked bodies decoded).
std::string HttpGet(uint16_t port, const std::string& target, const std::string& key) {
  const int fd = ConnectLoopback(port);
  SendAll(fd, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key +
                  "\r\nConnection: close\r\n\r\n");
  std::string raw;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) raw.append(buf, n);
  ::close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) Die("bad HTTP answer");
  std::string body = raw.substr(head_end + 4);
  if (raw.substr(0, head_end).find("chunked") == std::string::npos) return body;
  std::string out;
  for (size_t pos = 0;;) {
    const size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const size_t size = std::strtoull(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    if (size == 0) break;
    out.append(body, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

struct CatchupResult {
  uint64_t events = 0;
  double sse_events_per_s = 0;
  double json_events_per_s = 0;
};

CatchupResult MeasureCatchup(Engine& engine, uint16_t port, TenantId tenant,
                             const std::string& key, const Args& args) {
  // A log of catchup_events property events (+ one import.completed per
  // batch) in source 2, ~700-byte listings.
  constexpr int kBatch = 5000;
  const uint64_t before = *engine.LastSeq(tenant);
  for (int done = 0; done < args.catchup_events;) {
    const int n = std::min(kBatch, args.catchup_events - done);
    std::string body = "[";
    for (int i = 0; i < n; ++i) {
      if (i) body += ",";
      body += Item("c" + std::to_string(done + i), done + i, 600);
    }
    body += "]";
    Check(engine.Import(tenant, 2, ImportOptions{}, body).status(), "catch-up import");
    done += n;
  }
  CatchupResult r;
  const uint64_t end = *engine.LastSeq(tenant);
  r.events = end - before;

  std::vector<Subscriber> subs = OpenSubscribers(port, key, 1, before);
  const auto t0 = Clock::now();
  if (!PollUntil(subs, [](size_t, uint64_t) {}, [&] { return subs[0].caught_up; },
                 std::chrono::seconds(600))) {
    Die("catch-up did not finish");
  }
  const double sse_s = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(subs[0].fd);
  if (subs[0].events != r.events) Die("catch-up: wrong number of events");
  r.sse_events_per_s = static_cast<double>(r.events) / sse_s;

  const auto t1 = Clock::now();
  uint64_t pos = before;
  uint64_t got = 0;
  while (pos < end) {
    const std::string body =
        HttpGet(port, "/feed?limit=1000&since=" + std::to_string(pos), key);
    const size_t at = body.rfind("\"last_seq\":");
    if (at == std::string::npos) Die("bad feed page: " + body.substr(0, 200));
    const uint64_t next = std::strtoull(body.c_str() + at + 11, nullptr, 10);
    if (next <= pos) Die("feed page made no progress");
    size_t count = 0;
    for (size_t p = 0; (p = body.find("{\"seq\":", p)) != std::string::npos; ++p) ++count;
    got += count;
    pos = next;
  }
  const double json_s = std::chrono::duration<double>(Clock::now() - t1).count();
  if (got != r.events) Die("catch-up (JSON): wrong number of events");
  r.json_events_per_s = static_cast<double>(r.events) / json_s;
  return r;
}

int Main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  RaiseFileLimit();
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp ? tmp : "/tmp") + "/feed_bench.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) Die("mkdtemp");
  const std::string dir = templ;

  int rc = 0;
  {
    EngineOptions eo;
    eo.path = dir + "/db";
    eo.min_free_bytes = 0;
    StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(eo);
    Check(engine.status(), "open engine");
    StatusOr<TenantCreatedInfo> tenant = (*engine)->CreateTenant("bench");
    Check(tenant.status(), "create tenant");
    const TenantId t = tenant->tenant.id;
    SourceSpec s1;
    s1.name = "live";
    Check((*engine)->CreateSource(t, s1).status(), "source");
    SourceSpec s2;
    s2.name = "backlog";
    Check((*engine)->CreateSource(t, s2).status(), "source");

    server::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.feed_max_subscribers_per_tenant = 1000;
    so.request_log = [](std::string_view) {};
    server::Server srv(**engine, so);
    Check(srv.Start(), "start server");

    std::vector<LatencyResult> latency;
    for (int count : args.subscribers) {
      latency.push_back(MeasureLatency(**engine, srv.port(), t, tenant->api_key, count, args));
    }
    const CatchupResult catchup = MeasureCatchup(**engine, srv.port(), t, tenant->api_key, args);
    srv.Stop();

    std::printf("{\"bench\":\"feed\",\"tiny\":%s,\"commits\":%d,\"interval_ms\":%d,\"latency\":[",
                args.tiny ? "true" : "false", args.commits, args.interval_ms);
    for (size_t i = 0; i < latency.size(); ++i) {
      const LatencyResult& l = latency[i];
      std::printf("%s{\"subscribers\":%d,\"samples\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
                  "\"max_ms\":%.3f}",
                  i ? "," : "", l.subscribers, l.samples, l.p50_ms, l.p99_ms, l.max_ms);
    }
    std::printf("],\"catchup\":{\"events\":%llu,\"sse_events_per_s\":%.0f,"
                "\"json_events_per_s\":%.0f}}\n",
                static_cast<unsigned long long>(catchup.events), catchup.sse_events_per_s,
                catchup.json_events_per_s);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}

}  // namespace
}  // namespace syncmgr

int main(int argc, char** argv) { return syncmgr::Main(argc, argv); }
