#include "wire/dsn.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>

namespace syncmgr::wire {
namespace {

// A URI query key as libpq reads it: each %XX (two hex digits) decoded.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned byte = 0;
    const char* hex = s.data() + i + 1;
    if (s[i] == '%' && i + 2 < s.size() && std::from_chars(hex, hex + 2, byte, 16).ptr == hex + 2) {
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// postgresql://user:PASSWORD@host/db?password=PASSWORD -> "***" in both places.
std::string RedactUri(std::string_view uri) {
  size_t scheme_end = uri.find("://");
  std::string out(uri.substr(0, scheme_end + 3));
  std::string_view rest = uri.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out += userinfo.substr(0, colon);
      out += ":***";
    } else {
      out += userinfo;
    }
    out += authority.substr(at);
  } else {
    out += authority;
  }
  size_t q = tail.find('?');
  out += tail.substr(0, q);
  if (q != std::string_view::npos) {
    std::string_view query = tail.substr(q + 1);
    out += '?';
    bool first = true;
    while (true) {
      size_t amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      if (!first) out += '&';
      first = false;
      size_t eq = param.find('=');
      if (eq != std::string_view::npos && PercentDecode(param.substr(0, eq)) == "password") {
        out += param.substr(0, eq + 1);
        out += "***";
      } else {
        out += param;
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return out;
}

// key=value form: the value of every `password` keyword becomes '***'.
std::string RedactKeyValue(std::string_view dsn) {
  std::string out;
  size_t i = 0;
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (i < dsn.size()) {
    size_t start = i;
    while (i < dsn.size() && is_space(dsn[i])) ++i;
    out += dsn.substr(start, i - start);
    if (i >= dsn.size()) break;
    size_t key_start = i;
    while (i < dsn.size() && dsn[i] != '=' && !is_space(dsn[i])) ++i;
    std::string_view key = dsn.substr(key_start, i - key_start);
    out += key;
    start = i;
    while (i < dsn.size() && is_space(dsn[i])) ++i;
    if (i < dsn.size() && dsn[i] == '=') ++i;
    while (i < dsn.size() && is_space(dsn[i])) ++i;
    out += dsn.substr(start, i - start);
    // The value: quoted ('...' with \ escapes) or up to whitespace (with \ escapes).
    size_t value_start = i;
    if (i < dsn.size() && dsn[i] == '\'') {
      ++i;
      while (i < dsn.size() && dsn[i] != '\'') i += (dsn[i] == '\\') ? 2 : 1;
      i = std::min(i + 1, dsn.size());
    } else {
      while (i < dsn.size() && !is_space(dsn[i])) i += (dsn[i] == '\\') ? 2 : 1;
      i = std::min(i, dsn.size());
    }
    out += key == "password" ? std::string_view("'***'") : dsn.substr(value_start, i - value_start);
  }
  return out;
}

}  // namespace

StatusOr<std::map<std::string, std::string, std::less<>>> ParseDsn(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &err);
  if (options == nullptr) {
    // libpq's message may quote parts of the DSN (its password): not shown.
    if (err != nullptr) PQfreemem(err);
    return Status::InvalidArgument(
        "config 'dsn' is not a valid PostgreSQL connection string or URI");
  }
  std::map<std::string, std::string, std::less<>> params;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && o->val[0] != '\0') params[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return params;
}

std::string RedactDsn(std::string_view dsn) {
  const bool uri = dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0;
  std::string redacted = uri ? RedactUri(dsn) : RedactKeyValue(dsn);
  // Belt and braces: whatever the scanner missed, libpq must see no password
  // but "***" in what is shown; otherwise show nothing of the DSN.
  StatusOr<std::map<std::string, std::string, std::less<>>> params = ParseDsn(redacted);
  if (!params.ok()) return "***";
  auto it = params->find("password");
  if (it != params->end() && it->second != "***") return "***";
  return redacted;
}

}  // namespace syncmgr::wire
