// cluster_kill_loop: cluster mode's guarantees (SPEC §7) against the real
// `syncmgr serve --cluster`, its tenants' owners SIGKILLed at random
// instants while clients write (issue 17, "Kill loop").
//
//   cluster_kill_loop [--cycles N] [--seed S] [--tenants T] [--clients K]
//                     [--min-ms A] [--max-ms B] [--lease-ttl-ms L]
//
// Three nodes over three nats-servers (tests/support/syncmgr_cluster.h).
// K client threads write to T tenants — JSON imports of fresh ids (some
// large enough to travel as chunks), syncs, manual edits — each request to
// a node picked at random, any node: on a failure the next goes elsewhere.
// Each cycle waits a random [A, B] ms, SIGKILLs the node that owns a random
// tenant and restarts it on its directory. Then the clients stop, every
// node catches up, and:
//   * durability: every write that got a 2xx is there on every node — an
//     import by its import-log entry (its seq) and each of its ids, a sync
//     by its sync-log entry, an edit by its content as of its seq;
//   * nothing partial: an import whose outcome is unknown (no answer, or a
//     503 that says so) is wholly present or wholly absent; one refused as
//     "not applied", or sent to a node that was down, is absent;
//   * the same views on every node (property lists, import and sync logs);
//   * views = fold(log), seqs gap-free: `syncmgr replay --db DIR --verify`
//     on every node's directory after a clean stop.
// Every wait is bounded. Exit status 0 when everything holds; the last line
// sums up; the figures (failover: owner killed -> the tenant's next
// acknowledged write) go to docs/reliability.md.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/http_client.h"
#include "tests/support/syncmgr_cluster.h"
#include "tests/support/test_server.h"

namespace syncmgr::clusterloop {
namespace {

using testing::HttpClient;
using testing::HttpRequest;
using testing::HttpResponse;
using testing::JsonDoc;
using testing::SyncmgrCluster;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Each request's deadline: longer than a takeover (lease TTL, fence, catch
// up) and a forwarded import.
constexpr milliseconds kRequestTimeout{60'000};
// How long the checks wait for the nodes to agree.
constexpr auto kConvergeTimeout = std::chrono::seconds(120);
// Items per large import: over one message (1 MiB), so it goes as chunks.
constexpr int kLargeItems = 2500;
constexpr size_t kLargePad = 480;

struct Config {
  int cycles = 5;
  uint64_t seed = 1;
  int tenants = 2;
  int clients = 4;
  int min_ms = 300;
  int max_ms = 1500;
  int lease_ttl_ms = 1500;
};

// kNotSent: the node could not even be connected to (it is down).
enum class Outcome { kAcked, kNotApplied, kUnknown, kNotSent };
enum class Kind { kImport, kSync, kEdit };

struct Op {
  Kind kind = Kind::kImport;
  int tenant = 0;
  Outcome outcome = Outcome::kUnknown;
  uint64_t seq = 0;
  uint64_t id = 0;                 // import_id / sync_id
  std::vector<std::string> items;  // imports: ids; edits: the one id
  int value = 0;                   // edits
  Clock::time_point answered;
};

struct Tenant {
  uint32_t id = 0;
  std::string key;
};

struct Shared {
  std::mutex mu;
  std::vector<Op> ops;  // guarded by mu
  std::atomic<bool> stop{false};
};

std::optional<Tenant> CreateTenant(SyncmgrCluster& c, const std::string& name) {
  HttpClient admin = c.Admin(0);
  admin.set_timeout(kRequestTimeout);
  HttpResponse r = admin.Post("/tenants", R"({"name":")" + name + R"("})");
  if (r.status != 201) {
    std::fprintf(stderr, "create tenant: %d %s\n", r.status, r.body.c_str());
    return std::nullopt;
  }
  JsonDoc doc(r.body);
  Tenant t{static_cast<uint32_t>(uint64_t(doc["id"])),
           std::string(std::string_view(doc["api_key"]))};
  HttpClient client = c.Client(0, t.key);
  client.set_timeout(kRequestTimeout);
  for (const auto& [target, body] : {std::pair{"/sources", R"({"name":"portal","config":{"max_removal_ratio":1}})"},
                                     std::pair{"/targets", R"({"name":"website"})"}}) {
    HttpResponse made;
    for (int attempt = 0; attempt < 100 && made.status != 201; ++attempt) {
      made = client.Post(target, body);
      if (made.status != 201) std::this_thread::sleep_for(milliseconds(100));
    }
    if (made.status != 201) {
      std::fprintf(stderr, "POST %s: %d %s\n", target, made.status, made.body.c_str());
      return std::nullopt;
    }
  }
  return t;
}

Outcome Classify(const HttpResponse& r, const std::string& error) {
  if (r.status == 0 && error.rfind("connect:", 0) == 0) return Outcome::kNotSent;
  if (r.status >= 200 && r.status < 300) return Outcome::kAcked;
  if (r.status == 503 && r.body.find("not applied") != std::string::npos) {
    return Outcome::kNotApplied;
  }
  return Outcome::kUnknown;
}

void ClientLoop(SyncmgrCluster* cluster, const std::vector<Tenant>* tenants, int client,
                uint64_t seed, Shared* shared) {
  std::mt19937_64 rng(seed);
  const int tenant = client % static_cast<int>(tenants->size());
  const Tenant& t = (*tenants)[tenant];
  for (int n = 0; !shared->stop.load(); ++n) {
    const int node = static_cast<int>(rng() % cluster->size());
    HttpClient c = cluster->Client(node, t.key);
    c.set_timeout(kRequestTimeout);
    c.set_retry_stale(false);  // a write is never sent twice
    Op op;
    op.tenant = tenant;
    HttpRequest req;
    req.headers = {{"Content-Type", "application/json"}};
    const int what = static_cast<int>(rng() % 20);
    if (what < 12) {
      op.kind = Kind::kImport;
      const bool large = what == 0;
      const int count = large ? kLargeItems : 1 + static_cast<int>(rng() % 40);
      const std::string pad = large ? std::string(kLargePad, 'x') : "";
      req.method = "POST";
      req.target = "/sources/1/import";
      req.body = "[";
      for (int i = 0; i < count; ++i) {
        const std::string id =
            "c" + std::to_string(client) + "-o" + std::to_string(n) + "-i" + std::to_string(i);
        op.items.push_back(id);
        if (i) req.body += ",";
        req.body += R"({"external_id":")" + id + R"(","n":)" + std::to_string(n) +
                    (large ? R"(,"pad":")" + pad + "\"" : "") + "}";
      }
      req.body += "]";
    } else if (what < 17) {
      op.kind = Kind::kSync;
      req.method = "POST";
      req.target = "/sync/1/1";
      req.headers.clear();
    } else {
      op.kind = Kind::kEdit;
      op.value = n;
      op.items = {"e-c" + std::to_string(client) + "-o" + std::to_string(n)};
      req.method = "PUT";
      req.target = "/targets/1/properties/" + op.items[0];
      req.body = R"({"v":)" + std::to_string(n) + "}";
    }
    HttpResponse r = c.Request(req);
    op.outcome = Classify(r, c.error());
    op.answered = Clock::now();
    if (op.outcome == Outcome::kAcked) {
      JsonDoc doc(r.body);
      op.seq = uint64_t(doc["seq"]);
      if (op.kind == Kind::kImport) op.id = uint64_t(doc["import_id"]);
      if (op.kind == Kind::kSync) op.id = uint64_t(doc["sync_id"]);
    } else {
      // Another node next time; a short pause so a takeover can settle.
      std::this_thread::sleep_for(milliseconds(50));
    }
    std::lock_guard lock(shared->mu);
    shared->ops.push_back(std::move(op));
  }
}

// Waits until every node reports the same position, equal to the stream's
// end: all of them folded everything.
bool Converge(SyncmgrCluster& c) {
  const auto deadline = Clock::now() + kConvergeTimeout;
  while (Clock::now() < deadline) {
    std::set<double> applied;
    bool behind = false;
    for (int i = 0; i < c.size(); ++i) {
      std::optional<double> a = c.Metric(i, "syncmgr_cluster_applied_seq");
      std::optional<double> last = c.Metric(i, "syncmgr_cluster_stream_last_seq");
      if (!a || !last || *a < *last) behind = true;
      if (a) applied.insert(*a);
    }
    if (!behind && applied.size() == 1) return true;
    std::this_thread::sleep_for(milliseconds(200));
  }
  return false;
}

std::set<std::string> Ids(const std::string& list_body) {
  std::set<std::string> out;
  JsonDoc doc(list_body);
  simdjson::dom::array items;
  if (doc.root().get(items)) return out;
  for (simdjson::dom::element e : items) out.insert(std::string(std::string_view(e["external_id"])));
  return out;
}

int Run(const Config& cfg) {
  SyncmgrCluster cluster(SYNCMGR_BIN);
  testing::SyncmgrClusterOptions options;
  options.lease_ttl = milliseconds(cfg.lease_ttl_ms);
  if (!cluster.Start(options)) {
    std::fprintf(stderr, "cluster did not start: %s\n", cluster.error().c_str());
    return 2;
  }
  std::vector<Tenant> tenants;
  for (int i = 0; i < cfg.tenants; ++i) {
    std::optional<Tenant> t = CreateTenant(cluster, "tenant" + std::to_string(i));
    if (!t) return 2;
    tenants.push_back(*t);
  }
  Shared shared;
  std::vector<std::thread> clients;
  for (int i = 0; i < cfg.clients; ++i) {
    clients.emplace_back(ClientLoop, &cluster, &tenants, i, cfg.seed * 1000 + i, &shared);
  }
  std::mt19937_64 rng(cfg.seed);
  std::vector<std::pair<int, Clock::time_point>> kills;  // tenant, when its owner died
  int restart_failures = 0;
  for (int cycle = 1; cycle <= cfg.cycles; ++cycle) {
    std::this_thread::sleep_for(milliseconds(
        cfg.min_ms + static_cast<int>(rng() % static_cast<uint64_t>(cfg.max_ms - cfg.min_ms + 1))));
    const int tenant = static_cast<int>(rng() % tenants.size());
    int victim = cluster.OwnerOf(tenants[tenant].id);
    if (victim < 0) victim = static_cast<int>(rng() % cluster.size());
    cluster.Kill(victim);
    kills.emplace_back(tenant, Clock::now());
    // Restarted at once (it takes its tenants back: a node may replace its
    // own dead process's lease) or after up to 3 lease TTLs (another node
    // has taken them over by then).
    const int down_ms = static_cast<int>(rng() % static_cast<uint64_t>(3 * cfg.lease_ttl_ms + 1));
    std::printf("cycle %d: killed node%d (owner of tenant %u), down %d ms\n", cycle, victim,
                tenants[tenant].id, down_ms);
    std::fflush(stdout);
    std::this_thread::sleep_for(milliseconds(down_ms));
    if (!cluster.Restart(victim)) {
      ++restart_failures;
      std::fprintf(stderr, "node%d did not restart: %s\n", victim, cluster.error().c_str());
    }
  }
  shared.stop.store(true);
  for (std::thread& t : clients) t.join();

  uint64_t acked = 0, not_applied = 0, unknown = 0, lost = 0, partial = 0, present_refused = 0,
           disagreements = 0, verify_failures = 0;
  const bool converged = Converge(cluster);
  if (!converged) std::fprintf(stderr, "the nodes did not converge in time\n%s\n", cluster.Logs().c_str());
  for (size_t ti = 0; ti < tenants.size(); ++ti) {
    const Tenant& t = tenants[ti];
    // Views on every node.
    std::vector<std::string> views;
    std::set<std::string> source_ids;
    for (int node = 0; node < cluster.size(); ++node) {
      HttpClient c = cluster.Client(node, t.key);
      c.set_timeout(kRequestTimeout);
      std::string all;
      for (const char* target : {"/sources/1/properties", "/targets/1/properties",
                                 "/imports?limit=1000", "/sync_logs?limit=1000"}) {
        HttpResponse r = c.Get(target);
        if (r.status != 200) std::fprintf(stderr, "node%d %s: %d\n", node, target, r.status);
        all += r.body + "\n";
        if (node == 0 && std::string(target) == "/sources/1/properties") source_ids = Ids(r.body);
      }
      views.push_back(std::move(all));
    }
    for (int node = 1; node < cluster.size(); ++node) {
      if (views[node] != views[0]) {
        ++disagreements;
        std::fprintf(stderr, "tenant %u: node%d's views differ from node0's\n", t.id, node);
      }
    }
    HttpClient c = cluster.Client(0, t.key);
    c.set_timeout(kRequestTimeout);
    std::lock_guard lock(shared.mu);
    for (const Op& op : shared.ops) {
      if (op.tenant != static_cast<int>(ti)) continue;
      if (op.outcome == Outcome::kAcked) ++acked;
      if (op.outcome == Outcome::kNotApplied || op.outcome == Outcome::kNotSent) ++not_applied;
      if (op.outcome == Outcome::kUnknown) ++unknown;
      if (op.kind == Kind::kImport) {
        size_t present = 0;
        for (const std::string& id : op.items) present += source_ids.count(id);
        if (op.outcome == Outcome::kAcked) {
          HttpResponse log = c.Get("/imports/" + std::to_string(op.id));
          const bool logged =
              log.status == 200 && uint64_t(JsonDoc(log.body)["seq"]) == op.seq;
          if (!logged || present != op.items.size()) {
            ++lost;
            std::fprintf(stderr, "tenant %u: acknowledged import %lu (seq %lu) lost (%zu/%zu)\n",
                         t.id, static_cast<unsigned long>(op.id),
                         static_cast<unsigned long>(op.seq), present, op.items.size());
          }
        } else if (present != 0 && present != op.items.size()) {
          ++partial;
          std::fprintf(stderr, "tenant %u: import %s partly applied (%zu/%zu)\n", t.id,
                       op.items[0].c_str(), present, op.items.size());
        } else if (op.outcome != Outcome::kUnknown && present != 0) {
          ++present_refused;
          std::fprintf(stderr, "tenant %u: import %s answered 'not applied' but is there\n", t.id,
                       op.items[0].c_str());
        }
      } else if (op.kind == Kind::kSync && op.outcome == Outcome::kAcked) {
        HttpResponse log = c.Get("/sync_logs/" + std::to_string(op.id));
        if (log.status != 200 || uint64_t(JsonDoc(log.body)["seq"]) != op.seq) {
          ++lost;
          std::fprintf(stderr, "tenant %u: acknowledged sync %lu lost\n", t.id,
                       static_cast<unsigned long>(op.id));
        }
      } else if (op.kind == Kind::kEdit && op.outcome == Outcome::kAcked) {
        HttpResponse p = c.Get("/targets/1/properties/" + op.items[0] +
                               "?as_of=" + std::to_string(op.seq));
        if (p.status != 200 ||
            p.body.find("\"v\":" + std::to_string(op.value)) == std::string::npos) {
          ++lost;
          std::fprintf(stderr, "tenant %u: acknowledged edit %s lost (%d)\n", t.id,
                       op.items[0].c_str(), p.status);
        }
      }
    }
  }
  // Failover: an owner killed -> the next acknowledged write of its tenant.
  std::vector<double> failover_ms;
  {
    std::lock_guard lock(shared.mu);
    for (const auto& [tenant, when] : kills) {
      std::optional<Clock::time_point> first;
      for (const Op& op : shared.ops) {
        if (op.tenant == tenant && op.outcome == Outcome::kAcked && op.answered > when &&
            (!first || op.answered < *first)) {
          first = op.answered;
        }
      }
      if (first) {
        failover_ms.push_back(
            std::chrono::duration<double, std::milli>(*first - when).count());
      }
    }
  }
  std::sort(failover_ms.begin(), failover_ms.end());
  // Views = fold(log) on every node's directory, after a clean stop.
  for (int node = 0; node < cluster.size(); ++node) {
    std::optional<int> code = cluster.Stop(node);
    if (!code || *code != 0) std::fprintf(stderr, "node%d did not stop cleanly\n", node);
    testing::ProcessResult v =
        testing::RunProcess({SYNCMGR_BIN, "replay", "--db", cluster.db(node), "--verify"});
    if (v.exit_code != 0) {
      ++verify_failures;
      std::fprintf(stderr, "node%d: replay --verify: %s%s\n", node, v.out.c_str(), v.err.c_str());
    }
  }
  const bool ok = converged && lost == 0 && partial == 0 && present_refused == 0 &&
                  disagreements == 0 && verify_failures == 0 && restart_failures == 0 &&
                  acked > 0;
  std::printf(
      "cluster kill loop: %d cycles, %d tenants, %d clients: %lu acknowledged, %lu not applied or not sent, "
      "%lu unknown (no answer); lost %lu, partial %lu, refused-but-present %lu, views differing %lu, "
      "verify failures %lu, restart failures %d; failover ms (kill -> next ack) median %.0f max "
      "%.0f over %zu; %s\n",
      cfg.cycles, cfg.tenants, cfg.clients, static_cast<unsigned long>(acked),
      static_cast<unsigned long>(not_applied), static_cast<unsigned long>(unknown),
      static_cast<unsigned long>(lost), static_cast<unsigned long>(partial),
      static_cast<unsigned long>(present_refused), static_cast<unsigned long>(disagreements),
      static_cast<unsigned long>(verify_failures), restart_failures,
      failover_ms.empty() ? 0.0 : failover_ms[failover_ms.size() / 2],
      failover_ms.empty() ? 0.0 : failover_ms.back(), failover_ms.size(), ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace syncmgr::clusterloop

int main(int argc, char** argv) {
  syncmgr::clusterloop::Config cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const long value = std::atol(argv[i + 1]);
    if (flag == "--cycles") cfg.cycles = static_cast<int>(value);
    else if (flag == "--seed") cfg.seed = static_cast<uint64_t>(value);
    else if (flag == "--tenants") cfg.tenants = static_cast<int>(value);
    else if (flag == "--clients") cfg.clients = static_cast<int>(value);
    else if (flag == "--min-ms") cfg.min_ms = static_cast<int>(value);
    else if (flag == "--max-ms") cfg.max_ms = static_cast<int>(value);
    else if (flag == "--lease-ttl-ms") cfg.lease_ttl_ms = static_cast<int>(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (cfg.cycles < 1 || cfg.tenants < 1 || cfg.clients < 1 || cfg.min_ms < 0 ||
      cfg.max_ms < cfg.min_ms) {
    std::fprintf(stderr, "bad flags\n");
    return 2;
  }
  return syncmgr::clusterloop::Run(cfg);
}
