#include "tools/args.h"

#include <algorithm>
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

}  // namespace

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

bool ArgParser::IsGroup(std::string_view word) const {
  std::string prefix = std::string(word) + " ";
  return std::any_of(commands_.begin(), commands_.end(),
                     [&](const CommandSpec& c) { return c.path.starts_with(prefix); });
}

const FlagSpec* ArgParser::FindFlag(const CommandSpec* spec, std::string_view name) const {
  if (spec != nullptr) {
    for (const auto& f : spec->flags) {
      if (f.name == name) return &f;
    }
  }
  for (const auto& f : global_flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<UsageError> ArgParser::Parse(const std::vector<std::string>& argv,
                                           ParsedArgs* out) const {
  const CommandSpec* spec = nullptr;
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& tok = argv[i];
    auto error = [&](std::string message) { return UsageError{std::move(message), out->command_}; };
    if (!flags_done && tok == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && (tok.starts_with("--") || tok == "-h")) {
      std::string name = tok == "-h" ? "help" : tok.substr(2);
      std::optional<std::string> inline_value;
      if (size_t eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      const FlagSpec* flag = FindFlag(spec, name);
      if (flag == nullptr) return error("unknown flag --" + name);
      std::string value;
      if (flag->value_name.empty()) {
        if (inline_value) return error("flag --" + name + " takes no value");
      } else if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return error("flag --" + name + " needs a value (" + flag->value_name + ")");
      }
      auto& values = out->flags_[name];
      if (!values.empty() && !flag->repeatable && !flag->value_name.empty()) {
        return error("flag --" + name + " given twice");
      }
      values.push_back(std::move(value));
      continue;
    }
    if (!flags_done && tok.size() > 1 && tok[0] == '-') {
      return error("unknown flag " + tok);
    }
    // A word: the command (and subcommand) first, then arguments.
    if (spec == nullptr) {
      std::string path = out->command_.empty() ? tok : out->command_ + " " + tok;
      if (const CommandSpec* found = Find(path)) {
        spec = found;
        out->command_ = path;
        continue;
      }
      if (out->command_.empty() && IsGroup(tok)) {
        out->command_ = tok;
        continue;
      }
      return error("unknown command '" + path + "'");
    }
    out->positionals_.push_back(tok);
  }
  return std::nullopt;
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
    if (!c.path.starts_with(prefix)) continue;
    std::string left = "  " + c.path;
    out += left + std::string(left.size() < kHelpColumn ? kHelpColumn - left.size() : 1, ' ') +
           c.summary + "\n";
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
  for (const auto& c : commands_) {
    std::string left = "  " + c.path;
    out += left + std::string(left.size() < kHelpColumn ? kHelpColumn - left.size() : 1, ' ') +
           c.summary + "\n";
  }
  out += "\nGlobal flags:\n";
  for (const auto& f : global_flags_) AppendFlagHelp(f, &out);
  out +=
      "\nExit status: 0 success, 1 the operation failed, 2 usage error,\n"
      "3 cannot open the data directory or reach the server.\n"
      "Run 'syncmgr COMMAND --help' for a command's flags. See docs/cli.md.\n";
  return out;
}

}  // namespace syncmgr::cli
