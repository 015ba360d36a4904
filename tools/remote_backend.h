// RemoteBackend: the Backend over a running server's HTTP API (SPEC §4).
//
// The API key decides the tenant: TenantId arguments are not sent (the
// tenant-scoped routes have no tenant in their path). Tenant commands need
// the admin key.
//
// Thread-safety: not thread-safe.
#pragma once

#include "tools/backend.h"
#include "tools/http_client.h"

namespace syncmgr::cli {

class RemoteBackend : public Backend {
 public:
  explicit RemoteBackend(HttpClient client) : client_(std::move(client)) {}

  bool remote() const override { return true; }
  // True when the last call failed to reach the server (exit status 3).
  bool transport_failed() const { return client_.transport_failed(); }

  StatusOr<Answer<TenantCreatedInfo>> CreateTenant(std::string_view name) override;
  StatusOr<Answer<std::vector<TenantInfo>>> ListTenants() override;
  StatusOr<Answer<SourceInfo>> CreateSource(TenantId tenant, const SourceSpec& spec) override;
  StatusOr<Answer<std::vector<SourceInfo>>> ListSources(TenantId tenant) override;
  StatusOr<Answer<TargetInfo>> CreateTarget(TenantId tenant, const TargetSpec& spec) override;
  StatusOr<Answer<std::vector<TargetInfo>>> ListTargets(TenantId tenant) override;
  StatusOr<Answer<ImportResult>> Import(TenantId tenant, uint32_t source_id,
                                        const ImportOptions& options, ImportInput* input,
                                        const ByteProgressFn& progress) override;
  StatusOr<Answer<SyncResult>> Sync(TenantId tenant, uint32_t source_id, uint32_t target_id,
                                    const SyncOptions& options) override;
  Status Call(const ApiCall& call, const AnswerPieceFn& on_body) override;

  // The client itself, for commands outside this interface (syncmgr delivery).
  HttpClient& client() { return client_; }

 private:
  HttpClient client_;
};

}  // namespace syncmgr::cli
