// Fixtures for integration tests: a real Engine in a fresh temporary
// directory and a real Server on an ephemeral loopback port. No mocks.
//
//   syncmgr::testing::TestServer server;             // started
//   auto tenant = server.CreateTenant("Acme");       // via POST /tenants
//   auto client = server.Client(tenant.api_key);
//   auto r = client.Post("/sources", R"({"name":"s"})");
//
// Also: TempDir (a directory removed with its contents at scope exit) and
// ParseJson (simdjson DOM, exceptions on for brevity in tests).
//
// Thread-safety: a TestServer is used from the test's thread; clients may be
// used from other threads (one client per thread).
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/server.h"
#include "tests/support/http_client.h"

namespace syncmgr::testing {

// A fresh directory under $TMPDIR (or /tmp), removed recursively on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A parsed JSON document that owns its parser.
class JsonDoc {
 public:
  explicit JsonDoc(const std::string& text);  // throws simdjson_error if invalid
  simdjson::dom::element root() const { return root_; }
  simdjson::simdjson_result<simdjson::dom::element> operator[](std::string_view key) const {
    return root_[key];
  }

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
};

// Parses `text` or fails the current test (returns a doc of `null` then).
JsonDoc ParseJson(const std::string& text);

// The code of an error answer ({"error":{"code":...}}), or "<none: BODY>"
// when the body carries none.
std::string ErrorCode(const HttpResponse& r);

// The "external_id" of each element of a JSON array answer (a property
// list); empty when the body is not an array.
std::vector<std::string> ExternalIds(const HttpResponse& r);

struct TestServerOptions {
  // port and host are forced to 0 and 127.0.0.1; admin_key_sha256 and
  // request_log are set by the fixture. Other fields: as given.
  server::ServerOptions server;
  // The admin key (plain); the server gets its SHA-256.
  std::string admin_key = "test-admin-key-0123456789";
  // Engine options; `path` is the fixture's temp dir.
  EngineOptions engine;
};

class TestServer {
 public:
  struct Tenant {
    uint32_t id = 0;
    std::string api_key;
  };

  // Opens the engine and starts the server; fails the test (ADD_FAILURE)
  // if either fails.
  explicit TestServer(TestServerOptions options = {});
  // Stops the server, closes the engine, removes the directory.
  ~TestServer();

  uint16_t port() const;
  const std::string& admin_key() const { return options_.admin_key; }
  const std::string& data_dir() const { return dir_.path(); }
  Engine& engine() { return *engine_; }
  bool running() const { return server_ != nullptr; }

  // A client with the given key (none by default) / the admin key.
  HttpClient Client(std::string api_key = "") const;
  HttpClient AdminClient() const;
  // Creates a tenant through POST /tenants; fails the test on error.
  Tenant CreateTenant(const std::string& name);

  // Graceful stop of the server (the engine stays open).
  void Stop();
  // Stops the server if running, closes and reopens the engine on the same
  // directory, and starts a new server (on a new ephemeral port).
  void Restart();

  // Request log lines captured so far. A line is written just after its
  // response has gone out, so a client can see the answer first: pass
  // `at_least` to wait (up to 5 s) until that many lines are there.
  std::vector<std::string> LogLines(size_t at_least = 0) const;

 private:
  void StartServer();

  TestServerOptions options_;
  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<server::Server> server_;
  uint16_t port_ = 0;
  struct LogBuffer {
    std::mutex mu;
    std::vector<std::string> lines;
  };
  std::shared_ptr<LogBuffer> log_ = std::make_shared<LogBuffer>();
};

// Options whose streamed answers (lists, imports read in pieces) come in
// pieces of `bytes`, so that a test of a few rows spans many.
TestServerOptions SmallStreamChunks(size_t bytes);

// The fixture of most API tests: a server with one tenant, "Acme", and a
// client holding its key.
class TenantApiTest : public ::testing::Test {
 protected:
  explicit TenantApiTest(TestServerOptions options = {})
      : server_(std::move(options)),
        client_(std::make_unique<HttpClient>(server_.Client(server_.CreateTenant("Acme").api_key))) {}

  TestServer server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace syncmgr::testing
