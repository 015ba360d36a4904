// syncmgr properties | property | imports | sync-logs (SPEC §5 "Reading").
//
// Each is one GET of the API (tools/api_call.h), answered by the server
// (--url) or, on a data directory, by the server's own routes in this
// process on a secondary open (so a running server may have it open).
// --json prints the answer's bytes; text output parses them (wire/).
#include <cstdio>

#include "tools/cli.h"
#include "tools/ndjson_convert.h"
#include "tools/output.h"
#include "wire/api_parse.h"

namespace syncmgr::cli {

namespace {

// Writes to stdout; an error when it cannot (a closed pipe).
Status WriteOut(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) {
    return Status::Unavailable("cannot write the output");
  }
  return Status::Ok();
}

// "source" / "target" → the kind; nullopt otherwise.
std::optional<StreamKind> ParseKind(std::string_view word) {
  if (word == "source") return StreamKind::kSource;
  if (word == "target") return StreamKind::kTarget;
  return std::nullopt;
}

// What every read of one stream starts with: the tenant, the stream and the
// backend, resolved from TENANT source|target ID.
struct StreamArgs {
  Backend* backend = nullptr;
  TenantId tenant = 0;
  StreamKind kind = StreamKind::kSource;
  uint32_t id = 0;
  std::vector<std::string> rest;  // the arguments after ID

  std::string Path() const {
    return (kind == StreamKind::kSource ? "/sources/" : "/targets/") + std::to_string(id);
  }
};

// Checks --as-of and the stream kind, opens the backend and resolves the
// ids. Returns the exit code of a failure, or nullopt.
std::optional<int> OpenStream(Context& ctx, size_t full_count, StreamArgs* out) {
  std::string tenant_arg;
  std::vector<std::string> rest = ctx.SplitTenantArg(full_count, &tenant_arg);
  std::optional<StreamKind> kind = ParseKind(rest[0]);
  if (!kind) return ctx.UsageFail("the stream must be source or target, got '" + rest[0] + "'");
  out->kind = *kind;
  if (auto as_of = ctx.args().GetOptional("as-of"); as_of && !ParseAsOf(*as_of)) {
    return ctx.UsageFail(BadAsOf(*as_of));
  }
  int exit_code = kExitOk;
  out->backend = ctx.OpenBackend({.read_only = true}, &exit_code);
  if (out->backend == nullptr) return exit_code;
  auto tenant = ResolveTenant(*out->backend, tenant_arg);
  if (!tenant.ok()) return ctx.Fail(tenant.status());
  out->tenant = *tenant;
  auto id = *kind == StreamKind::kSource ? ResolveSource(*out->backend, *tenant, rest[1])
                                         : ResolveTarget(*out->backend, *tenant, rest[1]);
  if (!id.ok()) return ctx.Fail(id.status());
  out->id = *id;
  out->rest.assign(rest.begin() + 2, rest.end());
  return std::nullopt;
}

// Adds an integer flag's value to the query; a usage error unless it is a
// whole number >= `min`.
std::optional<int> AddCountFlag(Context& ctx, std::string_view flag, std::string_view param,
                                uint64_t min, ApiCall* call) {
  std::optional<std::string> text = ctx.args().GetOptional(flag);
  if (!text) return std::nullopt;
  std::optional<uint64_t> value = ParseSeq(*text);
  if (!value || *value < min) {
    return ctx.UsageFail("--" + std::string(flag) + " must be " +
                         (min > 0 ? "a positive integer" : "a non-negative integer") + ", got '" +
                         *text + "'");
  }
  call->query.emplace_back(param, *text);
  return std::nullopt;
}

// Prints the answer of `call`: its bytes with --json, else `human` of what
// wire::Parse reads from them.
template <typename T, typename HumanFn>
int PrintAnswer(Context& ctx, Backend& backend, const ApiCall& call,
                HumanFn human) {
  StatusOr<std::string> body = CallForBody(backend, call);
  if (!body.ok()) return ctx.Fail(body.status());
  T value{};
  if (!ctx.json()) {
    if (Status st = wire::Parse(*body, &value); !st.ok()) return ctx.Fail(st);
  }
  return ctx.Print(Answer<T>{std::move(value), std::move(*body)}, human);
}

int Properties(Context& ctx) {
  ApiCall call;
  if (auto as_of = ctx.args().GetOptional("as-of")) call.query.emplace_back("as_of", *as_of);
  if (auto failed = AddCountFlag(ctx, "limit", "limit", 1, &call)) return *failed;
  if (auto after = ctx.args().GetOptional("after")) call.query.emplace_back("after", *after);
  if (auto failed = AddCountFlag(ctx, "changed-since", "changed_since", 0, &call)) return *failed;
  if (ctx.args().Has("manually-modified")) call.query.emplace_back("manually_modified", "true");
  StreamArgs stream;
  if (auto failed = OpenStream(ctx, 3, &stream)) return *failed;
  call.path = stream.Path() + "/properties";
  call.tenant = stream.tenant;

  Status st;
  if (ctx.json()) {
    // The answer's bytes as they come: a JSON array, streamed.
    st = stream.backend->Call(call, WriteOut);
    if (st.ok()) st = WriteOut("\n");
  } else {
    // One table row per array item: the items are split off the stream
    // (ndjson_convert.h) and each is parsed alone.
    StreamingTable table(PropertyHeader(stream.kind));
    JsonArrayToNdjson splitter(nullptr);
    std::string lines;
    st = stream.backend->Call(call, [&](std::string_view piece) -> Status {
      SYNCMGR_RETURN_IF_ERROR(splitter.Push(piece, &lines));
      size_t start = 0;
      for (size_t end; (end = lines.find('\n', start)) != std::string::npos; start = end + 1) {
        PropertyRecord record;
        SYNCMGR_RETURN_IF_ERROR(
            wire::Parse(std::string_view(lines).substr(start, end - start), &record));
        table.Add(PropertyRow(record, stream.kind));
      }
      lines.erase(0, start);
      return Status::Ok();
    });
    if (st.ok()) st = splitter.Finish();
    if (st.ok()) table.Finish();
  }
  std::fflush(stdout);
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int Property(Context& ctx) {
  StreamArgs stream;
  if (auto failed = OpenStream(ctx, 4, &stream)) return *failed;
  const bool history = ctx.args().Has("history");
  std::optional<std::string> as_of = ctx.args().GetOptional("as-of");
  if (history && as_of) {
    return ctx.UsageFail("--history lists every version; it takes no --as-of");
  }
  ApiCall call{.path = stream.Path() + "/properties/" + PathSegment(stream.rest[0]),
               .tenant = stream.tenant};
  if (history) {
    call.path += "/history";
    return PrintAnswer<std::vector<HistoryEntry>>(ctx, *stream.backend, call, PrintHistory);
  }
  if (as_of) call.query.emplace_back("as_of", *as_of);
  const StreamKind kind = stream.kind;
  return PrintAnswer<PropertyRecord>(ctx, *stream.backend, call, [kind](const PropertyRecord& p) { PrintProperty(p, kind); });
}

// Opens the backend for a log listing and resolves TENANT.
Backend* OpenForLog(Context& ctx, TenantId* tenant, int* exit_code) {
  std::string tenant_arg;
  ctx.SplitTenantArg(1, &tenant_arg);
  Backend* backend = ctx.OpenBackend({.read_only = true}, exit_code);
  if (backend == nullptr) return nullptr;
  auto id = ResolveTenant(*backend, tenant_arg);
  if (!id.ok()) {
    *exit_code = ctx.Fail(id.status());
    return nullptr;
  }
  *tenant = *id;
  return backend;
}

// Adds --source / --target (an id or a name) to the query as `param`.
std::optional<int> AddStreamFilter(Context& ctx, Backend& backend, TenantId tenant,
                                   StreamKind kind, ApiCall* call) {
  const bool source = kind == StreamKind::kSource;
  std::optional<std::string> arg = ctx.args().GetOptional(source ? "source" : "target");
  if (!arg) return std::nullopt;
  auto id = source ? ResolveSource(backend, tenant, *arg) : ResolveTarget(backend, tenant, *arg);
  if (!id.ok()) return ctx.Fail(id.status());
  call->query.emplace_back(source ? "source_id" : "target_id", std::to_string(*id));
  return std::nullopt;
}

int Imports(Context& ctx) {
  ApiCall call{.path = "/imports"};
  if (auto failed = AddCountFlag(ctx, "limit", "limit", 1, &call)) return *failed;
  int exit_code = kExitOk;
  Backend* backend = OpenForLog(ctx, &call.tenant, &exit_code);
  if (backend == nullptr) return exit_code;
  if (auto failed = AddStreamFilter(ctx, *backend, call.tenant, StreamKind::kSource, &call)) {
    return *failed;
  }
  return PrintAnswer<std::vector<ImportLogEntry>>(ctx, *backend, call, PrintImports);
}

int SyncLogs(Context& ctx) {
  ApiCall call{.path = "/sync_logs"};
  if (auto failed = AddCountFlag(ctx, "limit", "limit", 1, &call)) return *failed;
  int exit_code = kExitOk;
  Backend* backend = OpenForLog(ctx, &call.tenant, &exit_code);
  if (backend == nullptr) return exit_code;
  for (StreamKind kind : {StreamKind::kSource, StreamKind::kTarget}) {
    if (auto failed = AddStreamFilter(ctx, *backend, call.tenant, kind, &call)) return *failed;
  }
  return PrintAnswer<std::vector<SyncLogEntry>>(ctx, *backend, call, PrintSyncLogs);
}

const FlagSpec kAsOfFlag{"as-of", "SEQ|TIME",
                         "the state at that seq, or at the tenant's last event at or before that "
                         "RFC 3339 time"};
const FlagSpec kLogLimitFlag{"limit", "N", "at most N entries, newest first (default 100, at most "
                                           "1000)"};

constexpr const char* kStreamArgs =
    "TENANT, ID: ids or names; source|target: which kind of stream. Remote mode:\n"
    "TENANT is left out (the API key's tenant). On a data directory (--db) this\n"
    "reads a secondary open of it: it works while a server has it open.\n";

}  // namespace

void AddReadCommands(std::vector<Command>* out) {
  out->push_back(
      {{.path = "properties",
        .summary = "List the properties of a source or target (streamed), now or as of a point.",
        .args = {"TENANT", "source|target", "ID"},
        .flags = {kAsOfFlag,
                  {"limit", "N", "at most N properties"},
                  {"after", "EXTERNAL_ID", "only those after this external_id (paging)"},
                  {"changed-since", "SEQ", "only those whose last change has a later seq"},
                  {"manually-modified", "", "targets only: only the manually edited ones"}},
        .details = std::string(kStreamArgs) +
                   "Ordered by external_id; --json prints the API's JSON array.\n\n"
                   "Example:\n"
                   "  $ syncmgr properties 1 target 1 --limit 2\n"
                   "  EXTERNAL_ID  VERSION  SEQ  UPDATED_AT                   SOURCE  MANUAL  "
                   "DATA\n"
                   "  a            1        8    2026-03-03T12:00:00.000001Z  1       no      "
                   "{\"external_id\":\"a\",\"price\":100}\n",
        .tenant_arg_optional_remotely = true},
       Properties});
  out->push_back(
      {{.path = "property",
        .summary = "Show one property of a source or target (or, --history, every version).",
        .args = {"TENANT", "source|target", "ID", "EXTERNAL_ID"},
        .flags = {kAsOfFlag, {"history", "", "every version, oldest first, with its cause"}},
        .details = std::string(kStreamArgs) +
                   "\nExample:\n"
                   "  $ syncmgr property 1 source 1 a --history\n",
        .tenant_arg_optional_remotely = true},
       Property});
  out->push_back({{.path = "imports",
                   .summary = "List a tenant's imports (the import log), newest first.",
                   .args = {"TENANT"},
                   .flags = {{"source", "S", "only imports into this source (id or name)"},
                             kLogLimitFlag},
                   .details = "Remote mode: TENANT is left out (the API key's tenant).\n\n"
                              "Example:\n  $ syncmgr imports 1 --source portal\n",
                   .tenant_arg_optional_remotely = true},
                  Imports});
  out->push_back({{.path = "sync-logs",
                   .summary = "List a tenant's sync runs (the sync log), newest first.",
                   .args = {"TENANT"},
                   .flags = {{"source", "S", "only runs from this source (id or name)"},
                             {"target", "T", "only runs into this target (id or name)"},
                             kLogLimitFlag},
                   .details = "Conflicts are listed after the table as warning lines.\n"
                              "Remote mode: TENANT is left out (the API key's tenant).\n\n"
                              "Example:\n  $ syncmgr sync-logs 1 --target website\n",
                   .tenant_arg_optional_remotely = true},
                  SyncLogs});
}

}  // namespace syncmgr::cli
