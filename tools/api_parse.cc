// Reading half of api_json.h: a server's JSON answers as engine values.
#include <simdjson.h>

#include "tools/api_json.h"
#include "tools/json_writer.h"

namespace syncmgr::cli {

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

Status ReadTenant(element e, TenantInfo* out) {
  object o;
  if (e.get_object().get(o)) return Unexpected("a tenant is not an object");
  SYNCMGR_RETURN_IF_ERROR(RequireId(o, &out->id));
  GetString(o, "name", &out->name);
  return Status::Ok();
}

Status ReadSource(element e, SourceInfo* out) {
  object o;
  if (e.get_object().get(o)) return Unexpected("a source is not an object");
  SYNCMGR_RETURN_IF_ERROR(RequireId(o, &out->id));
  GetString(o, "name", &out->name);
  GetString(o, "type", &out->type);
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
  return Status::Ok();
}

Status ReadTarget(element e, TargetInfo* out) {
  object o;
  if (e.get_object().get(o)) return Unexpected("a target is not an object");
  SYNCMGR_RETURN_IF_ERROR(RequireId(o, &out->id));
  GetString(o, "name", &out->name);
  GetString(o, "type", &out->type);
  element config;
  if (o["config"].get(config) == simdjson::SUCCESS) out->config_json = simdjson::minify(config);
  return Status::Ok();
}

template <typename T, typename ReadFn>
Status ReadList(std::string_view json, std::vector<T>* out, ReadFn read) {
  simdjson::dom::parser parser;
  element root;
  SYNCMGR_RETURN_IF_ERROR(ParseDoc(&parser, json, &root));
  array items;
  if (root.get_array().get(items)) return Unexpected("expected a JSON array");
  for (element item : items) {
    T value;
    SYNCMGR_RETURN_IF_ERROR(read(item, &value));
    out->push_back(std::move(value));
  }
  return Status::Ok();
}

template <typename T, typename ReadFn>
Status ReadOne(std::string_view json, T* out, ReadFn read) {
  simdjson::dom::parser parser;
  element root;
  SYNCMGR_RETURN_IF_ERROR(ParseDoc(&parser, json, &root));
  return read(root, out);
}

Code CodeFromName(std::string_view name) {
  for (Code c :
       {Code::kInvalidJson, Code::kInvalidArgument, Code::kUnauthorized, Code::kForbidden,
        Code::kNotFound, Code::kConflict, Code::kMassRemoval, Code::kPayloadTooLarge,
        Code::kUnsupportedMediaType, Code::kNoSpace, Code::kUnavailable, Code::kTooManyRequests,
        Code::kInternal}) {
    if (CodeName(c) == name) return c;
  }
  return Code::kOk;  // unknown to this client
}

Code CodeFromHttpStatus(int status) {
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthorized;
    case 403:
      return Code::kForbidden;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kPayloadTooLarge;
    case 415:
      return Code::kUnsupportedMediaType;
    case 503:
      return Code::kUnavailable;
    case 507:
      return Code::kNoSpace;
    default:
      return Code::kInternal;
  }
}

// "user:secret@host" -> "user:***@host" in a URI DSN; "password=x" -> "password=***".
std::string RedactDsn(std::string_view dsn) {
  std::string out(dsn);
  if (size_t scheme = out.find("://"); scheme != std::string::npos) {
    size_t at = out.find('@', scheme + 3);
    size_t colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    size_t start = pos + 9;
    size_t end = out.find_first_of(" &", start);
    if (end == std::string::npos) end = out.size();
    out.replace(start, end - start, "***");
  }
  return out;
}

}  // namespace

Status ParseTenantCreated(std::string_view json, TenantCreatedInfo* out) {
  return ReadOne(json, out, [](element e, TenantCreatedInfo* info) {
    SYNCMGR_RETURN_IF_ERROR(ReadTenant(e, &info->tenant));
    object o;
    if (e.get_object().get(o) || !GetString(o, "api_key", &info->api_key)) {
      return Unexpected("no \"api_key\" in the new tenant");
    }
    return Status::Ok();
  });
}

Status ParseTenantList(std::string_view json, std::vector<TenantInfo>* out) {
  return ReadList(json, out, ReadTenant);
}
Status ParseSource(std::string_view json, SourceInfo* out) {
  return ReadOne(json, out, ReadSource);
}
Status ParseSourceList(std::string_view json, std::vector<SourceInfo>* out) {
  return ReadList(json, out, ReadSource);
}
Status ParseTarget(std::string_view json, TargetInfo* out) {
  return ReadOne(json, out, ReadTarget);
}
Status ParseTargetList(std::string_view json, std::vector<TargetInfo>* out) {
  return ReadList(json, out, ReadTarget);
}

Status ParseImportResult(std::string_view json, ImportResult* out) {
  return ReadOne(json, out, [](element e, ImportResult* r) {
    object o, stats;
    if (e.get_object().get(o) || o["stats"].get_object().get(stats)) {
      return Unexpected("no import \"stats\"");
    }
    SYNCMGR_RETURN_IF_ERROR(RequireUint(o, "import_id", &r->import_id));
    GetUint(o, "seq", &r->seq);
    GetUint(stats, "received", &r->stats.received);
    GetUint(stats, "created", &r->stats.created);
    GetUint(stats, "updated", &r->stats.updated);
    GetUint(stats, "unchanged", &r->stats.unchanged);
    GetUint(stats, "removed", &r->stats.removed);
    return Status::Ok();
  });
}

Status ParseSyncResult(std::string_view json, SyncResult* out) {
  return ReadOne(json, out, [](element e, SyncResult* r) {
    object o, stats;
    if (e.get_object().get(o) || o["stats"].get_object().get(stats)) {
      return Unexpected("no sync \"stats\"");
    }
    GetUint(o, "sync_id", &r->sync_id);  // a dry run may answer null
    GetUint(o, "seq", &r->seq);
    GetUint(stats, "created", &r->stats.created);
    GetUint(stats, "updated", &r->stats.updated);
    GetUint(stats, "unchanged", &r->stats.unchanged);
    GetUint(stats, "removed", &r->stats.removed);
    GetUint(stats, "conflicts", &r->stats.conflicts);
    array warnings;
    if (o["warnings"].get_array().get(warnings) == simdjson::SUCCESS) {
      for (element w : warnings) {
        object wo;
        if (w.get_object().get(wo)) continue;
        SyncWarning warning;
        GetString(wo, "external_id", &warning.external_id);
        GetString(wo, "type", &warning.type);
        GetString(wo, "message", &warning.message);
        r->warnings.push_back(std::move(warning));
      }
    }
    return Status::Ok();
  });
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

std::string RedactTargetConfig(std::string_view config_json) {
  simdjson::dom::parser parser;
  element root;
  object o;
  if (parser.parse(config_json.data(), config_json.size(), true).get(root) ||
      root.get_object().get(o)) {
    return std::string(config_json);
  }
  JsonWriter w;
  w.BeginObject();
  for (auto field : o) {
    w.Key(field.key);
    std::string_view text;
    bool is_string = field.value.get_string().get(text) == simdjson::SUCCESS;
    if (is_string &&
        (field.key == "secret" || field.key == "bearer_token" || field.key == "password")) {
      w.String("***");
    } else if (is_string && field.key == "dsn") {
      w.String(RedactDsn(text));
    } else {
      w.Raw(simdjson::minify(field.value));
    }
  }
  w.EndObject();
  return w.Take();
}

}  // namespace syncmgr::cli
