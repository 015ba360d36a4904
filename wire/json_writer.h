// JsonWriter: a small, fast JSON text writer (RFC 8259) appending to a
// std::string. Commas are placed automatically; the caller keeps the nesting
// right (Begin/End pairs, a Key before each object member).
//
// Strings are escaped minimally ('"', '\\', U+0000..U+001F) and invalid
// UTF-8 is replaced by U+FFFD, so the output is always valid JSON even when
// a message quotes client input. Raw() copies JSON that is already valid —
// stored property data is canonical JSON and is copied verbatim.
//
// Thread-safety: none; one writer per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncmgr::wire {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Int(int64_t value);
  // Shortest form that round-trips; non-finite values are written as null.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // REQUIRES: `json` is one valid JSON value.
  JsonWriter& Raw(std::string_view json);
  // An RFC 3339 UTC time with microseconds ("2026-11-25T13:09:08.123456Z").
  JsonWriter& Time(int64_t unix_micros);

  // Shorthands for shapes the API repeats.
  // An array of strings.
  JsonWriter& StringArray(const std::vector<std::string>& values);
  // null for "" (a hash or an error that is not there), else the string.
  JsonWriter& StringOrNull(std::string_view value);
  // null for 0 (a time that is not there), else Time.
  JsonWriter& TimeOrNull(int64_t unix_micros);
  // null for nullopt, else Raw / StringArray.
  JsonWriter& RawOrNull(const std::optional<std::string>& json);
  JsonWriter& StringArrayOrNull(const std::optional<std::vector<std::string>>& values);

 private:
  void BeforeValue();
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);
  template <typename T>
  JsonWriter& Integer(T value);

  std::string* out_;
  bool need_comma_ = false;
};

// Appends `s` as a quoted JSON string (the escaping JsonWriter uses).
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace syncmgr::wire
