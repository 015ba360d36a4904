// syncmgr key create|list|revoke: a tenant's API keys (SPEC §5; an operator's
// commands: the admin key in remote mode). Each is one call of the admin
// routes (POST/GET /tenants/{id}/keys, DELETE /keys/{prefix}); on a data
// directory the server's own routes answer it in this process.
#include "tools/cli.h"
#include "tools/output.h"
#include "wire/api_parse.h"

namespace syncmgr::cli {

namespace {

// Sends `call` and prints its answer (the API's JSON with --json).
template <typename T, typename HumanFn>
int Run(Context& ctx, Backend& backend, const ApiCall& call, HumanFn human) {
  StatusOr<std::string> body = CallForBody(backend, call);
  if (!body.ok()) return ctx.Fail(body.status());
  Answer<T> answer{{}, std::move(*body)};
  if (Status st = wire::Parse(answer.json, &answer.value); !st.ok()) return ctx.Fail(st);
  return ctx.Print(answer, human);
}

// The tenant's keys route, TENANT resolved (an id or a name).
std::optional<int> TenantKeysPath(Context& ctx, Backend& backend, std::string* path) {
  auto tenant = ResolveTenantAsAdmin(backend, ctx.args().positionals()[0]);
  if (!tenant.ok()) return ctx.Fail(tenant.status());
  *path = "/tenants/" + std::to_string(*tenant) + "/keys";
  return std::nullopt;
}

int KeyCreate(Context& ctx) {
  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({.admin = true}, &exit_code);
  if (backend == nullptr) return exit_code;
  ApiCall call{.method = "POST", .body = "{}"};
  if (auto failed = TenantKeysPath(ctx, *backend, &call.path)) return *failed;
  return Run<ApiKeyIssued>(ctx, *backend, call, PrintApiKeyIssued);
}

int KeyList(Context& ctx) {
  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({.admin = true, .read_only = true}, &exit_code);
  if (backend == nullptr) return exit_code;
  ApiCall call;
  if (auto failed = TenantKeysPath(ctx, *backend, &call.path)) return *failed;
  return Run<std::vector<ApiKeyInfo>>(ctx, *backend, call, PrintApiKeys);
}

int KeyRevoke(Context& ctx) {
  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({.admin = true}, &exit_code);
  if (backend == nullptr) return exit_code;
  const ApiCall call{.method = "DELETE",
                     .path = "/keys/" + PathSegment(ctx.args().positionals()[0])};
  return Run<ApiKeyInfo>(ctx, *backend, call, PrintApiKeyRevoked);
}

constexpr const char* kAdminNote =
    "Remote mode (--url) needs the admin key: --api-key, else SYNCMGR_ADMIN_KEY,\n"
    "else SYNCMGR_API_KEY.\n";

}  // namespace

void AddKeyCommands(std::vector<Command>* out) {
  out->push_back({{.path = "key create",
                   .summary = "Issue a further API key for a tenant (shown once); others stay valid.",
                   .args = {"TENANT"},
                   .details = std::string(kAdminNote) +
                              "TENANT: an id or a name.\n\n"
                              "Example:\n"
                              "  $ syncmgr key create Acme\n"
                              "  Created API key smk_1a2b3c4d for tenant 1.\n"
                              "  API key: smk_1a2b3c4d...\n"
                              "  The key is shown only this once: store it now.\n"},
                  KeyCreate});
  out->push_back({{.path = "key list",
                   .summary = "List a tenant's API keys (prefixes only), active and revoked.",
                   .args = {"TENANT"},
                   .details = std::string(kAdminNote) + "\nExample:\n  $ syncmgr key list 1\n"},
                  KeyList});
  out->push_back({{.path = "key revoke",
                   .summary = "Revoke an API key by its prefix; refused at once from then on.",
                   .args = {"PREFIX"},
                   .details = std::string(kAdminNote) +
                              "PREFIX: the key's visible start (smk_ and 8 hex digits), as `key "
                              "list` shows it.\n\n"
                              "Example:\n  $ syncmgr key revoke smk_1a2b3c4d\n"},
                  KeyRevoke});
}

}  // namespace syncmgr::cli
