// Server: the listener. Binds, accepts on its own strand, enforces maxConnections, and runs the
// graceful stop (close the listener, stop idle connections now, force the rest after the grace).

#include <exception>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "http/connection.h"
#include "http/http.h"

namespace ember::http {

using detail::ErrorCode;
using detail::Executor;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);

// Over maxConnections: answer 503 if the socket takes it right away, then close. Never blocks.
void reject(detail::Socket& socket) {
  static constexpr std::string_view k503 =
      "HTTP/1.1 503 Service Unavailable\r\nServer: Ember\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n";
  ErrorCode ec;
  socket.non_blocking(true, ec);
  if (!ec) {
    socket.write_some(asio::buffer(k503.data(), k503.size()), ec);
  }
  socket.shutdown(asio::socket_base::shutdown_both, ec);
  socket.close(ec);
}

void logSpawnFailure(const char* what, std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("http: {} failed: {}", what, ex.what());
  } catch (...) {
    spdlog::error("http: {} failed with a non-standard exception", what);
  }
}

}  // namespace

struct Server::Impl {
  Impl(asio::io_context& ctx, ServerOptions options, Handler handler)
      : ioc(ctx),
        core(std::make_shared<detail::ServerCore>(std::move(options), std::move(handler))),
        acceptor(asio::make_strand(ctx)),
        graceTimer(acceptor.get_executor()) {}

  static asio::awaitable<void> acceptLoop(std::shared_ptr<Impl> self);

  asio::io_context& ioc;
  std::shared_ptr<detail::ServerCore> core;
  asio::basic_socket_acceptor<tcp, Executor> acceptor;  // used on its strand once started
  detail::Timer graceTimer;                             // on the acceptor's strand
  std::atomic<uint16_t> port{0};
  bool started = false;
};

asio::awaitable<void> Server::Impl::acceptLoop(std::shared_ptr<Impl> self) {
  detail::ServerCore& core = *self->core;
  const ServerOptions& o = core.options;
  for (;;) {
    auto [ec, socket] = co_await self->acceptor.async_accept(asio::make_strand(self->ioc), kUse);
    if (core.stopping.load(std::memory_order_acquire) || !self->acceptor.is_open()) {
      if (!ec) {
        reject(socket);
      }
      break;
    }
    if (ec) {
      // EMFILE, ENOBUFS, ...: back off instead of spinning on a persistent error.
      spdlog::warn("http[{}] accept failed: {}", o.name, ec.message());
      detail::Timer backoff(self->acceptor.get_executor());
      backoff.expires_after(kAcceptBackoff);
      co_await backoff.async_wait(kUse);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    // Only this strand increments `active`, so checking then incrementing cannot overshoot.
    if (core.active.load(std::memory_order_acquire) >= o.maxConnections) {
      spdlog::debug("http[{}] connection limit {} reached, rejecting", o.name, o.maxConnections);
      reject(socket);
      continue;
    }
    core.active.fetch_add(1, std::memory_order_acq_rel);
    detail::serveConnection(self->core, std::move(socket));
  }
}

Server::Server(asio::io_context& ioc, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), std::move(handler))) {}

Server::~Server() { stop(std::chrono::milliseconds(0)); }

Status Server::start() {
  Impl& impl = *impl_;
  const ServerOptions& o = impl.core->options;
  if (impl.started) {
    return Status(Code::kInvalidArgument, "server already started");
  }
  ErrorCode ec;
  asio::ip::address address = asio::ip::make_address(o.address, ec);
  if (ec) {
    return Status(Code::kIOError, "invalid listen address '" + o.address + "': " + ec.message());
  }
  tcp::endpoint endpoint(address, o.port);
  auto failed = [&](const char* step) {
    ErrorCode ignored;
    impl.acceptor.close(ignored);
    return Status(Code::kIOError, std::string(step) + " " + o.address + ":" +
                                      std::to_string(o.port) + ": " + ec.message());
  };
  impl.acceptor.open(endpoint.protocol(), ec);
  if (ec) {
    return failed("open");
  }
  impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) {
    return failed("setsockopt SO_REUSEADDR on");
  }
  impl.acceptor.bind(endpoint, ec);
  if (ec) {
    return failed("bind");
  }
  impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return failed("listen on");
  }
  impl.port = impl.acceptor.local_endpoint(ec).port();
  impl.started = true;
  spdlog::info("http[{}] listening on {}:{}", o.name, o.address, impl.port.load());
  asio::co_spawn(impl.acceptor.get_executor(), Impl::acceptLoop(impl_),
                 [](std::exception_ptr e) { logSpawnFailure("accept loop", e); });
  return Status();
}

uint16_t Server::port() const { return impl_->port.load(); }

size_t Server::activeConnections() const {
  return impl_->core->active.load(std::memory_order_acquire);
}

void Server::stop(std::chrono::milliseconds grace) {
  std::shared_ptr<Impl> impl = impl_;
  impl->core->stopping.store(true, std::memory_order_release);
  // The acceptor and the grace timer are only touched on their strand.
  asio::post(impl->acceptor.get_executor(), [impl, grace] {
    ErrorCode ec;
    impl->acceptor.close(ec);
    detail::stopConnections(*impl->core, false);
    impl->graceTimer.expires_after(grace);
    impl->graceTimer.async_wait([impl](const ErrorCode& wec) {
      if (!wec) {
        detail::stopConnections(*impl->core, true);
      }
    });
  });
}

}  // namespace ember::http
