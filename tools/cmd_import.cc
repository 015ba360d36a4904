// syncmgr import TENANT SOURCE FILE|-
#include "tools/cli.h"
#include "tools/import_input.h"
#include "tools/ndjson_convert.h"
#include "tools/output.h"
#include "tools/progress.h"

namespace syncmgr::cli {

namespace {

int Import(Context& ctx) {
  std::string tenant_arg;
  std::vector<std::string> rest = ctx.SplitTenantArg(3, &tenant_arg);
  const std::string& source_arg = rest[0];
  const std::string& file = rest[1];

  ImportOptions options;
  if (auto mode = ctx.args().GetOptional("mode")) {
    if (*mode == "full") {
      options.mode = ImportMode::kFull;
    } else if (*mode != "upsert") {
      return ctx.UsageFail("--mode must be upsert or full, got '" + *mode + "'");
    }
    options.mode_explicit = true;
  }
  options.allow_mass_removal = ctx.args().Has("allow-mass-removal");
  std::string format = ctx.args().Get("format", "auto");
  if (format != "auto" && format != "json" && format != "ndjson") {
    return ctx.UsageFail("--format must be auto, json or ndjson, got '" + format + "'");
  }

  auto input = FileImportInput::Open(file);
  if (!input.ok()) return ctx.Fail(input.status());
  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({}, &exit_code);
  if (backend == nullptr) return exit_code;
  auto tenant = ResolveTenant(*backend, tenant_arg);
  if (!tenant.ok()) return ctx.Fail(tenant.status());
  auto source = ResolveSource(*backend, *tenant, source_arg);
  if (!source.ok()) return ctx.Fail(source.status());

  if (format == "auto") {
    auto detected = (*input)->DetectFormat();
    if (!detected.ok()) return ctx.Fail(detected.status());
    options.format = *detected;
  } else {
    options.format = format == "ndjson" ? BodyFormat::kNdjson : BodyFormat::kJson;
  }

  // A server caps JSON bodies but streams NDJSON of any size: send a JSON
  // array as NDJSON (the same items; see ndjson_convert.h). An empty array
  // stays JSON: an empty NDJSON body is an error, an empty array is not.
  ImportInput* body = input->get();
  std::unique_ptr<JsonArrayToNdjson> converted;
  if (backend->remote() && options.format == BodyFormat::kJson) {
    auto lead = (*input)->LeadingBytes(2);
    if (!lead.ok()) return ctx.Fail(lead.status());
    if (lead->starts_with('[') && *lead != "[]") {
      converted = std::make_unique<JsonArrayToNdjson>(body);
      body = converted.get();
      options.format = BodyFormat::kNdjson;
    }
  }

  ProgressBar bar("importing " + (file == "-" ? std::string("stdin") : file),
                  !ctx.args().Has("no-progress"));
  bool remote = backend->remote();
  auto progress = [&](uint64_t done, uint64_t total, bool input_done) {
    if (input_done) {
      bar.SetPhase(remote ? "waiting for the server" : "applying");
    } else {
      bar.Update(done, total);
    }
  };
  auto answer = backend->Import(*tenant, *source, options, body, progress);
  bar.Clear();
  if (!answer.ok()) {
    std::string_view hint;
    if (answer.status().code() == Code::kMassRemoval) {
      hint = "pass --allow-mass-removal to import anyway";
    } else if (answer.status().code() == Code::kPayloadTooLarge && remote) {
      hint = "a JSON array or NDJSON file is streamed without this limit";
    }
    return ctx.Fail(answer.status(), hint);
  }
  uint32_t source_id = *source;
  return ctx.Print(*answer, [&](const ImportResult& r) { PrintImportResult(r, source_id); });
}

}  // namespace

void AddImportCommands(std::vector<Command>* out) {
  out->push_back(
      {{.path = "import",
        .summary = "Import listings into a source, all or nothing; prints the stats.",
        .args = {"TENANT", "SOURCE", "FILE"},
        .flags = {{"mode", "MODE",
                   "upsert (default): touch only the given listings; full: also remove the "
                   "source's listings absent from FILE"},
                  {"allow-mass-removal", "",
                   "let a full import remove more than the source's max removal ratio"},
                  {"format", "FORMAT", "auto (default), json or ndjson"},
                  {"no-progress", "", "no progress bar, even on a terminal"}},
        .details =
            "FILE is a path or - for stdin, holding a JSON array of objects, an object\n"
            "{\"data\": [...]} or NDJSON (one object per line). With --format auto, a\n"
            "name ending in .ndjson or .jsonl is NDJSON; otherwise the first bytes decide:\n"
            "'[' or a multi-line first object is JSON, several objects are NDJSON, a single\n"
            "object is JSON when it is {\"data\": [...]} (see docs/cli.md). The file is read\n"
            "in chunks, never whole. TENANT, SOURCE: ids or names. Remote mode: TENANT may\n"
            "be left out, the API key names the tenant.\n\n"
            "Example:\n"
            "  $ syncmgr import 1 1 listings.json\n"
            "  Imported into source 1: received 3, created 3, updated 0, unchanged 0, "
            "removed 0 (import 1, seq 5)\n",
        .tenant_arg_optional_remotely = true},
       Import});
}

}  // namespace syncmgr::cli
