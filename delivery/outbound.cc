#include "delivery/outbound.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>

namespace syncmgr::delivery {

namespace {

struct V4Range {
  uint32_t base;
  int prefix;
};

constexpr V4Range kPrivateV4[] = {
    {0x00000000, 8},   // 0.0.0.0/8 "this network"
    {0x0A000000, 8},   // 10/8
    {0x64400000, 10},  // 100.64/10 carrier-grade NAT (100.100.100.200 metadata)
    {0x7F000000, 8},   // 127/8 loopback
    {0xA9FE0000, 16},  // 169.254/16 link-local (169.254.169.254 metadata)
    {0xAC100000, 12},  // 172.16/12
    {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
    {0xC0A80000, 16},  // 192.168/16
    {0xC6120000, 15},  // 198.18/15 benchmarking
    {0xE0000000, 4},   // 224/4 multicast
    {0xF0000000, 4},   // 240/4 reserved, and 255.255.255.255
};

bool IsPrivateV4(uint32_t host_order) {
  for (const V4Range& r : kPrivateV4) {
    const uint32_t mask = r.prefix == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix);
    if ((host_order & mask) == r.base) return true;
  }
  return false;
}

uint32_t V4At(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

bool IsPrivateV6(const in6_addr& a) {
  const uint8_t* b = a.s6_addr;
  static constexpr uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  if ((b[0] & 0xFE) == 0xFC) return true;                                          // fc00::/7
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;                          // fe80::/10
  if (b[0] == 0xFF) return true;                                                   // ff00::/8
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(b, kMapped, 12) == 0) return IsPrivateV4(V4At(b + 12));  // ::ffff:a.b.c.d
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64, 12) == 0) return IsPrivateV4(V4At(b + 12));  // 64:ff9b::/96
  if (std::memcmp(b, kZero, 12) == 0) return true;  // IPv4-compatible (deprecated) ::a.b.c.d
  return false;
}

}  // namespace

bool IsPrivateAddress(const sockaddr* addr) {
  if (addr == nullptr) return true;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return IsPrivateV4(ntohl(in->sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6) {
    return IsPrivateV6(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr);
  }
  return true;
}

std::string AddressText(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr != nullptr && addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof buf);
  } else if (addr != nullptr && addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof buf);
  } else {
    return "(unknown address family)";
  }
  return buf;
}

Status CheckPublicHost(std::string_view host, std::string_view what) {
  std::string name(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty()) return Status::InvalidArgument("'" + std::string(what) + "' has no host");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(raw, &::freeaddrinfo);
  if (rc != 0 || raw == nullptr) {
    return Status::InvalidArgument("the host of '" + std::string(what) + "' (" + name +
                                   ") does not resolve: " + gai_strerror(rc));
  }
  for (const addrinfo* ai = raw; ai != nullptr; ai = ai->ai_next) {
    if (IsPrivateAddress(ai->ai_addr)) {
      return Status::InvalidArgument(
          "the host of '" + std::string(what) + "' (" + name + ") resolves to " +
          AddressText(ai->ai_addr) +
          ", a loopback, private, link-local or metadata address: refused (outbound safety; "
          "the server's --allow-private-push allows it)");
    }
  }
  return Status::Ok();
}

}  // namespace syncmgr::delivery
