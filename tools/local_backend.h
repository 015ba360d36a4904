// LocalBackend: the Backend on a data directory, calling the engine in this
// process. Opened for writing, the data directory must not be open by
// another process (a running server holds its lock: use --url then); opened
// as a secondary (reads), it may be.
//
// Thread-safety: not thread-safe.
#pragma once

#include <memory>

#include "engine/engine.h"
#include "tools/backend.h"
#include "tools/scratch_dir.h"

namespace syncmgr::cli {

class LocalBackend : public Backend {
 public:
  // `options` opened `engine`; `scratch` holds a secondary's own files.
  LocalBackend(std::unique_ptr<Engine> engine, EngineOptions options,
               std::unique_ptr<ScratchDir> scratch)
      : options_(std::move(options)), scratch_(std::move(scratch)), engine_(std::move(engine)) {}

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
  Status Call(const ApiCall& call, const AnswerPieceFn& on_body) override;

  // The engine itself, for commands outside this interface (syncmgr delivery).
  Engine& engine() { return *engine_; }
  // Closes the engine and opens it again with the same options (a follower
  // of a live directory whose catch-up failed, e.g. across a server restart).
  Status Reopen();

 private:
  EngineOptions options_;
  std::unique_ptr<ScratchDir> scratch_;  // outlives the engine using it
  std::unique_ptr<Engine> engine_;
};

}  // namespace syncmgr::cli
