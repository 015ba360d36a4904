#include "wire/api_parse.h"

#include <simdjson.h>

#include <array>
#include <limits>
#include <optional>
#include <utility>

#include "wire/time_format.h"

namespace syncmgr::wire {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

Status Unexpected(std::string what) {
  return Status::Internal("unexpected answer from the server: " + std::move(what));
}

Status ParseDoc(simdjson::dom::parser* parser, std::string_view json, element* root) {
  if (auto err = parser->parse(json.data(), json.size(), true).get(*root)) {
    return Unexpected(std::string("not JSON (") + simdjson::error_message(err) + ")");
  }
  return Status::Ok();
}

bool GetUint(object o, const char* key, uint64_t* out) {
  uint64_t v = 0;
  if (o[key].get_uint64().get(v) != simdjson::SUCCESS) return false;
  *out = v;
  return true;
}

// A count member that may be absent (an older server's answer).
void GetCount(object o, const char* key, std::optional<uint64_t>* out) {
  uint64_t v = 0;
  if (GetUint(o, key, &v)) *out = v;
}

bool GetString(object o, const char* key, std::string* out) {
  std::string_view v;
  if (o[key].get_string().get(v) != simdjson::SUCCESS) return false;
  *out = std::string(v);
  return true;
}

Status RequireUint(object o, const char* key, uint64_t* out) {
  if (!GetUint(o, key, out)) return Unexpected(std::string("no integer \"") + key + "\"");
  return Status::Ok();
}

template <typename T>
Status RequireId(object o, T* out) {
  uint64_t v = 0;
  SYNCMGR_RETURN_IF_ERROR(RequireUint(o, "id", &v));
  *out = static_cast<T>(v);
  return Status::Ok();
}

// {"id", ...}: an object with an id. `what` names it in the error.
template <typename Id>
Status ReadObjectWithId(element e, const char* what, object* o, Id* id) {
  if (e.get_object().get(*o)) return Unexpected(std::string(what) + " is not an object");
  return RequireId(*o, id);
}

// {"id", "name", "type"?}: how the catalog's tenants, sources and targets
// begin. `what` names the value in the error ("a tenant").
template <typename Id>
Status ReadCatalogEntry(element e, const char* what, object* o, Id* id, std::string* name,
                        std::string* type = nullptr) {
  SYNCMGR_RETURN_IF_ERROR(ReadObjectWithId(e, what, o, id));
  GetString(*o, "name", name);
  if (type != nullptr) GetString(*o, "type", type);
  return Status::Ok();
}

Status Read(element e, TenantInfo* out) {
  object o;
  return ReadCatalogEntry(e, "a tenant", &o, &out->id, &out->name);
}

Status Read(element e, SourceInfo* out) {
  object o;
  SYNCMGR_RETURN_IF_ERROR(ReadCatalogEntry(e, "a source", &o, &out->id, &out->name, &out->type));
  object config;
  if (o["config"].get_object().get(config) == simdjson::SUCCESS) {
    GetString(config, "id_field", &out->id_field);
    array ignore;
    if (config["ignore_fields"].get_array().get(ignore) == simdjson::SUCCESS) {
      for (element f : ignore) {
        std::string_view name;
        if (f.get_string().get(name) == simdjson::SUCCESS) out->ignore_fields.emplace_back(name);
      }
    }
    double ratio = 0;
    if (config["max_removal_ratio"].get_double().get(ratio) == simdjson::SUCCESS) {
      out->max_removal_ratio = ratio;
    }
  }
  GetCount(o, "live_count", &out->live_count);
  return Status::Ok();
}

Status Read(element e, TargetInfo* out) {
  object o;
  SYNCMGR_RETURN_IF_ERROR(ReadCatalogEntry(e, "a target", &o, &out->id, &out->name, &out->type));
  element config;
  if (o["config"].get(config) == simdjson::SUCCESS) out->config_json = simdjson::minify(config);
  bool unreadable = false;
  if (o["config_unreadable"].get_bool().get(unreadable) == simdjson::SUCCESS && unreadable) {
    out->config_json = "null";
  }
  GetCount(o, "live_count", &out->live_count);
  GetCount(o, "manual_count", &out->manual_count);
  return Status::Ok();
}

Code CodeFromName(std::string_view name) {
  for (Code c :
       {Code::kInvalidJson, Code::kInvalidArgument, Code::kUnauthorized, Code::kForbidden,
        Code::kNotFound, Code::kConflict, Code::kMassRemoval, Code::kPayloadTooLarge,
        Code::kUnsupportedMediaType, Code::kNoSpace, Code::kUnavailable, Code::kTooManyRequests,
        Code::kLagging, Code::kInternal}) {
    if (CodeName(c) == name) return c;
  }
  return Code::kOk;  // unknown to this client
}

// What an HTTP status stands for when the answer is not our error shape.
Code CodeFromHttpStatus(int status) {
  static constexpr std::array<std::pair<int, Code>, 9> kCodes{{
      {400, Code::kInvalidArgument},
      {401, Code::kUnauthorized},
      {403, Code::kForbidden},
      {404, Code::kNotFound},
      {409, Code::kConflict},
      {413, Code::kPayloadTooLarge},
      {415, Code::kUnsupportedMediaType},
      {503, Code::kUnavailable},
      {507, Code::kNoSpace},
  }};
  for (const auto& [http, code] : kCodes) {
    if (http == status) return code;
  }
  return Code::kInternal;
}

bool GetUint32(object o, const char* key, uint32_t* out) {
  uint64_t v = 0;
  if (!GetUint(o, key, &v) || v > std::numeric_limits<uint32_t>::max()) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool GetMember(object o, const char* key, uint32_t* out) { return GetUint32(o, key, out); }
bool GetMember(object o, const char* key, std::string* out) { return GetString(o, key, out); }

// An object whose member `key` a value cannot do without; `what` names the
// value in the error ("an API key").
template <typename T>
Status ReadObjectWith(element e, const char* what, const char* key, object* o, T* member) {
  if (e.get_object().get(*o) || !GetMember(*o, key, member)) {
    return Unexpected(std::string(what) + " without \"" + key + "\"");
  }
  return Status::Ok();
}

// The counts an import and a sync both report (ImportStats, SyncStats).
template <typename Stats>
void ReadChangeCounts(object stats, Stats* out) {
  GetUint(stats, "created", &out->created);
  GetUint(stats, "updated", &out->updated);
  GetUint(stats, "unchanged", &out->unchanged);
  GetUint(stats, "removed", &out->removed);
}

void ReadStats(object stats, ImportStats* out) {
  GetUint(stats, "received", &out->received);
  ReadChangeCounts(stats, out);
}

void ReadStats(object stats, SyncStats* out) {
  ReadChangeCounts(stats, out);
  GetUint(stats, "conflicts", &out->conflicts);
}

// An operation's answer: an object with its "stats". `what` names it.
Status ReadObjectWithStats(element e, const char* what, object* o, object* stats) {
  if (e.get_object().get(*o) || (*o)["stats"].get_object().get(*stats)) {
    return Unexpected(std::string("no ") + what + " \"stats\"");
  }
  return Status::Ok();
}

bool GetTime(object o, const char* key, int64_t* out) {
  std::string_view v;
  if (o[key].get_string().get(v) != simdjson::SUCCESS) return false;
  std::optional<int64_t> t = ParseRfc3339(v);
  if (!t) return false;
  *out = *t;
  return true;
}

// When an operation ran, and how it ended: what both logs' entries begin with.
template <typename Entry>
void ReadRun(object o, Entry* out) {
  GetTime(o, "started_at", &out->started_at_us);
  GetTime(o, "finished_at", &out->finished_at_us);
  GetString(o, "status", &out->status);
}

bool GetBool(object o, const char* key, bool* out) {
  return o[key].get_bool().get(*out) == simdjson::SUCCESS;
}

// A member that is JSON text to show: minified, nullopt when null or absent.
std::optional<std::string> GetJsonText(object o, const char* key) {
  element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return simdjson::minify(e);
}

std::optional<std::vector<std::string>> GetStringArray(object o, const char* key) {
  array items;
  if (o[key].get_array().get(items) != simdjson::SUCCESS) return std::nullopt;
  std::vector<std::string> out;
  for (element item : items) {
    std::string_view v;
    if (item.get_string().get(v) == simdjson::SUCCESS) out.emplace_back(v);
  }
  return out;
}

std::vector<SyncWarning> GetWarnings(object o) {
  std::vector<SyncWarning> out;
  array warnings;
  if (o["warnings"].get_array().get(warnings) != simdjson::SUCCESS) return out;
  for (element w : warnings) {
    object wo;
    if (w.get_object().get(wo)) continue;
    SyncWarning warning;
    GetString(wo, "external_id", &warning.external_id);
    GetString(wo, "type", &warning.type);
    GetString(wo, "message", &warning.message);
    out.push_back(std::move(warning));
  }
  return out;
}

Status Read(element e, PropertyRecord* out) {
  object o;
  if (e.get_object().get(o) || !GetString(o, "external_id", &out->external_id)) {
    return Unexpected("a property without \"external_id\"");
  }
  out->data = GetJsonText(o, "data").value_or("");
  GetString(o, "hash", &out->hash);
  GetUint32(o, "version", &out->version);
  GetTime(o, "updated_at", &out->updated_at_us);
  GetUint(o, "seq", &out->seq);
  GetUint32(o, "source_id", &out->source_id);
  GetBool(o, "manually_modified", &out->manually_modified);
  GetBool(o, "removed", &out->removed);
  return Status::Ok();
}

CauseKind CauseFromName(std::string_view name) {
  if (name == "import") return CauseKind::kImport;
  if (name == "sync") return CauseKind::kSync;
  if (name == "manual") return CauseKind::kManual;
  return CauseKind::kNone;
}

Status Read(element e, HistoryEntry* out) {
  object o;
  SYNCMGR_RETURN_IF_ERROR(ReadObjectWith(e, "a history entry", "version", &o, &out->version));
  GetUint(o, "seq", &out->seq);
  GetTime(o, "time", &out->time_us);
  GetString(o, "hash", &out->hash);
  out->data = GetJsonText(o, "data");
  GetBool(o, "removed", &out->removed);
  out->changed_fields = GetStringArray(o, "changed_fields");
  object cause;
  if (o["cause"].get_object().get(cause) == simdjson::SUCCESS) {
    std::string kind;
    GetString(cause, "kind", &kind);
    out->cause = CauseFromName(kind);
    GetUint(cause, "id", &out->cause_id);
  }
  return Status::Ok();
}

// What an import log entry and a sync log entry share: id, source_id, the
// run's times and outcome, seq. `o` is left at the entry, for the rest.
template <typename Entry>
Status ReadLogEntry(element e, const char* what, object* o, Entry* out) {
  SYNCMGR_RETURN_IF_ERROR(ReadObjectWithId(e, what, o, &out->id));
  GetUint32(*o, "source_id", &out->source_id);
  ReadRun(*o, out);
  GetUint(*o, "seq", &out->seq);
  return Status::Ok();
}

Status Read(element e, ImportLogEntry* out) {
  object o, stats;
  SYNCMGR_RETURN_IF_ERROR(ReadLogEntry(e, "an import", &o, out));
  GetString(o, "mode", &out->mode);
  if (o["stats"].get_object().get(stats) == simdjson::SUCCESS) ReadStats(stats, &out->stats);
  return Status::Ok();
}

Status Read(element e, SyncLogEntry* out) {
  object o, stats;
  SYNCMGR_RETURN_IF_ERROR(ReadLogEntry(e, "a sync run", &o, out));
  GetUint32(o, "target_id", &out->target_id);
  GetString(o, "on_conflict", &out->on_conflict);
  if (o["stats"].get_object().get(stats) == simdjson::SUCCESS) ReadStats(stats, &out->stats);
  out->warnings = GetWarnings(o);
  return Status::Ok();
}

Status Read(element e, ApiKeyInfo* out) {
  object o;
  SYNCMGR_RETURN_IF_ERROR(ReadObjectWith(e, "an API key", "prefix", &o, &out->prefix));
  GetUint32(o, "tenant_id", &out->tenant);
  GetBool(o, "revoked", &out->revoked);
  GetTime(o, out->revoked ? "revoked_at" : "created_at", &out->time_us);
  return Status::Ok();
}

// What comes with a new API key in clear: `base`'s shape plus "api_key".
template <typename Base>
Status ReadIssued(element e, Base* base, std::string* api_key, const char* what) {
  SYNCMGR_RETURN_IF_ERROR(Read(e, base));
  object o;
  if (e.get_object().get(o) || !GetString(o, "api_key", api_key)) {
    return Unexpected(std::string("no \"api_key\" in the new ") + what);
  }
  return Status::Ok();
}

Status Read(element e, TenantCreatedInfo* info) {
  return ReadIssued(e, &info->tenant, &info->api_key, "tenant");
}

Status Read(element e, ApiKeyIssued* issued) {
  return ReadIssued(e, &issued->info, &issued->api_key, "key");
}

Status Read(element e, ImportResult* r) {
  object o, stats;
  SYNCMGR_RETURN_IF_ERROR(ReadObjectWithStats(e, "import", &o, &stats));
  SYNCMGR_RETURN_IF_ERROR(RequireUint(o, "import_id", &r->import_id));
  GetUint(o, "seq", &r->seq);
  ReadStats(stats, &r->stats);
  return Status::Ok();
}

Status Read(element e, SyncResult* r) {
  object o, stats;
  SYNCMGR_RETURN_IF_ERROR(ReadObjectWithStats(e, "sync", &o, &stats));
  GetUint(o, "sync_id", &r->sync_id);  // a dry run may answer null
  GetUint(o, "seq", &r->seq);
  ReadStats(stats, &r->stats);
  r->warnings = GetWarnings(o);
  return Status::Ok();
}

Status Read(element e, BackupInfo* info) {
  object o;
  if (e.get_object().get(o) == simdjson::SUCCESS) {
    GetUint(o, "files", &info->files);
    GetUint(o, "bytes", &info->bytes);
    GetUint(o, "linked_files", &info->linked_files);
  }
  return Status::Ok();
}

// One value of the shape, or (std::vector) a JSON array of them, each read
// by the Read overload for its type.
template <typename T>
Status ParseInto(std::string_view json, T* out) {
  simdjson::dom::parser parser;
  element root;
  SYNCMGR_RETURN_IF_ERROR(ParseDoc(&parser, json, &root));
  return Read(root, out);
}

template <typename T>
Status ParseInto(std::string_view json, std::vector<T>* out) {
  simdjson::dom::parser parser;
  element root;
  SYNCMGR_RETURN_IF_ERROR(ParseDoc(&parser, json, &root));
  array items;
  if (root.get_array().get(items)) return Unexpected("expected a JSON array");
  for (element item : items) {
    T value;
    SYNCMGR_RETURN_IF_ERROR(Read(item, &value));
    out->push_back(std::move(value));
  }
  return Status::Ok();
}

}  // namespace

Status Parse(std::string_view json, ParseOut out) {
  return std::visit([json](auto* value) { return ParseInto(json, value); }, out);
}

Status ParseDeliveryStatus(std::string_view json, DeliveryStatus* out) {
  simdjson::dom::parser parser;
  element root;
  object o;
  if (parser.parse(json.data(), json.size(), true).get(root) != simdjson::SUCCESS) {
    return Status::Internal("the server's delivery answer is not JSON");
  }
  if (root.get_object().get(o) != simdjson::SUCCESS || !GetString(o, "state", &out->state)) {
    return Status::Internal("the server's delivery answer has no state");
  }
  GetUint(o, "delivered_seq", &out->delivered_seq);
  GetUint(o, "pending_events", &out->pending_events);
  GetUint(o, "dead_letters", &out->dead_letters);
  GetString(o, "last_error", &out->last_error);
  return Status::Ok();
}

Status ParseFeedPage(std::string_view json, std::vector<RawFeedEvent>* events,
                     uint64_t* last_seq) {
  // On-demand parsing: each event's bytes are kept as they are (raw_json),
  // not re-serialized.
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
    return Unexpected("the feed page is not JSON");
  }
  simdjson::ondemand::array list;
  if (doc.find_field_unordered("events").get_array().get(list) != simdjson::SUCCESS) {
    return Unexpected("no \"events\" array in the feed page");
  }
  for (auto item : list) {
    simdjson::ondemand::object event;
    std::string_view raw;
    uint64_t seq = 0;
    if (item.get_object().get(event) != simdjson::SUCCESS ||
        event.find_field_unordered("seq").get_uint64().get(seq) != simdjson::SUCCESS) {
      return Unexpected("a feed event without \"seq\"");
    }
    event.reset();
    if (event.raw_json().get(raw) != simdjson::SUCCESS) {
      return Unexpected("a feed event that is not JSON");
    }
    events->push_back({seq, std::string(raw)});
  }
  if (doc.find_field_unordered("last_seq").get_uint64().get(*last_seq) != simdjson::SUCCESS) {
    return Unexpected("no \"last_seq\" in the feed page");
  }
  return Status::Ok();
}

Status ParseApiError(int http_status, std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  object error;
  std::string code, message;
  if (parser.parse(body.data(), body.size(), true).get(root) == simdjson::SUCCESS &&
      root["error"].get_object().get(error) == simdjson::SUCCESS &&
      GetString(error, "code", &code)) {
    GetString(error, "message", &message);
    Code c = CodeFromName(code);
    if (c == Code::kOk) return Status::Internal(code + ": " + message);
    return Status(c, message);
  }
  // Not our error shape (a proxy, or another service on that port).
  std::string first_line(body.substr(0, body.find('\n')));
  if (first_line.size() > 200) first_line.resize(200);
  std::string msg = "server answered HTTP " + std::to_string(http_status);
  if (!first_line.empty()) msg += ": " + first_line;
  return Status(CodeFromHttpStatus(http_status), msg);
}

Status CheckJsonObject(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size(), true).get(root)) {
    return Status::InvalidJson(simdjson::error_message(err));
  }
  if (!root.is_object()) return Status::InvalidArgument("not a JSON object");
  return Status::Ok();
}

}  // namespace syncmgr::wire
