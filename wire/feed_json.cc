#include "wire/feed_json.h"

#include <array>
#include <utility>

namespace syncmgr::wire {
namespace {

constexpr std::array<std::pair<EventType, std::string_view>, 6> kTypeNames{{
    {EventType::kPropertyCreated, "property.created"},
    {EventType::kPropertyUpdated, "property.updated"},
    {EventType::kPropertyRemoved, "property.removed"},
    {EventType::kPropertyManualEdit, "property.manual_edit"},
    {EventType::kImportCompleted, "import.completed"},
    {EventType::kSyncCompleted, "sync.completed"},
}};

}  // namespace

std::string_view EventTypeName(EventType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "";
}

bool ParseEventType(std::string_view name, EventType* out) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) {
      *out = t;
      return true;
    }
  }
  return false;
}

void WriteFeedEvent(JsonWriter& w, const LogEvent& event) {
  const bool property = event.summary_json.empty();
  w.BeginObject();
  w.Key("seq").Uint(event.seq);
  w.Key("time").Time(event.time_us);
  w.Key("type").String(EventTypeName(event.type));
  w.Key("stream").BeginObject();
  w.Key("kind").String(event.stream.kind == StreamKind::kSource ? "source" : "target");
  w.Key("id").Uint(event.stream.id);
  w.EndObject();
  if (property) {
    w.Key("external_id").String(event.external_id);
    w.Key("version").Uint(event.version);
    w.Key("hash").StringOrNull(event.hash);
    w.Key("data").RawOrNull(event.data);
    w.Key("changed_fields").StringArrayOrNull(event.changed_fields);
  } else {
    w.Key("external_id").Null();
    w.Key("version").Null();
    w.Key("hash").Null();
    w.Key("data").Raw(event.summary_json);
    w.Key("changed_fields").Null();
  }
  w.EndObject();
}

std::string FeedEventJson(const LogEvent& event) {
  std::string out;
  JsonWriter w(&out);
  WriteFeedEvent(w, event);
  return out;
}

}  // namespace syncmgr::wire
