// Listener: accepts connections and starts a Session on its own strand for
// each (Beast "advanced server"). Past max_connections a connection gets a
// short-lived rejecting session (503, close); past twice that it is closed
// at once. Accept errors (e.g. out of file descriptors) pause accepting
// briefly instead of spinning.
//
// Thread-safety: Start and Stop may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>

#include "engine/status.h"

namespace syncmgr::server {

struct ServerState;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, ServerState& state);

  // Opens, binds and listens. Unavailable if the address cannot be bound.
  Status Open(const boost::asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const { return port_; }
  void Start();
  // Closes the acceptor: no new connections.
  void Stop();

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  ServerState& state_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  uint16_t port_ = 0;
};

}  // namespace syncmgr::server
