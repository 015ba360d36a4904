// Dispatch of sink.h's ValidateConfig / RedactConfig / MakeSink to the four
// push types (delivery/sinks.h), and the members all of them share
// (delivery/policy.h).
#include <simdjson.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "delivery/policy.h"
#include "delivery/sink.h"
#include "delivery/sinks.h"
#include "server/json_writer.h"

namespace syncmgr::delivery {

namespace {

constexpr std::string_view kCommonMembers[] = {"batch_size", "max_attempts", "on_failure"};
// Member names whose string values are secrets, whatever the type: redacted
// again after the type's own Redact<T>Config, as a second line of defence.
constexpr std::string_view kSecretMembers[] = {"secret", "bearer_token", "password"};
constexpr std::string_view kRedacted = "***";

bool IsCommon(std::string_view key) {
  return std::find(std::begin(kCommonMembers), std::end(kCommonMembers), key) !=
         std::end(kCommonMembers);
}

bool IsSecret(std::string_view key) {
  return std::find(std::begin(kSecretMembers), std::end(kSecretMembers), key) !=
         std::end(kSecretMembers);
}

// Parses a config object. The parser must outlive the object.
StatusOr<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser,
                                            std::string_view json) {
  if (json.empty()) json = "{}";
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size(), true).get(root) != simdjson::SUCCESS) {
    return Status::InvalidJson("the target config is not valid JSON");
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the target config must be a JSON object");
  }
  return object;
}

StatusOr<uint32_t> BoundedInt(simdjson::dom::element value, std::string_view name, uint32_t min,
                              uint32_t max) {
  uint64_t v = 0;
  if (value.get_uint64().get(v) != simdjson::SUCCESS || v < min || v > max) {
    return Status::InvalidArgument("config member '" + std::string(name) +
                                   "' must be an integer from " + std::to_string(min) + " to " +
                                   std::to_string(max));
  }
  return static_cast<uint32_t>(v);
}

}  // namespace

bool IsPushType(std::string_view type) {
  return type == "webhook" || type == "postgres" || type == "file" || type == "ftp";
}

StatusOr<DeliveryPolicy> ParsePolicy(std::string_view config_json) {
  simdjson::dom::parser parser;
  SYNCMGR_ASSIGN_OR_RETURN(simdjson::dom::object object, ParseObject(parser, config_json));
  DeliveryPolicy policy;
  for (auto field : object) {
    if (field.key == "batch_size") {
      SYNCMGR_ASSIGN_OR_RETURN(policy.batch_size,
                               BoundedInt(field.value, field.key, 1, kMaxBatchSize));
    } else if (field.key == "max_attempts") {
      SYNCMGR_ASSIGN_OR_RETURN(policy.max_attempts,
                               BoundedInt(field.value, field.key, 1, kMaxMaxAttempts));
    } else if (field.key == "on_failure") {
      std::string_view v;
      if (field.value.get_string().get(v) != simdjson::SUCCESS ||
          (v != "dead_letter" && v != "pause")) {
        return Status::InvalidArgument(
            "config member 'on_failure' must be \"dead_letter\" or \"pause\"");
      }
      policy.pause_on_failure = v == "pause";
    }
  }
  return policy;
}

StatusOr<std::string> TypeConfig(std::string_view config_json) {
  simdjson::dom::parser parser;
  SYNCMGR_ASSIGN_OR_RETURN(simdjson::dom::object object, ParseObject(parser, config_json));
  std::string out;
  server::JsonWriter w(&out);
  w.BeginObject();
  for (auto field : object) {
    if (IsCommon(field.key)) continue;
    w.Key(field.key).Raw(simdjson::minify(field.value));
  }
  w.EndObject();
  return out;
}

Status ValidateConfig(std::string_view type, std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_RETURN_IF_ERROR(ParsePolicy(config_json).status());
  SYNCMGR_ASSIGN_OR_RETURN(std::string own, TypeConfig(config_json));
  if (type == "webhook") return ValidateWebhookConfig(own, env);
  if (type == "postgres") return ValidatePostgresConfig(own, env);
  if (type == "file") return ValidateFileConfig(own, env);
  if (type == "ftp") return ValidateFtpConfig(own, env);
  return Status::InvalidArgument("unknown push target type '" + std::string(type) + "'");
}

std::string RedactConfig(std::string_view type, std::string_view config_json) {
  simdjson::dom::parser parser;
  StatusOr<simdjson::dom::object> full = ParseObject(parser, config_json);
  if (!full.ok()) return "{}";  // never echo what could not be parsed: it may hold a secret
  // (key, JSON value) of the common members, then of the type's redacted config.
  std::vector<std::pair<std::string, std::string>> members;
  std::string own;
  {
    server::JsonWriter w(&own);
    w.BeginObject();
    for (auto field : *full) {
      if (IsCommon(field.key)) {
        members.emplace_back(std::string(field.key), simdjson::minify(field.value));
      } else {
        w.Key(field.key).Raw(simdjson::minify(field.value));
      }
    }
    w.EndObject();
  }
  std::string redacted;
  if (type == "webhook") {
    redacted = RedactWebhookConfig(own);
  } else if (type == "postgres") {
    redacted = RedactPostgresConfig(own);
  } else if (type == "file") {
    redacted = RedactFileConfig(own);
  } else if (type == "ftp") {
    redacted = RedactFtpConfig(own);
  } else {
    redacted = own;
  }
  simdjson::dom::parser parser2;
  StatusOr<simdjson::dom::object> typed = ParseObject(parser2, redacted);
  if (!typed.ok()) return "{}";
  std::string quoted_redacted;
  server::AppendJsonString(&quoted_redacted, kRedacted);
  for (auto field : *typed) {
    std::string value = simdjson::minify(field.value);
    if (IsSecret(field.key) && field.value.is_string()) value = quoted_redacted;
    members.emplace_back(std::string(field.key), std::move(value));
  }
  // Stored configs are canonical (keys in byte order): keep that order.
  std::sort(members.begin(), members.end());
  std::string out;
  server::JsonWriter w(&out);
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).Raw(value);
  w.EndObject();
  return out;
}

StatusOr<std::unique_ptr<Sink>> MakeSink(std::string_view type, std::string_view config_json,
                                         const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(std::string own, TypeConfig(config_json));
  if (type == "webhook") return MakeWebhookSink(own, env);
  if (type == "postgres") return MakePostgresSink(own, env);
  if (type == "file") return MakeFileSink(own, env);
  if (type == "ftp") return MakeFtpSink(own, env);
  return Status::InvalidArgument("unknown push target type '" + std::string(type) + "'");
}

}  // namespace syncmgr::delivery
