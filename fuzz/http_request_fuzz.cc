// libFuzzer harness: raw HTTP requests through the server's whole request
// handling — Beast's parser, limits, routing, query parsing, authentication,
// handlers and the engine — on a real Server over loopback, against a real
// engine in a temporary directory (issue 7 item 5).
//
// Each input is the bytes a client sends on one connection (several
// pipelined requests are fine). "$KEY" and "$ADMIN" in the input are
// replaced by a tenant key and the admin key, so the fuzzer reaches the
// authenticated handlers. The harness sends the bytes, half-closes, and
// reads whatever comes back until the server closes (bounded).
//
// Invariants (besides ASan/UBSan anywhere in the server's threads):
//   * no answer is a 500 (bad input must get a clear 4xx, SPEC §3.7);
//   * every answer starts with an HTTP/1.1 status line;
//   * every 100th input, GET /health still answers 200 (the server lives).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "fuzz/fuzz_util.h"
#include "server/server.h"

namespace {

constexpr const char* kAdminKey = "fuzz-admin-key-0123456789";
// Bounds one input's round trip: the server's header/body deadlines are
// shorter still, so a request that stops mid-way is cut off by the server.
constexpr int kReadTimeoutMs = 3000;
constexpr size_t kMaxResponseBytes = 4 << 20;

struct World {
  std::string dir;
  std::unique_ptr<syncmgr::Engine> engine;
  std::unique_ptr<syncmgr::server::Server> server;
  uint16_t port = 0;
  std::string tenant_key;
  uint64_t inputs = 0;
};

World* g_world = nullptr;

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s->find(from, pos)) != std::string::npos; pos += to.size()) {
    s->replace(pos, from.size(), to);
  }
}

// Sends `bytes` on a fresh connection, half-closes, returns what came back.
std::string RoundTrip(uint16_t port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) syncmgr::fuzz::Fail("socket", "");
  timeval tv{kReadTimeoutMs / 1000, (kReadTimeoutMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    syncmgr::fuzz::Fail("connect to the server", "");
  }
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server closed early (e.g. after a 4xx): fine
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[16384];
  while (out.size() < kMaxResponseBytes) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Every status code in a response stream (pipelined answers included).
void CheckResponses(const std::string& out, const std::string& input) {
  if (out.empty()) return;  // closed without an answer (e.g. cut off): fine
  SYNCMGR_FUZZ_CHECK(out.rfind("HTTP/1.1 ", 0) == 0, "answer: " + out.substr(0, 200));
  for (size_t pos = 0; (pos = out.find("HTTP/1.1 5", pos)) != std::string::npos; ++pos) {
    const bool line_start = pos == 0 || (pos >= 2 && out.compare(pos - 2, 2, "\r\n") == 0);
    if (!line_start) continue;
    const std::string code = out.substr(pos + 9, 3);
    // 503 is a legitimate answer (shutting down, too many connections);
    // 507 would mean the disk filled. A 500 is a bug.
    SYNCMGR_FUZZ_CHECK(code != "500", "a 500 for input:\n" + input + "\nanswer:\n" +
                                          out.substr(pos, 400));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto* w = new World();
  const char* base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  const std::string pattern = std::string(base) + "/syncmgr-http-fuzz-XXXXXX";
  std::string path = pattern;
  if (::mkdtemp(path.data()) == nullptr) syncmgr::fuzz::Fail("mkdtemp", pattern);
  w->dir = path;
  syncmgr::EngineOptions eo;
  eo.path = w->dir + "/db";
  eo.min_free_bytes = 0;  // /dev/shm may be small; the fuzzer writes little
  eo.block_cache_bytes = 8 << 20;
  auto engine = syncmgr::Engine::Open(eo);
  if (!engine.ok()) syncmgr::fuzz::Fail("open engine", engine.status().ToString());
  w->engine = std::move(*engine);
  auto tenant = w->engine->CreateTenant("fuzz");
  if (!tenant.ok()) syncmgr::fuzz::Fail("tenant", tenant.status().ToString());
  w->tenant_key = tenant->api_key;
  syncmgr::SourceSpec ss;
  ss.name = "s";
  syncmgr::TargetSpec ts;
  ts.name = "t";
  if (!w->engine->CreateSource(tenant->tenant.id, ss).ok() ||
      !w->engine->CreateTarget(tenant->tenant.id, ts).ok()) {
    syncmgr::fuzz::Fail("catalog", "");
  }
  if (!w->engine->Import(tenant->tenant.id, 1, syncmgr::ImportOptions(),
                         R"([{"external_id":"a","price":1},{"external_id":"b","x":[1,2]}])")
           .ok()) {
    syncmgr::fuzz::Fail("import", "");
  }
  syncmgr::server::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.io_threads = 1;
  so.worker_threads = 2;
  so.header_timeout_ms = 1000;
  so.body_timeout_ms = 1000;
  so.idle_timeout_ms = 1000;
  so.write_timeout_ms = 2000;
  so.shutdown_timeout_ms = 2000;
  so.max_body_bytes = 1 << 20;
  so.max_import_bytes = 4 << 20;
  so.cors_origins = {"https://site.example"};
  so.admin_key_sha256 = syncmgr::server::HashAdminKey(kAdminKey);
  so.request_log = [](std::string_view) {};
  w->server = std::make_unique<syncmgr::server::Server>(*w->engine, so);
  syncmgr::Status st = w->server->Start();
  if (!st.ok()) syncmgr::fuzz::Fail("start server", st.ToString());
  w->port = w->server->port();
  g_world = w;
  std::atexit([] {
    if (g_world == nullptr) return;
    g_world->server.reset();
    g_world->engine.reset();
    std::error_code ec;
    std::filesystem::remove_all(g_world->dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = *g_world;
  std::string input(reinterpret_cast<const char*>(data), size);
  ReplaceAll(&input, "$KEY", w.tenant_key);
  ReplaceAll(&input, "$ADMIN", kAdminKey);
  CheckResponses(RoundTrip(w.port, input), input);
  if (++w.inputs % 100 == 0) {
    const std::string health = RoundTrip(w.port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    SYNCMGR_FUZZ_CHECK(health.rfind("HTTP/1.1 200", 0) == 0, "health: " + health.substr(0, 200));
  }
  return 0;
}
