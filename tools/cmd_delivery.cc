// syncmgr delivery status|pause|resume|redeliver TENANT TARGET [--from-seq N]
// (SPEC §5; push delivery, docs/push.md). Remote mode calls the server's
// delivery routes; on a data directory it reads and changes the stored
// delivery state (delivery/offline.h) — a server started later delivers
// from there.
#include <charconv>
#include <cstdio>

#include "delivery/offline.h"
#include "tools/cli.h"
#include "tools/local_backend.h"
#include "tools/remote_backend.h"
#include "wire/api_parse.h"
#include "wire/api_render.h"

namespace syncmgr::cli {

namespace {

StatusOr<Answer<wire::DeliveryStatus>> RunAction(Backend& backend, TenantId tenant, uint32_t target,
                                                 std::string_view action, uint64_t from_seq) {
  if (auto* remote = dynamic_cast<RemoteBackend*>(&backend)) {
    std::string path = "/targets/" + std::to_string(target) + "/delivery";
    std::string method = "POST";
    if (action == "status") {
      method = "GET";
    } else if (action == "redeliver") {
      path += "/redeliver?from_seq=" + std::to_string(from_seq);
    } else {
      path += "/" + std::string(action);
    }
    StatusOr<HttpResponse> r = remote->client().Send(method, path);
    if (!r.ok()) return r.status();
    if (r->status < 200 || r->status > 299) return wire::ParseApiError(r->status, r->body);
    Answer<wire::DeliveryStatus> a;
    SYNCMGR_RETURN_IF_ERROR(wire::ParseDeliveryStatus(r->body, &a.value));
    a.json = std::move(r->body);
    return a;
  }
  auto* local = dynamic_cast<LocalBackend*>(&backend);
  if (local == nullptr) return Status::Internal("unknown backend");
  Engine& engine = local->engine();
  StatusOr<delivery::DeliveryStatus> s =
      action == "status"   ? delivery::OfflineStatus(engine, tenant, target)
      : action == "pause"  ? delivery::OfflinePause(engine, tenant, target)
      : action == "resume" ? delivery::OfflineResume(engine, tenant, target)
                           : delivery::OfflineRedeliver(engine, tenant, target, from_seq);
  if (!s.ok()) return s.status();
  // Without a server nothing is scheduled: next_attempt_at is null.
  Answer<wire::DeliveryStatus> a{std::move(*s), {}};
  a.json = wire::ToJson(a.value, wire::WriteDeliveryStatus);
  return a;
}

int Run(Context& ctx, std::string_view action) {
  std::string tenant_arg;
  std::vector<std::string> rest = ctx.SplitTenantArg(2, &tenant_arg);
  uint64_t from_seq = 0;
  if (action == "redeliver") {
    std::optional<std::string> from = ctx.args().GetOptional("from-seq");
    if (!from) return ctx.UsageFail("redeliver needs --from-seq N");
    auto [end, ec] = std::from_chars(from->data(), from->data() + from->size(), from_seq);
    if (from->empty() || ec != std::errc() || end != from->data() + from->size()) {
      return ctx.UsageFail("--from-seq must be a seq (a non-negative integer), got '" + *from +
                           "'");
    }
  }
  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({}, &exit_code);
  if (backend == nullptr) return exit_code;
  auto tenant = ResolveTenant(*backend, tenant_arg);
  if (!tenant.ok()) return ctx.Fail(tenant.status());
  auto target = ResolveTarget(*backend, *tenant, rest[0]);
  if (!target.ok()) return ctx.Fail(target.status());
  auto answer = RunAction(*backend, *tenant, *target, action, from_seq);
  if (!answer.ok()) return ctx.Fail(answer.status());
  const uint32_t id = *target;
  return ctx.Print(*answer, [&](const wire::DeliveryStatus& a) {
    std::printf("Target %u delivery: %s, delivered_seq %llu, pending %llu, dead letters %llu\n",
                id, a.state.c_str(), static_cast<unsigned long long>(a.delivered_seq),
                static_cast<unsigned long long>(a.pending_events),
                static_cast<unsigned long long>(a.dead_letters));
    if (!a.last_error.empty()) std::printf("Last error: %s\n", a.last_error.c_str());
  });
}

int Status_(Context& ctx) { return Run(ctx, "status"); }
int Pause(Context& ctx) { return Run(ctx, "pause"); }
int Resume(Context& ctx) { return Run(ctx, "resume"); }
int Redeliver(Context& ctx) { return Run(ctx, "redeliver"); }

constexpr const char* kDetails =
    "TENANT, TARGET: ids or names. Remote mode: TENANT may be left out.\n"
    "On a data directory (--db) it reads or changes the stored delivery state;\n"
    "a server started later delivers from there.\n";

}  // namespace

void AddDeliveryCommands(std::vector<Command>* out) {
  out->push_back({{.path = "delivery status",
                   .summary = "Show a push target's delivery: state, cursor, pending events.",
                   .args = {"TENANT", "TARGET"},
                   .details = std::string(kDetails) +
                              "\nExample:\n  $ syncmgr delivery status 1 site\n"
                              "  Target 2 delivery: idle, delivered_seq 42, pending 0, dead "
                              "letters 0\n",
                   .tenant_arg_optional_remotely = true},
                  Status_});
  out->push_back({{.path = "delivery pause",
                   .summary = "Stop delivering to a push target (events keep accumulating).",
                   .args = {"TENANT", "TARGET"},
                   .details = kDetails,
                   .tenant_arg_optional_remotely = true},
                  Pause});
  out->push_back({{.path = "delivery resume",
                   .summary = "Resume delivery to a paused push target from its cursor.",
                   .args = {"TENANT", "TARGET"},
                   .details = kDetails,
                   .tenant_arg_optional_remotely = true},
                  Resume});
  out->push_back(
      {{.path = "delivery redeliver",
        .summary = "Rewind a push target's cursor: re-send everything after --from-seq.",
        .args = {"TENANT", "TARGET"},
        .flags = {{"from-seq", "N", "re-send every event with seq > N (N <= the cursor)"}},
        .details = std::string(kDetails) + "\nExample:\n  $ syncmgr delivery redeliver 1 site "
                                           "--from-seq 0\n",
        .tenant_arg_optional_remotely = true},
       Redeliver});
}

}  // namespace syncmgr::cli
