// A GoogleTest fixture with a fresh 3-server JetStream cluster per test
// (tests/support/nats_cluster.h) and helpers with bounded waits.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/connection.h"
#include "tests/support/nats_cluster.h"

namespace syncmgr::cluster {

using namespace std::chrono_literals;

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::NatsCluster::BinaryPresent())
        << "nats-server is missing: run scripts/bootstrap.sh";
    ASSERT_TRUE(nats_.Start()) << nats_.error();
    conn_ = Connect();
    ASSERT_NE(conn_, nullptr);
  }

  // A connection to `servers` (default: all of them).
  std::unique_ptr<Connection> Connect(std::vector<std::string> servers = {},
                                      Millis publish_timeout = Millis(10000)) {
    ConnectOptions o;
    o.servers = servers.empty() ? nats_.ClientUrls() : std::move(servers);
    o.publish_timeout = publish_timeout;
    auto conn = Connection::Connect(o);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(*conn) : nullptr;
  }

  // Calls `fn` every 100 ms until it returns true or `timeout` passes.
  static bool Eventually(const std::function<bool()>& fn, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (fn()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(100ms);
    }
  }

  // Publishes with the same options (so the same msg_id) until it is
  // acknowledged or refused, for at most `timeout`: a leader election may
  // leave a stream without leader for a few seconds.
  static StatusOr<PublishAck> PublishEventually(Connection& conn, const std::string& subject,
                                                std::string_view payload,
                                                const PublishOptions& opts,
                                                std::chrono::seconds timeout = 90s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      StatusOr<PublishAck> ack = conn.Publish(subject, payload, opts);
      if (ack.ok() || ack.status().code() != Code::kUnavailable ||
          std::chrono::steady_clock::now() >= deadline) {
        return ack;
      }
    }
  }

  // The tail of every server's log, for failure messages.
  std::string Logs() {
    std::string out;
    for (int i = 0; i < nats_.size(); ++i) {
      out += "\n--- " + nats_.ServerName(i) + " ---\n" + nats_.LogTail(i, 3000);
    }
    return out;
  }

  testing::NatsCluster nats_;
  std::unique_ptr<Connection> conn_;  // to every server
};

}  // namespace syncmgr::cluster
