// PostgreSQL connection strings (the `dsn` of a postgres push target, and of
// any config that carries one): reading them as libpq does, and showing them
// without their password.
//
// Both use libpq's own parser (PQconninfoParse), so what is checked and what
// is hidden is exactly what libpq would connect with; nothing connects here.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace syncmgr::wire {

// Keyword → value of every keyword the DSN sets (key=value or URI form).
// InvalidArgument when libpq cannot read it; the message never quotes the
// DSN (it may hold a password).
StatusOr<std::map<std::string, std::string, std::less<>>> ParseDsn(const std::string& dsn);

// The DSN with every password shown as "***": "user:***@host" and
// "?password=***" in a URI, password='***' in the key=value form. The result
// is checked with ParseDsn: if libpq would still read a password other than
// "***" from it, or cannot read it at all, the whole DSN is "***".
std::string RedactDsn(std::string_view dsn);

}  // namespace syncmgr::wire
