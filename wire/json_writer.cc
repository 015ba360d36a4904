#include "wire/json_writer.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include "wire/time_format.h"

namespace syncmgr::wire {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// The two-character escape of `c` (\n, \", ...), or "" when it has none
// (then it is written as \u00XX).
std::string_view ShortEscape(unsigned char c) {
  static constexpr std::array<std::pair<char, std::string_view>, 7> kEscapes{{
      {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\r', "\\r"},
      {'\t', "\\t"}, {'\b', "\\b"}, {'\f', "\\f"},
  }};
  for (const auto& [ch, escape] : kEscapes) {
    if (static_cast<unsigned char>(ch) == c) return escape;
  }
  return {};
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run_start = 0;  // start of the bytes copied as they are
  size_t i = 0;
  const auto flush = [&](size_t end) { out->append(s.data() + run_start, end - run_start); };
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n != 0) {
        i += n;
        continue;
      }
      flush(i);
      out->append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not UTF-8
      run_start = ++i;
      continue;
    }
    flush(i);
    if (const std::string_view escape = ShortEscape(c); !escape.empty()) {
      out->append(escape);
    } else {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
    run_start = ++i;
  }
  flush(i);
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (need_comma_) out_->push_back(',');
  need_comma_ = true;
}

JsonWriter& JsonWriter::Open(char bracket) {
  BeforeValue();
  out_->push_back(bracket);
  need_comma_ = false;  // the first member or element follows without a comma
  return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
  out_->push_back(bracket);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginObject() { return Open('{'); }
JsonWriter& JsonWriter::EndObject() { return Close('}'); }
JsonWriter& JsonWriter::BeginArray() { return Open('['); }
JsonWriter& JsonWriter::EndArray() { return Close(']'); }

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(out_, key);
  out_->push_back(':');
  need_comma_ = false;  // the member's value follows without a comma
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
  return *this;
}

template <typename T>
JsonWriter& JsonWriter::Integer(T value) {
  char buf[24];  // any 64-bit integer
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return Raw(std::string_view(buf, end - buf));
}

JsonWriter& JsonWriter::Uint(uint64_t value) { return Integer(value); }
JsonWriter& JsonWriter::Int(int64_t value) { return Integer(value); }

JsonWriter& JsonWriter::Double(double value) {
  if (!std::isfinite(value)) return Null();
  BeforeValue();
  fmt::format_to(std::back_inserter(*out_), "{}", value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) { return Raw(value ? "true" : "false"); }

JsonWriter& JsonWriter::Null() { return Raw("null"); }

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
  return *this;
}

JsonWriter& JsonWriter::Time(int64_t unix_micros) {
  return String(FormatRfc3339(unix_micros));  // digits, '-', ':', '.', 'T', 'Z': no escapes
}

JsonWriter& JsonWriter::StringArray(const std::vector<std::string>& values) {
  BeginArray();
  for (const std::string& value : values) String(value);
  return EndArray();
}

JsonWriter& JsonWriter::StringOrNull(std::string_view value) {
  return value.empty() ? Null() : String(value);
}

JsonWriter& JsonWriter::TimeOrNull(int64_t unix_micros) {
  return unix_micros == 0 ? Null() : Time(unix_micros);
}

JsonWriter& JsonWriter::RawOrNull(const std::optional<std::string>& json) {
  return json ? Raw(*json) : Null();
}

JsonWriter& JsonWriter::StringArrayOrNull(const std::optional<std::vector<std::string>>& values) {
  return values ? StringArray(*values) : Null();
}

}  // namespace syncmgr::wire
