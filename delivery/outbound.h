// Outbound safety (SPEC §4 "Push delivery"): a push destination that resolves
// to a loopback, private, link-local or cloud-metadata address is refused
// unless the server runs with --allow-private-push. Checked twice: when the
// target is created (every address the host resolves to) and when a
// connection is opened (the very address connected to, so a DNS answer that
// changes in between — DNS rebinding — cannot slip through).
//
// Refused ranges: IPv4 0/8, 10/8, 100.64/10 (carrier-grade NAT; holds
// 100.100.100.200, a cloud metadata address), 127/8, 169.254/16 (link-local;
// holds 169.254.169.254, the usual metadata address), 172.16/12, 192.0.0/24,
// 192.168/16, 198.18/15, 224/4 (multicast), 240/4 and broadcast; IPv6 ::,
// ::1, fc00::/7 (unique local; holds fd00:ec2::254), fe80::/10, ff00::/8,
// and IPv4-mapped / NAT64 (64:ff9b::/96) forms of the IPv4 ranges.
//
// Thread-safety: pure functions (ResolveAndCheckHost blocks on DNS).
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "engine/status.h"

namespace syncmgr::delivery {

// True if `addr` (AF_INET or AF_INET6) lies in a refused range; also true
// for any other address family.
bool IsPrivateAddress(const sockaddr* addr);

// The address as text ("10.0.0.1", "::1").
std::string AddressText(const sockaddr* addr);

// Resolves `host` (a name, an IPv4 literal, or an IPv6 literal with or
// without brackets) and refuses it with InvalidArgument if it does not
// resolve or if any of its addresses is private. `what` names the member in
// the message ("url").
Status CheckPublicHost(std::string_view host, std::string_view what);

}  // namespace syncmgr::delivery
