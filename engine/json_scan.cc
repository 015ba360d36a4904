#include "engine/json_scan.h"

#include <charconv>

namespace syncmgr::json_scan {

std::string DecodeEscapes(std::string_view raw) {
  std::string s;
  s.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      s.push_back(raw[i]);
      continue;
    }
    const char e = raw[++i];
    if (e == 'u') {
      unsigned cp = 0;
      if (i + 4 < raw.size()) std::from_chars(raw.data() + i + 1, raw.data() + i + 5, cp, 16);
      i += 4;
      s.push_back(static_cast<char>(cp));
      continue;
    }
    const size_t k = std::string_view("bfnrt").find(e);
    s.push_back(k == std::string_view::npos ? e : "\b\f\n\r\t"[k]);  // else '"', '\\', '/'
  }
  return s;
}

}  // namespace syncmgr::json_scan
