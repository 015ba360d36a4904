#include "server/listener.h"

#include <boost/asio/dispatch.hpp>

#include "server/request_log.h"
#include "server/server_state.h"
#include "server/session.h"

namespace syncmgr::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
// Pause after a failed accept (EMFILE, ENFILE, ENOBUFS) before trying again.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
}  // namespace

Listener::Listener(net::io_context& ioc, ServerState& state)
    : ioc_(ioc),
      state_(state),
      strand_(net::make_strand(ioc)),
      acceptor_(strand_),
      retry_timer_(strand_) {}

Status Listener::Open(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                               std::to_string(endpoint.port()) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void Listener::Start() {
  net::dispatch(strand_, [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Stop() {
  net::dispatch(strand_, [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);  // closing twice is harmless
    self->retry_timer_.cancel();
  });
}

void Listener::DoAccept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand.
  acceptor_.async_accept(net::make_strand(ioc_),
                         [self = shared_from_this()](boost::system::error_code ec, tcp::socket s) {
                           self->OnAccept(ec, std::move(s));
                         });
}

void Listener::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    LogServerError("accept failed: " + ec.message());
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->DoAccept();
    });
    return;
  }
  const uint32_t max = state_.options.max_connections;
  if (state_.stopping.load()) {
    boost::system::error_code ignored;
    socket.close(ignored);
  } else if (state_.metrics.open_connections() < static_cast<int64_t>(max)) {
    std::make_shared<Session>(std::move(socket), state_, /*reject=*/false)->Start();
  } else {
    state_.metrics.ConnectionRejected();
    if (state_.rejecting.load() < max) {
      std::make_shared<Session>(std::move(socket), state_, /*reject=*/true)->Start();
    } else {
      boost::system::error_code ignored;
      socket.close(ignored);  // flooded: no answer at all
    }
  }
  DoAccept();
}

}  // namespace syncmgr::server
