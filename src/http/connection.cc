// The per-connection coroutine: head reading, handler dispatch, post-handler cleanup, timeouts and
// closing. The body reader and the response writer live in request_body.cc / response_writer.cc.

#include "http/connection.h"

#include <algorithm>
#include <exception>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/response_head.h"

namespace ember::http::detail {

namespace {

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr size_t kInitialReadBuffer = 8 * 1024;
constexpr uint64_t kDrainLimit = 64 * 1024;
// Lingering close (after an error reply or an unread body): keep reading for a moment so that the
// client's unread upload does not turn our FIN into an RST that destroys the reply in flight.
constexpr auto kLingerTime = std::chrono::milliseconds(1000);
constexpr size_t kLingerBytes = 1 << 20;

std::string formatEndpoint(const asio::ip::tcp::endpoint& ep) {
  if (ep.address().is_v6()) {
    return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  }
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// Request ids: splitmix64's finalizer is a bijection on 64-bit values, so mixing a per-process
// random seed plus a counter gives ids that are unique within the process (until 2^64 requests)
// and unpredictable across restarts.
const uint64_t gRequestSeed = [] {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}();
std::atomic<uint64_t> gRequestCounter{0};

void assignRequestId(std::string& out) {
  uint64_t z = gRequestSeed + gRequestCounter.fetch_add(1, std::memory_order_relaxed);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(16);
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[z & 0xf];
    z >>= 4;
  }
}

}  // namespace

ServerCore::ServerCore(ServerOptions o, Handler h)
    : options(std::move(o)), handler(std::move(h)), metrics(options.name) {}

void serveConnection(const std::shared_ptr<ServerCore>& core, Socket socket) {
  auto conn = std::make_shared<Connection>(core, std::move(socket));
  Executor ex = conn->executor();
  asio::co_spawn(ex, conn->run(), [conn](std::exception_ptr e) {
    if (!e) {
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& err) {
      spdlog::error("http: connection coroutine failed: {}", err.what());
    } catch (...) {
      spdlog::error("http: connection coroutine failed with a non-standard exception");
    }
  });
}

void stopConnections(ServerCore& core, bool force) {
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    conns.reserve(core.connections.size());
    for (auto& [id, weak] : core.connections) {
      if (auto c = weak.lock()) {
        conns.push_back(std::move(c));
      }
    }
  }
  for (auto& c : conns) {
    asio::post(c->executor(), [c, force] {
      if (force) {
        c->forceClose();
      } else {
        c->requestStop();
      }
    });
  }
}

Connection::Connection(std::shared_ptr<ServerCore> core, Socket socket)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      decoder_(DecoderLimits{core_->options.maxHeaderBytes, core_->options.maxHeaderCount,
                             core_->options.maxBodyBytes}),
      body_(*this),
      writer_(*this) {
  ErrorCode ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    remote_ = formatEndpoint(ep);
  }
  const ServerOptions& o = core_->options;
  minTimeout_ = std::max(std::chrono::milliseconds(1),
                         std::min({o.idleTimeout, o.headerTimeout, o.bodyStallTimeout}));
  core_->metrics.connectionsActive.add(1);
}

Connection::~Connection() { releaseSlot(); }

void Connection::releaseSlot() {
  if (slotReleased_) {
    return;
  }
  slotReleased_ = true;
  core_->metrics.connectionsActive.add(-1);
  core_->active.fetch_sub(1, std::memory_order_acq_rel);
}

asio::awaitable<void> Connection::run() {
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    id_ = core_->nextConnectionId++;
    core_->connections.emplace(id_, weak_from_this());
  }
  // Checked after registering: a stop() that missed the registry has already set the flag.
  stopRequested_ = core_->stopping.load(std::memory_order_acquire);
  bool first = true;
  while (!stopRequested_ && !forced_) {
    phase_ = Phase::kAwaitingHead;
    decoder_.reset(&req_);
    HeadResult head = co_await readHead(first);
    first = false;
    phase_ = Phase::kBusy;  // a stop no longer cancels: an error reply or a request is in flight
    if (head == HeadResult::kClosed) {
      break;
    }
    if (head == HeadResult::kTimeout) {
      co_await sendError(408, "request head timed out");
      break;
    }
    if (head == HeadResult::kMalformed) {
      co_await sendError(decoder_.errorStatus(), decoder_.errorDetail());
      lingerNeeded_ = true;
      break;
    }
    if (!co_await handleRequest()) {
      break;
    }
  }
  phase_ = Phase::kClosing;
  co_await close(lingerNeeded_);
  core_->metrics.bytesReceived.inc(bytesIn_);
  core_->metrics.bytesSent.inc(bytesOut_);
  bytesIn_ = bytesOut_ = 0;
  closed_ = true;
  timer_.cancel();
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->connections.erase(id_);
  }
  releaseSlot();
}

asio::awaitable<Connection::HeadResult> Connection::readHead(bool firstRequest) {
  const ServerOptions& o = core_->options;
  // A new connection gets headerTimeout from the accept for its whole first head (slowloris); a
  // kept-alive one waits idleTimeout for the first byte, then headerTimeout for the whole head.
  bool started = !rbuf_.empty();
  TimePoint deadline = Clock::now() + ((firstRequest || started) ? o.headerTimeout : o.idleTimeout);
  const size_t maxCapacity = std::max(kInitialReadBuffer, o.maxHeaderBytes + kInitialReadBuffer);
  for (;;) {
    if (!rbuf_.empty()) {
      RequestDecoder::HeadStep step = decoder_.putHead(rbuf_.data());
      rbuf_.consume(step.consumed);
      if (step.state == RequestDecoder::HeadState::kDone) {
        co_return HeadResult::kRequest;
      }
      if (step.state == RequestDecoder::HeadState::kError) {
        co_return HeadResult::kMalformed;
      }
    }
    if (stopRequested_ || forced_) {
      co_return HeadResult::kClosed;
    }
    size_t capacity = std::max(kInitialReadBuffer, rbuf_.capacity());
    std::span<char> space = rbuf_.prepare(capacity);
    if (space.empty()) {
      // An incomplete head fills the buffer: grow; the decoder rejects it at maxHeaderBytes.
      space = rbuf_.prepare(std::min(capacity * 2, maxCapacity));
      if (space.empty()) {
        co_return HeadResult::kClosed;  // unreachable: the decoder answers 431 first
      }
    }
    auto [ec, n] = co_await readSome(space, deadline);
    if (ec) {
      co_return (timedOut_ && started) ? HeadResult::kTimeout : HeadResult::kClosed;
    }
    rbuf_.commit(n);
    if (!started) {
      started = true;
      if (!firstRequest) {
        deadline = Clock::now() + o.headerTimeout;
      }
    }
  }
}

asio::awaitable<bool> Connection::handleRequest() {
  assignRequestId(req_.requestId);
  req_.remoteAddress = remote_;
  TimePoint start = Clock::now();
  req_.received = start;
  body_.reset();
  writer_.reset(req_.method == "HEAD", decoder_.version() == 10, req_.keepAlive);
  if (decoder_.expectContinueWithoutBody()) {
    // The body is empty, so there is nothing to wait for: invite it at once, as S3 does. A final
    // response without the interim one leaves botocore's connection with a stale status line that
    // it hands to the next request it sends with "Expect: 100-continue" on the same connection.
    asio::const_buffer b(kContinueResponse.data(), kContinueResponse.size());
    if (ErrorCode ec = co_await writeAll(&b, 1)) {
      co_return false;
    }
  }

  bool threw = false;
  std::string what;
  try {
    co_await core_->handler(req_, body_, writer_);
  } catch (const std::exception& e) {
    threw = true;
    what = e.what();
  } catch (...) {
    threw = true;
    what = "non-standard exception";
  }
  if (threw) {
    core_->metrics.handlerExceptions.inc();
    spdlog::error("http[{}] {} {} {}: handler threw: {}", core_->options.name, req_.requestId,
                  req_.method, req_.target, what);
    if (writer_.started()) {
      writer_.closeAfter();  // the response is in an unknown state
    }
  }
  if (!writer_.started()) {
    if (!threw) {
      spdlog::warn("http[{}] {} {} {}: handler returned without a response",
                   core_->options.name, req_.requestId, req_.method, req_.target);
    }
    if (!forced_) {
      Response r;
      r.status = 500;
      r.headers.add("Content-Type", "text/plain");
      Status s = co_await writer_.respond(std::move(r), "Internal Server Error\n");
      s.ignoreError();  // the client is gone; the connection closes below
    }
  } else if (!writer_.complete()) {
    Status s = co_await writer_.finish();
    if (!s.isOk()) {
      spdlog::debug("http[{}] {}: response not completed: {}", core_->options.name,
                    req_.requestId, s.toString());
    }
  }
  bool keep = writer_.complete() && !writer_.closeRequested();
  if (keep && !body_.done()) {
    if (body_.failed() || (decoder_.expectContinue() && !body_.continueSent())) {
      keep = false;  // the body's state is unknown, or the client may never send it
    } else {
      keep = co_await body_.drain(kDrainLimit);
    }
  }
  if (!body_.done()) {
    lingerNeeded_ = true;
  }
  recordRequest(writer_.started() ? writer_.status() : 500, start);
  co_return keep && req_.keepAlive && !stopRequested_ && !forced_ &&
      !core_->stopping.load(std::memory_order_relaxed);
}

bool Connection::willClose() const {
  if (writer_.closeRequested() || !req_.keepAlive || stopRequested_ || forced_ ||
      core_->stopping.load(std::memory_order_relaxed)) {
    return true;
  }
  if (body_.done()) {
    return false;
  }
  if (body_.failed() || (decoder_.expectContinue() && !body_.continueSent())) {
    return true;
  }
  // A Content-Length rest too large to drain is known now, so the close can be announced. A
  // chunked rest is unknown until drained: handleRequest() may then close unannounced.
  if (decoder_.framing() != BodyFraming::kContentLength) {
    return false;
  }
  return *req_.contentLength - body_.bytesRead() > kDrainLimit;
}

asio::awaitable<void> Connection::sendError(int status, std::string_view detail) {
  assignRequestId(req_.requestId);
  spdlog::debug("http[{}] {} {}: rejecting request: {} ({})", core_->options.name,
                req_.requestId, remote_, status, detail);
  body_.reset();
  writer_.reset(req_.method == "HEAD", false, false);
  writer_.closeAfter();
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "text/plain");
  std::string text = fmt::format("{}\n", reasonPhrase(status));
  Status s = co_await writer_.respond(std::move(r), text);
  s.ignoreError();  // best effort: the connection closes next anyway
  recordRequest(status, Clock::now());
}

void Connection::recordRequest(int status, TimePoint start) {
  TimePoint now = Clock::now();
  double seconds = std::chrono::duration<double>(now - start).count();
  size_t method = HttpMetrics::methodIndex(req_.method);
  HttpMetrics& m = core_->metrics;
  m.requests(method, status).inc();
  m.duration(method).observe(seconds);
  m.bytesReceived.inc(bytesIn_);
  m.bytesSent.inc(bytesOut_);
  bytesIn_ = bytesOut_ = 0;
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("http[{}] {} {} {} {} {} in={} out={} {:.3f}ms", core_->options.name,
                  req_.requestId, remote_, req_.method, req_.target, status, body_.bytesRead(),
                  writer_.bodyBytes(), seconds * 1e3);
  }
}

asio::awaitable<void> Connection::close(bool linger) {
  ErrorCode ec;
  if (!forced_) {
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
    if (linger && !ec) {
      TimePoint deadline = Clock::now() + kLingerTime;
      size_t total = 0;
      while (total < kLingerBytes) {
        rbuf_.consume(rbuf_.size());
        std::span<char> space = rbuf_.prepare(std::max(kInitialReadBuffer, rbuf_.capacity()));
        auto [rec, n] = co_await readSome(space, deadline);
        if (rec) {
          break;
        }
        total += n;
      }
    }
  }
  socket_.close(ec);
}

void Connection::requestStop() {
  stopRequested_ = true;
  // Waiting for a head, or lingering before the close: the only pending operation is a read that
  // no request depends on.
  if (phase_ == Phase::kAwaitingHead || phase_ == Phase::kClosing) {
    ErrorCode ec;
    socket_.cancel(ec);
  }
}

void Connection::forceClose() {
  forced_ = true;
  stopRequested_ = true;
  ErrorCode ec;
  socket_.close(ec);  // pending operations complete with operation_aborted
  releaseSlot();      // counted out now, even if a stuck handler keeps the coroutine alive
}

asio::awaitable<std::tuple<ErrorCode, size_t>> Connection::readSome(std::span<char> buf,
                                                                    TimePoint deadline) {
  if (forced_) {
    co_return std::tuple<ErrorCode, size_t>(asio::error::operation_aborted, 0);
  }
  armAt(deadline);
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), kUse);
  disarm();
  bytesIn_ += n;
  co_return std::tuple<ErrorCode, size_t>(ec, n);
}

asio::awaitable<ErrorCode> Connection::writeAll(asio::const_buffer* bufs, size_t count) {
  size_t i = 0;
  while (i < count) {
    if (bufs[i].size() == 0) {
      ++i;
      continue;
    }
    if (forced_) {
      co_return asio::error::operation_aborted;
    }
    armAt(Clock::now() + core_->options.bodyStallTimeout);
    auto [ec, n] = co_await socket_.async_write_some(
        std::span<const asio::const_buffer>(bufs + i, count - i), kUse);
    disarm();
    bytesOut_ += n;
    if (ec) {
      co_return timedOut_ ? ErrorCode(asio::error::timed_out) : ec;
    }
    while (n > 0 && i < count) {
      size_t k = std::min(n, bufs[i].size());
      bufs[i] += k;
      n -= k;
      if (bufs[i].size() == 0) {
        ++i;
      }
    }
  }
  co_return ErrorCode();
}

void Connection::armAt(TimePoint deadline) {
  deadline_ = deadline;
  armed_ = true;
  timedOut_ = false;
  if (deadline < timerExpiry_) {
    scheduleWatchdog(deadline);
  }
}

void Connection::scheduleWatchdog(TimePoint at) {
  timerExpiry_ = at;
  uint64_t generation = ++timerGeneration_;
  timer_.expires_at(at);  // cancels a pending wait, whose handler then sees operation_aborted
  timer_.async_wait([self = shared_from_this(), generation](const ErrorCode& ec) {
    self->onWatchdog(ec, generation);
  });
}

void Connection::onWatchdog(const ErrorCode& ec, uint64_t generation) {
  // A stale wake-up (re-armed since, or already queued when re-armed) is ignored.
  if (ec == asio::error::operation_aborted || generation != timerGeneration_ || closed_) {
    return;
  }
  TimePoint now = Clock::now();
  if (armed_ && now >= deadline_) {
    timedOut_ = true;
    armed_ = false;
    ErrorCode ignored;
    socket_.cancel(ignored);
  }
  // Unarmed, the timer idles at the shortest timeout: any later arm() lands after that wake-up and
  // needs no timer operation of its own.
  scheduleWatchdog(armed_ ? deadline_ : now + minTimeout_);
}

}  // namespace ember::http::detail
