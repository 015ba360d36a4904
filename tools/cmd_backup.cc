// syncmgr backup: an online, consistent copy of a data directory (SPEC §5).
//
//   syncmgr backup --db DIR --out DIR2           no server has DIR open
//   syncmgr backup --url URL --out /abs/DIR2     through the server that has
//                                                it open (admin key)
//
// Both end in Engine::Backup (a RocksDB checkpoint); remotely the server runs
// it through POST /admin/backup, because only the process holding DIR's lock
// can take a checkpoint of it. DIR2 must not exist; that (and DIR missing)
// is checked before DIR is opened, so a refused backup leaves DIR as it was.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/http_client.h"
#include "tools/progress.h"
#include "wire/api_parse.h"
#include "wire/api_render.h"

namespace syncmgr::cli {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int PrintResult(Context& ctx, const std::string& from, const BackupInfo& info,
                const std::string& json) {
  if (ctx.json()) {
    std::printf("%s\n", json.c_str());
    return kExitOk;
  }
  std::printf("Backed up %s to %s: %llu files, %s (%llu hard-linked).\n", from.c_str(),
              info.path.c_str(), static_cast<unsigned long long>(info.files),
              HumanBytes(info.bytes).c_str(), static_cast<unsigned long long>(info.linked_files));
  std::printf("Serve it with: syncmgr serve --db %s\n", info.path.c_str());
  return kExitOk;
}

int RemoteBackup(Context& ctx, const std::string& url, const std::string& out) {
  // The admin key: --api-key, then SYNCMGR_ADMIN_KEY, then SYNCMGR_API_KEY
  // (docs/cli.md "Remote mode").
  std::optional<std::string> key = ctx.args().GetOptional("api-key");
  if (!key) key = Env("SYNCMGR_ADMIN_KEY");
  if (!key) key = Env("SYNCMGR_API_KEY");
  if (!key) return ctx.UsageFail("backup through a server needs the admin key: --api-key KEY (or "
                                 "SYNCMGR_ADMIN_KEY)");
  auto client = HttpClient::Create(HttpClientOptions{.url = url, .api_key = *key});
  if (!client.ok()) return ctx.UsageFail(client.status().message());
  StatusOr<HttpResponse> response = client->Send(
      "POST", "/admin/backup", wire::ToJson(std::string_view(out), wire::WriteBackupRequest));
  if (!response.ok()) {
    ctx.Fail(response.status());
    return client->transport_failed() ? kExitUnreachable : kExitFailed;
  }
  if (response->status < 200 || response->status > 299) {
    return ctx.Fail(wire::ParseApiError(response->status, response->body));
  }
  BackupInfo info;
  info.path = out;
  // The counts are for the human summary only: an answer without them (or
  // not JSON) is still a successful backup, shown with zero counts.
  wire::Parse(response->body, &info).IgnoreError();
  return PrintResult(ctx, client->origin(), info, response->body);
}

int Backup(Context& ctx) {
  std::optional<std::string> out_arg = ctx.args().GetOptional("out");
  if (!out_arg || out_arg->empty()) return ctx.UsageFail("missing --out DIR2 (the new directory)");
  // Absolute: the engine (and the server, whose working directory the
  // caller cannot know) want one.
  std::error_code ec;
  std::string out = fs::absolute(*out_arg, ec).lexically_normal().string();
  if (ec) return ctx.UsageFail("--out: " + ec.message());
  if (out.size() > 1 && out.back() == '/') out.pop_back();

  std::optional<std::string> url = ctx.args().GetOptional("url");
  if (!url && !ctx.args().Has("db")) url = Env("SYNCMGR_URL");
  if (url) return RemoteBackup(ctx, *url, out);

  const std::string& dir = ctx.data_dir();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "syncmgr: data directory %s does not exist\n", dir.c_str());
    return kExitUnreachable;
  }
  if (fs::exists(out, ec) || fs::is_symlink(out, ec)) {
    return ctx.Fail(Status::InvalidArgument(out + " already exists; a backup writes a new "
                                                  "directory"));
  }
  // Checked again by the engine; here so that a refused backup never opens
  // DIR (an open may flush or compact it).
  if (!fs::is_directory(fs::path(out).parent_path(), ec)) {
    return ctx.Fail(Status::InvalidArgument("parent directory " +
                                            fs::path(out).parent_path().string() +
                                            " of the backup does not exist"));
  }
  EngineOptions eo;
  eo.path = dir;
  // The copy has DIR's on-disk format, and DIR keeps it: a backup taken
  // before an upgrade is what a rollback to the older build needs.
  eo.upgrade_format = false;
  StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(eo);
  if (!engine.ok()) {
    const Status& s = engine.status();
    if (s.code() == Code::kUnavailable) {
      // A server holds the lock: only it can take the checkpoint.
      ctx.Fail(s, "back it up through that server: syncmgr backup --url URL --out " + out +
                      " with the admin key");
    } else {
      ctx.Fail(s);
    }
    return kExitUnreachable;
  }
  StatusOr<BackupInfo> info = (*engine)->Backup(out);
  if (!info.ok()) return ctx.Fail(info.status());
  return PrintResult(ctx, dir, *info, wire::ToJson(*info, wire::WriteBackupInfo));
}

}  // namespace

void AddBackupCommands(std::vector<Command>* out) {
  out->push_back(
      {{.path = "backup",
        .summary = "Write an online, consistent copy of the data directory (RocksDB checkpoint).",
        .flags = {{"out", "DIR2", "the new directory (must not exist; its parent must)"}},
        .details =
            "Table files are hard-linked when DIR2 is on the same file system as DIR, copied\n"
            "otherwise; `syncmgr serve --db DIR2` opens the copy. admin.key is not copied.\n"
            "When a server has DIR open, back up through it: --url URL with the admin key\n"
            "(--api-key or SYNCMGR_ADMIN_KEY); DIR2 is then a path on the server's machine\n"
            "(a relative one is made absolute here first).\n\n"
            "Examples:\n"
            "  $ syncmgr backup --db ./syncmgr-data --out /backups/2026-03-03\n"
            "  Backed up ./syncmgr-data to /backups/2026-03-03: 41 files, 12.3 MiB (29 "
            "hard-linked).\n"
            "  $ SYNCMGR_ADMIN_KEY=$(cat syncmgr-data/admin.key) \\\n"
            "      syncmgr backup --url http://127.0.0.1:8000 --out /backups/2026-03-03\n"},
       Backup});
}

}  // namespace syncmgr::cli
