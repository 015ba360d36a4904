// The command-line tests' fixtures: the real syncmgr binary of this build
// (SYNCMGR_BIN, a compile definition of the test) run as a child process on
// a fresh temporary directory (CliFixture, CliTest), and against a real
// `syncmgr serve` child on a loopback port (CliRemoteTest, through
// ServeProcess); checks of what it answered. Header-only: SYNCMGR_BIN is the
// including test's.
//
// Thread-safety: none; use from the test's thread.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"

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

// A failure: the exit code, nothing on stdout, exactly one "syncmgr: " line on stderr.
inline void ExpectOneLineError(const ProcessResult& r, int exit_code,
                               const std::string& contains) {
  EXPECT_EQ(r.exit_code, exit_code) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << Describe(r);
  EXPECT_TRUE(r.err.starts_with("syncmgr: ")) << Describe(r);
  EXPECT_NE(r.err.find(contains), std::string::npos) << "want '" << contains << "'\n"
                                                     << Describe(r);
}

// A success: exit 0, nothing on stderr, `contains` on stdout.
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

// The whole of a file ("" if it cannot be read): ReadFile (files.h).
inline std::string ReadAll(const std::string& path) { return ReadFile(path); }

// dir_: a fresh directory, removed after the test; db_: a data directory
// path inside it (not created).
class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/syncmgr_cli_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = std::filesystem::path(tmpl).lexically_normal().string();
    db_ = dir_ + "/db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);  // best effort: a leftover temp dir is harmless
  }

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
  // Writes dir_/name; returns its path.
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string dir_;
  std::string db_;
};

class CliTest : public CliFixture {
 protected:
  // Tenant 1 "Acme", source 1 "portal" (ignoring scraped_at), target 1 "website".
  void CreateCatalog() {
    ExpectOk(Local({"tenant", "create", "Acme"}), "Created tenant 1 (Acme).");
    ExpectOk(Local({"source", "create", "--tenant", "1", "portal", "--ignore-field", "scraped_at"}),
             "Created source 1 (portal).");
    ExpectOk(Local({"target", "create", "--tenant", "1", "website"}),
             "Created target 1 (website, internal).");
  }
};

// ---- Remote mode against a real `syncmgr serve` -----------------------------

class CliRemoteTest : public CliTest {
 protected:
  static constexpr char kAdminKey[] = "cli-test-admin-key";

  // Starts `syncmgr serve` on db_ with `extra` flags, on a free port or on
  // `fixed_port` (a restart that clients must find where they left it).
  void StartServer(const std::vector<std::string>& extra = {}, uint16_t fixed_port = 0) {
    ServeOptions o;
    o.binary = SYNCMGR_BIN;
    o.db = db_;
    o.log = dir_ + "/serve.log";
    o.admin_key = kAdminKey;
    o.flags = extra;
    o.port = fixed_port;
    server_ = std::make_unique<ServeProcess>(o);
    ASSERT_TRUE(server_->Start());
    port_ = server_->port();
    url_ = server_->url();
  }

  ProcessResult Remote(const std::string& key, std::vector<std::string> args,
                       const ProcessOptions& options = {}) {
    args.insert(args.begin(), {"--url", url_, "--api-key", key});
    return Syncmgr(std::move(args), options);
  }

  uint16_t port_ = 0;
  std::string url_;
  std::unique_ptr<ServeProcess> server_;
};

}  // namespace syncmgr::testing
