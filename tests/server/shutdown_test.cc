// Graceful shutdown: an import in flight when Stop() (or SIGTERM to a
// `serve` process) arrives completes and is durable; idle connections are
// closed at once; an import cut short by the shutdown timeout leaves
// nothing behind. Also the admin key bootstrap of RunServe.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "server/serve.h"
#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kItems = 2000;

std::string NdjsonItems(int n) {
  std::string body;
  for (int i = 0; i < n; ++i) {
    body += "{\"external_id\":\"p" + std::to_string(i) + "\",\"pad\":\"" + std::string(200, 'x') +
            "\"}\n";
  }
  return body;
}

uint64_t CountProperties(Engine& engine, TenantId tenant) {
  StatusOr<std::unique_ptr<PropertyCursor>> cursor =
      engine.ListProperties(tenant, StreamRef{StreamKind::kSource, 1}, ListOptions{});
  if (!cursor.ok()) return 0;
  PropertyRecord record;
  uint64_t n = 0;
  while ((*cursor)->Next(&record)) ++n;
  return n;
}

// Sends an NDJSON import by hand in chunked encoding: the first half, then
// calls `midway`, then the rest; returns the response.
HttpResponse ImportInTwoHalves(HttpClient& c, const std::string& key, const std::string& body,
                               const std::function<void()>& midway) {
  c.set_retry_stale(false);
  if (!c.SendRaw("POST /sources/1/import HTTP/1.1\r\nHost: x\r\nX-API-Key: " + key +
                 "\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")) {
    return {};
  }
  const size_t half = body.size() / 2;
  auto send_chunk = [&](std::string_view piece) {
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
    return c.SendRaw(std::string(size_line) + std::string(piece) + "\r\n");
  };
  if (!send_chunk(std::string_view(body).substr(0, half))) return {};
  midway();
  if (!send_chunk(std::string_view(body).substr(half)) || !c.SendRaw("0\r\n\r\n")) return {};
  return c.ReadResponse();
}

TEST(Shutdown, InFlightImportCompletesAndIsDurable) {
  TestServer server;
  const auto t = server.CreateTenant("Acme");
  HttpClient c = server.Client(t.api_key);
  ASSERT_EQ(c.Post("/sources", R"({"name":"s"})").status, 201);
  HttpClient idle = server.Client(t.api_key);
  ASSERT_EQ(idle.Get("/health").status, 200);  // kept alive, idle

  std::thread stopper;
  HttpClient importer = server.Client();
  // Accepted before the stop (see Serve.SigtermDuringImportLosesNothing).
  ASSERT_EQ(importer.Get("/health").status, 200);
  const HttpResponse r = ImportInTwoHalves(importer, t.api_key, NdjsonItems(kItems), [&] {
    stopper = std::thread([&] { server.Stop(); });
    // The idle connection is closed by the stop, long before its timeout.
    EXPECT_TRUE(idle.WaitForClose(milliseconds(10'000)));
  });
  stopper.join();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(uint64_t(ParseJson(r.body)["stats"]["created"]), uint64_t{kItems});
  EXPECT_FALSE(r.keep_alive);  // the server was stopping
  EXPECT_EQ(CountProperties(server.engine(), t.id), uint64_t{kItems});

  server.Restart();  // reopen the engine: everything acknowledged is there
  EXPECT_EQ(CountProperties(server.engine(), t.id), uint64_t{kItems});
  HttpClient after = server.Client(t.api_key);
  EXPECT_EQ(simdjson::dom::array(ParseJson(after.Get("/imports").body).root()).size(), 1u);
}

TEST(Shutdown, ImportCutShortWritesNothing) {
  TestServerOptions o;
  o.server.shutdown_timeout_ms = 300;
  TestServer server(o);
  const auto t = server.CreateTenant("Acme");
  HttpClient c = server.Client(t.api_key);
  ASSERT_EQ(c.Post("/sources", R"({"name":"s"})").status, 201);

  HttpClient importer = server.Client();
  importer.set_retry_stale(false);
  ASSERT_TRUE(
      importer.SendRaw("POST /sources/1/import HTTP/1.1\r\nHost: x\r\nX-API-Key: " + t.api_key +
                       "\r\nContent-Type: application/x-ndjson\r\n"
                       "Content-Length: 100000\r\n\r\n" +
                       NdjsonItems(50)));
  std::this_thread::sleep_for(milliseconds(200));  // let the server start the import
  server.Stop();                                   // the client never finishes: closed after 300 ms
  EXPECT_EQ(importer.ReadResponse().status, 0);
  EXPECT_EQ(CountProperties(server.engine(), t.id), 0u);
  server.Restart();
  EXPECT_EQ(CountProperties(server.engine(), t.id), 0u);
  EXPECT_EQ(server.Client(t.api_key).Get("/imports").body, "[]");
}

TEST(Serve, AdminKeyFileIsCreatedOnceWithMode0600) {
  TempDir dir;
  ::unsetenv("SYNCMGR_ADMIN_KEY");
  std::string source;
  bool created = false;
  StatusOr<std::string> key = server::LoadOrCreateAdminKey(dir.path(), &source, &created);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(created);
  EXPECT_EQ(source, dir.path() + "/admin.key");
  EXPECT_EQ(key->size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(source.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  StatusOr<std::string> again = server::LoadOrCreateAdminKey(dir.path(), &source, &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(*again, *key);
  ::setenv("SYNCMGR_ADMIN_KEY", "from-env", 1);
  StatusOr<std::string> env = server::LoadOrCreateAdminKey(dir.path(), &source, &created);
  ::unsetenv("SYNCMGR_ADMIN_KEY");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env, "from-env");
  EXPECT_EQ(source, "SYNCMGR_ADMIN_KEY");
}

// A real `serve` process — this test binary re-executed as a child that
// runs RunServe (see main below) — gets SIGTERM in the middle of an import:
// the import finishes, is acknowledged, and is there when the data
// directory is opened again.
TEST(Serve, SigtermDuringImportLosesNothing) {
  TempDir dir;
  const std::string db = dir.path() + "/db";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  // Everything the child needs is prepared before fork: after it, only exec.
  const std::string env_db = "SYNCMGR_SERVE_CHILD_DB=" + db;
  const std::string env_fd = "SYNCMGR_SERVE_CHILD_FD=" + std::to_string(ready[1]);
  const std::string env_key = "SYNCMGR_ADMIN_KEY=serve-test-admin-key";
  char* const argv[] = {const_cast<char*>("server_shutdown_test"), nullptr};
  char* const envp[] = {const_cast<char*>(env_db.c_str()), const_cast<char*>(env_fd.c_str()),
                        const_cast<char*>(env_key.c_str()), nullptr};
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::execve("/proc/self/exe", argv, envp);
    ::_exit(127);
  }
  ::close(ready[1]);
  uint16_t port = 0;
  pollfd pfd{ready[0], POLLIN, 0};
  ssize_t got = 0;
  if (::poll(&pfd, 1, 30'000) == 1) got = ::read(ready[0], &port, sizeof port);
  ::close(ready[0]);
  if (got != static_cast<ssize_t>(sizeof port)) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    FAIL() << "serve did not start";
  }

  HttpClient admin(port);
  admin.set_api_key("serve-test-admin-key");
  HttpResponse r = admin.Post("/tenants", R"({"name":"Acme"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string key{std::string_view(ParseJson(r.body)["api_key"])};
  HttpClient c(port);
  c.set_api_key(key);
  ASSERT_EQ(c.Post("/sources", R"({"name":"s"})").status, 201);

  HttpClient importer(port);
  importer.set_api_key(key);
  // The connection is accepted before the signal: one still in the kernel's
  // accept queue when the stop begins is refused, as by any server.
  ASSERT_EQ(importer.Get("/health").status, 200);
  r = ImportInTwoHalves(importer, key, NdjsonItems(kItems), [&] { ::kill(child, SIGTERM); });
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  EngineOptions eo;
  eo.path = db;
  StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(eo);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  StatusOr<TenantId> tenant = (*engine)->Authenticate(key);
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(CountProperties(**engine, *tenant), uint64_t{kItems});
}

}  // namespace
}  // namespace syncmgr::testing

// The child mode of Serve.SigtermDuringImportLosesNothing: `syncmgr serve`
// in miniature, reporting its port on the inherited pipe.
int main(int argc, char** argv) {
  if (const char* db = std::getenv("SYNCMGR_SERVE_CHILD_DB")) {
    const int fd = std::atoi(std::getenv("SYNCMGR_SERVE_CHILD_FD"));
    syncmgr::server::ServeConfig config;
    config.db_path = db;
    config.port = 0;
    config.out = std::fopen("/dev/null", "w");
    config.server.request_log = [](std::string_view) {};
    config.on_listening = [fd](uint16_t port) {
      const ssize_t n = ::write(fd, &port, sizeof port);
      (void)n;  // the parent fails the test if the port does not arrive
      ::close(fd);
    };
    return syncmgr::server::RunServe(config).ok() ? 0 : 3;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
