// syncmgr source create | list, target create | list
#include <cerrno>
#include <cstdlib>

#include "tools/cli.h"
#include "tools/output.h"
#include "wire/api_parse.h"

namespace syncmgr::cli {

namespace {

// Opens the backend and resolves --tenant (required on a data directory;
// remote mode takes the tenant from the API key). Returns nullptr on failure
// with *exit_code set.
Backend* OpenForTenant(Context& ctx, TenantId* tenant, int* exit_code) {
  std::optional<std::string> tenant_arg = ctx.args().GetOptional("tenant");
  if (!tenant_arg && !ctx.remote()) {
    *exit_code = ctx.UsageFail("missing --tenant T (a tenant id or name)");
    return nullptr;
  }
  Backend* backend = ctx.OpenBackend({}, exit_code);
  if (backend == nullptr) return nullptr;
  auto id = ResolveTenant(*backend, tenant_arg.value_or(""));
  if (!id.ok()) {
    *exit_code = ctx.Fail(id.status());
    return nullptr;
  }
  *tenant = *id;
  return backend;
}

int SourceCreate(Context& ctx) {
  SourceSpec spec;
  spec.name = ctx.args().positionals()[0];
  spec.type = ctx.args().Get("type", spec.type);
  spec.id_field = ctx.args().Get("id-field");
  spec.ignore_fields = ctx.args().GetAll("ignore-field");
  if (auto ratio = ctx.args().GetOptional("max-removal-ratio")) {
    char* end = nullptr;
    errno = 0;
    double r = std::strtod(ratio->c_str(), &end);
    if (ratio->empty() || *end != '\0' || errno != 0 || !(r >= 0.0 && r <= 1.0)) {
      return ctx.UsageFail("--max-removal-ratio must be a number from 0 to 1, got '" + *ratio +
                           "'");
    }
    spec.max_removal_ratio = r;
  }
  int exit_code = kExitOk;
  TenantId tenant = 0;
  Backend* backend = OpenForTenant(ctx, &tenant, &exit_code);
  if (backend == nullptr) return exit_code;
  auto answer = backend->CreateSource(tenant, spec);
  if (!answer.ok()) return ctx.Fail(answer.status());
  return ctx.Print(*answer, PrintSourceCreated);
}

int SourceList(Context& ctx) {
  int exit_code = kExitOk;
  TenantId tenant = 0;
  Backend* backend = OpenForTenant(ctx, &tenant, &exit_code);
  if (backend == nullptr) return exit_code;
  auto answer = backend->ListSources(tenant);
  if (!answer.ok()) return ctx.Fail(answer.status());
  return ctx.Print(*answer, PrintSources);
}

int TargetCreate(Context& ctx) {
  TargetSpec spec;
  spec.name = ctx.args().positionals()[0];
  spec.type = ctx.args().Get("type", spec.type);
  if (auto config = ctx.args().GetOptional("config")) {
    if (Status st = wire::CheckJsonObject(*config); !st.ok()) {
      return ctx.UsageFail("--config must be a JSON object: " + st.message());
    }
    spec.config_json = *config;
  }
  int exit_code = kExitOk;
  TenantId tenant = 0;
  Backend* backend = OpenForTenant(ctx, &tenant, &exit_code);
  if (backend == nullptr) return exit_code;
  auto answer = backend->CreateTarget(tenant, spec);
  if (!answer.ok()) return ctx.Fail(answer.status());
  return ctx.Print(*answer, PrintTargetCreated);
}

int TargetList(Context& ctx) {
  int exit_code = kExitOk;
  TenantId tenant = 0;
  Backend* backend = OpenForTenant(ctx, &tenant, &exit_code);
  if (backend == nullptr) return exit_code;
  auto answer = backend->ListTargets(tenant);
  if (!answer.ok()) return ctx.Fail(answer.status());
  return ctx.Print(*answer, PrintTargets);
}

const FlagSpec kTenantFlag{"tenant", "T",
                           "tenant id or name (required on --db; remote: the API key's tenant)"};

}  // namespace

void AddCatalogCommands(std::vector<Command>* out) {
  out->push_back(
      {{.path = "source create",
        .summary = "Create a source (where scraped listings are imported).",
        .args = {"NAME"},
        .flags = {kTenantFlag,
                  {"id-field", "F",
                   "field holding each listing's id (default: external_id, "
                   "falling back to id)"},
                  {"ignore-field", "F", "top-level field left out of the hash (e.g. scraped_at)",
                   true},
                  {"max-removal-ratio", "R",
                   "share of live listings a full import may remove, 0..1 (default 0.2)"},
                  {"type", "TYPE", "free-form source type (default: scraper)"}},
        .details = "Example:\n"
                   "  $ syncmgr source create --tenant 1 portal-a --ignore-field scraped_at\n"
                   "  Created source 1 (portal-a).\n"
                   "  id field: external_id (or id); ignored fields: scraped_at; "
                   "max removal ratio: 0.2\n"},
       SourceCreate});
  out->push_back(
      {{.path = "source list", .summary = "List a tenant's sources.", .flags = {kTenantFlag}},
       SourceList});
  out->push_back(
      {{.path = "target create",
        .summary = "Create a target (where syncs write; internal or a push type).",
        .args = {"NAME"},
        .flags = {kTenantFlag,
                  {"type", "TYPE", "internal (default), webhook, postgres, file or ftp"},
                  {"config", "JSON", "the type's config object, e.g. '{\"dir\": \"/srv/out\"}'"}},
        .details = "Secrets in --config (secret, bearer_token, password, a DSN's password) are\n"
                   "stored but never shown again.\n\n"
                   "Example:\n"
                   "  $ syncmgr target create --tenant 1 website\n"
                   "  Created target 1 (website, internal).\n"},
       TargetCreate});
  out->push_back(
      {{.path = "target list", .summary = "List a tenant's targets.", .flags = {kTenantFlag}},
       TargetList});
}

}  // namespace syncmgr::cli
