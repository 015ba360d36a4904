// The cursor encodings (grammar in cursor.h).
#include "cluster/cursor.h"

#include <charconv>

#include <fmt/format.h>

namespace syncmgr::cluster {

namespace {

// Splits "tag a b" into its three space-separated fields.
bool Fields(std::string_view in, std::string_view tag, std::string_view* a, std::string_view* b) {
  if (in.substr(0, tag.size() + 1) != fmt::format("{} ", tag)) return false;
  in.remove_prefix(tag.size() + 1);
  const size_t space = in.find(' ');
  if (space == std::string_view::npos) return false;
  *a = in.substr(0, space);
  *b = in.substr(space + 1);
  return !a->empty() && !b->empty() && b->find(' ') == std::string_view::npos;
}

bool Number(std::string_view s, uint64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string EncodeTenantCursor(const TenantCursor& c) {
  return fmt::format("t1 {} {}", c.last_seq, c.last_counts ? 1 : 0);
}

StatusOr<TenantCursor> DecodeTenantCursor(std::string_view bytes) {
  if (bytes.empty()) return TenantCursor{};
  std::string_view seq, counts;
  TenantCursor c;
  if (!Fields(bytes, "t1", &seq, &counts) || !Number(seq, &c.last_seq) ||
      (counts != "0" && counts != "1")) {
    return Status::Corruption(fmt::format("a tenant's cluster cursor \"{}\" does not decode",
                                          bytes.substr(0, 64)));
  }
  c.last_counts = counts == "1";
  return c;
}

std::string EncodeNodeCursor(const NodeCursor& c) {
  return fmt::format("n1 {} {}", c.position, c.msg_id.empty() ? "-" : c.msg_id);
}

StatusOr<NodeCursor> DecodeNodeCursor(std::string_view bytes) {
  if (bytes.empty()) return NodeCursor{};
  std::string_view position, id;
  NodeCursor c;
  if (!Fields(bytes, "n1", &position, &id) || !Number(position, &c.position)) {
    return Status::Corruption(
        fmt::format("the node's cluster cursor \"{}\" does not decode", bytes.substr(0, 64)));
  }
  if (id != "-") c.msg_id = std::string(id);
  return c;
}

}  // namespace syncmgr::cluster
