// JsonWriter: builds compact JSON text for the command line's --json output
// and for request bodies sent to the server. Strings are escaped minimally
// (", \ and control characters), the same rule as the canonical form.
//
// Usage: w.BeginObject(); w.Key("id"); w.Uint(1); w.EndObject(); w.str().
// The caller keeps the structure well formed; commas are placed here.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace syncmgr::cli {

class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);
  void String(std::string_view value);
  void Uint(uint64_t value);
  void Int(int64_t value);
  // Shortest round-trip form; REQUIRES: finite.
  void Double(double value);
  void Bool(bool value);
  void Null();
  // Inserts already valid JSON text as one value (stored canonical data).
  void Raw(std::string_view json);
  // Convenience for an array of strings.
  void StringArray(const std::vector<std::string>& values);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true once it holds a value.
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace syncmgr::cli
