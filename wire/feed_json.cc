#include "wire/feed_json.h"

#include <array>
#include <utility>
#include <variant>

#include "wire/api_render.h"

namespace syncmgr::wire {
namespace {

constexpr std::array<std::pair<EventType, std::string_view>, kNumEventTypes> kTypeNames{{
    {EventType::kPropertyCreated, "property.created"},
    {EventType::kPropertyUpdated, "property.updated"},
    {EventType::kPropertyRemoved, "property.removed"},
    {EventType::kPropertyManualEdit, "property.manual_edit"},
    {EventType::kImportCompleted, "import.completed"},
    {EventType::kSyncCompleted, "sync.completed"},
    {EventType::kTenantCreated, "tenant.created"},
    {EventType::kApiKeyCreated, "api_key.created"},
    {EventType::kApiKeyRevoked, "api_key.revoked"},
    {EventType::kSourceCreated, "source.created"},
    {EventType::kTargetCreated, "target.created"},
    {EventType::kFeedTokenCreated, "feed_token.created"},
    {EventType::kUnknown, "unknown"},
}};

constexpr bool OneNamePerTypeInOrder() {
  for (int i = 0; i < kNumEventTypes; ++i) {
    if (static_cast<int>(kTypeNames[i].first) != i || kTypeNames[i].second.empty()) return false;
  }
  return true;
}
static_assert(OneNamePerTypeInOrder(), "kTypeNames: one name per EventType, in value order");

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
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "unknown";
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

std::string EventTypeNames() {
  std::string out;
  for (const auto& [t, name] : kTypeNames) {
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
