#include "tools/local_backend.h"

#include "delivery/policy.h"
#include "delivery/sink.h"
#include "tools/local_api.h"
#include "wire/api_render.h"

namespace syncmgr::cli {

namespace {

// Pieces of the input handed to the engine at a time. Default: 1 MiB.
constexpr size_t kReadChunkBytes = 1 << 20;

// The value and its JSON, the bytes a server would answer: `write` is the
// shape's wire::Write* function.
template <typename T, typename WriteFn>
StatusOr<Answer<T>> Render(StatusOr<T> value, WriteFn write) {
  if (!value.ok()) return value.status();
  Answer<T> answer{std::move(*value), {}};
  answer.json = wire::ToJson(answer.value, write);
  return answer;
}

// The same for a list: a JSON array.
template <typename T, typename WriteFn>
StatusOr<Answer<std::vector<T>>> RenderList(StatusOr<std::vector<T>> list, WriteFn write) {
  if (!list.ok()) return list.status();
  Answer<std::vector<T>> answer{std::move(*list), {}};
  answer.json = wire::ToJsonArray(answer.value, write);
  return answer;
}

}  // namespace

StatusOr<Answer<TenantCreatedInfo>> LocalBackend::CreateTenant(std::string_view name) {
  return Render(engine_->CreateTenant(name), wire::WriteTenantCreated);
}

StatusOr<Answer<std::vector<TenantInfo>>> LocalBackend::ListTenants() {
  return RenderList(StatusOr<std::vector<TenantInfo>>(engine_->ListTenants()), wire::WriteTenant);
}

StatusOr<Answer<SourceInfo>> LocalBackend::CreateSource(TenantId tenant, const SourceSpec& spec) {
  return Render(engine_->CreateSource(tenant, spec), wire::WriteSource);
}

StatusOr<Answer<std::vector<SourceInfo>>> LocalBackend::ListSources(TenantId tenant) {
  return RenderList(engine_->ListSources(tenant), wire::WriteSource);
}

StatusOr<Answer<TargetInfo>> LocalBackend::CreateTarget(TenantId tenant, const TargetSpec& spec) {
  // The same config check as POST /targets. The outbound-safety rule is the
  // delivering server's (--allow-private-push), which re-checks every
  // address it connects to; here only the config's shape is checked.
  if (delivery::IsPushType(spec.type)) {
    if (spec.config_json.empty()) {
      return Status::InvalidArgument("a '" + spec.type + "' target needs --config JSON");
    }
    delivery::SinkEnv env;
    env.allow_private = true;
    SYNCMGR_RETURN_IF_ERROR(delivery::ValidateConfig(spec.type, spec.config_json, env));
  }
  return Render(engine_->CreateTarget(tenant, spec), wire::WriteTarget);
}

StatusOr<Answer<std::vector<TargetInfo>>> LocalBackend::ListTargets(TenantId tenant) {
  return RenderList(engine_->ListTargets(tenant), wire::WriteTarget);
}

StatusOr<Answer<ImportResult>> LocalBackend::Import(TenantId tenant, uint32_t source_id,
                                                    const ImportOptions& options,
                                                    ImportInput* input,
                                                    const ByteProgressFn& progress) {
  auto session = engine_->BeginImport(tenant, source_id, options);
  if (!session.ok()) return session.status();
  // An error returns before Finish: the session is discarded and nothing of
  // the import becomes visible.
  std::string chunk;
  while (true) {
    SYNCMGR_RETURN_IF_ERROR(input->Next(&chunk, kReadChunkBytes));
    if (chunk.empty()) break;
    SYNCMGR_RETURN_IF_ERROR((*session)->Append(chunk));
    if (progress) progress(input->bytes_read(), input->size_hint(), false);
  }
  if (progress) progress(input->bytes_read(), input->size_hint(), true);
  return Render((*session)->Finish(), wire::WriteImportResult);
}

StatusOr<Answer<SyncResult>> LocalBackend::Sync(TenantId tenant, uint32_t source_id,
                                                uint32_t target_id, const SyncOptions& options) {
  return Render(engine_->Sync(tenant, source_id, target_id, options),
                [&](wire::JsonWriter& w, const SyncResult& r) {
                  wire::WriteSyncResult(w, r, options.dry_run);
                });
}

Status LocalBackend::Reopen() {
  engine_.reset();
  SYNCMGR_ASSIGN_OR_RETURN(engine_, Engine::Open(options_));
  return Status::Ok();
}

Status LocalBackend::Call(const ApiCall& call, const AnswerPieceFn& on_body) {
  return LocalApiCall(*engine_, call, on_body);
}

}  // namespace syncmgr::cli
