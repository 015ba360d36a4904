#include "tests/support/nats_cluster.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cluster/connection.h"
#include "tests/support/process.h"

namespace syncmgr::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kPollWait{100};
constexpr std::chrono::seconds kKillWait{30};
constexpr int kPortAttempts = 200;

}  // namespace

std::string NatsCluster::Binary() {
  const char* env = std::getenv("SYNCMGR_NATS_SERVER");
  return env != nullptr && *env != '\0' ? env : "/usr/sbin/nats-server";
}

bool NatsCluster::BinaryPresent() { return ::access(Binary().c_str(), X_OK) == 0; }

NatsCluster::NatsCluster() = default;

NatsCluster::~NatsCluster() {
  for (auto& s : servers_) {
    if (s.process == nullptr) continue;
    s.process->Signal(SIGCONT);  // a paused server would not die of SIGTERM
    s.process->Stop(SIGKILL, kKillWait);
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);  // best effort: a leftover temp dir is harmless
  }
}

bool NatsCluster::Fail(const std::string& what) {
  std::ostringstream out;
  out << what;
  for (int i = 0; i < size(); ++i) out << "\n--- " << servers_[i].name << " log ---\n" << LogTail(i);
  error_ = out.str();
  return false;
}

std::string NatsCluster::ClientUrl(int i) const {
  return "nats://127.0.0.1:" + std::to_string(servers_[i].client_port);
}

std::vector<std::string> NatsCluster::ClientUrls() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(ClientUrl(i));
  return out;
}

std::string NatsCluster::ServerName(int i) const { return servers_[i].name; }

int NatsCluster::IndexOf(const std::string& name) const {
  for (int i = 0; i < size(); ++i) {
    if (servers_[i].name == name) return i;
  }
  return -1;
}

std::string NatsCluster::LogTail(int i, size_t bytes) const {
  std::ifstream in(servers_[i].log_path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

bool NatsCluster::Start(const NatsClusterOptions& options) {
  options_ = options;
  if (!BinaryPresent()) return Fail("no nats-server at " + Binary() + " (scripts/bootstrap.sh)");
  char tmpl[] = "/tmp/syncmgr-nats-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Fail("mkdtemp failed");
  dir_ = tmpl;

  // Two distinct free ports per server: clients and routes.
  std::set<uint16_t> ports;
  for (int a = 0; a < kPortAttempts && static_cast<int>(ports.size()) < 2 * options.servers; ++a) {
    uint16_t p = FreeLoopbackPort();
    if (p != 0) ports.insert(p);
  }
  if (static_cast<int>(ports.size()) < 2 * options.servers) return Fail("no free loopback ports");
  auto port = ports.begin();
  servers_.resize(options.servers);
  for (int i = 0; i < options.servers; ++i) {
    Server& s = servers_[i];
    s.name = "n" + std::to_string(i);
    s.client_port = *port++;
    s.cluster_port = *port++;
    s.config_path = dir_ + "/" + s.name + ".conf";
    s.log_path = dir_ + "/" + s.name + ".log";
  }
  for (int i = 0; i < options.servers; ++i) {
    const Server& s = servers_[i];
    std::ofstream conf(s.config_path);
    conf << "server_name: \"" << s.name << "\"\n"
         << "listen: \"127.0.0.1:" << s.client_port << "\"\n"
         << "jetstream {\n"
         << "  store_dir: \"" << dir_ << "/" << s.name << "\"\n"
         << "  max_memory_store: 256MB\n"
         << "  max_file_store: 4GB\n"
         << "}\n"
         << "cluster {\n"
         << "  name: \"syncmgr-test\"\n"
         << "  listen: \"127.0.0.1:" << s.cluster_port << "\"\n"
         << "  routes: [";
    for (int j = 0; j < options.servers; ++j) {
      conf << (j ? ", " : "") << "\"nats-route://127.0.0.1:" << servers_[j].cluster_port << "\"";
    }
    conf << "]\n}\n";
    if (!conf) return Fail("cannot write " + s.config_path);
  }
  for (int i = 0; i < options.servers; ++i) {
    if (!Launch(i)) return Fail("cannot start " + Binary());
  }
  const Clock::time_point deadline = Clock::now() + options.ready_timeout;
  if (!WaitReady(options.ready_timeout)) return false;
  std::string why;
  while (!CanPlaceReplicas(&why)) {
    if (Clock::now() >= deadline) return Fail("JetStream cannot place replicas: " + why);
    std::this_thread::sleep_for(kPollWait);
  }
  return true;
}

namespace {

// A short-lived client for readiness checks, with short timeouts.
StatusOr<std::unique_ptr<cluster::Connection>> ProbeConnection(std::vector<std::string> servers) {
  cluster::ConnectOptions co;
  co.servers = std::move(servers);
  co.name = "nats-cluster-probe";
  co.connect_timeout = std::chrono::milliseconds(1000);
  co.request_timeout = std::chrono::milliseconds(2000);
  return cluster::Connection::Connect(co);
}

}  // namespace

bool NatsCluster::CanPlaceReplicas(std::string* why) {
  auto conn = ProbeConnection(ClientUrls());
  if (!conn.ok()) {
    *why = conn.status().ToString();
    return false;
  }
  cluster::StreamConfig probe;
  probe.name = "NATS_CLUSTER_PROBE";
  probe.subjects = {"nats-cluster-probe"};
  probe.replicas = size();
  probe.storage = cluster::Storage::kMemory;
  auto made = (*conn)->EnsureStream(probe);
  if (!made.ok()) {
    *why = made.status().ToString();
    return false;
  }
  Status deleted = (*conn)->DeleteStream(probe.name);
  if (!deleted.ok()) *why = deleted.ToString();
  return deleted.ok();
}

bool NatsCluster::Launch(int i) {
  Server& s = servers_[i];
  s.process = std::make_unique<BackgroundProcess>();
  ProcessOptions po;
  po.die_with_parent = true;  // a crashed test leaves no server running
  return s.process->Start({Binary(), "-c", s.config_path}, po, s.log_path);
}

bool NatsCluster::running(int i) {
  return servers_[i].process != nullptr && servers_[i].process->running();
}

void NatsCluster::Kill(int i) {
  if (servers_[i].process == nullptr) return;
  servers_[i].process->Stop(SIGKILL, kKillWait);
  servers_[i].process.reset();
}

bool NatsCluster::Pause(int i) {
  return servers_[i].process != nullptr && servers_[i].process->Signal(SIGSTOP);
}

bool NatsCluster::Resume(int i) {
  return servers_[i].process != nullptr && servers_[i].process->Signal(SIGCONT);
}

bool NatsCluster::Restart(int i) {
  Kill(i);
  if (!Launch(i)) return Fail("cannot restart " + servers_[i].name);
  const Clock::time_point deadline = Clock::now() + options_.ready_timeout;
  std::string why;
  while (Clock::now() < deadline) {
    if (ServerReady(i, &why)) return true;
    if (!running(i)) return Fail(servers_[i].name + " exited after its restart");
    std::this_thread::sleep_for(kPollWait);
  }
  return Fail(servers_[i].name + " not ready after its restart: " + why);
}

bool NatsCluster::ServerReady(int i, std::string* why) {
  auto conn = ProbeConnection({ClientUrl(i)});
  if (!conn.ok()) {
    *why = conn.status().ToString();
    return false;
  }
  Status s = (*conn)->CheckJetStream();
  if (!s.ok()) *why = s.ToString();
  return s.ok();
}

bool NatsCluster::WaitReady(std::chrono::seconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string why;
  for (int i = 0; i < size(); ++i) {
    while (true) {
      if (!running(i)) {
        if (servers_[i].process == nullptr) break;  // killed on purpose
        return Fail(servers_[i].name + " exited");
      }
      if (ServerReady(i, &why)) break;
      if (Clock::now() >= deadline) {
        return Fail(servers_[i].name + " JetStream not ready: " + why);
      }
      std::this_thread::sleep_for(kPollWait);
    }
  }
  return true;
}

}  // namespace syncmgr::testing
