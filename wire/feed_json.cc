#include "wire/feed_json.h"

#include <array>
#include <variant>

#include "wire/api_render.h"

namespace syncmgr::wire {
namespace {

// The feed's name of each EventType, indexed by its value.
constexpr std::array<std::string_view, kNumEventTypes> kTypeNames{
    "property.created", "property.updated", "property.removed", "property.manual_edit",
    "import.completed", "sync.completed",   "tenant.created",   "api_key.created",
    "api_key.revoked",  "source.created",   "target.created",   "feed_token.created",
    "unknown"};
static_assert(kTypeNames[static_cast<int>(EventType::kPropertyCreated)] == "property.created" &&
                  kTypeNames[static_cast<int>(EventType::kFeedTokenCreated)] ==
                      "feed_token.created" &&
                  kTypeNames[static_cast<int>(EventType::kUnknown)] == "unknown",
              "kTypeNames: in EventType's value order");

bool IsProperty(EventType type) {
  return type == EventType::kPropertyCreated || type == EventType::kPropertyUpdated ||
         type == EventType::kPropertyRemoved || type == EventType::kPropertyManualEdit;
}

// A catalog event's "data": what it records, in the shape the API shows it
// elsewhere (feed_json.h has the table).
void WriteCatalogData(JsonWriter& w, const CatalogRecord& record) {
  struct Visitor {
    JsonWriter& w;
    void operator()(std::monostate) const { w.Null(); }
    void operator()(const TenantInfo& t) const { WriteTenant(w, t); }
    void operator()(const ApiKeyInfo& k) const {
      w.BeginObject().Key("prefix").String(k.prefix).EndObject();
    }
    void operator()(const SourceInfo& s) const { WriteSource(w, s); }
    void operator()(const TargetInfo& t) const { WriteTarget(w, t); }
    void operator()(const FeedTokenInfo& f) const { WriteFeedTokenScope(w, f); }
  };
  std::visit(Visitor{w}, record);
}

}  // namespace

std::string_view EventTypeName(EventType type) {
  auto i = static_cast<size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "unknown";
}

bool ParseEventType(std::string_view name, EventType* out) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) {
      *out = static_cast<EventType>(i);
      return true;
    }
  }
  return false;
}

std::string EventTypeNames() {
  std::string out;
  for (std::string_view name : kTypeNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

void WriteFeedEvent(JsonWriter& w, const LogEvent& event) {
  w.BeginObject();
  w.Key("seq").Uint(event.seq);
  w.Key("time").Time(event.time_us);
  w.Key("type").String(EventTypeName(event.type));
  w.Key("stream");
  if (event.stream) {
    w.BeginObject();
    w.Key("kind").String(event.stream->kind == StreamKind::kSource ? "source" : "target");
    w.Key("id").Uint(event.stream->id);
    w.EndObject();
  } else {
    w.Null();
  }
  if (IsProperty(event.type)) {
    w.Key("external_id").String(event.external_id);
    w.Key("version").Uint(event.version);
    w.Key("hash").StringOrNull(event.hash);
    w.Key("data").RawOrNull(event.data);
    w.Key("changed_fields").StringArrayOrNull(event.changed_fields);
  } else {
    w.Key("external_id").Null();
    w.Key("version").Null();
    w.Key("hash").Null();
    w.Key("data");
    if (!event.summary_json.empty()) {
      w.Raw(event.summary_json);
    } else {
      WriteCatalogData(w, event.catalog);
    }
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
