// syncmgr sync TENANT SOURCE TARGET
#include "tools/cli.h"
#include "tools/output.h"

namespace syncmgr::cli {

namespace {

int Sync(Context& ctx) {
  std::string tenant_arg;
  std::vector<std::string> rest = ctx.SplitTenantArg(3, &tenant_arg);
  SyncOptions options;
  std::string on_conflict = ctx.args().Get("on-conflict", "keep");
  if (on_conflict == "overwrite") {
    options.on_conflict = OnConflict::kOverwrite;
  } else if (on_conflict != "keep") {
    return ctx.UsageFail("--on-conflict must be keep or overwrite, got '" + on_conflict + "'");
  }
  options.dry_run = ctx.args().Has("dry-run");

  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({}, &exit_code);
  if (backend == nullptr) return exit_code;
  auto tenant = ResolveTenant(*backend, tenant_arg);
  if (!tenant.ok()) return ctx.Fail(tenant.status());
  auto source = ResolveSource(*backend, *tenant, rest[0]);
  if (!source.ok()) return ctx.Fail(source.status());
  auto target = ResolveTarget(*backend, *tenant, rest[1]);
  if (!target.ok()) return ctx.Fail(target.status());

  auto answer = backend->Sync(*tenant, *source, *target, options);
  if (!answer.ok()) return ctx.Fail(answer.status());
  uint32_t source_id = *source, target_id = *target;
  return ctx.Print(*answer, [&](const SyncResult& r) {
    PrintSyncResult(r, source_id, target_id, options.dry_run);
  });
}

}  // namespace

void AddSyncCommands(std::vector<Command>* out) {
  out->push_back(
      {{.path = "sync",
        .summary = "Reconcile a source into a target, all or nothing; prints the stats.",
        .args = {"TENANT", "SOURCE", "TARGET"},
        .flags = {{"on-conflict", "POLICY",
                   "keep (default): leave manually edited target listings as they are; "
                   "overwrite: replace them"},
                  {"dry-run", "", "compute and print the same answer, write nothing"}},
        .details = "TENANT, SOURCE, TARGET: ids or names. Remote mode: TENANT may be left out.\n"
                   "Conflicts (manual edits the sync would change) are printed as warnings.\n\n"
                   "Example:\n"
                   "  $ syncmgr sync 1 1 1\n"
                   "  Synced source 1 -> target 1: created 3, updated 0, unchanged 0, "
                   "removed 0, conflicts 0 (sync 1, seq 9)\n",
        .tenant_arg_optional_remotely = true},
       Sync});
}

}  // namespace syncmgr::cli
