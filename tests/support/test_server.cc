#include "tests/support/test_server.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace syncmgr::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/syncmgr-test-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << templ;
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort: a leftover temp dir is harmless
}

JsonDoc::JsonDoc(const std::string& text) : parser_(std::make_unique<simdjson::dom::parser>()) {
  root_ = parser_->parse(text);
}

JsonDoc ParseJson(const std::string& text) {
  try {
    return JsonDoc(text);
  } catch (const simdjson::simdjson_error& e) {
    ADD_FAILURE() << "invalid JSON (" << e.what() << "): " << text.substr(0, 500);
    return JsonDoc("null");
  }
}

std::string ErrorCode(const HttpResponse& r) {
  JsonDoc doc = ParseJson(r.body);
  std::string_view code;
  if (doc["error"]["code"].get(code)) return "<none: " + r.body + ">";
  return std::string(code);
}

std::vector<std::string> ExternalIds(const HttpResponse& r) {
  std::vector<std::string> out;
  JsonDoc doc = ParseJson(r.body);
  simdjson::dom::array items;
  if (doc.root().get(items)) return out;
  for (simdjson::dom::element e : items) out.emplace_back(std::string_view(e["external_id"]));
  return out;
}

TestServer::TestServer(TestServerOptions options) : options_(std::move(options)) {
  options_.engine.path = dir_.path() + "/db";
  StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options_.engine);
  if (!engine.ok()) {
    ADD_FAILURE() << "Engine::Open: " << engine.status().ToString();
    return;
  }
  engine_ = std::move(*engine);
  StartServer();
}

TestServer::~TestServer() {
  Stop();
  engine_.reset();
}

void TestServer::StartServer() {
  server::ServerOptions so = options_.server;
  so.host = "127.0.0.1";
  so.port = 0;
  so.admin_key_sha256 = server::HashAdminKey(options_.admin_key);
  std::shared_ptr<LogBuffer> log = log_;
  so.request_log = [log](std::string_view line) {
    std::lock_guard lock(log->mu);
    log->lines.emplace_back(line);
  };
  server_ = std::make_unique<server::Server>(*engine_, so);
  Status st = server_->Start();
  if (!st.ok()) {
    ADD_FAILURE() << "Server::Start: " << st.ToString();
    server_.reset();
    return;
  }
  port_ = server_->port();
}

uint16_t TestServer::port() const { return port_; }

HttpClient TestServer::Client(std::string api_key) const {
  HttpClient client(port_);
  client.set_api_key(std::move(api_key));
  return client;
}

HttpClient TestServer::AdminClient() const { return Client(options_.admin_key); }

TestServer::Tenant TestServer::CreateTenant(const std::string& name) {
  HttpClient admin = AdminClient();
  std::string body = "{\"name\":\"" + name + "\"}";
  HttpResponse r = admin.Post("/tenants", body);
  if (r.status != 201) {
    ADD_FAILURE() << "POST /tenants: " << r.status << " " << r.body << " " << admin.error();
    return {};
  }
  JsonDoc doc = ParseJson(r.body);
  Tenant t;
  t.id = static_cast<uint32_t>(uint64_t(doc["id"]));
  t.api_key = std::string(std::string_view(doc["api_key"]));
  return t;
}

void TestServer::Stop() {
  if (server_) {
    server_->Stop();
    server_.reset();
  }
}

void TestServer::Restart() {
  Stop();
  engine_.reset();
  StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options_.engine);
  if (!engine.ok()) {
    ADD_FAILURE() << "Engine::Open (restart): " << engine.status().ToString();
    return;
  }
  engine_ = std::move(*engine);
  StartServer();
}

std::vector<std::string> TestServer::LogLines(size_t at_least) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    {
      std::lock_guard lock(log_->mu);
      if (log_->lines.size() >= at_least || std::chrono::steady_clock::now() > deadline) {
        return log_->lines;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TestServerOptions SmallStreamChunks(size_t bytes) {
  TestServerOptions o;
  o.server.stream_chunk_bytes = bytes;
  o.server.import_chunk_bytes = bytes;
  return o;
}

}  // namespace syncmgr::testing
