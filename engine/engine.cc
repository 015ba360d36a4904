// Engine: tenants, keys, catalog and log access. Imports, syncs, manual
// edits, reads and replay live in their own files.
#include "engine/engine.h"

#include <cmath>

#include <fmt/format.h>

#include "engine/api_keys.h"
#include "engine/canonical_json.h"
#include "engine/counts.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

constexpr size_t kMaxNameBytes = 256;

Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return Status::InvalidArgument(fmt::format("{} name must not be empty", what));
  if (name.size() > kMaxNameBytes) {
    return Status::InvalidArgument(
        fmt::format("{} name is longer than {} bytes", what, kMaxNameBytes));
  }
  return Status::Ok();
}

// Every record of one kind (sources or targets) of a tenant, by id: the
// keys under `prefix`, taken apart by `decode`, each record read by `read`.
template <typename Info>
StatusOr<std::vector<Info>> ListCatalog(EngineImpl* impl, TenantId tenant, std::string_view prefix,
                                        bool (*decode)(std::string_view, TenantId*, uint32_t*),
                                        StatusOr<Info> (EngineImpl::*read)(TenantId, uint32_t)) {
  std::vector<Info> out;
  std::unique_ptr<StoreIterator> it = impl->store().NewPrefixIterator(Cf::kCatalog, prefix);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TenantId owner;
    uint32_t id;
    if (!decode(it->key(), &owner, &id)) return Status::Corruption("malformed catalog key");
    SYNCMGR_ASSIGN_OR_RETURN(Info info, (impl->*read)(tenant, id));
    out.push_back(std::move(info));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("list catalog"));
  return out;
}

// Fills in the counts of a source or target read from the catalog.
Status AddCounts(EngineImpl* impl, TenantId tenant, SourceInfo* info) {
  SYNCMGR_ASSIGN_OR_RETURN(StreamCounts c, ReadStreamCounts(impl->store(), tenant,
                                                            {StreamKind::kSource, info->id}));
  info->live_count = c.live;
  return Status::Ok();
}

Status AddCounts(EngineImpl* impl, TenantId tenant, TargetInfo* info) {
  SYNCMGR_ASSIGN_OR_RETURN(StreamCounts c, ReadStreamCounts(impl->store(), tenant,
                                                            {StreamKind::kTarget, info->id}));
  info->live_count = c.live;
  info->manual_count = c.manual;
  return Status::Ok();
}

}  // namespace

Engine::Engine(std::unique_ptr<EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto impl = std::make_unique<EngineImpl>(options);
  SYNCMGR_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

StatusOr<TenantCreatedInfo> Engine::CreateTenant(std::string_view name) {
  return CreateTenantImpl(name, std::nullopt);
}

StatusOr<TenantCreatedInfo> Engine::CreateTenant(std::string_view name, TenantId id) {
  return CreateTenantImpl(name, id);
}

StatusOr<TenantCreatedInfo> Engine::CreateTenantImpl(std::string_view name,
                                                     std::optional<TenantId> given) {
  SYNCMGR_RETURN_IF_ERROR(CheckName("tenant", name));
  if (impl_->options().read_only) return Status::Unavailable("the data directory is read-only");
  SYNCMGR_RETURN_IF_ERROR(impl_->disk_guard().Check());  // as SlotForWrite does
  SYNCMGR_RETURN_IF_ERROR(impl_->ResumeIfNeeded());
  SYNCMGR_ASSIGN_OR_RETURN(auto added, impl_->AddTenant(given));
  auto [id, slot] = added;
  WriteOp op(impl_.get(), id, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  // An id given from outside may have been seen in the log of record
  // already (its fence): its cursor is loaded, and its views must be empty.
  if (op.views().last_seq != 0) return Status::Conflict(fmt::format("tenant {} exists", id));
  BuildTenantCreated(&op.builder(), op.next_seq(), op.time_us(), id, name);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_ASSIGN_OR_RETURN(std::string key, IssueApiKey(impl_.get(), id));
  BuildApiKeyCreated(&op.builder(), op.next_seq(), op.time_us(), HashApiKey(key),
                     ApiKeyPrefix(key));
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_RETURN_IF_ERROR(op.Commit().status());
  return TenantCreatedInfo{TenantInfo{id, std::string(name), op.time_us()}, std::move(key)};
}

std::vector<TenantInfo> Engine::ListTenants() {
  std::vector<TenantInfo> out;
  // Tenant records sit among every tenant's sources and targets: a scan of
  // the whole catalog.
  std::unique_ptr<StoreIterator> it = impl_->store().NewPrefixIterator(Cf::kCatalog, "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TenantId tenant;
    if (!keys::DecodeTenantRecord(it->key(), &tenant)) continue;
    std::string value(it->value());  // aligned copy for FlatBuffers
    const auto* r = flatbuffers::GetRoot<fb::TenantRecord>(value.data());
    out.push_back(TenantInfo{r->id(), std::string(Sv(r->name())), r->created_at_us()});
  }
  return out;
}

StatusOr<TenantId> Engine::Authenticate(std::string_view api_key) {
  return AuthenticateHashed(api_key, HashApiKey(api_key));
}

StatusOr<TenantId> Engine::AuthenticateHashed(std::string_view api_key,
                                              std::string_view key_hash) {
  if (!ApiKeyWellFormed(api_key)) return Status::Unauthorized("invalid API key");
  // Looked up by its SHA-256: the key itself is never compared or stored.
  AuthCache& cache = impl_->auth_cache();
  if (std::optional<TenantId> tenant = cache.Find(key_hash)) return *tenant;
  const uint64_t epoch = cache.epoch();  // before the read (auth_cache.h)
  std::string value;
  Status s = impl_->store().Get(Cf::kAuth, keys::ApiKeyRecord(key_hash), &value);
  if (s.code() == Code::kNotFound) return Status::Unauthorized("invalid API key");
  SYNCMGR_RETURN_IF_ERROR(s);
  const auto* r = flatbuffers::GetRoot<fb::ApiKeyRecord>(value.data());
  if (r->revoked()) return Status::Unauthorized("API key revoked");
  cache.Insert(key_hash, r->tenant_id(), epoch);
  return r->tenant_id();
}

// CreateApiKey, ListApiKeys, RevokeApiKey: api_key_admin.cc.

StatusOr<SourceInfo> Engine::CreateSource(TenantId tenant, const SourceSpec& spec) {
  SYNCMGR_RETURN_IF_ERROR(CheckName("source", spec.name));
  if (!(spec.max_removal_ratio >= 0.0 && spec.max_removal_ratio <= 1.0)) {
    return Status::InvalidArgument("max_removal_ratio must be between 0 and 1");
  }
  if (spec.id_field.size() > kMaxNameBytes) return Status::InvalidArgument("id_field too long");
  for (const auto& f : spec.ignore_fields) {
    if (f.empty() || f.size() > kMaxNameBytes) {
      return Status::InvalidArgument("ignore_fields entries must be 1 to 256 bytes");
    }
  }
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(tenant));
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  SourceInfo info;
  info.id = op.views().next_source_id;
  info.name = spec.name;
  info.type = spec.type.empty() ? "scraper" : spec.type;
  info.id_field = spec.id_field;
  info.ignore_fields = spec.ignore_fields;
  info.max_removal_ratio = spec.max_removal_ratio;
  info.created_at_us = op.time_us();
  BuildSourceCreated(&op.builder(), op.next_seq(), op.time_us(), info);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_RETURN_IF_ERROR(op.Commit().status());
  info.live_count = 0;
  return info;
}

StatusOr<SourceInfo> Engine::GetSource(TenantId tenant, uint32_t source_id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  SYNCMGR_ASSIGN_OR_RETURN(SourceInfo info, impl_->ReadSource(tenant, source_id));
  SYNCMGR_RETURN_IF_ERROR(AddCounts(impl_.get(), tenant, &info));
  return info;
}

StatusOr<std::vector<SourceInfo>> Engine::ListSources(TenantId tenant) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  SYNCMGR_ASSIGN_OR_RETURN(
      std::vector<SourceInfo> sources,
      ListCatalog<SourceInfo>(impl_.get(), tenant, keys::SourceRecordPrefix(tenant),
                              keys::DecodeSourceRecord, &EngineImpl::ReadSource));
  for (SourceInfo& info : sources) SYNCMGR_RETURN_IF_ERROR(AddCounts(impl_.get(), tenant, &info));
  return sources;
}

StatusOr<TargetInfo> Engine::CreateTarget(TenantId tenant, const TargetSpec& spec) {
  SYNCMGR_RETURN_IF_ERROR(CheckName("target", spec.name));
  std::string type = spec.type.empty() ? "internal" : spec.type;
  if (type != "internal" && type != "webhook" && type != "postgres" && type != "file" &&
      type != "ftp") {
    return Status::InvalidArgument(fmt::format(
        "unknown target type \"{}\" (internal, webhook, postgres, file or ftp)", type));
  }
  CanonicalDoc config;
  SYNCMGR_RETURN_IF_ERROR(
      CanonicalizeObject(spec.config_json.empty() ? "{}" : spec.config_json, {}, &config));
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(tenant));
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  TargetInfo info;
  info.id = op.views().next_target_id;
  info.name = spec.name;
  info.type = type;
  info.config_json = std::move(config.json);
  info.created_at_us = op.time_us();
  BuildTargetCreated(&op.builder(), op.next_seq(), op.time_us(), info);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_RETURN_IF_ERROR(op.Commit().status());
  info.live_count = 0;
  info.manual_count = 0;
  return info;
}

StatusOr<TargetInfo> Engine::GetTarget(TenantId tenant, uint32_t target_id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  SYNCMGR_ASSIGN_OR_RETURN(TargetInfo info, impl_->ReadTarget(tenant, target_id));
  SYNCMGR_RETURN_IF_ERROR(AddCounts(impl_.get(), tenant, &info));
  return info;
}

StatusOr<std::vector<TargetInfo>> Engine::ListTargets(TenantId tenant) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  SYNCMGR_ASSIGN_OR_RETURN(
      std::vector<TargetInfo> targets,
      ListCatalog<TargetInfo>(impl_.get(), tenant, keys::TargetRecordPrefix(tenant),
                              keys::DecodeTargetRecord, &EngineImpl::ReadTarget));
  for (TargetInfo& info : targets) SYNCMGR_RETURN_IF_ERROR(AddCounts(impl_.get(), tenant, &info));
  return targets;
}

StatusOr<uint64_t> Engine::LastSeq(TenantId tenant) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  return slot->last_seq.load(std::memory_order_acquire);
}

StatusOr<uint64_t> Engine::SeqAtTime(TenantId tenant, int64_t time_us) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  return LastSeqAtTime(
      slot->last_seq.load(std::memory_order_acquire), time_us,
      [&](uint64_t seq, std::string* bytes) { return impl_->ReadLogRecord(tenant, seq, bytes); });
}

uint64_t Engine::SubscribeCommits(std::function<void(TenantId, uint64_t)> fn) {
  return impl_->Subscribe(std::move(fn));
}

void Engine::UnsubscribeCommits(uint64_t handle) { impl_->Unsubscribe(handle); }

Status Engine::CatchUpWithPrimary() {
  Status s = impl_->CatchUpWithPrimary();
  // The primary may have revoked keys: they are read again (even after a
  // failure, which may have caught up part of the way).
  impl_->auth_cache().Clear();
  return s;
}

}  // namespace syncmgr
