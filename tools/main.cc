// syncmgr: the Sync Manager command line (SPEC §5, docs/cli.md).
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/args.h"
#include "tools/cli.h"

namespace syncmgr::cli {
namespace {

std::vector<FlagSpec> GlobalFlags() {
  return {
      {"db", "DIR", "data directory (default: ./syncmgr-data)"},
      {"url", "URL", "work on a running server instead (or SYNCMGR_URL)"},
      {"api-key", "KEY", "API key for --url (or SYNCMGR_API_KEY; see docs/cli.md)"},
      {"json", "", "print the API's JSON answer instead of text"},
      {"help", "", "show help (also -h)"},
      {"version", "", "print the version, the commit and the on-disk format"},
  };
}

int PrintUsageError(const UsageError& error) {
  std::string help =
      error.command.empty() ? "syncmgr --help" : "syncmgr " + error.command + " --help";
  std::fprintf(stderr, "syncmgr: %s (run '%s')\n", error.message.c_str(), help.c_str());
  return kExitUsage;
}

int Main(int argc, char** argv) {
  // A server closing mid-upload must be an error code, not a signal.
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<Command> commands;
  AddTenantCommands(&commands);
  AddCatalogCommands(&commands);
  AddImportCommands(&commands);
  AddSyncCommands(&commands);
  AddServeCommands(&commands);
  AddDeliveryCommands(&commands);
  AddReplayCommands(&commands);
  AddBackupCommands(&commands);
  AddReadCommands(&commands);
  AddFeedCommands(&commands);
  AddKeyCommands(&commands);
  std::vector<CommandSpec> specs;
  specs.reserve(commands.size());
  for (const auto& c : commands) specs.push_back(c.spec);
  ArgParser parser(GlobalFlags(), specs);

  std::vector<std::string> words(argv + 1, argv + argc);
  // `syncmgr help [COMMAND...]` is `syncmgr [COMMAND...] --help`.
  if (!words.empty() && words[0] == "help") {
    words.erase(words.begin());
    words.push_back("--help");
  }
  ParsedArgs args;
  if (auto error = parser.Parse(words, &args)) return PrintUsageError(*error);

  const std::string& path = args.command();
  const CommandSpec* spec = parser.Find(path);
  if (args.Has("help")) {
    if (spec != nullptr) {
      std::fputs(parser.CommandHelp(*spec).c_str(), stdout);
    } else if (!path.empty()) {
      std::fputs(parser.GroupHelp(path).c_str(), stdout);
    } else {
      std::fputs(parser.TopLevelHelp().c_str(), stdout);
    }
    return kExitOk;
  }
  if (args.Has("version")) return PrintVersion(args.Has("json"));
  if (path.empty()) return PrintUsageError({"missing command", ""});
  if (spec == nullptr) return PrintUsageError({"missing subcommand for '" + path + "'", path});

  Context ctx(args);
  if (auto problem = ctx.CheckMode()) return ctx.UsageFail(*problem);
  if (auto error = parser.CheckArgCount(args, ctx.remote())) return PrintUsageError(*error);
  for (const auto& c : commands) {
    if (c.spec.path == path) return c.run(ctx);
  }
  return kExitUsage;  // unreachable: Parse only accepts known commands
}

}  // namespace
}  // namespace syncmgr::cli

int main(int argc, char** argv) { return syncmgr::cli::Main(argc, argv); }
