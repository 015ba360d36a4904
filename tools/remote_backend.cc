#include "tools/remote_backend.h"

#include "wire/api_parse.h"
#include "wire/api_render.h"

namespace syncmgr::cli {

namespace {

// Chunks of an import body sent to the server. Default: 256 KiB.
constexpr size_t kUploadChunkBytes = 256 << 10;

// The answer's body when its status is 2xx, else the error it carries.
StatusOr<std::string> BodyOf(StatusOr<HttpResponse> response) {
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status > 299) {
    return wire::ParseApiError(response->status, response->body);
  }
  return std::move(response->body);
}

template <typename T>
StatusOr<Answer<T>> Decode(StatusOr<HttpResponse> response) {
  auto body = BodyOf(std::move(response));
  if (!body.ok()) return body.status();
  Answer<T> answer;
  SYNCMGR_RETURN_IF_ERROR(wire::Parse(*body, &answer.value));
  answer.json = std::move(*body);
  return answer;
}

// POST `path` with `value` rendered by `write` (a wire::WriteCreate*) as its body.
template <typename T, typename WriteFn>
StatusOr<HttpResponse> Post(HttpClient& client, std::string_view path, const T& value,
                            WriteFn write) {
  return client.Send("POST", path, wire::ToJson(value, write));
}

}  // namespace

StatusOr<Answer<TenantCreatedInfo>> RemoteBackend::CreateTenant(std::string_view name) {
  return Decode<TenantCreatedInfo>(Post(client_, "/tenants", name, wire::WriteCreateTenant));
}

StatusOr<Answer<std::vector<TenantInfo>>> RemoteBackend::ListTenants() {
  return Decode<std::vector<TenantInfo>>(client_.Send("GET", "/tenants"));
}

StatusOr<Answer<SourceInfo>> RemoteBackend::CreateSource(TenantId, const SourceSpec& spec) {
  auto answer = Post(client_, "/sources", spec, wire::WriteCreateSource);
  return Decode<SourceInfo>(std::move(answer));
}

StatusOr<Answer<std::vector<SourceInfo>>> RemoteBackend::ListSources(TenantId) {
  return Decode<std::vector<SourceInfo>>(client_.Send("GET", "/sources"));
}

StatusOr<Answer<TargetInfo>> RemoteBackend::CreateTarget(TenantId, const TargetSpec& spec) {
  auto answer = Post(client_, "/targets", spec, wire::WriteCreateTarget);
  return Decode<TargetInfo>(std::move(answer));
}

StatusOr<Answer<std::vector<TargetInfo>>> RemoteBackend::ListTargets(TenantId) {
  return Decode<std::vector<TargetInfo>>(client_.Send("GET", "/targets"));
}

StatusOr<Answer<ImportResult>> RemoteBackend::Import(TenantId, uint32_t source_id,
                                                     const ImportOptions& options,
                                                     ImportInput* input,
                                                     const ByteProgressFn& progress) {
  std::string target = "/sources/" + std::to_string(source_id) + "/import";
  std::string query;
  if (options.mode_explicit) {
    query += options.mode == ImportMode::kFull ? "mode=full" : "mode=upsert";
  }
  if (options.allow_mass_removal)
    query += (query.empty() ? "" : "&") + std::string("allow_mass_removal=true");
  if (!query.empty()) target += "?" + query;
  std::string_view content_type =
      options.format == BodyFormat::kNdjson ? "application/x-ndjson" : "application/json";
  BodyChunkFn next = [&](std::string* chunk) -> Status {
    SYNCMGR_RETURN_IF_ERROR(input->Next(chunk, kUploadChunkBytes));
    if (progress) progress(input->bytes_read(), input->size_hint(), chunk->empty());
    return Status::Ok();
  };
  return Decode<ImportResult>(client_.SendStreamed("POST", target, content_type, next));
}

StatusOr<Answer<SyncResult>> RemoteBackend::Sync(TenantId, uint32_t source_id, uint32_t target_id,
                                                 const SyncOptions& options) {
  std::string target = "/sync/" + std::to_string(source_id) + "/" + std::to_string(target_id);
  std::string query;
  if (options.on_conflict == OnConflict::kOverwrite) query += "on_conflict=overwrite";
  if (options.dry_run) query += (query.empty() ? "" : "&") + std::string("dry_run=true");
  if (!query.empty()) target += "?" + query;
  return Decode<SyncResult>(client_.Send("POST", target));
}

Status RemoteBackend::Call(const ApiCall& call, const AnswerPieceFn& on_body) {
  StatusOr<HttpResponse> response =
      call.body.empty() ? client_.SendStreamingAnswer(call.method, Target(call), on_body)
                        : client_.Send(call.method, Target(call), call.body);
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status > 299) {
    return wire::ParseApiError(response->status, response->body);
  }
  // A request with a body (a POST) has a small answer, read whole.
  if (!call.body.empty() && !response->body.empty()) return on_body(response->body);
  return Status::Ok();
}

}  // namespace syncmgr::cli
