// Command-line grammar of syncmgr: the command table (specs), parsed with
// CLI11 (args.cc, the one file that includes it), and the help texts.
//
//   syncmgr [GLOBAL FLAGS] COMMAND [SUBCOMMAND] [FLAGS] [ARGS]
//
// Flags are long options only: `--name VALUE`, `--name=VALUE` or a bare
// `--name` for booleans; `-h` is `--help`. Global flags (--db, --url,
// --api-key, --json, --help, --version) are accepted before or after the
// command. `--` ends the flags; a lone `-` is an argument (stdin). A flag not
// known to the command is a usage error, as is a missing or extra argument.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncmgr::cli {

struct FlagSpec {
  std::string name;        // without dashes: "mode"
  std::string value_name;  // "MODE"; empty for a boolean flag
  std::string help;
  bool repeatable = false;
};

struct CommandSpec {
  std::string path{};  // "source create"
  std::string summary{};
  // Argument names for the usage line; a trailing "?" marks an optional one
  // ("FILE?"), "..." a repeated tail.
  std::vector<std::string> args{};
  std::vector<FlagSpec> flags{};
  // Free text printed after the flags in --help (examples, notes).
  std::string details{};
  // Remote mode lets the leading TENANT argument be left out (the API key
  // names the tenant); the parser then accepts one argument fewer.
  bool tenant_arg_optional_remotely = false;
};

// The result of parsing one command line.
class ParsedArgs {
 public:
  bool Has(std::string_view flag) const;
  // The last value of a flag, or `fallback`.
  std::string Get(std::string_view flag, std::string_view fallback = "") const;
  std::optional<std::string> GetOptional(std::string_view flag) const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> GetAll(std::string_view flag) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  const std::string& command() const { return command_; }

 private:
  friend class ArgParser;
  friend class Grammar;
  std::string command_;
  std::map<std::string, std::vector<std::string>, std::less<>> flags_;
  std::vector<std::string> positionals_;
};

// A usage problem: one line for stderr and the command whose --help to point at.
struct UsageError {
  std::string message;
  std::string command;  // "" for the top level
};

class ArgParser {
 public:
  ArgParser(std::vector<FlagSpec> global_flags, std::vector<CommandSpec> commands);

  // Parses argv[1..]. On success `out->command()` is the command path ("" if
  // only global flags were given, e.g. a bare `--help`), or a group name
  // ("tenant") when only a group was named. On error, the message is ours
  // (never CLI11's) and names the command parsed so far.
  // Positional counts are checked by CheckArgCount (the caller knows the mode).
  std::optional<UsageError> Parse(const std::vector<std::string>& argv, ParsedArgs* out) const;

  // Validates the number of positionals for `command` in the given mode.
  std::optional<UsageError> CheckArgCount(const ParsedArgs& args, bool remote) const;

  const CommandSpec* Find(std::string_view path) const;

  // Help texts (for stdout).
  std::string TopLevelHelp() const;
  std::string GroupHelp(std::string_view group) const;
  std::string CommandHelp(const CommandSpec& spec) const;

 private:
  std::string UsageLine(const CommandSpec& spec) const;

  std::vector<FlagSpec> global_flags_;
  std::vector<CommandSpec> commands_;
};

}  // namespace syncmgr::cli
