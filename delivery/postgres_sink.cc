// The `postgres` push target: keeps the target's current state in a
// PostgreSQL table, exactly once (SPEC §4 "Push delivery"). libpq.
//
// Config: {"dsn": "host=... user=... password=... dbname=..." or
// "postgresql://user:pw@host:port/db", "table"?: "properties"}.
//
// Tables (created if absent, in the DSN user's default schema):
//
//   <table>          (external_id text PRIMARY KEY, data jsonb NOT NULL,
//                     version bigint NOT NULL, seq bigint NOT NULL,
//                     updated_at timestamptz NOT NULL)
//                    the target's live properties; a removal deletes the row
//   syncmgr_cursor   (target_key text PRIMARY KEY, seq bigint NOT NULL,
//                     tenant_id bigint NOT NULL, target_id bigint NOT NULL,
//                     updated_at timestamptz NOT NULL)
//                    one row per state table (target_key = the table name):
//                    the last seq applied, i.e. the receiver's cursor
//   syncmgr_removed  (target_key text, external_id text, seq bigint NOT NULL,
//                     PRIMARY KEY (target_key, external_id))
//                    the seq of each property's removal (a tombstone), so an
//                    older event arriving late cannot bring a removed row back
//
// Exactly once: one PostgreSQL transaction per batch locks the cursor row,
// applies each property's last event of the batch only when its seq is newer
// than what the table holds for it (row or tombstone), and moves the cursor
// to max(cursor, last seq). A batch re-sent after a crash or a lost answer
// therefore changes nothing, a dead letter retried late changes only what it
// is newest for, and the table always equals the target as of the cursor.
//
// Outbound safety: the DSN names one host; it is resolved here, checked, and
// the checked address is what libpq connects to (hostaddr), so a DNS answer
// that changes after validation cannot lead elsewhere. DSN keywords that read
// local files or services (passfile, service, sslkey, ...) are refused.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>

#include "delivery/sink_config.h"
#include "delivery/sinks.h"
#include "wire/dsn.h"
#include "wire/json_writer.h"

namespace syncmgr::delivery {
namespace {

// Timeouts of every PostgreSQL call (SPEC: timeouts on every outbound call).
// connect_timeout, seconds. Default: 10 s.
constexpr int kConnectTimeoutS = 10;
// statement_timeout of the session: one batch's statement. Default: 30 s.
constexpr int kStatementTimeoutMs = 30'000;
// lock_timeout: waiting for the cursor row another writer holds. Default: 10 s.
constexpr int kLockTimeoutMs = 10'000;
// idle_in_transaction_session_timeout: a delivery thread that dies mid-batch
// never holds the cursor row's lock for long. Default: 60 s.
constexpr int kIdleInTransactionTimeoutMs = 60'000;
// TCP: unacknowledged data for this long closes the connection (tcp_user_timeout),
// and keepalives find a peer that vanished while we wait for an answer.
constexpr int kTcpUserTimeoutMs = 30'000;
constexpr int kKeepalivesIdleS = 15;
constexpr int kKeepalivesIntervalS = 5;
constexpr int kKeepalivesCount = 3;
// A receiver's error text kept in SendResult::detail, bytes.
constexpr size_t kMaxDetailBytes = 300;
// Longest table name PostgreSQL keeps (NAMEDATALEN - 1).
constexpr size_t kMaxTableBytes = 63;

// DSN keywords a config may use. Others (passfile, service, sslkey, sslcert,
// sslrootcert, sslcrl, requirepeer, krbsrvname, ...) read files or services
// on the server's machine, and are refused.
// clang-format off
const std::set<std::string, std::less<>> kAllowedDsnKeywords = {
    "host", "hostaddr", "port", "dbname", "user", "password", "connect_timeout",
    "sslmode", "options", "application_name", "target_session_attrs",
    "channel_binding", "gssencmode", "sslsni", "client_encoding"};
// clang-format on

struct PgConfig {
  std::string dsn;
  std::string table = "properties";
  // From the DSN.
  std::map<std::string, std::string, std::less<>> params;
};

// ---- Config (the DSN is read by wire/dsn.h, as libpq reads it) --------------------

bool IsPlainIdentifier(std::string_view s) {
  if (s.empty() || s.size() > kMaxTableBytes) return false;
  if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// "name" -> "\"name\"" (doubling any '"'; a validated name has none).
std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// Checks the DSN's destination against the outbound-safety rule; returns the
// address to connect to ("" for a Unix socket, allowed only with
// allow_private). resolve false (validation with allow_private): the shape
// only, "" returned.
StatusOr<std::string> CheckDestination(
    const std::map<std::string, std::string, std::less<>>& params, bool allow_private,
    bool resolve = true) {
  auto host_it = params.find("host");
  auto addr_it = params.find("hostaddr");
  const std::string host = host_it == params.end() ? "" : host_it->second;
  const std::string hostaddr = addr_it == params.end() ? "" : addr_it->second;
  if (host.find(',') != std::string::npos || hostaddr.find(',') != std::string::npos) {
    return Status::InvalidArgument("config 'dsn' must name one host (no host lists)");
  }
  if (host.empty() && hostaddr.empty()) {
    return Status::InvalidArgument("config 'dsn' must name a host");
  }
  if (hostaddr.empty() && (host[0] == '/' || host[0] == '@')) {
    if (!allow_private) {
      return Status::InvalidArgument(
          "config 'dsn' names a local socket: refused unless the server runs with "
          "--allow-private-push");
    }
    return std::string();
  }
  if (!resolve) return std::string();
  SYNCMGR_ASSIGN_OR_RETURN(std::vector<std::string> addresses,
                           ResolveDestination(hostaddr.empty() ? host : hostaddr, allow_private));
  return addresses.front();
}

StatusOr<PgConfig> ParsePgConfig(std::string_view config_json) {
  ConfigObject config;
  SYNCMGR_RETURN_IF_ERROR(config.Parse(config_json, {"dsn", "table"}));
  PgConfig out;
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<std::string> dsn, config.String("dsn"));
  if (!dsn || dsn->empty()) {
    return Status::InvalidArgument("config 'dsn' is required for a postgres target");
  }
  out.dsn = std::move(*dsn);
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<std::string> table, config.String("table"));
  if (table) out.table = std::move(*table);
  if (!IsPlainIdentifier(out.table)) {
    return Status::InvalidArgument(
        "config 'table' must be a plain identifier: lower-case letters, digits and '_', not "
        "starting with a digit, at most 63 bytes");
  }
  if (out.table.rfind("syncmgr_", 0) == 0 || out.table.rfind("pg_", 0) == 0) {
    return Status::InvalidArgument("config 'table' may not start with 'syncmgr_' or 'pg_'");
  }
  SYNCMGR_ASSIGN_OR_RETURN(out.params, wire::ParseDsn(out.dsn));
  for (const auto& [key, value] : out.params) {
    if (kAllowedDsnKeywords.count(key) == 0) {
      return Status::InvalidArgument("config 'dsn' may not set '" + key + "'");
    }
  }
  return out;
}

// ---- The sink ----------------------------------------------------------------------

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

void IgnoreNotice(void*, const char*) {}

// Why a statement failed, and whether sending again can help.
struct PgError {
  bool permanent = false;
  std::string detail;
};

PgError ErrorOf(PGconn* conn, const PGresult* res) {
  PgError e;
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary ? primary : (conn ? PQerrorMessage(conn) : "no connection");
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.size() > kMaxDetailBytes) message.resize(kMaxDetailBytes);
  std::string sqlstate = state ? state : "";
  e.detail = "postgres: " + (sqlstate.empty() ? "" : sqlstate + " ") + message;
  // Data exceptions (22), integrity violations (23) and syntax / access rule
  // violations (42: a table of another shape, no privilege) do not heal by
  // sending again; connection, resource and timeout errors do.
  const std::string cls = sqlstate.substr(0, 2);
  e.permanent = cls == "22" || cls == "23" || cls == "42";
  return e;
}

class PostgresSink final : public Sink {
 public:
  PostgresSink(PgConfig config, SinkEnv env) : config_(std::move(config)), env_(env) {
    table_ = QuoteIdent(config_.table);
  }
  ~PostgresSink() override { Disconnect(); }

  StatusOr<SendResult> Send(const Batch& batch) override {
    SendResult result;
    if (env_.cancel != nullptr && env_.cancel->load(std::memory_order_relaxed)) {
      // The delivery engine is stopping; every statement is bounded by the
      // timeouts above, so a batch under way is left to finish or time out.
      result.outcome = SendResult::Outcome::kRetry;
      result.detail = "cancelled: delivery is stopping";
      return result;
    }
    PgError error;
    if (!Connect(&error) || !Apply(batch, &error)) {
      result.outcome =
          error.permanent ? SendResult::Outcome::kRefused : SendResult::Outcome::kRetry;
      result.detail = std::move(error.detail);
      return result;
    }
    result.outcome = SendResult::Outcome::kDelivered;
    result.detail = "committed";
    return result;
  }

  StatusOr<std::optional<uint64_t>> ReceiverCursor() override {
    PgError error;
    if (!Connect(&error)) return Status::Unavailable(error.detail);
    const char* values[1] = {config_.table.c_str()};
    PgResult res(PQexecParams(conn_, "SELECT seq FROM syncmgr_cursor WHERE target_key = $1", 1,
                              nullptr, values, nullptr, nullptr, 0));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
      error = ErrorOf(conn_, res.get());
      DropBrokenConnection();
      return Status::Unavailable(error.detail);
    }
    if (PQntuples(res.get()) == 0) return std::optional<uint64_t>(0);
    return std::optional<uint64_t>(std::strtoull(PQgetvalue(res.get(), 0, 0), nullptr, 10));
  }

 private:
  void Disconnect() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

  void DropBrokenConnection() {
    if (conn_ != nullptr && PQstatus(conn_) != CONNECTION_OK) Disconnect();
  }

  bool Exec(const char* sql, PgError* error) {
    PgResult res(PQexec(conn_, sql));
    ExecStatusType st = PQresultStatus(res.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return true;
    *error = ErrorOf(conn_, res.get());
    return false;
  }

  // Connects (once; again after a broken connection) and creates the tables.
  bool Connect(PgError* error) {
    if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return true;
    Disconnect();
    StatusOr<std::string> address = CheckDestination(config_.params, env_.allow_private);
    if (!address.ok()) {
      // Refused by the outbound-safety rule, or a name that does not resolve
      // (now): retried like any connection failure, as the webhook sink does;
      // max_attempts makes it a dead letter if it persists.
      error->permanent = false;
      error->detail = address.status().code() == Code::kInvalidArgument
                          ? "outbound safety: " + address.status().message()
                          : "postgres: " + address.status().message();
      return false;
    }
    std::vector<std::pair<std::string, std::string>> kv;
    for (const auto& [key, value] : config_.params) {
      if (key == "hostaddr" || key == "connect_timeout" || key == "client_encoding") continue;
      kv.emplace_back(key, value);
    }
    if (!address->empty()) kv.emplace_back("hostaddr", *address);
    int connect_timeout = kConnectTimeoutS;
    if (auto it = config_.params.find("connect_timeout"); it != config_.params.end()) {
      int asked = std::atoi(it->second.c_str());
      if (asked > 0) connect_timeout = std::min(connect_timeout, std::max(asked, 2));
    }
    kv.emplace_back("connect_timeout", std::to_string(connect_timeout));
    kv.emplace_back("client_encoding", "UTF8");
    kv.emplace_back("keepalives", "1");
    kv.emplace_back("keepalives_idle", std::to_string(kKeepalivesIdleS));
    kv.emplace_back("keepalives_interval", std::to_string(kKeepalivesIntervalS));
    kv.emplace_back("keepalives_count", std::to_string(kKeepalivesCount));
    kv.emplace_back("tcp_user_timeout", std::to_string(kTcpUserTimeoutMs));
    if (config_.params.count("application_name") == 0)
      kv.emplace_back("application_name", "syncmgr");
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [k, v] : kv) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      error->permanent = false;
      std::string message = conn_ ? PQerrorMessage(conn_) : "out of memory";
      while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
      if (message.size() > kMaxDetailBytes) message.resize(kMaxDetailBytes);
      error->detail = "postgres: connect: " + message;
      Disconnect();
      return false;
    }
    PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
    const std::string session = "SET statement_timeout = " + std::to_string(kStatementTimeoutMs) +
                                "; SET lock_timeout = " + std::to_string(kLockTimeoutMs) +
                                "; SET idle_in_transaction_session_timeout = " +
                                std::to_string(kIdleInTransactionTimeoutMs);
    if (!Exec(session.c_str(), error) || !CreateTables(error)) {
      Disconnect();
      return false;
    }
    return true;
  }

  bool CreateTables(PgError* error) {
    // The advisory lock serializes concurrent first connections of several
    // targets to one database: CREATE TABLE IF NOT EXISTS alone can race.
    const std::string sql =
        "BEGIN; SELECT pg_advisory_xact_lock(hashtext('syncmgr_push_schema'));"
        "CREATE TABLE IF NOT EXISTS " +
        table_ +
        " (external_id text PRIMARY KEY, data jsonb NOT NULL, version bigint NOT NULL,"
        " seq bigint NOT NULL, updated_at timestamptz NOT NULL);"
        "CREATE TABLE IF NOT EXISTS syncmgr_cursor (target_key text PRIMARY KEY,"
        " seq bigint NOT NULL, tenant_id bigint NOT NULL, target_id bigint NOT NULL,"
        " updated_at timestamptz NOT NULL);"
        "CREATE TABLE IF NOT EXISTS syncmgr_removed (target_key text NOT NULL,"
        " external_id text NOT NULL, seq bigint NOT NULL,"
        " PRIMARY KEY (target_key, external_id));"
        "COMMIT;";
    if (Exec(sql.c_str(), error)) return true;
    PgError ignored;
    Exec("ROLLBACK", &ignored);
    return false;
  }

  // The batch as the JSON array the apply statement reads: each property's
  // last event in the batch, {"i": external_id, "s": seq, "v": version,
  // "t": time in µs, "d": data or null}.
  static std::string BatchJson(const Batch& batch) {
    std::map<std::string_view, const LogEvent*> last;
    for (const LogEvent& e : batch.events) {
      if (!e.summary_json.empty() || e.external_id.empty()) continue;  // not a property event
      const LogEvent*& slot = last[e.external_id];
      if (slot == nullptr || slot->seq < e.seq) slot = &e;
    }
    std::string out;
    wire::JsonWriter w(&out);
    w.BeginArray();
    for (const auto& [id, e] : last) {
      w.BeginObject();
      w.Key("i").String(e->external_id);
      w.Key("s").Uint(e->seq);
      w.Key("v").Uint(e->version);
      w.Key("t").Int(e->time_us);
      w.Key("d");
      if (e->data) {
        w.Raw(*e->data);
      } else {
        w.Null();
      }
      w.EndObject();
    }
    w.EndArray();
    return out;
  }

  const std::string& ApplySql() {
    if (!apply_sql_.empty()) return apply_sql_;
    const std::string& t = table_;
    apply_sql_ =
        "WITH ev AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
        "   AS e(i text, s bigint, v bigint, t bigint, d jsonb)),"
        " cur AS (SELECT ev.*, GREATEST(COALESCE(p.seq, 0), COALESCE(r.seq, 0)) AS have"
        "   FROM ev LEFT JOIN " +
        t +
        " p ON p.external_id = ev.i"
        "   LEFT JOIN syncmgr_removed r ON r.target_key = $2 AND r.external_id = ev.i),"
        " todo AS (SELECT * FROM cur WHERE s > have),"
        " up AS (INSERT INTO " +
        t +
        " AS p (external_id, data, version, seq, updated_at)"
        "   SELECT i, d, v, s, timestamptz 'epoch' + t * interval '1 microsecond'"
        "   FROM todo WHERE d IS NOT NULL"
        "   ON CONFLICT (external_id) DO UPDATE SET data = EXCLUDED.data,"
        "   version = EXCLUDED.version, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at"
        "   WHERE p.seq < EXCLUDED.seq RETURNING 1),"
        " del AS (DELETE FROM " +
        t +
        " p USING todo"
        "   WHERE p.external_id = todo.i AND todo.d IS NULL AND p.seq < todo.s RETURNING 1),"
        " tomb AS (INSERT INTO syncmgr_removed AS r (target_key, external_id, seq)"
        "   SELECT $2, i, s FROM todo WHERE d IS NULL"
        "   ON CONFLICT (target_key, external_id) DO UPDATE SET seq = EXCLUDED.seq"
        "   WHERE r.seq < EXCLUDED.seq RETURNING 1),"
        " untomb AS (DELETE FROM syncmgr_removed r USING todo"
        "   WHERE r.target_key = $2 AND r.external_id = todo.i AND todo.d IS NOT NULL"
        "   AND r.seq < todo.s RETURNING 1),"
        " cursor AS (UPDATE syncmgr_cursor SET seq = GREATEST(seq, $3), updated_at = now()"
        "   WHERE target_key = $2 RETURNING seq)"
        " SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM del),"
        "   (SELECT count(*) FROM cursor)";
    return apply_sql_;
  }

  bool Apply(const Batch& batch, PgError* error) {
    if (!Exec("BEGIN", error)) {
      DropBrokenConnection();
      return false;
    }
    if (!ApplyInTransaction(batch, error)) {
      PgError ignored;
      Exec("ROLLBACK", &ignored);  // the batch's error is what counts
      DropBrokenConnection();
      return false;
    }
    if (!Exec("COMMIT", error)) {
      // Unknown whether it committed: sending again is safe (seq checks).
      error->permanent = false;
      DropBrokenConnection();
      return false;
    }
    return true;
  }

  bool ApplyInTransaction(const Batch& batch, PgError* error) {
    const std::string tenant = std::to_string(batch.tenant);
    const std::string target = std::to_string(batch.target_id);
    {
      // Creates and locks this table's cursor row: one writer per table at a
      // time, and a table is fed by one target only.
      const char* values[3] = {config_.table.c_str(), tenant.c_str(), target.c_str()};
      PgResult res(PQexecParams(
          conn_,
          "INSERT INTO syncmgr_cursor AS c (target_key, seq, tenant_id, target_id, updated_at)"
          " VALUES ($1, 0, $2, $3, now()) ON CONFLICT (target_key)"
          " DO UPDATE SET target_key = c.target_key RETURNING seq, tenant_id, target_id",
          3, nullptr, values, nullptr, nullptr, 0));
      if (PQresultStatus(res.get()) != PGRES_TUPLES_OK || PQntuples(res.get()) != 1) {
        *error = ErrorOf(conn_, res.get());
        return false;
      }
      if (tenant != PQgetvalue(res.get(), 0, 1) || target != PQgetvalue(res.get(), 0, 2)) {
        error->permanent = true;
        error->detail = "postgres: table " + config_.table + " is fed by tenant " +
                        PQgetvalue(res.get(), 0, 1) + " target " + PQgetvalue(res.get(), 0, 2) +
                        " (its syncmgr_cursor row); one table per target";
        return false;
      }
    }
    const std::string json = BatchJson(batch);
    const std::string last_seq = std::to_string(batch.last_seq);
    const char* values[3] = {json.c_str(), config_.table.c_str(), last_seq.c_str()};
    PgResult res(PQexecParams(conn_, ApplySql().c_str(), 3, nullptr, values, nullptr, nullptr, 0));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
      *error = ErrorOf(conn_, res.get());
      return false;
    }
    return true;
  }

  const PgConfig config_;
  const SinkEnv env_;
  std::string table_;  // quoted
  std::string apply_sql_;
  PGconn* conn_ = nullptr;
};

}  // namespace

Status ValidatePostgresConfig(std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(PgConfig config, ParsePgConfig(config_json));
  StatusOr<std::string> address =
      CheckDestination(config.params, env.allow_private, /*resolve=*/!env.allow_private);
  if (!address.ok()) return Status::InvalidArgument(address.status().message());
  return Status::Ok();
}

StatusOr<std::unique_ptr<Sink>> MakePostgresSink(std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(PgConfig config, ParsePgConfig(config_json));
  return std::unique_ptr<Sink>(std::make_unique<PostgresSink>(std::move(config), env));
}

}  // namespace syncmgr::delivery
