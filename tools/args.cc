// The grammar is CLI11's (Debian's libcli11-dev, header-only): one CLI::App
// per command word, built from the CommandSpec table on each Parse. Only this
// file includes CLI11 (it is slow to compile). Its error messages are
// replaced by ours, one line each, and the help texts are ours too.
#include "tools/args.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <sstream>
#include <utility>

namespace syncmgr::cli {

namespace {

constexpr size_t kHelpColumn = 26;  // where flag descriptions start

bool IsOptionalArg(std::string_view a) { return !a.empty() && a.back() == '?'; }
bool IsVariadicArg(std::string_view a) { return a.ends_with("..."); }

std::string ArgDisplay(std::string_view a) {
  if (IsOptionalArg(a)) return "[" + std::string(a.substr(0, a.size() - 1)) + "]";
  return std::string(a);
}

void AppendFlagHelp(const FlagSpec& f, std::string* out) {
  std::string left = "  --" + f.name;
  if (!f.value_name.empty()) left += " " + f.value_name;
  if (f.repeatable) left += " ...";
  if (left.size() + 2 > kHelpColumn) {
    *out += left + "\n" + std::string(kHelpColumn, ' ');
  } else {
    *out += left + std::string(kHelpColumn - left.size(), ' ');
  }
  *out += f.help + "\n";
}

void AppendCommandLine(const CommandSpec& c, std::string* out) {
  std::string left = "  " + c.path;
  *out += left + std::string(left.size() < kHelpColumn ? kHelpColumn - left.size() : 1, ' ') +
          c.summary + "\n";
}

// Name of the positional option that collects a command's arguments.
constexpr const char* kArgsOption = "ARGS";

// One flag registered with CLI11, and the spec it stands for.
struct Registered {
  const FlagSpec* spec;
  CLI::Option* option;
};

}  // namespace

// Every word after the program name, as CLI11 classifies it: each level of
// the command path is a CLI::App that passes flags it does not know to its
// parent (fallthrough), so global flags work after the command, and takes
// at most one subcommand, so an argument that happens to be a command name
// ("source create --tenant 1 list") stays an argument.
class Grammar {
 public:
  Grammar(const std::vector<FlagSpec>& global_flags, const std::vector<CommandSpec>& commands)
      : app_("", "syncmgr") {
    Configure(&app_);
    for (const FlagSpec& f : global_flags) Register(&app_, f);
    std::map<std::string, CLI::App*> levels = {{"", &app_}};
    for (const CommandSpec& c : commands) {
      CLI::App* level = &app_;
      std::string path;
      std::istringstream words(c.path);
      for (std::string word; words >> word;) {  // "source create": a level per word
        path += (path.empty() ? "" : " ") + word;
        CLI::App*& sub = levels[path];
        if (sub == nullptr) Configure(sub = level->add_subcommand(word));
        level = sub;
      }
      for (const FlagSpec& f : c.flags) Register(level, f);
      level->add_option(kArgsOption, args_[level]);
    }
  }

  // Parses `argv`; fills *out or returns the first problem.
  std::optional<UsageError> Parse(const std::vector<std::string>& argv, ParsedArgs* out,
                                  std::string* command) {
    std::vector<std::string> reversed(argv.rbegin(), argv.rend());
    std::optional<std::string> thrown;
    try {
      app_.parse(reversed);
    } catch (const CLI::ParseError& e) {
      thrown = Translate(e);
    }
    // The command path recognised (as far as parsing got).
    std::vector<CLI::App*> chain = {&app_};
    while (!chain.back()->get_subcommands().empty()) {
      chain.push_back(chain.back()->get_subcommands().front());
    }
    for (size_t i = 1; i < chain.size(); ++i) {
      *command += (i > 1 ? " " : "") + chain[i]->get_name();
    }
    auto error = [&](std::string message) { return UsageError{std::move(message), *command}; };
    if (thrown) return error(*thrown);

    // Words no level took: an unknown flag, or an unknown command word (a
    // leaf takes every other word as an argument). The first one in argv
    // is reported.
    std::optional<std::pair<size_t, std::string>> first;
    for (CLI::App* level : chain) {
      for (const std::string& word : level->remaining()) {
        if (word == "--") continue;  // the end-of-flags mark
        size_t at = std::find(argv.begin(), argv.end(), word) - argv.begin();
        if (!first || at < first->first) first = {at, word};
      }
    }
    if (first) {
      // The help to point at is that of the command words before it.
      std::string before;
      size_t at = 0;
      for (size_t i = 1; i < chain.size(); ++i) {
        const size_t from = i == 1 ? 0 : std::min(at + 1, argv.size());
        at = std::find(argv.begin() + from, argv.end(), chain[i]->get_name()) - argv.begin();
        if (at > first->first) break;
        before += (i > 1 ? " " : "") + chain[i]->get_name();
      }
      const std::string& word = first->second;
      if (word.size() > 1 && word[0] == '-') {
        return UsageError{"unknown flag " + word.substr(0, word.find('=')), before};
      }
      return error("unknown command '" + (command->empty() ? word : *command + " " + word) + "'");
    }

    for (const Registered& r : flags_) {
      if (r.option->count() == 0) continue;
      const FlagSpec& f = *r.spec;
      auto& values = out->flags_[f.name];
      if (f.value_name.empty()) {
        values.resize(r.option->count());
      } else {
        values = r.option->results();
        if (values.size() > 1 && !f.repeatable) return error("flag --" + f.name + " given twice");
      }
    }
    if (auto it = args_.find(chain.back()); it != args_.end()) out->positionals_ = it->second;
    return std::nullopt;
  }

 private:
  static void Configure(CLI::App* app) {
    app->set_help_flag();  // --help is one of our global flags
    app->allow_extras();   // unknown words are reported by Parse, in our words
    app->fallthrough();
    app->require_subcommand(0, 1);
  }

  void Register(CLI::App* level, const FlagSpec& f) {
    std::string names = "--" + f.name;
    if (f.name == "help") names += ",-h";
    CLI::Option* option;
    if (f.value_name.empty()) {
      option = level->add_flag(names)->disable_flag_override();
    } else {
      // Every occurrence is kept; "given twice" is checked afterwards.
      option = level->add_option(names)->expected(1)->multi_option_policy(
          CLI::MultiOptionPolicy::TakeAll);
    }
    flags_.push_back({&f, option});
  }

  // CLI11's message for a flag without its value, or a boolean flag given
  // one, in our words.
  std::string Translate(const CLI::ParseError& e) const {
    std::string what = e.what();
    for (const Registered& r : flags_) {
      const FlagSpec& f = *r.spec;
      const std::string dashed = "--" + f.name;
      if (what.starts_with(dashed + ":") && !f.value_name.empty()) {
        return "flag " + dashed + " needs a value (" + f.value_name + ")";
      }
      if (what == f.name + " was given a disallowed flag override") {
        return "flag " + dashed + " takes no value";
      }
    }
    return what;
  }

  CLI::App app_;
  std::vector<Registered> flags_;
  // Each command's arguments (map nodes do not move: CLI11 holds references).
  std::map<const CLI::App*, std::vector<std::string>> args_;
};

bool ParsedArgs::Has(std::string_view flag) const { return flags_.find(flag) != flags_.end(); }

std::string ParsedArgs::Get(std::string_view flag, std::string_view fallback) const {
  auto it = flags_.find(flag);
  if (it == flags_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::optional<std::string> ParsedArgs::GetOptional(std::string_view flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(std::string_view flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return {};
  return it->second;
}

ArgParser::ArgParser(std::vector<FlagSpec> global_flags, std::vector<CommandSpec> commands)
    : global_flags_(std::move(global_flags)), commands_(std::move(commands)) {}

const CommandSpec* ArgParser::Find(std::string_view path) const {
  for (const auto& c : commands_) {
    if (c.path == path) return &c;
  }
  return nullptr;
}

std::optional<UsageError> ArgParser::Parse(const std::vector<std::string>& argv,
                                           ParsedArgs* out) const {
  Grammar grammar(global_flags_, commands_);
  return grammar.Parse(argv, out, &out->command_);
}

std::optional<UsageError> ArgParser::CheckArgCount(const ParsedArgs& args, bool remote) const {
  const CommandSpec* spec = Find(args.command());
  if (spec == nullptr) return std::nullopt;
  size_t required = 0;
  size_t optional = 0;
  bool variadic = false;
  for (const auto& a : spec->args) {
    if (IsVariadicArg(a)) {
      variadic = true;
    } else if (IsOptionalArg(a)) {
      ++optional;
    } else {
      ++required;
    }
  }
  size_t min = required;
  if (remote && spec->tenant_arg_optional_remotely && min > 0) --min;
  size_t n = args.positionals().size();
  if (n < min) {
    // When TENANT may be left out, the given arguments fill the ones after it.
    size_t skipped = (remote && spec->tenant_arg_optional_remotely) ? 1 : 0;
    size_t missing = std::min(n + skipped, spec->args.size() - 1);
    return UsageError{"missing argument " + spec->args[missing], spec->path};
  }
  if (!variadic && n > required + optional) {
    return UsageError{"unexpected argument '" + args.positionals()[required + optional] + "'",
                      spec->path};
  }
  return std::nullopt;
}

std::string ArgParser::UsageLine(const CommandSpec& spec) const {
  std::string line = "syncmgr " + spec.path;
  if (!spec.flags.empty()) line += " [flags]";
  for (const auto& a : spec.args) line += " " + ArgDisplay(a);
  return line;
}

std::string ArgParser::CommandHelp(const CommandSpec& spec) const {
  std::string out = "Usage: " + UsageLine(spec) + "\n\n" + spec.summary + "\n";
  if (!spec.flags.empty()) {
    out += "\nFlags:\n";
    for (const auto& f : spec.flags) AppendFlagHelp(f, &out);
  }
  out += "\nGlobal flags:\n";
  for (const auto& f : global_flags_) AppendFlagHelp(f, &out);
  if (!spec.details.empty()) out += "\n" + spec.details;
  if (!out.ends_with('\n')) out += '\n';
  return out;
}

std::string ArgParser::GroupHelp(std::string_view group) const {
  std::string out = "Usage: syncmgr " + std::string(group) + " COMMAND [flags] [args]\n\n";
  out += "Commands:\n";
  std::string prefix = std::string(group) + " ";
  for (const auto& c : commands_) {
    if (c.path.starts_with(prefix)) AppendCommandLine(c, &out);
  }
  out += "\nRun 'syncmgr " + std::string(group) + " COMMAND --help' for a command's flags.\n";
  return out;
}

std::string ArgParser::TopLevelHelp() const {
  std::string out =
      "syncmgr: the Sync Manager command line.\n\n"
      "Usage: syncmgr [global flags] COMMAND [flags] [args]\n\n"
      "Works on a data directory directly (--db DIR, default ./syncmgr-data) or on a\n"
      "running server (--url URL --api-key KEY, or SYNCMGR_URL / SYNCMGR_API_KEY).\n\n"
      "Commands:\n";
  for (const auto& c : commands_) AppendCommandLine(c, &out);
  out += "\nGlobal flags:\n";
  for (const auto& f : global_flags_) AppendFlagHelp(f, &out);
  out +=
      "\nExit status: 0 success, 1 the operation failed, 2 usage error,\n"
      "3 cannot open the data directory or reach the server.\n"
      "Run 'syncmgr COMMAND --help' for a command's flags. See docs/cli.md.\n";
  return out;
}

}  // namespace syncmgr::cli
