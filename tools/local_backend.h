// LocalBackend: the Backend on a data directory, calling the engine in this
// process. The data directory must not be open by another process (a
// running server holds its lock: use --url then).
//
// Thread-safety: not thread-safe.
#pragma once

#include <memory>

#include "engine/engine.h"
#include "tools/backend.h"

namespace syncmgr::cli {

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}

  bool remote() const override { return false; }

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

  // The engine itself, for commands outside this interface (syncmgr delivery).
  Engine& engine() { return *engine_; }

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace syncmgr::cli
