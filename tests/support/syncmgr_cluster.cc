#include "tests/support/syncmgr_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "cluster/kv.h"
#include "cluster/layout.h"
#include "cluster/messages.h"
#include "tests/support/process.h"

namespace syncmgr::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kHealthPoll{100};
constexpr std::chrono::seconds kKillWait{30};
constexpr std::chrono::seconds kStopWait{60};

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace

SyncmgrCluster::SyncmgrCluster(std::string bin) : bin_(std::move(bin)) {}

SyncmgrCluster::~SyncmgrCluster() {
  for (auto& n : nodes_) {
    if (n.process == nullptr) continue;
    n.process->Signal(SIGCONT);  // a paused node would not die of SIGTERM
    n.process->Stop(SIGKILL, kKillWait);
  }
  nodes_.clear();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);  // best effort: a leftover temp dir is harmless
  }
}

bool SyncmgrCluster::Fail(const std::string& what) {
  error_ = what + "\n" + Logs();
  return false;
}

std::string SyncmgrCluster::Logs() const {
  std::ostringstream out;
  for (int i = 0; i < size(); ++i) {
    out << "\n--- " << name(i) << " log ---\n" << LogTail(i);
  }
  for (int i = 0; i < nats_.size(); ++i) {
    out << "\n--- nats " << i << " log ---\n" << nats_.LogTail(i, 1500);
  }
  return out.str();
}

std::string SyncmgrCluster::LogTail(int i, size_t bytes) const { return Tail(nodes_[i].log, bytes); }

bool SyncmgrCluster::Start(const SyncmgrClusterOptions& options) {
  options_ = options;
  if (!NatsCluster::BinaryPresent()) return Fail("nats-server is missing: run scripts/bootstrap.sh");
  if (!nats_.Start()) return Fail("NATS: " + nats_.error());
  std::random_device rd;
  dir_ = (std::filesystem::temp_directory_path() /
          ("syncmgr-cluster-" + std::to_string(::getpid()) + "-" + std::to_string(rd())))
             .string();
  std::filesystem::create_directories(dir_);
  nodes_.resize(options.nodes);
  for (int i = 0; i < size(); ++i) {
    nodes_[i].db = dir_ + "/" + name(i);
    nodes_[i].log = dir_ + "/" + name(i) + ".log";
    nodes_[i].port = FreeLoopbackPort();
    if (nodes_[i].port == 0) return Fail("no free port");
  }
  // Started one after the other: the first creates the stream and buckets.
  for (int i = 0; i < size(); ++i) {
    if (!LaunchHealthy(i, "start")) return false;
  }
  return true;
}

bool SyncmgrCluster::LaunchHealthy(int i, const char* what) {
  if (!Launch(i)) return false;
  std::string why;
  if (!WaitHealthy(i, &why)) return Fail(name(i) + " did not " + what + ": " + why);
  return true;
}

bool SyncmgrCluster::Launch(int i) {
  std::string servers;
  for (const std::string& u : nats_.ClientUrls()) servers += (servers.empty() ? "" : ",") + u;
  std::vector<std::string> argv = {bin_,
                                   "serve",
                                   "--db",
                                   nodes_[i].db,
                                   "--port",
                                   std::to_string(nodes_[i].port),
                                   "--cluster",
                                   servers,
                                   "--node",
                                   name(i),
                                   "--advertise",
                                   url(i),
                                   "--lease-ttl",
                                   std::to_string(options_.lease_ttl.count()),
                                   "--cluster-publish-timeout",
                                   std::to_string(options_.publish_timeout.count()),
                                   "--test-hooks"};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  ProcessOptions po;
  po.env = {{"SYNCMGR_ADMIN_KEY", kAdminKey}};
  po.die_with_parent = true;
  nodes_[i].process = std::make_unique<BackgroundProcess>();
  if (!nodes_[i].process->Start(argv, po, nodes_[i].log)) return Fail("cannot start " + name(i));
  return true;
}

bool SyncmgrCluster::WaitHealthy(int i, std::string* why) {
  const auto deadline = Clock::now() + options_.ready_timeout;
  while (Clock::now() < deadline) {
    if (!nodes_[i].process->running()) {
      *why = "it exited";
      return false;
    }
    HttpClient probe(nodes_[i].port);
    probe.set_timeout(std::chrono::milliseconds(2000));
    if (probe.Get("/health").status == 200) return true;
    std::this_thread::sleep_for(kHealthPoll);
  }
  *why = "no /health answer in time";
  return false;
}

int SyncmgrCluster::IndexOf(const std::string& node) const {
  for (int i = 0; i < size(); ++i) {
    if ("node" + std::to_string(i) == node) return i;
  }
  return -1;
}

HttpClient SyncmgrCluster::Client(int i, const std::string& api_key) const {
  HttpClient c(nodes_[i].port);
  c.set_api_key(api_key);
  return c;
}

HttpClient SyncmgrCluster::Admin(int i) const { return Client(i, kAdminKey); }

void SyncmgrCluster::Kill(int i) {
  if (nodes_[i].process == nullptr) return;
  nodes_[i].process->Signal(SIGCONT);
  nodes_[i].process->Stop(SIGKILL, kKillWait);
}

std::optional<int> SyncmgrCluster::Stop(int i) {
  if (nodes_[i].process == nullptr) return std::nullopt;
  return nodes_[i].process->Stop(SIGTERM, kStopWait);
}

bool SyncmgrCluster::Pause(int i) { return nodes_[i].process->Signal(SIGSTOP); }
bool SyncmgrCluster::Resume(int i) { return nodes_[i].process->Signal(SIGCONT); }
bool SyncmgrCluster::PauseReader(int i) { return nodes_[i].process->Signal(SIGUSR1); }
bool SyncmgrCluster::ResumeReader(int i) { return nodes_[i].process->Signal(SIGUSR2); }

bool SyncmgrCluster::running(int i) {
  return nodes_[i].process != nullptr && nodes_[i].process->running();
}

bool SyncmgrCluster::Restart(int i) {
  if (running(i)) Kill(i);
  return LaunchHealthy(i, "restart");
}

int SyncmgrCluster::OwnerOf(uint32_t tenant) {
  cluster::ConnectOptions co;
  co.servers = nats_.ClientUrls();
  auto conn = cluster::Connection::Connect(co);
  if (!conn.ok()) return -1;
  cluster::LayoutOptions layout;
  layout.lease_ttl = options_.lease_ttl;
  auto bucket = cluster::KvBucket::Open(conn->get(), cluster::LeaseBucket(layout));
  if (!bucket.ok()) return -1;
  auto entry = bucket->Get(cluster::TenantLeaseKey(tenant));
  if (!entry.ok()) return -1;
  auto decoded = cluster::DecodeClusterMessage(entry->value);
  if (!decoded.ok()) return -1;
  const auto* holder = std::get_if<cluster::LeaseHolder>(&*decoded);
  return holder == nullptr ? -1 : IndexOf(holder->node);
}

std::optional<double> SyncmgrCluster::Metric(int i, const std::string& series) {
  HttpClient c(nodes_[i].port);
  c.set_timeout(std::chrono::milliseconds(5000));
  HttpResponse r = c.Get("/metrics");
  if (r.status != 200) return std::nullopt;
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series, 0) != 0) continue;
    const char next = line.size() > series.size() ? line[series.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    const size_t space = line.rfind(' ');
    return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

HttpResponse RetryWhileUnavailable(HttpClient& c, const HttpRequest& req,
                                   std::chrono::milliseconds retry_for) {
  const auto deadline = std::chrono::steady_clock::now() + retry_for;
  HttpResponse r;
  do {
    r = c.Request(req);
    if (r.status != 503 && r.status != 0) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return r;
}

HttpResponse RetryPost(HttpClient& c, const std::string& target, const std::string& body,
                       std::chrono::milliseconds retry_for) {
  HttpRequest req;
  req.method = "POST";
  req.target = target;
  req.body = body;
  req.headers = {{"Content-Type", "application/json"}};
  return RetryWhileUnavailable(c, req, retry_for);
}

}  // namespace syncmgr::testing
