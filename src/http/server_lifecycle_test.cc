// Server lifecycle: binding, graceful stop, the connection limit and metrics.

#include <future>
#include <string>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "common/metrics.h"
#include "http/http.h"
#include "http/server_test_util.h"

namespace ember::http::testing {
namespace {

using std::chrono::milliseconds;

Response reply(int status = 200) {
  Response r;
  r.status = status;
  return r;
}

asio::awaitable<void> sleepFor(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::use_awaitable);
}

using ServerLifecycleTest = ServerFixture;

TEST_F(ServerLifecycleTest, GracefulStopFinishesInFlightRequests) {
  std::atomic<bool> inHandler{false};
  startServer([&](Request& req, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    if (req.path == "/slow") {
      inHandler = true;
      co_await sleepFor(milliseconds(300));
    }
    Status s = co_await w.respond(reply(), "done " + req.path);
    s.ignoreError();
  });
  TestClient idle(port());
  ASSERT_TRUE(idle.send("GET /warmup HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(idle.read().status, 200);
  TestClient busy(port());
  ASSERT_TRUE(busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return inHandler.load(); }));
  EXPECT_EQ(server_->activeConnections(), 2u);

  server_->stop(std::chrono::seconds(10));
  EXPECT_TRUE(idle.waitClosed(milliseconds(2000)));  // idle: closed right away
  ClientResponse r = busy.read();                      // in flight: allowed to finish
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done /slow");
  EXPECT_EQ(r.headerOr("connection"), "close");
  EXPECT_TRUE(busy.waitClosed());
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  TestClient late(port());
  EXPECT_FALSE(late.connected() && late.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n") &&
               late.read().status == 200);
}

TEST_F(ServerLifecycleTest, StopClosesBusyConnectionsAfterTheGrace) {
  std::promise<Status> seen;
  std::atomic<bool> inHandler{false};
  startServer([&](Request&, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
    inHandler = true;
    char buf[64];
    Status st;
    for (;;) {  // the client never sends the whole body
      Result<size_t> n = co_await body.read(buf);
      if (!n || *n == 0) {
        st = n ? Status() : n.error();
        break;
      }
    }
    seen.set_value(st);
    Status s = co_await w.respond(reply(), "too late");
    EXPECT_FALSE(s.isOk());
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"));
  ASSERT_TRUE(eventually([&] { return inHandler.load(); }));
  auto start = std::chrono::steady_clock::now();
  server_->stop(milliseconds(200));
  EXPECT_EQ(seen.get_future().get().code(), Code::kUnavailable);
  EXPECT_TRUE(c.waitClosed());
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ServerLifecycleTest, StopWithAStuckHandlerStillReleasesTheSocket) {
  std::atomic<bool> inHandler{false};
  startServer([&](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    inHandler = true;
    co_await sleepFor(std::chrono::seconds(2));  // ignores the stop
    Status s = co_await w.respond(reply(), "x");
    EXPECT_FALSE(s.isOk());
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return inHandler.load(); }));
  server_->stop(milliseconds(50));
  EXPECT_TRUE(c.waitClosed(milliseconds(1500)));
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }, milliseconds(1500)));
}

TEST_F(ServerLifecycleTest, ConnectionsBeyondTheLimitAreRejected) {
  ServerOptions o;
  o.maxConnections = 1;
  startServer(
      [](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
        Status s = co_await w.respond(reply(), "ok");
        s.ignoreError();
      },
      o);
  TestClient first(port());
  ASSERT_TRUE(first.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(first.read().status, 200);
  TestClient second(port());
  ClientResponse r = second.read();
  EXPECT_TRUE(r.status == 503 || r.status == 0) << r.status;  // 503, or closed before it
  EXPECT_TRUE(second.waitClosed());
  first.close();
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  TestClient third(port());
  ASSERT_TRUE(third.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(third.read().status, 200);
}

TEST_F(ServerLifecycleTest, StartFailsOnABusyPort) {
  startServer([](Request&, RequestBody&, ResponseWriter&) -> asio::awaitable<void> { co_return; });
  ServerOptions o;
  o.port = port();
  Server other(ioc_, o, [](Request&, RequestBody&, ResponseWriter&) -> asio::awaitable<void> {
    co_return;
  });
  Status s = other.start();
  EXPECT_EQ(s.code(), Code::kIOError);
  ServerOptions bad;
  bad.address = "not an address";
  Server third(ioc_, bad, [](Request&, RequestBody&, ResponseWriter&) -> asio::awaitable<void> {
    co_return;
  });
  EXPECT_EQ(third.start().code(), Code::kIOError);
}

TEST_F(ServerLifecycleTest, MetricsAreRecorded) {
  startServer([](Request& req, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(req.path == "/missing" ? 404 : 200), "body");
    s.ignoreError();
  });
  {
    TestClient c(port());
    ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n"
                       "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"));
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(c.read().complete);
    }
    EXPECT_EQ(metrics::Registry::global()
                  .gauge("ember_http_connections_active", "", {{"server", name_}})
                  .value(),
              1);
    ASSERT_TRUE(c.send("BREW /pot HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    ClientResponse last = c.read();
    EXPECT_EQ(last.headerOr("connection"), "close");
    EXPECT_TRUE(c.waitClosed());
  }
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  EXPECT_EQ(counter("ember_http_requests_total", {{"method", "GET"}, {"status", "200"}}), 2u);
  EXPECT_EQ(counter("ember_http_requests_total", {{"method", "GET"}, {"status", "404"}}), 1u);
  EXPECT_EQ(counter("ember_http_requests_total", {{"method", "OTHER"}, {"status", "200"}}), 1u);
  EXPECT_GT(counter("ember_http_bytes_received_total"), 100u);
  EXPECT_GT(counter("ember_http_bytes_sent_total"), 4u * 4u);
  EXPECT_EQ(metrics::Registry::global()
                .gauge("ember_http_connections_active", "", {{"server", name_}})
                .value(),
            0);
  std::string text = metrics::Registry::global().render();
  std::string series = "ember_http_request_duration_seconds_count{method=\"GET\",server=\"" +
                       name_ + "\"} 3\n";
  EXPECT_NE(text.find(series), std::string::npos) << series;
  EXPECT_NE(text.find("# TYPE ember_http_request_duration_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace ember::http::testing
