// kill_loop: SPEC §3 guarantees 1–3 against the real server, killed with
// SIGKILL at random instants (issue 7, item 1).
//
//   kill_loop [--cycles N] [--seed S] [--bin PATH] [--clients K]
//             [--min-ms A] [--max-ms B] [--keep DIR] [--verify-every V]
//             [--bulk-min-bytes N] [--write-chunk-bytes N]
//
// Each cycle starts `syncmgr serve` on a loopback port over one data
// directory, lets K client threads drive imports (JSON upsert and full,
// NDJSON upsert), syncs and manual edits over HTTP, SIGKILLs the server at a
// random instant in [A, B] ms, then opens the directory with the engine
// (which recovers exactly as the next server start would) and checks:
//   * durability: every write that got a 2xx is present at the seq it
//     answered — an import by its import-log entry and every item's content
//     as of its seq, a sync by its sync-log entry, an edit by its content as
//     of its seq; the tenant's last seq is at least every answered seq;
//   * atomicity: every import that was in flight when the server died (no
//     answer) is wholly present or wholly absent (its item ids are unique);
//   * views = fold(log): `syncmgr replay --db DIR --verify` when the binary
//     has it, else Engine::VerifyViews in-process. That refolds the whole
//     log, so its cost grows with every cycle; --verify-every V runs it after
//     every V-th cycle and always after the last (default 1: every cycle).
//     The durability and atomicity checks run after every cycle regardless.
// The server runs with --bulk-ingest-min-bytes N (default 16 KiB): the
// larger operations commit by bulk ingestion, so kills land in both paths;
// and with --write-chunk-bytes M (default 16 KiB; 0: not passed), so that the larger imports
// (up to ~36 KB of items) write log chunks ahead, each built and ingested
// on the ingest pipeline's threads while the import goes on.
// Every wait is bounded. Exit status 0 when every check of every cycle
// passed; the last line reports cycles, acknowledged writes and losses.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

extern char** environ;

namespace syncmgr::killloop {
namespace {

namespace fs = std::filesystem;
using testing::HttpClient;
using testing::HttpRequest;
using testing::HttpResponse;
using testing::JsonDoc;
using Clock = std::chrono::steady_clock;

constexpr const char* kAdminKey = "kill-loop-admin-key-0123456789abcdef";
// How long the server may take to print its listening line.
constexpr auto kStartTimeout = std::chrono::seconds(60);
// Each client request's deadline (the server is killed long before).
constexpr auto kRequestTimeout = std::chrono::milliseconds(20'000);
// Ops a client thread runs per cycle at most (it normally stops at the kill).
constexpr int kMaxOpsPerClient = 2000;
// Items checked per import of an earlier cycle (all of the current cycle's).
constexpr size_t kOldItemsChecked = 2;

struct Config {
  int cycles = 5;
  uint64_t seed = 1;
  std::string bin = SYNCMGR_BIN;
  int clients = 4;
  int min_ms = 150;
  int max_ms = 1500;
  std::string keep;  // non-empty: use this directory and keep it
  int verify_every = 1;  // views = fold(log) after every V-th cycle and the last
  // The server's --bulk-ingest-min-bytes: low, so that the larger imports
  // and syncs commit by bulk ingestion and the smaller ones through the WAL,
  // and kills land in both paths.
  uint64_t bulk_min_bytes = 16 << 10;
  // The server's --write-chunk-bytes: low, so that imports write log chunks
  // ahead of their commit (bulk-ingested on the pipeline's threads when they
  // reach bulk_min_bytes), and kills land while chunks are being built.
  // 0: the server's default (for binaries without the flag).
  uint64_t write_chunk_bytes = 16 << 10;
};

enum class OpKind { kImport, kSync, kEdit };

// One write a client sent: answered (acknowledged) or not (in flight when
// the server died).
struct Op {
  OpKind kind = OpKind::kImport;
  int cycle = 0;
  int client = 0;
  bool acked = false;
  uint64_t seq = 0;  // answered seq
  uint64_t id = 0;   // import_id / sync_id
  uint32_t stream = 0;  // source (imports) or target (edits, syncs)
  std::string tag;      // unique content marker
  std::vector<std::string> items;  // external_ids (imports), the id (edits)
  uint64_t received = 0;           // imports: items sent
};

struct Totals {
  uint64_t acked = 0, lost = 0, in_flight = 0, partial = 0, verify_failures = 0;
  uint64_t server_deaths = 0;  // the server ended before the loop killed it
  uint64_t verifications = 0;  // views = fold(log) checks run
  uint64_t acked_imports = 0, acked_syncs = 0, acked_edits = 0;
};

// ---- The server process ------------------------------------------------------

struct ServerProcess {
  pid_t pid = -1;
  uint16_t port = 0;
};

std::optional<ServerProcess> StartServer(const Config& cfg, const std::string& db,
                                         const std::string& log_path, std::string* error) {
  int out[2];
  if (pipe(out) != 0) {
    *error = "pipe failed";
    return std::nullopt;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  std::vector<std::string> args = {cfg.bin, "serve", "--db", db, "--port", "0",
                                   "--bulk-ingest-min-bytes", std::to_string(cfg.bulk_min_bytes)};
  if (cfg.write_chunk_bytes != 0) {
    args.insert(args.end(), {"--write-chunk-bytes", std::to_string(cfg.write_chunk_bytes)});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "SYNCMGR_ADMIN_KEY=", 18) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back(std::string("SYNCMGR_ADMIN_KEY=") + kAdminKey);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, cfg.bin.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    *error = "cannot run " + cfg.bin + ": " + std::strerror(rc);
    return std::nullopt;
  }
  // Read stdout until "listening on http://HOST:PORT".
  std::string text;
  const auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[512];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    const size_t at = text.find("listening on http://");
    if (at == std::string::npos) continue;
    const size_t colon = text.find(':', at + std::strlen("listening on http://"));
    const size_t end = text.find_first_not_of("0123456789", colon + 1);
    if (colon == std::string::npos || end == std::string::npos) continue;
    close(out[0]);  // the server's later output goes nowhere (SIGPIPE is ignored there)
    return ServerProcess{pid, static_cast<uint16_t>(std::stoi(text.substr(colon + 1)))};
  }
  close(out[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  *error = "the server did not start; its output: " + text;
  return std::nullopt;
}

// SIGKILLs the server. Returns how it ended if it had already ended by
// itself (a crash: the loop's own kill is the only expected death), or an
// empty string if the kill is what ended it.
std::string KillServer(ServerProcess& server) {
  int status = 0;
  std::string died;
  if (waitpid(server.pid, &status, WNOHANG) == server.pid) {
    died = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                               : "exited with status " + std::to_string(WEXITSTATUS(status));
  } else {
    kill(server.pid, SIGKILL);
    waitpid(server.pid, &status, 0);
  }
  server.pid = -1;
  return died;
}

// ---- The workload ------------------------------------------------------------

// What the clients write into, created in the first cycle.
struct Fixture {
  uint32_t tenant = 0;
  std::string api_key;
  // Per client: its own source and target, so a full import or a sync of
  // one client never touches another's items.
  std::vector<uint32_t> sources, targets;
};

uint64_t U64(const JsonDoc& doc, const char* key) {
  uint64_t v = 0;
  if (doc[key].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

bool SetUp(uint16_t port, int clients, Fixture* fx, std::string* error) {
  HttpClient admin(port);
  admin.set_api_key(kAdminKey);
  admin.set_timeout(kRequestTimeout);
  HttpResponse r = admin.Post("/tenants", R"({"name":"kill-loop"})");
  if (r.status != 201) {
    *error = "POST /tenants: " + std::to_string(r.status) + " " + r.body + admin.error() +
             " (port " + std::to_string(port) + ")";
    return false;
  }
  JsonDoc t(r.body);
  fx->tenant = static_cast<uint32_t>(U64(t, "id"));
  fx->api_key = std::string(std::string_view(t["api_key"]));
  HttpClient c(port);
  c.set_api_key(fx->api_key);
  c.set_timeout(kRequestTimeout);
  for (int i = 0; i < clients; ++i) {
    r = c.Post("/sources", R"({"name":"s)" + std::to_string(i) + R"("})");
    if (r.status != 201) {
      *error = "POST /sources: " + r.body;
      return false;
    }
    fx->sources.push_back(static_cast<uint32_t>(U64(JsonDoc(r.body), "id")));
    r = c.Post("/targets", R"({"name":"t)" + std::to_string(i) + R"("})");
    if (r.status != 201) {
      *error = "POST /targets: " + r.body;
      return false;
    }
    fx->targets.push_back(static_cast<uint32_t>(U64(JsonDoc(r.body), "id")));
  }
  return true;
}

// One client thread: random writes until the server stops answering.
void RunClient(uint16_t port, const Fixture& fx, int client, int cycle, uint64_t seed,
               std::vector<Op>* ops, std::atomic<uint64_t>* unexpected) {
  std::mt19937_64 rng(seed);
  HttpClient c(port);
  c.set_api_key(fx.api_key);
  c.set_timeout(kRequestTimeout);
  c.set_retry_stale(false);  // a write must never be sent twice unknowingly
  const uint32_t source = fx.sources[client];
  const uint32_t target = fx.targets[client];
  for (int n = 0; n < kMaxOpsPerClient; ++n) {
    Op op;
    op.cycle = cycle;
    op.client = client;
    op.tag = "c" + std::to_string(cycle) + "-k" + std::to_string(client) + "-n" + std::to_string(n);
    HttpRequest req;
    req.method = "POST";
    const unsigned dice = static_cast<unsigned>(rng() % 10);
    if (dice < 6) {  // import: JSON upsert, JSON full, NDJSON upsert
      op.kind = OpKind::kImport;
      op.stream = source;
      const int items = 1 + static_cast<int>(rng() % 80);
      const unsigned style = static_cast<unsigned>(rng() % 3);
      std::string body;
      for (int i = 0; i < items; ++i) {
        const std::string id = op.tag + "-" + std::to_string(i);
        op.items.push_back(id);
        const std::string item = R"({"external_id":")" + id + R"(","n":)" + std::to_string(i) +
                                 R"(,"pad":")" + std::string(rng() % 400, 'p') + R"(","tag":")" +
                                 op.tag + R"("})";
        if (style == 2) {
          body += item + "\n";
        } else {
          body += (i ? "," : "") + item;
        }
      }
      op.received = static_cast<uint64_t>(items);
      if (style == 2) {
        req.target = "/sources/" + std::to_string(source) + "/import?mode=upsert";
        req.headers.emplace_back("Content-Type", "application/x-ndjson");
        req.body = std::move(body);
        if (rng() % 2) req.chunk_bytes = 4096;
      } else {
        const bool full = style == 1;
        req.target = "/sources/" + std::to_string(source) + "/import" +
                     (full ? "?mode=full&allow_mass_removal=true" : "");
        req.headers.emplace_back("Content-Type", "application/json");
        req.body = "[" + body + "]";
      }
    } else if (dice < 8) {
      op.kind = OpKind::kSync;
      op.stream = target;
      req.target = "/sync/" + std::to_string(source) + "/" + std::to_string(target) +
                   (rng() % 2 ? "?on_conflict=overwrite" : "");
    } else {
      op.kind = OpKind::kEdit;
      op.stream = target;
      const std::string id = "edit-" + op.tag;
      op.items.push_back(id);
      req.method = "PUT";
      req.target = "/targets/" + std::to_string(target) + "/properties/" + id;
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = R"({"edited":true,"tag":")" + op.tag + R"("})";
    }
    HttpResponse r = c.Request(req);
    if (r.status == 0) {  // the server is gone: this one's outcome is unknown
      ops->push_back(std::move(op));
      return;
    }
    const bool ok = r.status == 200 || r.status == 201;
    if (!ok) {
      // Anything but a 2xx from a healthy server is a finding (no write here
      // is invalid); print it, count it, go on.
      std::fprintf(stderr, "kill_loop: unexpected %d for %s %s: %s\n", r.status,
                   req.method.c_str(), req.target.c_str(), r.body.substr(0, 300).c_str());
      unexpected->fetch_add(1);
      continue;
    }
    JsonDoc doc(r.body);
    op.acked = true;
    op.seq = U64(doc, "seq");
    if (op.kind == OpKind::kImport) op.id = U64(doc, "import_id");
    if (op.kind == OpKind::kSync) op.id = U64(doc, "sync_id");
    ops->push_back(std::move(op));
  }
}

// ---- Checks ------------------------------------------------------------------

// Checks one operation against the recovered directory. Returns "" if fine,
// else what is wrong. *present: for an unanswered import, whether it is there.
std::string CheckOp(Engine& engine, const Fixture& fx, const Op& op, bool current_cycle,
                    uint64_t last_seq, bool* present) {
  const TenantId t = fx.tenant;
  *present = false;
  if (op.acked && op.seq > last_seq) {
    return "answered seq " + std::to_string(op.seq) + " > last seq " + std::to_string(last_seq);
  }
  switch (op.kind) {
    case OpKind::kImport: {
      if (!op.acked) {  // all or nothing: count the items that ever existed
        size_t there = 0;
        for (const std::string& id : op.items) {
          there += engine.History(t, StreamRef{StreamKind::kSource, op.stream}, id).ok();
        }
        *present = there == op.items.size();
        if (there != 0 && there != op.items.size()) {
          return "import " + op.tag + " is partial: " + std::to_string(there) + " of " +
                 std::to_string(op.items.size()) + " items";
        }
        return "";
      }
      StatusOr<ImportLogEntry> entry = engine.GetImport(t, op.id);
      if (!entry.ok()) return "import " + std::to_string(op.id) + " missing from the import log";
      if (entry->seq != op.seq) return "import " + std::to_string(op.id) + " has another seq";
      const size_t n = current_cycle ? op.items.size() : std::min(op.items.size(), kOldItemsChecked);
      ReadOptions as_of;
      as_of.as_of_seq = op.seq;
      for (size_t i = 0; i < n; ++i) {
        StatusOr<PropertyRecord> p =
            engine.GetProperty(t, StreamRef{StreamKind::kSource, op.stream}, op.items[i], as_of);
        if (!p.ok()) return "item " + op.items[i] + " of acknowledged import missing";
        if (p->data.find(op.tag) == std::string::npos) return "item " + op.items[i] + " changed";
      }
      return "";
    }
    case OpKind::kSync: {
      if (!op.acked) return "";  // a sync in flight: either way is fine
      StatusOr<SyncLogEntry> entry = engine.GetSyncLog(t, op.id);
      if (!entry.ok()) return "sync " + std::to_string(op.id) + " missing from the sync log";
      return "";
    }
    case OpKind::kEdit: {
      if (!op.acked) return "";
      ReadOptions as_of;
      as_of.as_of_seq = op.seq;
      StatusOr<PropertyRecord> p =
          engine.GetProperty(t, StreamRef{StreamKind::kTarget, op.stream}, op.items[0], as_of);
      if (!p.ok()) return "edit " + op.tag + " missing";
      if (p->data.find(op.tag) == std::string::npos) return "edit " + op.tag + " has other data";
      return "";
    }
  }
  return "";
}

// views = fold(log) through the command line when it has replay --verify.
// Returns nullopt when the binary lacks the command.
std::optional<bool> ReplayVerify(const Config& cfg, const std::string& db, std::string* output) {
  const std::string cmd = "'" + cfg.bin + "' replay --db '" + db + "' --verify --no-progress 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) output->append(buf);
  const int status = pclose(p);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 2 && output->find("replay") != std::string::npos &&
      (output->find("unknown") != std::string::npos || output->find("missing") != std::string::npos)) {
    return std::nullopt;  // usage error: no such command in this binary
  }
  return code == 0;
}

int Main(const Config& cfg) {
  std::string dir_holder;
  std::optional<testing::TempDir> temp;
  if (cfg.keep.empty()) {
    temp.emplace();
    dir_holder = temp->path();
  } else {
    dir_holder = cfg.keep;
    fs::create_directories(dir_holder);
  }
  const std::string db = dir_holder + "/db";
  const std::string log_path = dir_holder + "/server.log";
  std::mt19937_64 rng(cfg.seed);
  Fixture fx;
  std::vector<Op> all;
  Totals totals;
  std::atomic<uint64_t> unexpected{0};
  bool have_replay = true;
  const auto started = Clock::now();
  for (int cycle = 0; cycle < cfg.cycles; ++cycle) {
    std::string error;
    std::optional<ServerProcess> server = StartServer(cfg, db, log_path, &error);
    if (!server) {
      std::fprintf(stderr, "kill_loop: cycle %d: %s\n", cycle, error.c_str());
      return 1;
    }
    if (cycle == 0 && !SetUp(server->port, cfg.clients, &fx, &error)) {
      std::fprintf(stderr, "kill_loop: set-up: %s\n", error.c_str());
      KillServer(*server);
      return 1;
    }
    // Clients run; the server dies at a random instant.
    std::vector<std::vector<Op>> ops(static_cast<size_t>(cfg.clients));
    std::vector<std::thread> threads;
    for (int k = 0; k < cfg.clients; ++k) {
      threads.emplace_back(RunClient, server->port, std::cref(fx), k, cycle, rng(),
                           &ops[static_cast<size_t>(k)], &unexpected);
    }
    const int wait_ms =
        cfg.min_ms + static_cast<int>(rng() % static_cast<uint64_t>(cfg.max_ms - cfg.min_ms + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    const std::string died = KillServer(*server);
    if (!died.empty()) {
      ++totals.server_deaths;
      std::fprintf(stderr, "kill_loop: cycle %d: the server died before the kill (%s); see %s\n",
                   cycle + 1, died.c_str(), log_path.c_str());
    }
    for (auto& th : threads) th.join();
    const size_t first_new = all.size();
    for (auto& v : ops) {
      for (auto& op : v) all.push_back(std::move(op));
    }

    // Reopen as the next server would (recovery included) and check.
    const bool verify_now = (cycle + 1) % cfg.verify_every == 0 || cycle + 1 == cfg.cycles;
    uint64_t cycle_acked = 0, cycle_lost = 0, cycle_partial = 0, cycle_in_flight = 0;
    {
      EngineOptions eo;
      eo.path = db;
      StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(eo);
      if (!engine.ok()) {
        std::fprintf(stderr, "kill_loop: cycle %d: cannot reopen: %s\n", cycle,
                     engine.status().ToString().c_str());
        return 1;
      }
      const uint64_t last_seq = (*engine)->LastSeq(fx.tenant).value();
      for (size_t i = 0; i < all.size(); ++i) {
        const Op& op = all[i];
        const bool current = i >= first_new;
        bool present = false;
        const std::string problem = CheckOp(**engine, fx, op, current, last_seq, &present);
        if (current) {
          if (op.acked) {
            ++cycle_acked;
          } else {
            ++cycle_in_flight;
          }
        }
        if (problem.empty()) continue;
        std::fprintf(stderr, "kill_loop: cycle %d: %s\n", cycle, problem.c_str());
        if (problem.find("partial") != std::string::npos) {
          ++cycle_partial;
        } else {
          ++cycle_lost;
        }
      }
      if (!have_replay && verify_now) {
        ++totals.verifications;
        std::vector<std::string> diffs;
        Status st = (*engine)->VerifyViews(&diffs);
        if (!st.ok()) {
          ++totals.verify_failures;
          std::fprintf(stderr, "kill_loop: cycle %d: VerifyViews: %s %s\n", cycle,
                       st.ToString().c_str(), diffs.empty() ? "" : diffs[0].c_str());
        }
      }
    }
    if (have_replay && verify_now) {
      ++totals.verifications;
      std::string output;
      std::optional<bool> verified = ReplayVerify(cfg, db, &output);
      if (!verified) {
        have_replay = false;  // from the next cycle on: in-process
        EngineOptions eo;
        eo.path = db;
        auto engine = Engine::Open(eo);
        std::vector<std::string> diffs;
        if (!engine.ok() || !(*engine)->VerifyViews(&diffs).ok()) ++totals.verify_failures;
      } else if (!*verified) {
        ++totals.verify_failures;
        std::fprintf(stderr, "kill_loop: cycle %d: replay --verify failed:\n%s\n", cycle,
                     output.c_str());
      }
    }
    for (size_t i = first_new; i < all.size(); ++i) {
      if (!all[i].acked) continue;
      ++totals.acked;
      totals.acked_imports += all[i].kind == OpKind::kImport;
      totals.acked_syncs += all[i].kind == OpKind::kSync;
      totals.acked_edits += all[i].kind == OpKind::kEdit;
    }
    totals.lost += cycle_lost;
    totals.partial += cycle_partial;
    totals.in_flight += cycle_in_flight;
    std::printf("cycle %d: killed after %d ms; %llu acknowledged, %llu in flight; lost %llu, "
                "partial %llu\n",
                cycle + 1, wait_ms, static_cast<unsigned long long>(cycle_acked),
                static_cast<unsigned long long>(cycle_in_flight),
                static_cast<unsigned long long>(cycle_lost),
                static_cast<unsigned long long>(cycle_partial));
    std::fflush(stdout);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf(
      "kill_loop: %d cycles in %.0f s (seed %llu, %d clients): %llu acknowledged writes "
      "(%llu imports, %llu syncs, %llu edits), %llu in flight at a kill; lost %llu, partial "
      "%llu, views != fold(log) %llu times in %llu checks (by %s), unexpected answers %llu, "
      "server deaths before the kill %llu\n",
      cfg.cycles, secs, static_cast<unsigned long long>(cfg.seed), cfg.clients,
      static_cast<unsigned long long>(totals.acked),
      static_cast<unsigned long long>(totals.acked_imports),
      static_cast<unsigned long long>(totals.acked_syncs),
      static_cast<unsigned long long>(totals.acked_edits),
      static_cast<unsigned long long>(totals.in_flight),
      static_cast<unsigned long long>(totals.lost),
      static_cast<unsigned long long>(totals.partial),
      static_cast<unsigned long long>(totals.verify_failures),
      static_cast<unsigned long long>(totals.verifications),
      have_replay ? "syncmgr replay --verify" : "Engine::VerifyViews",
      static_cast<unsigned long long>(unexpected.load()),
      static_cast<unsigned long long>(totals.server_deaths));
  const bool ok = totals.lost == 0 && totals.partial == 0 && totals.verify_failures == 0 &&
                  unexpected.load() == 0 && totals.server_deaths == 0 && totals.acked > 0;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace syncmgr::killloop

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  syncmgr::killloop::Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "kill_loop: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--cycles") {
      cfg.cycles = std::stoi(next());
    } else if (a == "--seed") {
      cfg.seed = std::stoull(next());
    } else if (a == "--bin") {
      cfg.bin = next();
    } else if (a == "--clients") {
      cfg.clients = std::stoi(next());
    } else if (a == "--min-ms") {
      cfg.min_ms = std::stoi(next());
    } else if (a == "--max-ms") {
      cfg.max_ms = std::stoi(next());
    } else if (a == "--keep") {
      cfg.keep = next();
    } else if (a == "--verify-every") {
      cfg.verify_every = std::stoi(next());
    } else if (a == "--bulk-min-bytes") {
      cfg.bulk_min_bytes = std::stoull(next());
    } else if (a == "--write-chunk-bytes") {
      cfg.write_chunk_bytes = std::stoull(next());
    } else {
      std::fprintf(stderr,
                   "usage: kill_loop [--cycles N] [--seed S] [--bin PATH] [--clients K] "
                   "[--min-ms A] [--max-ms B] [--keep DIR] [--verify-every V] [--bulk-min-bytes N] "
                   "[--write-chunk-bytes N]\n");
      return 2;
    }
  }
  if (cfg.cycles < 1 || cfg.clients < 1 || cfg.min_ms < 0 || cfg.max_ms < cfg.min_ms ||
      cfg.verify_every < 1) {
    std::fprintf(stderr, "kill_loop: bad arguments\n");
    return 2;
  }
  return syncmgr::killloop::Main(cfg);
}
