// A real FTP server on loopback for tests: Debian's python3-pyftpdlib
// (`python3 -m pyftpdlib`), serving a fresh temporary directory with one
// read-write user, on a free 127.0.0.1 port. Stopped (SIGTERM, then SIGKILL)
// and its directory removed on destruction. Installed by
// scripts/bootstrap.sh; a test may skip only when it is absent.
//
//   syncmgr::testing::FtpServer ftp;
//   if (!ftp.Available()) GTEST_SKIP() << FtpServer::kMissing;
//   ASSERT_TRUE(ftp.Start()) << ftp.error();
//   ftp.Url("feed/")  // "ftp://127.0.0.1:PORT/feed/"; files land in ftp.root()/feed
//
// Thread-safety: one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace syncmgr::testing {

class FtpServer {
 public:
  static constexpr const char* kMissing =
      "python3-pyftpdlib is not installed (/usr/bin/python3 -c 'import pyftpdlib' failed): run "
      "scripts/bootstrap.sh";
  // The interpreter that has Debian's pyftpdlib ($SYNCMGR_FTP_PYTHON or
  // /usr/bin/python3).
  static std::string Python();
  // True when that interpreter can import pyftpdlib.
  static bool Available();

  FtpServer() = default;
  ~FtpServer();
  FtpServer(const FtpServer&) = delete;
  FtpServer& operator=(const FtpServer&) = delete;

  // Starts the server and waits (at most timeout_s) until it accepts
  // connections. False with error() otherwise.
  bool Start(int timeout_s = 20);
  // SIGKILLs the server (files stay).
  void Kill();
  const std::string& error() const { return error_; }

  uint16_t port() const { return port_; }
  const std::string& root() const { return root_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // "ftp://127.0.0.1:PORT/" + path.
  std::string Url(const std::string& path = "") const;

 private:
  std::string work_;
  std::string root_;
  std::string user_ = "feeder";
  std::string password_ = "s3cret-ftp-pass";
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace syncmgr::testing
