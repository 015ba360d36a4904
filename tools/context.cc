#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/local_backend.h"
#include "tools/remote_backend.h"
#include "tools/scratch_dir.h"
#include "tools/stop_signal.h"
#include "wire/time_format.h"

namespace syncmgr::cli {

namespace {

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

bool DirectoryExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ContainsNoCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  return it != haystack.end();
}

// One line: newlines in messages become spaces.
std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

template <typename T>
StatusOr<uint32_t> ResolveByName(std::string_view kind, std::string_view arg,
                                 StatusOr<Answer<std::vector<T>>> list) {
  if (auto id = ParseId(arg)) return *id;
  if (!list.ok()) return list.status();
  std::optional<uint32_t> found;
  for (const T& item : list->value) {
    if (item.name != arg) continue;
    if (found) {
      return Status::InvalidArgument(std::string(kind) + " name '" + std::string(arg) +
                                     "' is ambiguous: use the id");
    }
    found = item.id;
  }
  if (!found) {
    return Status::NotFound("no " + std::string(kind) + " named '" + std::string(arg) + "'");
  }
  return *found;
}

}  // namespace

std::optional<uint64_t> ParseSeq(std::string_view text) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<uint32_t> ParseId(std::string_view text) {
  std::optional<uint64_t> value = text.size() <= 10 ? ParseSeq(text) : std::nullopt;
  if (!value || *value > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

std::optional<AsOf> ParseAsOf(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::optional<uint64_t> seq = ParseSeq(text);
    if (!seq) return std::nullopt;
    return AsOf{.seq = *seq, .time_us = std::nullopt};
  }
  if (std::optional<int64_t> t = wire::ParseRfc3339(text)) {
    return AsOf{.seq = std::nullopt, .time_us = *t};
  }
  return std::nullopt;
}

std::string BadAsOf(std::string_view text) {
  return "--as-of must be a seq (a non-negative integer) or an RFC 3339 time such as "
         "2026-03-03T12:00:00Z, got '" +
         std::string(text) + "'";
}

StatusOr<std::string> CallForBody(Backend& backend, const ApiCall& call) {
  std::string body;
  SYNCMGR_RETURN_IF_ERROR(backend.Call(call, [&](std::string_view piece) {
    body.append(piece);
    return Status::Ok();
  }));
  return body;
}

StatusOr<TenantId> ResolveTenant(Backend& backend, std::string_view arg) {
  if (backend.remote()) return TenantId{0};
  return ResolveTenantAsAdmin(backend, arg);
}

StatusOr<TenantId> ResolveTenantAsAdmin(Backend& backend, std::string_view arg) {
  if (auto id = ParseId(arg)) return *id;
  return ResolveByName("tenant", arg, backend.ListTenants());
}

StatusOr<uint32_t> ResolveSource(Backend& backend, TenantId tenant, std::string_view arg) {
  if (auto id = ParseId(arg)) return *id;
  return ResolveByName("source", arg, backend.ListSources(tenant));
}

StatusOr<uint32_t> ResolveTarget(Backend& backend, TenantId tenant, std::string_view arg) {
  if (auto id = ParseId(arg)) return *id;
  return ResolveByName("target", arg, backend.ListTargets(tenant));
}

Context::Context(const ParsedArgs& args) : args_(args) {
  data_dir_ = args.Get("db", kDefaultDataDir);
  if (auto url = args.GetOptional("url")) {
    url_ = *url;
  } else if (!args.Has("db")) {
    url_ = Env("SYNCMGR_URL");
  }
}

Context::~Context() = default;

std::optional<std::string> Context::CheckMode() const {
  if (args_.Has("db") && args_.Has("url")) {
    return "--db and --url exclude each other (a data directory, or a server)";
  }
  return std::nullopt;
}

Backend* Context::OpenBackend(const BackendNeeds& needs, int* exit_code) {
  if (backend_) return backend_.get();
  if (remote()) {
    // Admin commands prefer the admin key; see docs/cli.md "Remote mode".
    std::optional<std::string> key = args_.GetOptional("api-key");
    if (!key && needs.admin) key = Env("SYNCMGR_ADMIN_KEY");
    if (!key) key = Env("SYNCMGR_API_KEY");
    if (!key) {
      *exit_code = UsageFail(needs.admin ? "remote mode needs the admin key: --api-key KEY (or "
                                           "SYNCMGR_ADMIN_KEY)"
                                         : "remote mode needs --api-key KEY (or SYNCMGR_API_KEY)");
      return nullptr;
    }
    // A follower's stop (stop_signal.h) abandons a waiting request.
    auto client = HttpClient::Create(
        HttpClientOptions{.url = *url_, .api_key = *key, .cancel = &StopFlag()});
    if (!client.ok()) {
      *exit_code = UsageFail(client.status().message());
      return nullptr;
    }
    backend_ = std::make_unique<RemoteBackend>(std::move(*client));
    return backend_.get();
  }
  if (!needs.create_data_dir && !DirectoryExists(data_dir_)) {
    std::fprintf(stderr,
                 "syncmgr: data directory %s does not exist (pass --db DIR, or create a tenant "
                 "first: syncmgr tenant create NAME)\n",
                 data_dir_.c_str());
    *exit_code = kExitUnreachable;
    return nullptr;
  }
  EngineOptions options;
  options.path = data_dir_;
  std::unique_ptr<ScratchDir> scratch;
  if (needs.read_only) {
    scratch = std::make_unique<ScratchDir>("syncmgr-read");
    if (scratch->path().empty()) {
      std::fprintf(stderr, "syncmgr: cannot create a scratch directory under $TMPDIR\n");
      *exit_code = kExitUnreachable;
      return nullptr;
    }
    options.secondary_path = scratch->path();
  }
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    const Status& st = engine.status();
    std::string line = "syncmgr: ";
    // Name the directory unless the engine's message already does.
    if (st.message().find(data_dir_) == std::string::npos) {
      line += "cannot open data directory " + data_dir_ + ": ";
    }
    if (st.code() == Code::kCorruption) {
      line += "corruption: " + st.message();
      if (st.message().find("reliability.md") == std::string::npos) {
        line += " (the stored data is damaged; see docs/reliability.md to recover from a backup)";
      }
    } else {
      line += st.ToString();
      if (ContainsNoCase(st.message(), "lock") && st.message().find("--url") == std::string::npos) {
        line += " (is a server running on it? then use --url and --api-key)";
      }
    }
    std::fprintf(stderr, "%s\n", OneLine(line).c_str());
    *exit_code = kExitUnreachable;
    return nullptr;
  }
  backend_ = std::make_unique<LocalBackend>(std::move(*engine), options, std::move(scratch));
  return backend_.get();
}

int Context::Fail(const Status& status, std::string_view hint) {
  std::string line = "syncmgr: " + status.ToString();
  if (!hint.empty()) line += " (" + std::string(hint) + ")";
  std::fprintf(stderr, "%s\n", OneLine(line).c_str());
  auto* remote_backend = dynamic_cast<RemoteBackend*>(backend_.get());
  if (remote_backend != nullptr && remote_backend->transport_failed()) return kExitUnreachable;
  return kExitFailed;
}

int Context::UsageFail(std::string_view message) {
  std::string help =
      args_.command().empty() ? "syncmgr --help" : "syncmgr " + args_.command() + " --help";
  std::fprintf(stderr, "syncmgr: %s (run '%s')\n", OneLine(std::string(message)).c_str(),
               help.c_str());
  return kExitUsage;
}

void Context::PrintJson(const std::string& json) {
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
}

std::vector<std::string> Context::SplitTenantArg(size_t full_count, std::string* tenant) const {
  const auto& pos = args_.positionals();
  if (pos.size() >= full_count) {
    *tenant = pos[0];
    return {pos.begin() + 1, pos.end()};
  }
  tenant->clear();
  return pos;
}

}  // namespace syncmgr::cli
