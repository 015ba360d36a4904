// Dispatch of sink.h's ValidateConfig / MakeSink to the four push types
// (delivery/sinks.h), and the members all of them share (delivery/policy.h).
// Redaction is the wire layer's (wire/redact.h): one rule for every type.
#include <simdjson.h>

#include <algorithm>

#include "delivery/policy.h"
#include "delivery/sink.h"
#include "delivery/sinks.h"
#include "wire/json_writer.h"

namespace syncmgr::delivery {

namespace {

constexpr std::string_view kCommonMembers[] = {"batch_size", "max_attempts", "on_failure"};

// The four push types' own functions (delivery/sinks.h).
struct PushType {
  std::string_view name;
  Status (*validate)(std::string_view config_json, const SinkEnv& env);
  StatusOr<std::unique_ptr<Sink>> (*make)(std::string_view config_json, const SinkEnv& env);
};
constexpr PushType kPushTypes[] = {
    {"webhook", ValidateWebhookConfig, MakeWebhookSink},
    {"postgres", ValidatePostgresConfig, MakePostgresSink},
    {"file", ValidateFileConfig, MakeFileSink},
    {"ftp", ValidateFtpConfig, MakeFtpSink},
};

// The push type named `type`, or null.
const PushType* FindType(std::string_view type) {
  for (const PushType& t : kPushTypes) {
    if (t.name == type) return &t;
  }
  return nullptr;
}

StatusOr<const PushType*> RequireType(std::string_view type) {
  if (const PushType* t = FindType(type)) return t;
  return Status::InvalidArgument("unknown push target type '" + std::string(type) + "'");
}

bool IsCommon(std::string_view key) {
  return std::find(std::begin(kCommonMembers), std::end(kCommonMembers), key) !=
         std::end(kCommonMembers);
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

bool IsPushType(std::string_view type) { return FindType(type) != nullptr; }

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
  wire::JsonWriter w(&out);
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
  SYNCMGR_ASSIGN_OR_RETURN(const PushType* push_type, RequireType(type));
  return push_type->validate(own, env);
}

StatusOr<std::unique_ptr<Sink>> MakeSink(std::string_view type, std::string_view config_json,
                                         const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(std::string own, TypeConfig(config_json));
  SYNCMGR_ASSIGN_OR_RETURN(const PushType* push_type, RequireType(type));
  return push_type->make(own, env);
}

}  // namespace syncmgr::delivery
