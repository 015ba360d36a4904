// The fixtures of the command-line tests: the real syncmgr binary
// (SYNCMGR_BIN, defined by each test target) run as a child process on a
// temporary data directory (CliTest), and against a real `syncmgr serve`
// child on a loopback port (CliRemoteTest). Header-only: SYNCMGR_BIN is the
// including test's.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.h"

#ifndef SYNCMGR_BIN
#error "SYNCMGR_BIN must name the built syncmgr binary"
#endif

namespace syncmgr::testing {

// The number after "key": in a JSON text (first occurrence); -1 if absent.
inline int64_t JsonUint(const std::string& json, const std::string& key) {
  size_t pos = json.find("\"" + key + "\":");
  if (pos == std::string::npos) return -1;
  pos += key.size() + 3;
  if (pos >= json.size() || !std::isdigit(static_cast<unsigned char>(json[pos]))) return -1;
  return std::stoll(json.substr(pos));
}

// The string after "key": (no escapes expected); empty if absent.
inline std::string JsonString(const std::string& json, const std::string& key) {
  size_t pos = json.find("\"" + key + "\":\"");
  if (pos == std::string::npos) return "";
  pos += key.size() + 4;
  return json.substr(pos, json.find('"', pos) - pos);
}

inline std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") +
         "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// A failure: the exit code, nothing on stdout, exactly one "syncmgr: " line on stderr.
inline void ExpectOneLineError(const ProcessResult& r, int exit_code, const std::string& contains) {
  EXPECT_EQ(r.exit_code, exit_code) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << Describe(r);
  EXPECT_TRUE(r.err.starts_with("syncmgr: ")) << Describe(r);
  EXPECT_NE(r.err.find(contains), std::string::npos) << "want '" << contains << "'\n"
                                                     << Describe(r);
}

inline void ExpectOk(const ProcessResult& r, const std::string& contains = "") {
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "") << Describe(r);
  EXPECT_NE(r.out.find(contains), std::string::npos) << "want '" << contains << "'\n"
                                                     << Describe(r);
}

// Every file under `dir` with its size and modification time: equal
// fingerprints mean nothing in the directory was written.
inline std::map<std::string, std::pair<uintmax_t, int64_t>> Fingerprint(const std::string& dir) {
  std::map<std::string, std::pair<uintmax_t, int64_t>> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) {
      out[e.path().string()] = {0, 0};
      continue;
    }
    out[e.path().string()] = {e.file_size(),
                              e.last_write_time().time_since_epoch().count()};
  }
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/cli_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = std::filesystem::path(tmpl).lexically_normal().string();
    db_ = dir_ + "/db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // syncmgr ARGS (no --db added).
  ProcessResult Syncmgr(std::vector<std::string> args, const ProcessOptions& options = {}) {
    args.insert(args.begin(), SYNCMGR_BIN);
    return RunProcess(args, options);
  }
  // syncmgr --db DB ARGS.
  ProcessResult Local(std::vector<std::string> args, const ProcessOptions& options = {}) {
    args.insert(args.begin(), {"--db", db_});
    return Syncmgr(std::move(args), options);
  }
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  // Tenant 1 "Acme", source 1 "portal" (ignoring scraped_at), target 1 "website".
  void CreateCatalog() {
    ExpectOk(Local({"tenant", "create", "Acme"}), "Created tenant 1 (Acme).");
    ExpectOk(Local({"source", "create", "--tenant", "1", "portal", "--ignore-field", "scraped_at"}),
             "Created source 1 (portal).");
    ExpectOk(Local({"target", "create", "--tenant", "1", "website"}),
             "Created target 1 (website, internal).");
  }

  std::string dir_;
  std::string db_;
};

// ---- Remote mode against a real `syncmgr serve` -----------------------------

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliRemoteTest : public CliTest {
 protected:
  static constexpr char kAdminKey[] = "cli-test-admin-key";

  // Starts `syncmgr serve` on a free port (or on `fixed_port`: a restart),
  // with `extra` arguments; skips the test when this build has no server.
  void StartServer(const std::vector<std::string>& extra = {}, uint16_t fixed_port = 0) {
    log_ = dir_ + "/serve.log";
    for (int attempt = 0; attempt < 3; ++attempt) {
      uint16_t port = fixed_port != 0 ? fixed_port : FreeLoopbackPort();
      ASSERT_NE(port, 0);
      port_ = port;
      url_ = "http://127.0.0.1:" + std::to_string(port);
      ProcessOptions options;
      options.env = {{"SYNCMGR_ADMIN_KEY", kAdminKey}};
      server_ = std::make_unique<BackgroundProcess>();
      std::vector<std::string> argv = {SYNCMGR_BIN, "serve", "--db", db_, "--port",
                                       std::to_string(port)};
      argv.insert(argv.end(), extra.begin(), extra.end());
      ASSERT_TRUE(server_->Start(argv, options, log_));
      // Ready when an admin call answers; bounded: 600 × 100 ms.
      for (int i = 0; i < 600 && server_->running(); ++i) {
        if (Remote(kAdminKey, {"tenant", "list"}).exit_code == 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      std::string log = ReadAll(log_);
      if (log.find("built without the HTTP server") != std::string::npos) {
        GTEST_SKIP() << "this build has no HTTP server";
      }
      server_->Stop(SIGKILL, std::chrono::seconds(30));
    }
    FAIL() << "syncmgr serve did not come up; log:\n" << ReadAll(log_);
  }

  ProcessResult Remote(const std::string& key, std::vector<std::string> args,
                       const ProcessOptions& options = {}) {
    args.insert(args.begin(), {"--url", url_, "--api-key", key});
    return Syncmgr(std::move(args), options);
  }

  uint16_t port_ = 0;
  std::string url_;
  std::string log_;
  std::unique_ptr<BackgroundProcess> server_;
};

}  // namespace syncmgr::testing
