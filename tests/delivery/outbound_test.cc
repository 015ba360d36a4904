// The outbound-address guard (delivery/outbound.h) on its own: every
// refused range at its edges, the forms an address can hide in (IPv4-mapped,
// NAT64, bracketed, numeric shorthands getaddrinfo accepts), and the
// messages. Literals and "localhost" only: no test needs DNS (so a name
// that does not resolve is not tested here: its answer is the resolver's).
// Sinks refusing such targets are in tests/delivery/webhook_test.cc and
// ftp_test.cc.
#include "delivery/outbound.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <string>

namespace syncmgr::delivery {
namespace {

// IsPrivateAddress of a literal, through a sockaddr as a connection has it.
bool Private(const std::string& literal) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  if (inet_pton(AF_INET, literal.c_str(), &v4.sin_addr) == 1) {
    return IsPrivateAddress(reinterpret_cast<const sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, literal.c_str(), &v6.sin6_addr), 1) << literal;
  return IsPrivateAddress(reinterpret_cast<const sockaddr*>(&v6));
}

TEST(OutboundTest, RefusesEveryPrivateIpv4RangeAtItsEdges) {
  for (const char* a : {"0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255", "100.64.0.0",
                        "100.100.100.200", "100.127.255.255", "127.0.0.1", "127.255.255.254",
                        "169.254.0.0", "169.254.169.254", "169.254.255.255", "172.16.0.0",
                        "172.31.255.255", "192.0.0.0", "192.0.0.255", "192.168.0.1",
                        "192.168.255.255", "198.18.0.0", "198.19.255.255", "224.0.0.1",
                        "239.255.255.255", "240.0.0.0", "255.255.255.255"}) {
    EXPECT_TRUE(Private(a)) << a;
  }
}

TEST(OutboundTest, AllowsThePublicNeighboursOfEachRange) {
  for (const char* a : {"1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
                        "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0",
                        "172.15.255.255", "172.32.0.0", "192.0.1.0", "192.167.255.255",
                        "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255",
                        "8.8.8.8", "93.184.216.34"}) {
    EXPECT_FALSE(Private(a)) << a;
  }
}

TEST(OutboundTest, RefusesPrivateIpv6AndIpv4HiddenInIpv6) {
  for (const char* a : {"::", "::1", "fc00::1", "fd00:ec2::254", "fdff:ffff::1", "fe80::1",
                        "febf:ffff::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
                        "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.1.1",
                        "::127.0.0.1"}) {
    EXPECT_TRUE(Private(a)) << a;
  }
  for (const char* a : {"2001:4860:4860::8888", "2606:4700::1111", "fbff:ffff::1", "fec0::1",
                        "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    EXPECT_FALSE(Private(a)) << a;
  }
}

TEST(OutboundTest, RefusesAnyOtherAddressFamilyAndNull) {
  sockaddr_un unix_addr{};
  unix_addr.sun_family = AF_UNIX;
  EXPECT_TRUE(IsPrivateAddress(reinterpret_cast<const sockaddr*>(&unix_addr)));
  EXPECT_TRUE(IsPrivateAddress(nullptr));
  EXPECT_EQ(AddressText(reinterpret_cast<const sockaddr*>(&unix_addr)),
            "(unknown address family)");
}

TEST(OutboundTest, AddressTextPrintsBothFamilies) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "10.1.2.3", &v4.sin_addr), 1);
  EXPECT_EQ(AddressText(reinterpret_cast<const sockaddr*>(&v4)), "10.1.2.3");
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "fd00:ec2::254", &v6.sin6_addr), 1);
  EXPECT_EQ(AddressText(reinterpret_cast<const sockaddr*>(&v6)), "fd00:ec2::254");
}

TEST(OutboundTest, CheckPublicHostRefusesPrivateLiteralsNamingMemberAndAddress) {
  const Status s = CheckPublicHost("169.254.169.254", "url");
  ASSERT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("'url'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("resolves to 169.254.169.254"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--allow-private-push"), std::string::npos) << s.message();

  for (const char* host : {"10.0.0.1", "127.0.0.1", "0.0.0.0", "[::1]", "::1", "[fd00:ec2::254]",
                           "[::ffff:192.168.0.1]", "100.100.100.200"}) {
    EXPECT_EQ(CheckPublicHost(host, "url").code(), Code::kInvalidArgument) << host;
  }
}

TEST(OutboundTest, CheckPublicHostRefusesLocalhostByName) {
  // Resolved from /etc/hosts: the check applies to what a name resolves to.
  const Status s = CheckPublicHost("localhost", "host");
  ASSERT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("'host'"), std::string::npos) << s.message();
}

TEST(OutboundTest, CheckPublicHostRefusesNumericShorthandsForLoopback) {
  // getaddrinfo reads these as inet_aton does: each is 127.0.0.1.
  for (const char* host : {"2130706433", "0x7f000001", "127.1", "0177.0.0.1"}) {
    const Status s = CheckPublicHost(host, "url");
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << host << ": " << s.ToString();
    EXPECT_NE(s.message().find("127.0.0.1"), std::string::npos) << host << ": " << s.message();
  }
}

TEST(OutboundTest, CheckPublicHostAllowsPublicLiterals) {
  for (const char* host : {"8.8.8.8", "93.184.216.34", "[2001:4860:4860::8888]",
                           "2606:4700::1111"}) {
    const Status s = CheckPublicHost(host, "url");
    EXPECT_TRUE(s.ok()) << host << ": " << s.ToString();
  }
}

TEST(OutboundTest, CheckPublicHostRefusesAnEmptyHost) {
  for (const char* host : {"", "[]"}) {
    const Status s = CheckPublicHost(host, "url");
    ASSERT_EQ(s.code(), Code::kInvalidArgument) << "'" << host << "'";
    EXPECT_EQ(s.message(), "'url' has no host");
  }
}

}  // namespace
}  // namespace syncmgr::delivery
