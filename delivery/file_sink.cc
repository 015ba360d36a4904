// The `file` push target: each batch becomes one change file in a local
// directory, written atomically; snapshots on demand. File names and lines:
// delivery/ndjson_files.h.
//
// Config: {"dir": "/absolute/path"}. The directory (and its missing parents)
// is created at the first delivery. Temp files an interrupted write left
// behind are swept when the sink is made (server start) and before its first
// write.
//
// A server with --file-push-root holds every file target to its tenant's
// directory there, at creation (ValidateFileConfig) and at delivery
// (MakeFileSink): a target made before the root was set whose `dir` lies
// elsewhere gets a sink that refuses every batch (a dead letter naming the
// root) and never touches that directory.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "delivery/ndjson_files.h"
#include "delivery/sink_config.h"
#include "delivery/sinks.h"

namespace syncmgr::delivery {
namespace {

// Longest accepted `dir`, bytes (PATH_MAX less room for the file names).
constexpr size_t kMaxDirBytes = 3800;

// `dir` as a plain absolute path: starts with '/', no empty, "." or ".."
// component (so what is shown is where files go), no control characters.
Status CheckDir(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') {
    return Status::InvalidArgument("config 'dir' must be an absolute path");
  }
  if (dir.size() > kMaxDirBytes) {
    return Status::InvalidArgument("config 'dir' is longer than " + std::to_string(kMaxDirBytes) +
                                   " bytes");
  }
  for (unsigned char c : dir) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("config 'dir' contains a control character");
    }
  }
  std::string_view rest(dir);
  rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument(
          "config 'dir' must be a plain absolute path (no '//', '.' or '..' components)");
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("config 'dir' exists and is not a directory");
  }
  return Status::Ok();
}

// The --file-push-root rule: tenant T's file targets write into <root>/T or
// below it. `prefix` is <root>/T.
bool UnderPrefix(std::string_view dir, const std::string& prefix) {
  if (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return dir == prefix || (dir.size() > prefix.size() && dir.substr(0, prefix.size()) == prefix &&
                           dir[prefix.size()] == '/');
}

std::string TenantPrefix(const SinkEnv& env) {
  return *env.file_root + "/" + std::to_string(env.file_tenant);
}

StatusOr<std::string> ParseFileConfig(std::string_view config_json) {
  ConfigObject config;
  SYNCMGR_RETURN_IF_ERROR(config.Parse(config_json, {"dir"}));
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<std::string> dir, config.String("dir"));
  if (!dir) return Status::InvalidArgument("config 'dir' is required for a file target");
  SYNCMGR_RETURN_IF_ERROR(CheckDir(*dir));
  return std::move(*dir);
}

class FileSink final : public Sink {
 public:
  explicit FileSink(std::string dir) : dir_(std::move(dir)) {
    // Leftovers of a write that a crash interrupted. Best effort here: the
    // first write retries it and reports a failure.
    SweepTempFiles(dir_).IgnoreError();
  }

  StatusOr<SendResult> Send(const Batch& batch) override {
    SendResult result;
    Status st = Prepare();
    if (st.ok()) st = WriteChangeFile(batch);
    if (!st.ok()) {
      result.outcome = SendResult::Outcome::kRetry;
      result.detail = st.message();
      return result;
    }
    result.outcome = SendResult::Outcome::kDelivered;
    result.detail = "wrote " + ChangeFileName(batch.first_seq, batch.last_seq);
    return result;
  }

  Status WriteSnapshot(uint64_t seq, const StateVisitor& visit) override {
    SYNCMGR_RETURN_IF_ERROR(Prepare());
    AtomicFile file;
    SYNCMGR_RETURN_IF_ERROR(file.Open(dir_, SnapshotFileName(seq)));
    SYNCMGR_RETURN_IF_ERROR(
        StreamSnapshot(visit, [&](std::string_view bytes) { return file.Append(bytes); }));
    return file.Commit();
  }

 private:
  // Creates the directory and sweeps temp files, once.
  Status Prepare() {
    if (prepared_) return Status::Ok();
    SYNCMGR_RETURN_IF_ERROR(MakeDirs(dir_));
    SYNCMGR_RETURN_IF_ERROR(SweepTempFiles(dir_));
    prepared_ = true;
    return Status::Ok();
  }

  Status WriteChangeFile(const Batch& batch) {
    AtomicFile file;
    SYNCMGR_RETURN_IF_ERROR(file.Open(dir_, ChangeFileName(batch.first_seq, batch.last_seq)));
    SYNCMGR_RETURN_IF_ERROR(file.Append(ChangeFileBody(batch)));
    return file.Commit();
  }

  const std::string dir_;
  bool prepared_ = false;
};

// A file target whose `dir` breaks the server's --file-push-root rule: every
// batch is refused for good (sending again cannot help), nothing is written.
class OutsideRootSink final : public Sink {
 public:
  explicit OutsideRootSink(std::string why) : why_(std::move(why)) {}

  StatusOr<SendResult> Send(const Batch&) override {
    SendResult result;
    result.outcome = SendResult::Outcome::kRefused;
    result.detail = why_;
    return result;
  }

  Status WriteSnapshot(uint64_t, const StateVisitor&) override {
    return Status::InvalidArgument(why_);
  }

 private:
  const std::string why_;
};

}  // namespace

Status ValidateFileConfig(std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(std::string dir, ParseFileConfig(config_json));
  if (!env.file_root) return Status::Ok();
  // A file target writes on the server's own disk: on a shared server each
  // tenant gets a directory of its own, so that no tenant can write where
  // the server or another tenant keeps files.
  if (env.file_root->empty()) {
    return Status::InvalidArgument(
        "file targets are off on this server: start `syncmgr serve` with --file-push-root DIR "
        "to allow them (each tenant's under DIR/<tenant id>/)");
  }
  if (!UnderPrefix(dir, TenantPrefix(env))) {
    return Status::InvalidArgument("config 'dir' must be " + TenantPrefix(env) +
                                   " or a directory below it (this server keeps each tenant's "
                                   "file targets under its --file-push-root)");
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<Sink>> MakeFileSink(std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(std::string dir, ParseFileConfig(config_json));
  if (env.file_root && (env.file_root->empty() || !UnderPrefix(dir, TenantPrefix(env)))) {
    const std::string why =
        env.file_root->empty()
            ? "file targets are off on this server (no --file-push-root)"
            : "dir " + dir + " is outside " + TenantPrefix(env) + ", where this server's " +
                  "--file-push-root " + *env.file_root + " keeps tenant " +
                  std::to_string(env.file_tenant) + "'s file targets";
    return std::unique_ptr<Sink>(
        std::make_unique<OutsideRootSink>("refused: " + why + "; nothing was written"));
  }
  return std::unique_ptr<Sink>(std::make_unique<FileSink>(std::move(dir)));
}

}  // namespace syncmgr::delivery
