// syncmgr tenant create | list
#include "tools/cli.h"
#include "tools/output.h"

namespace syncmgr::cli {

namespace {

int TenantCreate(Context& ctx) {
  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({.create_data_dir = true, .admin = true}, &exit_code);
  if (backend == nullptr) return exit_code;
  auto answer = backend->CreateTenant(ctx.args().positionals()[0]);
  if (!answer.ok()) return ctx.Fail(answer.status());
  return ctx.Print(*answer, PrintTenantCreated);
}

int TenantList(Context& ctx) {
  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({.admin = true}, &exit_code);
  if (backend == nullptr) return exit_code;
  auto answer = backend->ListTenants();
  if (!answer.ok()) return ctx.Fail(answer.status());
  return ctx.Print(*answer, PrintTenants);
}

}  // namespace

void AddTenantCommands(std::vector<Command>* out) {
  out->push_back({{.path = "tenant create",
                   .summary = "Create a tenant; prints its id and API key (shown once).",
                   .args = {"NAME"},
                   .details = "Remote mode (--url) needs the admin key: --api-key, else\n"
                              "SYNCMGR_ADMIN_KEY, else SYNCMGR_API_KEY.\n\n"
                              "Example:\n"
                              "  $ syncmgr tenant create Acme\n"
                              "  Created tenant 1 (Acme).\n"
                              "  API key: smk_...\n"
                              "  The key is shown only this once: store it now.\n"},
                  TenantCreate});
  out->push_back({{.path = "tenant list",
                   .summary = "List tenants (id and name).",
                   .details = "Remote mode needs the admin key.\n"},
                  TenantList});
}

}  // namespace syncmgr::cli
