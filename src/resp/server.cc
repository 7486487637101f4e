// KvServer: the acceptor, the per-thread io_contexts, and the connection coroutine (read -> parse every
// complete command -> dispatch -> wait for durability when the mode asks -> one write).

#include "resp/server.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace ember::resp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

namespace {

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 64 * 1024;     // the input buffer's starting (and usual) size
constexpr size_t kFlushBytes = 256 * 1024;   // replies pending beyond this are written before parsing on
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);

std::string endpointText(const tcp::endpoint& e) {
  std::string a = e.address().to_string();
  if (e.address().is_v6()) {
    a = "[" + a + "]";
  }
  return a + ":" + std::to_string(e.port());
}

}  // namespace

// One client connection. Lives on one io_context; only its own coroutine touches `session` and the socket.
// `view` is the copy CLIENT LIST reads from other threads, refreshed after every batch under viewMu.
struct Conn {
  explicit Conn(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  Session session;
  std::mutex viewMu;
  ServerState::ClientView view;
};

struct KvServer::Impl {
  Impl(KvServerOptions o, kv::Engine& e) : options(std::move(o)), engine(e) {
    state.options = &options;
    state.engine = &engine;
    state.startedUnixMs = nowUnixMs();
    state.serverImpl = this;
    state.listClients = &Impl::listClients;
    state.killClient = &Impl::killClient;
    state.runExclusive = &Impl::runExclusive;
    switch (engine.options().durability) {
      case kv::Durability::kNone: state.durabilityName = "none"; break;
      case kv::Durability::kBatch: state.durabilityName = "batch"; break;
      case kv::Durability::kSync: state.durabilityName = "sync"; break;
    }
    state.dataDir = engine.options().dir;
    // Default: one event loop per core but one. The spare core runs the engine's flusher and compaction
    // threads and the kernel's share of the network stack; on a 2-core machine with the clients on the
    // same host, a second loop only preempts the first (measured: 2 loops were up to 3x slower on 64 KiB
    // SETs than 1, docs/benchmarks.md).
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    unsigned n = options.threads ? options.threads : std::max(1u, hw - 1);
    for (unsigned i = 0; i < n; ++i) {
      loopMus.push_back(std::make_unique<std::mutex>());
      contexts.push_back(std::make_unique<asio::io_context>(1));
      guards.emplace_back(contexts.back()->get_executor());
    }
    acceptor.emplace(*contexts[0]);
  }

  static std::vector<ServerState::ClientView> listClients(const ServerState& st);
  static bool killClient(const ServerState& st, uint64_t id);
  static void runExclusive(const ServerState& st, const Session& caller, const std::function<void()>& fn);
  static asio::awaitable<void> acceptLoop(std::shared_ptr<Impl> self);
  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c);

  KvServerOptions options;
  kv::Engine& engine;
  ServerState state;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  // One per loop, held by that loop's thread while it runs a batch of commands (released around every
  // co_await); EXEC takes all of them, in index order under execMu, to run a transaction in isolation.
  // Uncontended unless an EXEC runs: a thread-private lock/unlock per batch.
  std::vector<std::unique_ptr<std::mutex>> loopMus;
  std::mutex execMu;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::optional<tcp::acceptor> acceptor;  // on contexts[0]
  std::atomic<uint16_t> port{0};
  std::atomic<size_t> active{0};
  std::atomic<bool> stopping{false};
  size_t nextContext = 0;                 // acceptor's thread only
  std::mutex registryMu;
  std::unordered_map<uint64_t, std::weak_ptr<Conn>> registry;
};

std::vector<ServerState::ClientView> KvServer::Impl::listClients(const ServerState& st) {
  auto* self = static_cast<Impl*>(st.serverImpl);
  std::vector<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lock(self->registryMu);
    conns.reserve(self->registry.size());
    for (auto& [id, weak] : self->registry) {
      if (auto c = weak.lock()) {
        conns.push_back(std::move(c));
      }
    }
  }
  std::vector<ServerState::ClientView> out;
  out.reserve(conns.size());
  for (auto& c : conns) {
    std::lock_guard lock(c->viewMu);
    out.push_back(c->view);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

bool KvServer::Impl::killClient(const ServerState& st, uint64_t id) {
  auto* self = static_cast<Impl*>(st.serverImpl);
  std::shared_ptr<Conn> c;
  {
    std::lock_guard lock(self->registryMu);
    auto it = self->registry.find(id);
    if (it != self->registry.end()) {
      c = it->second.lock();
    }
  }
  if (!c) {
    return false;
  }
  asio::post(c->socket.get_executor(), [c] {
    ErrorCode ec;
    c->socket.shutdown(tcp::socket::shutdown_both, ec);
    c->socket.close(ec);
  });
  return true;
}

void KvServer::Impl::runExclusive(const ServerState& st, const Session& caller,
                                  const std::function<void()>& fn) {
  auto* self = static_cast<Impl*>(st.serverImpl);
  std::mutex& own = *self->loopMus[caller.loop];
  own.unlock();  // held by the caller's batch; re-taken below in order with the others
  {
    std::lock_guard exec(self->execMu);
    for (auto& m : self->loopMus) {
      m->lock();
    }
    fn();
    for (auto it = self->loopMus.rbegin(); it != self->loopMus.rend(); ++it) {
      (*it)->unlock();
    }
  }
  own.lock();
}

namespace {

// Resumes the calling coroutine on its own executor once the engine reports `ws` durable.
asio::awaitable<void> awaitDurable(kv::Engine& engine, const kv::WriteSet& ws) {
  auto ex = co_await asio::this_coro::executor;
  auto initiate = [&engine, &ws, ex](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    engine.whenDurable(ws, [h, ex]() { asio::post(ex, [h]() { (*h)(); }); });
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(initiate, asio::use_awaitable);
}

}  // namespace

asio::awaitable<void> KvServer::Impl::serve(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c) {
  ServerState& st = self->state;
  Session& session = c->session;
  const bool syncMode = self->engine.options().durability == kv::Durability::kSync;
  const size_t maxBuffer = self->options.limits.maxCommandBytes + kReadChunk;

  RequestParser parser(self->options.limits);
  std::string in(kReadChunk, '\0');
  size_t begin = 0;
  size_t end = 0;
  std::string out;
  out.reserve(16 * 1024);
  ReplyWriter writer(out, 2);
  kv::WriteSet writes;
  Context ctx{st, self->engine, session, writer, writes};
  bool open = true;
  std::unique_lock loopLock(*self->loopMus[session.loop], std::defer_lock);

  // Writes the pending replies, after the writes they acknowledge are durable (kSync).
  auto flush = [&]() -> asio::awaitable<bool> {
    if (syncMode && !writes.empty()) {
      co_await awaitDurable(self->engine, writes);
    }
    writes.clear();
    if (out.empty()) {
      co_return true;
    }
    auto [ec, n] = co_await asio::async_write(c->socket, asio::buffer(out), kUse);
    st.netOutputBytes.fetch_add(n, std::memory_order_relaxed);
    if (out.capacity() > 4 * kFlushBytes) {
      std::string().swap(out);  // give back what a burst of large replies grew
      out.reserve(16 * 1024);
    } else {
      out.clear();
    }
    co_return !ec;
  };

  while (open) {
    if (end == in.size()) {
      if (begin > 0) {
        std::memmove(in.data(), in.data() + begin, end - begin);
        end -= begin;
        begin = 0;
      }
      if (end == in.size()) {
        // One command larger than the buffer: double it, so memory follows the bytes that actually
        // arrived (a client announcing a huge bulk and sending nothing gets no allocation), up to
        // what the parser says the command needs; the parser refuses commands over maxCommandBytes.
        size_t want = in.size() * 2;
        if (parser.needed() > in.size()) {
          want = std::min(want, parser.needed() + kReadChunk);
        }
        in.resize(std::min(want, maxBuffer));
        if (end == in.size()) {
          writer.error("ERR Protocol error: command exceeds the query buffer limit");
          st.protocolErrors.fetch_add(1, std::memory_order_relaxed);
          co_await flush();
          break;
        }
      }
    } else if (begin == end) {
      begin = end = 0;
      if (in.size() > 4 * kReadChunk) {
        std::string(kReadChunk, '\0').swap(in);  // shrink after a large command
      }
    }
    auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(in.data() + end, in.size() - end),
                                                      kUse);
    if (ec) {
      break;
    }
    end += n;
    st.netInputBytes.fetch_add(n, std::memory_order_relaxed);
    loopLock.lock();  // released before every co_await below

    while (begin < end) {
      RequestParser::State ps = parser.parse(std::string_view(in.data() + begin, end - begin));
      if (ps == RequestParser::State::kIncomplete) {
        break;
      }
      if (ps == RequestParser::State::kError) {
        writer.error(parser.error());
        st.protocolErrors.fetch_add(1, std::memory_order_relaxed);
        open = false;
        break;
      }
      std::span<const std::string_view> args = parser.args();
      size_t used = parser.consumed();
      if (!args.empty()) {
        dispatch(ctx, args);
      }
      begin += used;
      if (session.closeAfterReply) {
        open = false;
        break;
      }
      if (out.size() >= kFlushBytes) {
        loopLock.unlock();
        bool flushed = co_await flush();
        loopLock.lock();
        if (!flushed) {
          open = false;
          break;
        }
      }
    }
    loopLock.unlock();
    bool flushed = co_await flush();
    if (!flushed) {
      break;
    }
    if (session.commands) {
      st.totalCommands.fetch_add(session.commands, std::memory_order_relaxed);
      session.commands = 0;
    }
    if (session.hits) {
      st.keyspaceHits.fetch_add(session.hits, std::memory_order_relaxed);
      session.hits = 0;
    }
    if (session.misses) {
      st.keyspaceMisses.fetch_add(session.misses, std::memory_order_relaxed);
      session.misses = 0;
    }
    {
      std::lock_guard lock(c->viewMu);
      ServerState::ClientView& v = c->view;
      v.name = session.name;
      v.user = session.user;
      v.proto = session.proto;
      v.lastCommand = session.lastCommand;
      v.lastCommandUnixMs = session.lastCommandUnixMs;
    }
  }
  ErrorCode ignored;
  c->socket.shutdown(tcp::socket::shutdown_both, ignored);
  c->socket.close(ignored);
  {
    std::lock_guard lock(self->registryMu);
    self->registry.erase(session.id);
  }
  st.connectedClients.fetch_sub(1, std::memory_order_relaxed);
  self->active.fetch_sub(1, std::memory_order_acq_rel);
}

asio::awaitable<void> KvServer::Impl::acceptLoop(std::shared_ptr<Impl> self) {
  ServerState& st = self->state;
  for (;;) {
    size_t targetIndex = self->nextContext;
    asio::io_context& target = *self->contexts[targetIndex];
    self->nextContext = (self->nextContext + 1) % self->contexts.size();
    auto [ec, socket] = co_await self->acceptor->async_accept(target, kUse);
    if (self->stopping.load(std::memory_order_acquire) || !self->acceptor->is_open()) {
      break;
    }
    if (ec) {
      spdlog::warn("kv: accept failed: {}", ec.message());
      asio::steady_timer backoff(self->acceptor->get_executor());
      backoff.expires_after(kAcceptBackoff);
      co_await backoff.async_wait(kUse);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    st.totalConnections.fetch_add(1, std::memory_order_relaxed);
    if (self->active.load(std::memory_order_acquire) >= self->options.maxClients) {
      static constexpr std::string_view kFull = "-ERR max number of clients reached\r\n";
      st.rejectedConnections.fetch_add(1, std::memory_order_relaxed);
      socket.non_blocking(true, ec);
      socket.write_some(asio::buffer(kFull.data(), kFull.size()), ec);
      socket.close(ec);
      continue;
    }
    auto c = std::make_shared<Conn>(std::move(socket));
    Session& s = c->session;
    s.loop = static_cast<unsigned>(targetIndex);
    s.id = st.nextClientId.fetch_add(1, std::memory_order_relaxed);
    s.authenticated = self->options.users.empty();
    s.createdUnixMs = nowUnixMs();
    s.lastCommandUnixMs = s.createdUnixMs;
    s.addr = endpointText(c->socket.remote_endpoint(ec));
    s.laddr = endpointText(c->socket.local_endpoint(ec));
    c->view = ServerState::ClientView{s.id, s.addr, s.laddr, "", s.user, s.createdUnixMs,
                                      s.createdUnixMs, 2, ""};
    {
      // Registered under the same lock stop() takes to set `stopping` and list the connections, so a
      // connection is either seen (and closed) by stop() or never started.
      std::lock_guard lock(self->registryMu);
      if (self->stopping.load(std::memory_order_acquire)) {
        c->socket.close(ec);
        break;
      }
      self->registry.emplace(s.id, c);
      self->active.fetch_add(1, std::memory_order_acq_rel);
    }
    st.connectedClients.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(target, serve(self, c), [](std::exception_ptr e) {
      if (!e) {
        return;
      }
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("kv: connection failed: {}", ex.what());
      }
    });
  }
}

KvServer::KvServer(KvServerOptions options, kv::Engine& engine)
    : impl_(std::make_shared<Impl>(std::move(options), engine)) {}

KvServer::~KvServer() {
  stop(std::chrono::milliseconds(0));
  join();
}

Status KvServer::start() {
  Impl& impl = *impl_;
  const KvServerOptions& o = impl.options;
  ErrorCode ec;
  asio::ip::address address = asio::ip::make_address(o.address, ec);
  if (ec) {
    return Status(Code::kIOError, "invalid kv listen address '" + o.address + "': " + ec.message());
  }
  tcp::endpoint endpoint(address, o.port);
  auto failed = [&](const char* step) {
    ErrorCode ignored;
    impl.acceptor->close(ignored);
    return Status(Code::kIOError, std::string(step) + " " + o.address + ":" + std::to_string(o.port) +
                                      ": " + ec.message());
  };
  impl.acceptor->open(endpoint.protocol(), ec);
  if (ec) {
    return failed("open");
  }
  impl.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  impl.acceptor->bind(endpoint, ec);
  if (ec) {
    return failed("bind");
  }
  impl.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return failed("listen on");
  }
  impl.port = impl.acceptor->local_endpoint(ec).port();
  impl.state.port = impl.port.load();
  asio::co_spawn(*impl.contexts[0], Impl::acceptLoop(impl_), [](std::exception_ptr e) {
    if (e) {
      spdlog::error("kv: accept loop ended with an exception");
    }
  });
  for (auto& ctx : impl.contexts) {
    asio::io_context* p = ctx.get();
    impl.threads.emplace_back([p] { p->run(); });
  }
  return Status();
}

uint16_t KvServer::port() const { return impl_->port.load(); }

size_t KvServer::activeConnections() const { return impl_->active.load(std::memory_order_acquire); }

ServerState& KvServer::state() { return impl_->state; }

void KvServer::stop(std::chrono::milliseconds /*grace*/) {
  std::shared_ptr<Impl> impl = impl_;
  std::vector<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lock(impl->registryMu);  // see acceptLoop: no connection registers after this
    if (impl->stopping.exchange(true)) {
      return;
    }
    for (auto& [id, weak] : impl->registry) {
      if (auto c = weak.lock()) {
        conns.push_back(std::move(c));
      }
    }
  }
  if (impl->threads.empty()) {
    return;  // never started
  }
  // Connections between batches are blocked in a read: closing their sockets ends them. One inside a batch
  // finishes the batch first (its handlers never block), so a batch is never cut in half.
  asio::post(*impl->contexts[0], [impl] {
    ErrorCode ec;
    impl->acceptor->close(ec);
  });
  for (auto& c : conns) {
    asio::post(c->socket.get_executor(), [c] {
      ErrorCode ec;
      c->socket.shutdown(tcp::socket::shutdown_receive, ec);
      c->socket.cancel(ec);
    });
  }
}

void KvServer::join() {
  Impl& impl = *impl_;
  for (auto& g : impl.guards) {
    g.reset();
  }
  // Connections end by themselves once stop() cancelled their reads; the contexts then run out of work.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl.active.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& ctx : impl.contexts) {
    ctx->stop();
  }
  for (auto& t : impl.threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  impl.threads.clear();
}

}  // namespace ember::resp
