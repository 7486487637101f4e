// Limits, malformed input, timeouts, vanishing clients and misbehaving handlers.

#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

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

asio::awaitable<void> hello(Request&, RequestBody&, ResponseWriter& w) {
  Status s = co_await w.respond(reply(), "hello");
  s.ignoreError();
}

// Reads the body to the end or the first error and reports that error (Ok at the end).
asio::awaitable<Status> consume(RequestBody& body) {
  char buf[4096];
  for (;;) {
    Result<size_t> n = co_await body.read(buf);
    if (!n) {
      co_return n.error();
    }
    if (*n == 0) {
      co_return Status();
    }
  }
}

using ServerErrorsTest = ServerFixture;

TEST_F(ServerErrorsTest, OversizeHeadIs431) {
  ServerOptions o;
  o.maxHeaderBytes = 4096;
  startServer(hello, o);
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(8000, 'a') +
                     "\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.headerOr("connection"), "close");
  EXPECT_TRUE(c.waitClosed());
}

TEST_F(ServerErrorsTest, OversizeHeadSentSlowlyIs431) {
  ServerOptions o;
  o.maxHeaderBytes = 4096;
  startServer(hello, o);
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n"));
  for (int i = 0; i < 300 && c.send("X-Field: 0123456789\r\n"); ++i) {
    if (i % 50 == 0) {
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
  EXPECT_EQ(c.read().status, 431);
}

TEST_F(ServerErrorsTest, TooManyHeadersIs431) {
  ServerOptions o;
  o.maxHeaderCount = 10;
  startServer(hello, o);
  TestClient c(port());
  std::string req = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 20; ++i) {
    req += "X-H" + std::to_string(i) + ": v\r\n";
  }
  ASSERT_TRUE(c.send(req + "\r\n"));
  EXPECT_EQ(c.read().status, 431);
  EXPECT_TRUE(c.waitClosed());
}

TEST_F(ServerErrorsTest, MalformedRequestsAre400AndClose) {
  startServer(hello);
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n",
                          "GET / HTTP/1.1\r\n\r\n",
                          "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"}) {
    TestClient c(port());
    ASSERT_TRUE(c.send(bad));
    ClientResponse r = c.read();
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.body, "Bad Request\n");
    EXPECT_TRUE(c.waitClosed()) << bad;
  }
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(c.read().body, "hello");  // the server is fine
}

TEST_F(ServerErrorsTest, UnsupportedTransferCodingIs501) {
  startServer(hello);
  TestClient c(port());
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nxx"));
  EXPECT_EQ(c.read().status, 501);
}

TEST_F(ServerErrorsTest, BodyOverLimitIs413) {
  ServerOptions o;
  o.maxBodyBytes = 1000;
  startServer(hello, o);
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n"));
  EXPECT_EQ(c.read().status, 413);
  EXPECT_TRUE(c.waitClosed());
}

TEST_F(ServerErrorsTest, ChunkedBodyOverLimitFailsTheRead) {
  ServerOptions o;
  o.maxBodyBytes = 10;
  std::promise<Status> seen;
  startServer(
      [&](Request&, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
        Status st = co_await consume(body);
        seen.set_value(st);
        Status s = co_await w.respond(reply(413), "too big");
        s.ignoreError();
      },
      o);
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n"));
  EXPECT_EQ(c.read().status, 413);
  EXPECT_EQ(seen.get_future().get().code(), Code::kEntityTooLarge);
  EXPECT_TRUE(c.waitClosed());  // the body's state is unknown: never reused
}

TEST_F(ServerErrorsTest, SlowHeadTimesOut) {
  ServerOptions o;
  o.headerTimeout = milliseconds(200);
  startServer(hello, o);
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHo"));
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(c.send("st: t\r\n"));  // progress does not extend the head's deadline
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(c.waitClosed());
}

TEST_F(ServerErrorsTest, SilentConnectionIsClosed) {
  ServerOptions o;
  o.headerTimeout = milliseconds(200);
  startServer(hello, o);
  TestClient c(port());
  EXPECT_TRUE(c.waitClosed());
  EXPECT_TRUE(c.buffered().empty());
}

TEST_F(ServerErrorsTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions o;
  o.idleTimeout = milliseconds(200);
  startServer(hello, o);
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(c.read().status, 200);
  EXPECT_TRUE(c.waitClosed());
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
}

TEST_F(ServerErrorsTest, StalledBodyTimesOut) {
  ServerOptions o;
  o.bodyStallTimeout = milliseconds(200);
  std::promise<Status> seen;
  startServer(
      [&](Request&, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
        seen.set_value(co_await consume(body));
        Status s = co_await w.respond(reply(400), "stalled");
        s.ignoreError();
      },
      o);
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"));
  EXPECT_EQ(seen.get_future().get().code(), Code::kTimeout);
  EXPECT_EQ(c.read().status, 400);
  EXPECT_TRUE(c.waitClosed());
}

TEST_F(ServerErrorsTest, ClientVanishingMidBody) {
  std::promise<Status> seen;
  std::atomic<int> calls{0};
  startServer([&](Request& req, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
    if (req.path == "/upload" && calls++ == 0) {
      seen.set_value(co_await consume(body));
    }
    Status s = co_await w.respond(reply(), "ok");
    s.ignoreError();
  });
  {
    TestClient c(port());
    ASSERT_TRUE(c.send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n" +
                       std::string(1000, 'x')));
    std::this_thread::sleep_for(milliseconds(20));
    c.close(/*reset=*/true);
  }
  Status st = seen.get_future().get();
  EXPECT_EQ(st.code(), Code::kIncompleteBody) << st.toString();
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  TestClient c2(port());
  ASSERT_TRUE(c2.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(c2.read().body, "ok");
}

TEST_F(ServerErrorsTest, ExceptionBeforeTheResponseIs500) {
  startServer([](Request& req, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    if (req.path == "/throw") {
      throw std::runtime_error("handler bug");
    }
    Status s = co_await w.respond(reply(), "fine");
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET /throw HTTP/1.1\r\nHost: t\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "Internal Server Error\n");
  ASSERT_TRUE(c.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n"));  // same connection still works
  EXPECT_EQ(c.read().body, "fine");
  EXPECT_EQ(counter("ember_http_handler_exceptions_total"), 1u);
}

TEST_F(ServerErrorsTest, ExceptionAfterStartClosesTheConnection) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    EXPECT_TRUE((co_await w.start(reply(), 100)).isOk());
    EXPECT_TRUE((co_await w.write(std::string_view("0123456789"))).isOk());
    throw std::logic_error("half way");
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.body, "0123456789");
  EXPECT_EQ(counter("ember_http_handler_exceptions_total"), 1u);
}

TEST_F(ServerErrorsTest, HandlerWithoutResponseGets500) {
  startServer([](Request&, RequestBody&, ResponseWriter&) -> asio::awaitable<void> { co_return; });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nHEAD / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(c.read().status, 500);
  ClientResponse head = c.read(/*head=*/true);
  EXPECT_EQ(head.status, 500);
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));  // HEAD's 500 had no body
  EXPECT_EQ(c.read().body, "Internal Server Error\n");
}

TEST_F(ServerErrorsTest, ShortResponseClosesTheConnection) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    EXPECT_TRUE((co_await w.start(reply(), 100)).isOk());
    EXPECT_TRUE((co_await w.write(std::string_view("short"))).isOk());
    Status tooMuch = co_await w.write(std::string(200, 'x'));
    EXPECT_EQ(tooMuch.code(), Code::kInvalidArgument);
    Status fin = co_await w.finish();
    EXPECT_EQ(fin.code(), Code::kIncompleteBody);
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.body, "short");
}

TEST_F(ServerErrorsTest, InvalidResponsesAreRefused) {
  startServer([](Request& req, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Response r = reply();
    if (req.path == "/split") {
      r.headers.add("X-Evil", "a\r\nSet-Cookie: x=1");
    } else {
      r.status = 42;
    }
    Status s = co_await w.start(std::move(r), 0);
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_FALSE(w.started());
    EXPECT_EQ((co_await w.write(std::string_view("x"))).code(), Code::kInvalidArgument);
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET /split HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /status HTTP/1.1\r\nHost: t\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.header("set-cookie"), nullptr);
  EXPECT_EQ(c.read().status, 500);
}

TEST_F(ServerErrorsTest, HandlerMayOffloadAndResumeOnItsConnection) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(milliseconds(20));
    co_await t.async_wait(asio::use_awaitable);
    Status s = co_await w.respond(reply(), "later");
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(c.read().body, "later");
  EXPECT_EQ(c.read().body, "later");
}

}  // namespace
}  // namespace ember::http::testing
