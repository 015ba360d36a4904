// Backend: what a syncmgr command asks of Sync Manager, independent of
// whether it runs on a data directory (LocalBackend, the engine in-process)
// or against a server (RemoteBackend, SPEC §4 over HTTP).
//
// Every answer carries the value and its JSON text in the shape of the
// HTTP API: the server's raw answer in remote mode, the same shape rendered
// locally otherwise; `--json` prints that text.
//
// In remote mode the API key names the tenant: TenantId arguments are
// ignored by tenant-scoped calls (see docs/cli.md).
//
// Thread-safety: a Backend is used from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"
#include "tools/api_call.h"

namespace syncmgr::cli {

template <typename T>
struct Answer {
  T value;
  std::string json;
};

// The body of an import: yields the input in chunks, then an empty chunk.
class ImportInput {
 public:
  virtual ~ImportInput() = default;
  // Fills *chunk with the next bytes (at most about `max_bytes`); leaves it
  // empty at the end of the input.
  virtual Status Next(std::string* chunk, size_t max_bytes) = 0;
  // Total size in bytes when known (a regular file), else 0.
  virtual uint64_t size_hint() const = 0;
  // Bytes of the input read so far (progress, against size_hint()).
  virtual uint64_t bytes_read() const = 0;
};

// Import progress: bytes consumed, total bytes (0 when unknown), and whether
// the input has been read to its end (what remains is applying it).
using ByteProgressFn = std::function<void(uint64_t done, uint64_t total, bool input_done)>;

class Backend {
 public:
  virtual ~Backend() = default;

  virtual bool remote() const = 0;

  virtual StatusOr<Answer<TenantCreatedInfo>> CreateTenant(std::string_view name) = 0;
  virtual StatusOr<Answer<std::vector<TenantInfo>>> ListTenants() = 0;

  virtual StatusOr<Answer<SourceInfo>> CreateSource(TenantId tenant, const SourceSpec& spec) = 0;
  virtual StatusOr<Answer<std::vector<SourceInfo>>> ListSources(TenantId tenant) = 0;
  virtual StatusOr<Answer<TargetInfo>> CreateTarget(TenantId tenant, const TargetSpec& spec) = 0;
  virtual StatusOr<Answer<std::vector<TargetInfo>>> ListTargets(TenantId tenant) = 0;

  // Streams `input` into the source as one all-or-nothing import.
  virtual StatusOr<Answer<ImportResult>> Import(TenantId tenant, uint32_t source_id,
                                                const ImportOptions& options, ImportInput* input,
                                                const ByteProgressFn& progress) = 0;

  virtual StatusOr<Answer<SyncResult>> Sync(TenantId tenant, uint32_t source_id, uint32_t target_id,
                                            const SyncOptions& options) = 0;

  // Sends one API request (tools/api_call.h): a 2xx answer's body goes to
  // `on_body` in pieces as it is produced, so memory does not grow with it;
  // any other answer is returned as the error it carries.
  virtual Status Call(const ApiCall& call, const AnswerPieceFn& on_body) = 0;
};

// Call, with the whole body of a small answer (a page, one object).
StatusOr<std::string> CallForBody(Backend& backend, const ApiCall& call);

}  // namespace syncmgr::cli
