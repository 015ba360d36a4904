#include "text_format.h"

#include <charconv>
#include <chrono>

namespace syncmgr::gen {
namespace {
constexpr int64_t kSecondsPerDay = 86400;
}  // namespace

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 bytes always hold a uint64_t.
  out.append(buf, end);
}

// `v` zero-padded to `width` digits (v must fit).
void AppendPadded(std::string& out, uint64_t v, int width) {
  char buf[24];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

// A fixed-point number: `scaled` / 10^decimals, always with all decimals.
void AppendFixed(std::string& out, int64_t scaled, int decimals) {
  uint64_t pow = 1;
  for (int i = 0; i < decimals; ++i) pow *= 10;
  if (scaled < 0) {
    out.push_back('-');
    scaled = -scaled;
  }
  uint64_t u = static_cast<uint64_t>(scaled);
  AppendUint(out, u / pow);
  out.push_back('.');
  AppendPadded(out, u % pow, decimals);
}

// A JSON string literal with minimal escaping.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// RFC 3339 UTC timestamp, second precision.
void AppendJsonTime(std::string& out, int64_t epoch_seconds) {
  using namespace std::chrono;
  int64_t days = epoch_seconds / kSecondsPerDay;
  int64_t secs = epoch_seconds % kSecondsPerDay;
  if (secs < 0) {
    secs += kSecondsPerDay;
    --days;
  }
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  out.push_back('"');
  AppendPadded(out, static_cast<uint64_t>(static_cast<int>(ymd.year())), 4);
  out.push_back('-');
  AppendPadded(out, static_cast<unsigned>(ymd.month()), 2);
  out.push_back('-');
  AppendPadded(out, static_cast<unsigned>(ymd.day()), 2);
  out.push_back('T');
  AppendPadded(out, static_cast<uint64_t>(secs / 3600), 2);
  out.push_back(':');
  AppendPadded(out, static_cast<uint64_t>(secs / 60 % 60), 2);
  out.push_back(':');
  AppendPadded(out, static_cast<uint64_t>(secs % 60), 2);
  out.append("Z\"");
}

std::string Asciify(std::string_view s, char space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z')
        out.push_back(static_cast<char>(c - 'A' + 'a'));
      else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        out.push_back(static_cast<char>(c));
      else if (c == ' ' && space != '\0' && !out.empty() && out.back() != space)
        out.push_back(space);
      continue;
    }
    if ((c & 0xe0) != 0xc0 || i + 1 >= s.size()) continue;  // only 2-byte sequences occur
    uint32_t cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3fu);
    switch (cp) {
      case 0xe4:
      case 0xc4:
        out.append("ae");
        break;  // ä Ä
      case 0xf6:
      case 0xd6:
        out.append("oe");
        break;  // ö Ö
      case 0xfc:
      case 0xdc:
        out.append("ue");
        break;  // ü Ü
      case 0xdf:
        out.append("ss");
        break;  // ß
      case 0xe6:
        out.append("ae");
        break;  // æ
      case 0xe0:
      case 0xe1:
      case 0xe2:
      case 0xe3:
      case 0xe5:
      case 0x105:
        out.push_back('a');
        break;
      case 0xe7:
      case 0x107:
      case 0x10d:
        out.push_back('c');
        break;
      case 0xe8:
      case 0xe9:
      case 0xea:
      case 0xeb:
      case 0xc9:
      case 0x119:
      case 0x11b:
        out.push_back('e');
        break;
      case 0xec:
      case 0xed:
      case 0xee:
      case 0xef:
        out.push_back('i');
        break;
      case 0x142:
        out.push_back('l');
        break;
      case 0xf1:
      case 0x144:
        out.push_back('n');
        break;
      case 0xf2:
      case 0xf3:
      case 0xf4:
      case 0xf5:
      case 0xf8:
      case 0xd8:
        out.push_back('o');
        break;
      case 0x159:
        out.push_back('r');
        break;
      case 0x15b:
      case 0x161:
        out.push_back('s');
        break;
      case 0xf9:
      case 0xfa:
      case 0xfb:
        out.push_back('u');
        break;
      case 0xfd:
        out.push_back('y');
        break;
      case 0x17e:
        out.push_back('z');
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace syncmgr::gen
