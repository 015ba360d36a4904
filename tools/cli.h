// The command framework of syncmgr: exit codes, the per-run Context (mode,
// backend, error reporting) and the command table each command group adds to.
//
// Exit status (docs/cli.md):
//   0  success
//   1  the operation failed (the engine or the server refused it)
//   2  usage error (unknown command or flag, bad or missing argument)
//   3  cannot open the data directory, or cannot reach the server
// Every failure prints exactly one line on stderr: "syncmgr: CODE: message".
//
// Thread-safety: single-threaded, like the program.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "tools/args.h"
#include "tools/backend.h"

namespace syncmgr::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,
  kExitUsage = 2,
  kExitUnreachable = 3,
};

// syncmgr --version (cmd_version.cc): prints it, as JSON with `json`.
int PrintVersion(bool json);

// Default data directory, relative to the working directory.
inline constexpr std::string_view kDefaultDataDir = "./syncmgr-data";

class Context;
using CommandFn = int (*)(Context& ctx);

struct Command {
  CommandSpec spec;
  CommandFn run;
};

// Each command group's file appends its commands.
void AddTenantCommands(std::vector<Command>* out);   // cmd_tenant.cc
void AddCatalogCommands(std::vector<Command>* out);  // cmd_catalog.cc: source, target
void AddImportCommands(std::vector<Command>* out);   // cmd_import.cc
void AddSyncCommands(std::vector<Command>* out);     // cmd_sync.cc
void AddServeCommands(std::vector<Command>* out);    // cmd_serve.cc
void AddDeliveryCommands(std::vector<Command>* out);  // cmd_delivery.cc: push delivery
void AddReplayCommands(std::vector<Command>* out);   // cmd_replay.cc
void AddBackupCommands(std::vector<Command>* out);   // cmd_backup.cc
void AddReadCommands(std::vector<Command>* out);     // cmd_read.cc: properties, logs
void AddKeyCommands(std::vector<Command>* out);      // cmd_key.cc: key create|list|revoke
void AddFeedCommands(std::vector<Command>* out);     // cmd_feed.cc

// What a command needs of its data: whether it may create the data
// directory, and whether remote mode needs the admin key.
struct BackendNeeds {
  bool create_data_dir = false;
  bool admin = false;
  // Reads only: a data directory is opened as a RocksDB secondary (no lock,
  // never written), so the command works while a server has it open.
  bool read_only = false;
};

class Context {
 public:
  explicit Context(const ParsedArgs& args);
  ~Context();

  const ParsedArgs& args() const { return args_; }
  bool json() const { return args_.Has("json"); }
  // Remote mode: --url, or SYNCMGR_URL when --db is not given.
  bool remote() const { return url_.has_value(); }
  const std::string& data_dir() const { return data_dir_; }
  // Checks the global flags agree with each other (e.g. not --db and --url).
  std::optional<std::string> CheckMode() const;

  // Opens the data directory or prepares the client. On failure prints the
  // error and returns nullptr; *exit_code is then the status to exit with.
  Backend* OpenBackend(const BackendNeeds& needs, int* exit_code);

  // Prints "syncmgr: <code>: <message>[ (hint)]" and returns its exit code
  // (3 when the server could not be reached, else 1).
  int Fail(const Status& status, std::string_view hint = "");
  // Prints "syncmgr: <message> (run 'syncmgr <command> --help')" and returns 2.
  int UsageFail(std::string_view message);

  // Prints an answer: its JSON with --json, else what `human` prints.
  template <typename T, typename HumanFn>
  int Print(const Answer<T>& answer, HumanFn human) {
    if (json()) {
      PrintJson(answer.json);
    } else {
      human(answer.value);
    }
    return kExitOk;
  }

  // The positionals after an optional leading TENANT (remote mode lets it
  // be left out: the API key names the tenant). `full_count` is the number
  // of arguments with TENANT. Sets *tenant to it when given.
  std::vector<std::string> SplitTenantArg(size_t full_count, std::string* tenant) const;

 private:
  void PrintJson(const std::string& json);

  const ParsedArgs& args_;
  std::string data_dir_;
  std::optional<std::string> url_;
  std::unique_ptr<Backend> backend_;
};

// Parses a non-negative 32-bit id ("3"); nullopt otherwise.
std::optional<uint32_t> ParseId(std::string_view text);
// Parses a non-negative 64-bit integer (a seq): digits only; nullopt
// otherwise.
std::optional<uint64_t> ParseSeq(std::string_view text);

// --as-of SEQ|TIME: all digits is a seq, else an RFC 3339 time.
struct AsOf {
  std::optional<uint64_t> seq;
  std::optional<int64_t> time_us;
};
std::optional<AsOf> ParseAsOf(std::string_view text);
// The usage error of an --as-of that is neither.
std::string BadAsOf(std::string_view text);

// A tenant, source or target named by id or by exact name. Remote mode
// returns 0 for the tenant (the key decides). NotFound when no such name,
// InvalidArgument when a name is ambiguous.
StatusOr<TenantId> ResolveTenant(Backend& backend, std::string_view arg);
// The same for admin commands, which name the tenant in both modes.
StatusOr<TenantId> ResolveTenantAsAdmin(Backend& backend, std::string_view arg);
StatusOr<uint32_t> ResolveSource(Backend& backend, TenantId tenant, std::string_view arg);
StatusOr<uint32_t> ResolveTarget(Backend& backend, TenantId tenant, std::string_view arg);

}  // namespace syncmgr::cli
