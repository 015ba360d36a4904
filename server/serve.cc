#include "server/serve.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace syncmgr::server {
namespace {

constexpr size_t kAdminKeyBytes = 32;
constexpr const char* kAdminKeyFile = "admin.key";

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xF]);
  }
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Internal("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string key = Trim(buf.str());
  if (key.empty()) return Status::InvalidArgument(path + " is empty; delete it to generate a key");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    std::fprintf(stderr, "syncmgr: warning: %s is readable by other users; chmod 600 it\n",
                 path.c_str());
  }
  return key;
}

Status WriteKeyFile(const std::string& path, const std::string& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot create " + path + ": " + std::strerror(errno));
  const std::string line = key + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::Internal("cannot write " + path + ": " + std::strerror(saved));
  }
  return Status::Ok();
}

// More descriptors than the usual soft limit of 1024, for max_connections.
void RaiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the default limit still works
  }
}

}  // namespace

StatusOr<std::string> LoadOrCreateAdminKey(const std::string& db_path, std::string* source,
                                           bool* created) {
  *created = false;
  if (const char* env = std::getenv("SYNCMGR_ADMIN_KEY"); env != nullptr && *env != '\0') {
    *source = "SYNCMGR_ADMIN_KEY";
    return std::string(env);
  }
  const std::string path = db_path + "/" + kAdminKeyFile;
  *source = path;
  if (::access(path.c_str(), F_OK) == 0) return ReadKeyFile(path);
  unsigned char bytes[kAdminKeyBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("no secure random source");
  std::string key = Hex(bytes, sizeof bytes);
  Status st = WriteKeyFile(path, key);
  if (!st.ok()) {
    if (::access(path.c_str(), F_OK) == 0) return ReadKeyFile(path);  // lost a race: reuse
    return st;
  }
  *created = true;
  return key;
}

Status RunServe(const ServeConfig& config) {
  // Checked before the data directory is touched.
  std::string file_root;
  if (!config.file_push_root.empty()) {
    std::error_code ec;
    std::filesystem::path root =
        std::filesystem::absolute(config.file_push_root, ec).lexically_normal();
    file_root = root.string();
    while (file_root.size() > 1 && file_root.back() == '/') file_root.pop_back();
    if (ec || file_root == "/") {
      return Status::InvalidArgument("--file-push-root must name a directory other than '/', got '" +
                                     config.file_push_root + "'");
    }
  }
  EngineOptions engine_options = config.engine;
  engine_options.path = config.db_path;
  std::unique_ptr<cluster::Node> node;
  if (config.cluster.has_value()) {
    // Every node must accept every other's admin requests (forwarded ones
    // too): one key, from the environment, never a per-node file.
    const char* env = std::getenv("SYNCMGR_ADMIN_KEY");
    if (env == nullptr || *env == '\0') {
      return Status::InvalidArgument(
          "cluster mode needs SYNCMGR_ADMIN_KEY set, the same on every node");
    }
    std::fprintf(config.out, "syncmgr: cluster node %s: connecting to NATS\n",
                 config.cluster->node.c_str());
    std::fflush(config.out);
    StatusOr<std::unique_ptr<cluster::Node>> connected = cluster::Node::Connect(*config.cluster);
    if (!connected.ok()) return connected.status();
    node = std::move(*connected);
    engine_options.commit_hook = node->commit_hook();
    engine_options.reserve_key_prefix = node->key_prefix_reserver();
    engine_options.delivery_store = node->delivery_store();
    engine_options.sync_writes = false;  // durability is the replicated log's
  }
  StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(engine_options);
  if (!engine.ok()) return engine.status();
  // On every way out, the node's threads stop before the engine closes.
  struct NodeStopper {
    cluster::Node* node;
    ~NodeStopper() {
      if (node != nullptr) node->Stop();
    }
  } stop_node{node.get()};
  if (node != nullptr) {
    std::fprintf(config.out, "syncmgr: cluster node %s: catching up with the log of record\n",
                 config.cluster->node.c_str());
    std::fflush(config.out);
    SYNCMGR_RETURN_IF_ERROR(
        node->Start(engine->get(), std::chrono::steady_clock::now() + config.cluster_start_timeout));
  }

  std::string key_source;
  bool created = false;
  StatusOr<std::string> admin_key = LoadOrCreateAdminKey(config.db_path, &key_source, &created);
  if (!admin_key.ok()) return admin_key.status();
  if (created) {
    std::fprintf(config.out, "syncmgr: generated an admin key in %s (mode 0600)\n",
                 key_source.c_str());
  } else {
    std::fprintf(config.out, "syncmgr: admin key from %s\n", key_source.c_str());
  }

  RaiseFileLimit();
  ServerOptions options = config.server;
  options.host = config.host;
  options.port = config.port;
  options.cors_origins = config.cors_origins;
  options.allow_private_push = config.allow_private_push;
  options.file_push_root = file_root;
  options.admin_key_sha256 = HashAdminKey(*admin_key);
  options.cluster = node.get();
  Server server(**engine, options);
  SYNCMGR_RETURN_IF_ERROR(server.Start());

  const bool v6 = options.host.find(':') != std::string::npos;
  std::fprintf(config.out, "syncmgr: listening on http://%s%s%s:%u (data in %s; Ctrl-C stops)\n",
               v6 ? "[" : "", options.host.c_str(), v6 ? "]" : "", server.port(),
               config.db_path.c_str());
  std::fflush(config.out);
  if (config.on_listening) config.on_listening(server.port());

  boost::asio::io_context signal_context;
  boost::asio::signal_set signals(signal_context, SIGINT, SIGTERM);
  if (config.test_hooks && node != nullptr) {
    signals.add(SIGUSR1);
    signals.add(SIGUSR2);
  }
  int received = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal_number) {
        if (ec) return;
        if (signal_number == SIGUSR1 || signal_number == SIGUSR2) {
          // Test hooks: pause or resume the reader of the log of record.
          node->SetReaderPaused(signal_number == SIGUSR1);
          std::fprintf(config.out, "syncmgr: test hook: log reader %s\n",
                       signal_number == SIGUSR1 ? "paused" : "resumed");
          std::fflush(config.out);
          signals.async_wait(on_signal);
          return;
        }
        received = signal_number;
      };
  signals.async_wait(on_signal);
  signal_context.run();

  std::fprintf(config.out, "syncmgr: %s received; finishing in-flight requests\n",
               received == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(config.out);
  server.Stop();
  // Leases released (others take the tenants at once), the reader stopped,
  // before the engine closes.
  if (node != nullptr) node->Stop();
  std::fprintf(config.out, "syncmgr: stopped\n");
  std::fflush(config.out);
  return Status::Ok();
}

}  // namespace syncmgr::server
