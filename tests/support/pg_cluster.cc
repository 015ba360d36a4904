#include "tests/support/pg_cluster.h"

#include "tests/support/process.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace syncmgr::testing {
namespace {

// Tries at a free port before giving up (another process may take the port
// between our probe and the server's bind).
constexpr int kStartAttempts = 3;

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string RandomAlnum(size_t n) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kChars[rd() % (sizeof kChars - 1)];
  return out;
}

bool Chown(const std::string& path, const passwd* pw) {
  return ::chown(path.c_str(), pw->pw_uid, pw->pw_gid) == 0;
}

}  // namespace

std::string PgCluster::BinDir() {
  const char* env = std::getenv("SYNCMGR_PGBIN");
  return env != nullptr && env[0] != '\0' ? env : "/usr/lib/postgresql/15/bin";
}

bool PgCluster::BinariesPresent() {
  const std::string dir = BinDir();
  return Executable(dir + "/initdb") && Executable(dir + "/pg_ctl") &&
         Executable(dir + "/postgres");
}

PgCluster::~PgCluster() {
  if (port_ != 0) {
    std::vector<std::string> stop = {
        BinDir() + "/pg_ctl", "-D", data_, "-m", "immediate", "-w", "-t", "20", "stop"};
    Run(stop, work_ + "/pg_ctl_stop.log", 30);
  }
  if (!work_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(work_, ec);
  }
}

// Runs argv (as the postgres user when needed) with stdout and stderr
// appended to `log`; kills it after timeout_s. True on exit status 0.
bool PgCluster::Run(const std::vector<std::string>& argv_in, const std::string& log,
                    int timeout_s) {
  std::vector<std::string> argv;
  if (as_postgres_user_) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  argv.insert(argv.end(), argv_in.begin(), argv_in.end());
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return false;
  pid_t pid = ::fork();
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // The server must start in /tmp-ish cwd the postgres user can read.
    if (::chdir(work_.c_str()) != 0) _exit(126);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(log_fd);
  if (pid < 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return false;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string PgCluster::LogTail() const {
  std::ifstream in(work_ + "/postgres.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  if (all.size() > 2000) all = all.substr(all.size() - 2000);
  std::ifstream init(work_ + "/initdb.log");
  std::stringstream si;
  si << init.rdbuf();
  std::string init_log = si.str();
  if (init_log.size() > 1000) init_log = init_log.substr(init_log.size() - 1000);
  return "initdb log: " + init_log + "\nserver log: " + all;
}

bool PgCluster::Start(int timeout_s) {
  if (!BinariesPresent()) {
    error_ = "PostgreSQL 15 binaries not found in " + BinDir();
    return false;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp") + "/syncmgr-pgtest.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return false;
  }
  work_ = templ;
  data_ = work_ + "/data";
  const std::string sock = work_ + "/sock";
  ::mkdir(data_.c_str(), 0700);
  ::mkdir(sock.c_str(), 0755);
  as_postgres_user_ = ::geteuid() == 0;
  if (as_postgres_user_) {
    // PostgreSQL refuses to run as root: initdb and the server run as the
    // package's `postgres` user, who must reach the directory.
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      error_ = "running as root needs the 'postgres' system user (apt-get install postgresql-15)";
      return false;
    }
    ::chmod(work_.c_str(), 0711);
    if (!Chown(data_, pw) || !Chown(sock, pw) || !Chown(work_, pw)) {
      error_ = "chown to postgres failed";
      return false;
    }
  }
  password_ = RandomAlnum(24);
  const std::string pwfile = work_ + "/pwfile";
  {
    std::ofstream out(pwfile);
    out << password_ << "\n";
  }
  ::chmod(pwfile.c_str(), 0644);
  const std::string bin = BinDir();
  if (!Run({bin + "/initdb", "-D", data_, "-U", user_, "--pwfile=" + pwfile, "--auth=scram-sha-256",
            "-E", "UTF8", "--locale=C", "--no-sync"},
           work_ + "/initdb.log", timeout_s)) {
    error_ = "initdb failed. " + LogTail();
    return false;
  }
  ::unlink(pwfile.c_str());
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    const uint16_t port = FreeLoopbackPort();
    if (port == 0) continue;
    {
      std::ofstream conf(data_ + "/postgresql.conf", std::ios::app);
      conf << "\n# tests/support/pg_cluster.cc\n"
           << "port = " << port << "\n"
           << "listen_addresses = '127.0.0.1'\n"
           << "unix_socket_directories = '" << sock << "'\n"
           << "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
           << "shared_buffers = 32MB\nmax_connections = 40\n"
           << "logging_collector = off\nlog_min_messages = warning\n";
    }
    if (Run({bin + "/pg_ctl", "-D", data_, "-l", work_ + "/postgres.log", "-w", "-t",
             std::to_string(timeout_s), "start"},
            work_ + "/pg_ctl.log", timeout_s + 10)) {
      port_ = port;
      return true;
    }
  }
  error_ = "the PostgreSQL server did not start. " + LogTail();
  return false;
}

std::string PgCluster::Dsn(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user_ +
         " password=" + password_ + " dbname=" + dbname;
}

std::optional<PgCluster::Rows> PgCluster::Query(const std::string& dbname, const std::string& sql,
                                                std::string* error) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
      PQconnectdb((Dsn(dbname) + " connect_timeout=10").c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    if (error) *error = PQerrorMessage(conn.get());
    return std::nullopt;
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  ExecStatusType st = PQresultStatus(res.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    if (error) *error = PQresultErrorMessage(res.get());
    return std::nullopt;
  }
  Rows rows;
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    std::vector<std::optional<std::string>> row;
    for (int c = 0; c < PQnfields(res.get()); ++c) {
      if (PQgetisnull(res.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

PgCluster::Held::~Held() { PQfinish(static_cast<PGconn*>(conn_)); }

std::unique_ptr<PgCluster::Held> PgCluster::HoldTransaction(const std::string& dbname,
                                                            const std::string& sql) const {
  PGconn* conn = PQconnectdb((Dsn(dbname) + " connect_timeout=10").c_str());
  auto held = std::make_unique<Held>(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "connect: " << PQerrorMessage(conn);
    return nullptr;
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn, ("BEGIN; " + sql).c_str()),
                                                    &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    ADD_FAILURE() << "SQL failed: " << sql << ": " << PQresultErrorMessage(res.get());
    return nullptr;
  }
  return held;
}

std::string PgCluster::Scalar(const std::string& dbname, const std::string& sql) const {
  std::string error;
  std::optional<Rows> rows = Query(dbname, sql, &error);
  if (!rows) {
    ADD_FAILURE() << "SQL failed: " << sql << ": " << error;
    return "";
  }
  if (rows->empty() || (*rows)[0].empty() || !(*rows)[0][0]) return "";
  return *(*rows)[0][0];
}

std::string PgCluster::NewDatabase() {
  const std::string name = "t" + std::to_string(++next_db_);
  std::string error;
  if (!Query("postgres", "CREATE DATABASE " + name, &error)) {
    ADD_FAILURE() << "CREATE DATABASE " << name << ": " << error;
  }
  return name;
}

SharedPg SharedPgCluster() {
  static std::once_flag once;
  static SharedPg shared;
  static std::unique_ptr<PgCluster> cluster;
  std::call_once(once, [] {
    if (!PgCluster::BinariesPresent()) {
      shared.message = "PostgreSQL 15 is not installed (" + PgCluster::BinDir() +
                       "/initdb missing): run scripts/bootstrap.sh";
      return;
    }
    shared.available = true;
    cluster = std::make_unique<PgCluster>();
    if (!cluster->Start()) {
      shared.message = cluster->error();
      return;
    }
    shared.cluster = cluster.get();
    // Stopped at exit: the static unique_ptr's destructor.
  });
  return shared;
}

void PgDatabaseTest::SetUp() {
  SharedPg shared = SharedPgCluster();
  if (!shared.available) GTEST_SKIP() << shared.message;
  ASSERT_NE(shared.cluster, nullptr) << "PostgreSQL did not start: " << shared.message;
  pg_ = shared.cluster;
  db_ = pg_->NewDatabase();
}

}  // namespace syncmgr::testing
