// A throwaway PostgreSQL 15 cluster for tests: initdb in a fresh temporary
// directory, the server on a free loopback port (TCP on 127.0.0.1 only, and a
// Unix socket in the temp dir), password authentication (SCRAM) for one
// superuser, stopped and removed on destruction.
//
// Binaries: Debian's postgresql-15 (/usr/lib/postgresql/15/bin, or
// $SYNCMGR_PGBIN), installed by scripts/bootstrap.sh. PostgreSQL refuses to
// run as root: when the test runs as root, initdb and the server run as the
// `postgres` system user the package creates (runuser -u postgres), and the
// temp directory is made traversable for it. Durability is relaxed
// (fsync=off): the tests kill Sync Manager, never PostgreSQL.
//
//   syncmgr::testing::PgCluster& pg = SharedPgCluster();   // started once
//   if (!pg.available()) GTEST_SKIP() << pg.skip_reason();
//   std::string db = pg.NewDatabase();                    // empty database
//   auto rows = pg.Query(db, "SELECT count(*) FROM t");
//
// Thread-safety: Query and NewDatabase may be called from several threads
// (each opens its own connection); Start and the destructor from one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace syncmgr::testing {

class PgCluster {
 public:
  // The directory of initdb, pg_ctl and postgres.
  static std::string BinDir();
  // True when those binaries are installed.
  static bool BinariesPresent();

  PgCluster() = default;
  ~PgCluster();  // stops the server (immediate mode) and removes the directory
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // initdb and start, waiting at most `timeout_s` for the server to accept
  // connections. False with error() on failure (the server log's tail
  // included).
  bool Start(int timeout_s = 60);
  bool running() const { return port_ != 0; }
  const std::string& error() const { return error_; }

  uint16_t port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // "host=127.0.0.1 port=P user=U password=W dbname=DB".
  std::string Dsn(const std::string& dbname) const;

  // Creates a fresh, empty database and returns its name ("t1", "t2", ...).
  std::string NewDatabase();

  // Runs `sql` (one or more statements) in `dbname`; the rows of the last
  // statement as text (SQL NULL: nullopt). On error: nullopt, with the
  // message in *error when given.
  using Rows = std::vector<std::vector<std::optional<std::string>>>;
  std::optional<Rows> Query(const std::string& dbname, const std::string& sql,
                            std::string* error = nullptr) const;
  // Query that must succeed, one value (first row, first column): "" when
  // no row or NULL; ADD_FAILURE on error.
  std::string Scalar(const std::string& dbname, const std::string& sql) const;

  // A connection of its own that runs `sql` in a transaction it keeps open
  // (a LOCK TABLE, say) until the returned handle is dropped, which closes
  // the connection and so rolls the transaction back. Empty handle with
  // ADD_FAILURE when the connection or `sql` fails.
  class Held;
  std::unique_ptr<Held> HoldTransaction(const std::string& dbname, const std::string& sql) const;

 private:
  bool Run(const std::vector<std::string>& argv, const std::string& log, int timeout_s);
  std::string LogTail() const;

  std::string work_;  // temp dir
  std::string data_;  // PGDATA
  std::string user_ = "syncmgr";
  std::string password_;
  uint16_t port_ = 0;
  bool as_postgres_user_ = false;
  std::string error_;
  int next_db_ = 0;
};

class PgCluster::Held {
 public:
  explicit Held(void* conn) : conn_(conn) {}
  ~Held();
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;

 private:
  void* conn_;  // PGconn*; libpq stays out of this header
};

// One cluster per test process, started on first use (and stopped at exit).
// available() is false when the binaries are absent — the only case a test
// may skip; a cluster that fails to start fails the test instead.
struct SharedPg {
  PgCluster* cluster = nullptr;  // null when not available or failed
  bool available = false;
  std::string message;  // why not
};
SharedPg SharedPgCluster();

// A fixture with an empty database of its own in the shared cluster: the
// test is skipped when PostgreSQL is not installed and fails when it did
// not start. A subclass's SetUp calls this one first and returns when
// IsSkipped() or HasFatalFailure().
class PgDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override;

  PgCluster* pg_ = nullptr;
  std::string db_;
};

}  // namespace syncmgr::testing
