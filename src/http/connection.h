#pragma once
// Internal to src/http: one accepted connection and the state it shares with its listener.
//
// A Connection is one coroutine (run()) on its own strand: it reads a request head, calls the
// handler with a BodyReader (RequestBody) and a Writer (ResponseWriter), cleans up after the
// handler (drain or close), and loops while keep-alive holds. Everything here runs on that strand;
// the listener reaches a connection only by posting requestStop()/forceClose() to it.
//
// Timeouts use one lazily re-armed timer (a watchdog), not a timer per operation: arming is a
// store of a deadline, and the timer is only touched when a deadline comes earlier than the
// pending wake-up. On expiry the socket's pending operation is cancelled and the operation reports
// a timeout. There is one deadline per connection, so a handler must not read the body and write
// the response concurrently (from two coroutines at once); one after the other, in any
// interleaving, is fine.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "http/http.h"
#include "http/http_metrics.h"
#include "http/read_buffer.h"
#include "http/request_decoder.h"

namespace ember::http::detail {

inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

using Executor = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using ErrorCode = boost::system::error_code;

class Connection;

// State shared by a Server's listener and its connections; the last of them frees it.
struct ServerCore {
  ServerCore(ServerOptions o, Handler h);

  const ServerOptions options;
  const Handler handler;
  HttpMetrics metrics;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> active{0};  // open sockets (see Connection::releaseSlot)

  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;  // GUARDED_BY(mu)
  uint64_t nextConnectionId = 0;                                        // GUARDED_BY(mu)
};

// Takes an accepted socket and serves it until it closes. The caller has already counted it in
// core->active.
void serveConnection(const std::shared_ptr<ServerCore>& core, Socket socket);

// Posts a stop to every registered connection: idle ones close now, busy ones after their current
// response. With force, every socket is closed now and in-flight handlers see I/O errors.
void stopConnections(ServerCore& core, bool force);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerCore> core, Socket socket);
  ~Connection();

  asio::awaitable<void> run();
  void requestStop();  // on the strand
  void forceClose();   // on the strand
  Executor executor() { return socket_.get_executor(); }

 private:
  // The request body handed to handlers (request_body.cc).
  class BodyReader final : public RequestBody {
   public:
    explicit BodyReader(Connection& c) : c_(c) {}
    void reset();
    asio::awaitable<Result<size_t>> read(std::span<char> buf) override;
    std::optional<uint64_t> contentLength() const override;
    uint64_t bytesRead() const override { return read_; }
    bool done() const { return done_; }
    bool failed() const { return !status_.isOk(); }
    bool continueSent() const { return continueSent_; }
    // Reads and discards at most `limit` more body bytes; true when the body then ended.
    asio::awaitable<bool> drain(uint64_t limit);

   private:
    asio::awaitable<Result<size_t>> readLength(std::span<char> buf);
    asio::awaitable<Result<size_t>> readChunked(std::span<char> buf);
    Status fail(Status s);
    Status ioError(const ErrorCode& ec) const;

    Connection& c_;
    uint64_t read_ = 0;
    bool done_ = false;
    bool continuePending_ = false;
    bool continueSent_ = false;
    Status status_;  // sticky failure
  };

  // The response writer handed to handlers (response_writer.cc).
  class Writer final : public ResponseWriter {
   public:
    explicit Writer(Connection& c) : c_(c) {}
    void reset(bool isHead, bool http10, bool clientKeepAlive);
    asio::awaitable<Status> start(Response head, std::optional<uint64_t> contentLength) override;
    asio::awaitable<Status> write(std::span<const char> data) override;
    asio::awaitable<Status> finish() override;
    bool started() const override { return started_; }
    void closeAfter() override { closeAfter_ = true; }

    bool closeRequested() const { return closeAfter_; }
    // The response was sent completely (head, and exactly Content-Length or a last chunk).
    bool complete() const { return finished_ && !incomplete_ && !broken_; }
    bool flushedAny() const { return flushedAny_; }
    int status() const { return status_; }
    uint64_t bodyBytes() const { return bodyBytes_; }

   private:
    asio::awaitable<Status> flush(std::span<const char> data, std::string_view trailer);

    enum class Mode { kNone, kLength, kChunked, kUntilClose };
    Connection& c_;
    bool isHead_ = false;
    bool http10_ = false;
    bool clientKeepAlive_ = true;
    bool started_ = false;
    bool finished_ = false;
    bool incomplete_ = false;
    bool broken_ = false;
    bool closeAfter_ = false;
    bool flushedAny_ = false;
    Mode mode_ = Mode::kNone;
    uint64_t remaining_ = 0;
    uint64_t bodyBytes_ = 0;
    int status_ = 0;
  };

  enum class HeadResult { kRequest, kClosed, kTimeout, kMalformed };
  enum class Phase { kAwaitingHead, kBusy, kClosing };

  asio::awaitable<HeadResult> readHead(bool firstRequest);
  asio::awaitable<bool> handleRequest();  // true: keep the connection
  asio::awaitable<void> sendError(int status, std::string_view detail);
  asio::awaitable<void> close(bool linger);
  bool willClose() const;
  void recordRequest(int status, TimePoint start);

  // Socket I/O bounded by deadlines (connection.cc).
  asio::awaitable<std::tuple<ErrorCode, size_t>> readSome(std::span<char> buf, TimePoint deadline);
  asio::awaitable<ErrorCode> writeAll(asio::const_buffer* bufs, size_t count);
  void armAt(TimePoint deadline);
  void disarm() { armed_ = false; }
  void scheduleWatchdog(TimePoint at);
  void onWatchdog(const ErrorCode& ec, uint64_t generation);
  void releaseSlot();

  std::shared_ptr<ServerCore> core_;
  Socket socket_;
  Timer timer_;
  RequestDecoder decoder_;
  ReadBuffer rbuf_;
  std::string wbuf_;  // response head and small bodies, reused across requests
  Request req_;
  BodyReader body_;
  Writer writer_;
  std::string remote_;
  uint64_t id_ = 0;  // key in core_->connections

  Phase phase_ = Phase::kAwaitingHead;
  bool stopRequested_ = false;
  bool forced_ = false;
  bool closed_ = false;
  bool slotReleased_ = false;
  bool lingerNeeded_ = false;
  uint64_t bytesIn_ = 0;   // not yet added to the metric
  uint64_t bytesOut_ = 0;  // not yet added to the metric
  uint64_t requestBytesIn_ = 0;

  // Watchdog state.
  TimePoint deadline_{};
  TimePoint timerExpiry_ = TimePoint::max();
  uint64_t timerGeneration_ = 0;
  bool armed_ = false;
  bool timedOut_ = false;
  std::chrono::milliseconds minTimeout_;
};

}  // namespace ember::http::detail
