// Protocol behaviour of the HTTP server over real sockets: keep-alive, pipelining, request bodies
// (Content-Length, chunked, 100-continue, large streams), response framing (Content-Length,
// chunked, HEAD, HTTP/1.0) and what happens to bodies the handler did not read.

#include <mutex>
#include <set>
#include <string>
#include <thread>

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

asio::awaitable<Result<std::string>> readAll(RequestBody& body) {
  std::string out;
  char buf[4096];
  for (;;) {
    Result<size_t> n = co_await body.read(buf);
    if (!n) {
      co_return unexpected(n.error());
    }
    if (*n == 0) {
      co_return out;
    }
    out.append(buf, *n);
  }
}

// Echoes the request body back (or the error that reading it gave).
asio::awaitable<void> echo(Request&, RequestBody& body, ResponseWriter& w) {
  Result<std::string> data = co_await readAll(body);
  // Built outside the co_await: GCC 12 miscompiles a conditional that makes a std::string
  // temporary inside a co_await expression.
  int status = data ? 200 : 400;
  std::string text = data ? *data : data.error().toString();
  Status s = co_await w.respond(reply(status), text);
  s.ignoreError();
}

std::string get(std::string_view target, std::string_view extra = {}) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) +
         "\r\n";
}

using ServerTest = ServerFixture;

TEST_F(ServerTest, KeepAliveServesSeveralRequestsWithUniqueIds) {
  startServer([](Request& req, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Response r = reply();
    r.headers.add("X-Path", req.path);
    Status s = co_await w.respond(std::move(r), req.requestId);
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.connected());
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(get("/req" + std::to_string(i))));
    ClientResponse r = c.read();
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headerOr("x-path"), "/req" + std::to_string(i));
    EXPECT_EQ(r.headerOr("server"), "Ember");
    EXPECT_EQ(r.headerOr("date").size(), 29u);
    EXPECT_EQ(r.header("connection"), nullptr);
    EXPECT_EQ(r.body.size(), 16u);
    EXPECT_EQ(r.body.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(r.body);
  }
  EXPECT_EQ(ids.size(), 5u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  startServer([](Request& req, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
    Result<std::string> data = co_await readAll(body);
    Status s = co_await w.respond(reply(), req.path + ":" + data.value_or("?"));
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send(get("/1") + "POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" +
                     get("/3")));
  EXPECT_EQ(c.read().body, "/1:");
  EXPECT_EQ(c.read().body, "/2:abc");
  EXPECT_EQ(c.read().body, "/3:");
}

TEST_F(ServerTest, RequestFieldsReachTheHandler) {
  std::mutex mu;
  Request seen;
  std::optional<uint64_t> bodyLength;
  startServer([&](Request& req, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen = req;
      bodyLength = body.contentLength();
    }
    Result<std::string> data = co_await readAll(body);
    Status s = co_await w.respond(reply(), data.value_or(""));
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT /bucket/my%20key?partNumber=1&uploadId=x HTTP/1.1\r\n"
                     "Host: s3.local\r\nX-Amz-Meta-A: 1\r\nContent-Length: 4\r\n\r\nbody"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.body, "body");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.target, "/bucket/my%20key?partNumber=1&uploadId=x");
  EXPECT_EQ(seen.path, "/bucket/my%20key");
  EXPECT_EQ(seen.query, "partNumber=1&uploadId=x");
  EXPECT_EQ(seen.headers.get("x-amz-meta-a"), "1");
  EXPECT_EQ(seen.contentLength, 4u);
  EXPECT_EQ(bodyLength, 4u);
  EXPECT_TRUE(seen.keepAlive);
  EXPECT_EQ(seen.remoteAddress.rfind("127.0.0.1:", 0), 0u) << seen.remoteAddress;
  EXPECT_EQ(seen.requestId.size(), 16u);
  EXPECT_LE(seen.received, std::chrono::steady_clock::now());
}

TEST_F(ServerTest, ChunkedRequestBody) {
  startServer(echo);
  TestClient c(port());
  ASSERT_TRUE(c.send("POST /e HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(c.send("5\r\nhello\r\n"));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(c.send("7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, world");
  // The connection is still usable.
  ASSERT_TRUE(c.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok"));
  EXPECT_EQ(c.read().body, "ok");
}

TEST_F(ServerTest, ExpectContinueIsSentOnFirstRead) {
  startServer(echo);
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT /o HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                     "Expect: 100-continue\r\n\r\n"));
  ClientResponse interim = c.read();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.send("hello"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
}

// botocore sends "Expect: 100-continue" on empty PUTs too; it must get the interim response, or it
// reuses the final status line it read while waiting for the next request on the connection.
TEST_F(ServerTest, ExpectContinueWithAnEmptyBodyStillGetsTheInterimResponse) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(200), "done");
    s.ignoreError();
  });
  TestClient c(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send("PUT /o HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
                       "Expect: 100-continue\r\n\r\n"));
    EXPECT_EQ(c.read().status, 100);
    ClientResponse r = c.read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "done");
    EXPECT_NE(r.headerOr("connection"), "close");  // the connection stays usable
  }
}

TEST_F(ServerTest, ExpectContinueRejectedWithoutReadingNeverInvitesTheBody) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(403), "denied");
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT /o HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n"
                     "Expect: 100-continue\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 403);  // no interim 100 before it
  EXPECT_EQ(r.body, "denied");
  EXPECT_EQ(r.headerOr("connection"), "close");
  EXPECT_TRUE(c.waitClosed());
}

TEST_F(ServerTest, LargeStreamingUploadIsReadInBoundedPieces) {
  constexpr size_t kTotal = 50u << 20;
  constexpr size_t kBuffer = 64 * 1024;
  std::atomic<size_t> largestRead{0};
  startServer([&](Request&, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
    std::vector<char> buf(kBuffer);
    uint64_t total = 0;
    uint64_t checksum = 0;
    for (;;) {
      Result<size_t> n = co_await body.read(buf);
      if (!n || *n == 0) {
        break;
      }
      largestRead = std::max(largestRead.load(), *n);
      for (size_t i = 0; i < *n; ++i) {
        checksum += static_cast<unsigned char>(buf[i]);
      }
      total += *n;
    }
    Status s = co_await w.respond(reply(), std::to_string(total) + " " + std::to_string(checksum));
    s.ignoreError();
  });
  TestClient c(port());
  std::string head = "PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(kTotal) +
                     "\r\n\r\n";
  uint64_t expectedSum = 0;
  std::string block(1 << 20, '\0');
  for (size_t i = 0; i < block.size(); ++i) {
    block[i] = static_cast<char>(i * 7);
    expectedSum += static_cast<unsigned char>(block[i]);
  }
  std::thread sender([&] {
    c.send(head);
    for (size_t sent = 0; sent < kTotal; sent += block.size()) {
      if (!c.send(block)) {
        return;
      }
    }
  });
  ClientResponse r = c.read();
  sender.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(kTotal) + " " + std::to_string(expectedSum * 50));
  EXPECT_LE(largestRead.load(), kBuffer);
}

TEST_F(ServerTest, LargeChunkedUpload) {
  startServer([](Request&, RequestBody& body, ResponseWriter& w) -> asio::awaitable<void> {
    std::vector<char> buf(32 * 1024);
    uint64_t total = 0;
    Status status;
    for (;;) {
      Result<size_t> n = co_await body.read(buf);
      if (!n) {
        status = n.error();
        break;
      }
      if (*n == 0) {
        break;
      }
      total += *n;
    }
    std::string text = status.isOk() ? std::to_string(total) : status.toString();
    Status s = co_await w.respond(reply(), text);
    s.ignoreError();
  });
  TestClient c(port());
  std::string chunk(100 * 1000, 'x');
  std::string framed = "186a0\r\n" + chunk + "\r\n";  // 0x186a0 == 100000
  std::thread sender([&] {
    c.send("PUT /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 80; ++i) {
      c.send(framed);
    }
    c.send("0\r\n\r\n");
  });
  ClientResponse r = c.read();
  sender.join();
  EXPECT_EQ(r.body, "8000000");
}

TEST_F(ServerTest, LargeResponseWithContentLength) {
  constexpr size_t kPiece = 1 << 20;
  constexpr size_t kPieces = 8;
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    std::string piece(kPiece, '\0');
    if (!(co_await w.start(reply(), kPiece * kPieces)).isOk()) {
      co_return;
    }
    for (size_t i = 0; i < kPieces; ++i) {
      std::fill(piece.begin(), piece.end(), static_cast<char>('a' + i));
      if (!(co_await w.write(piece)).isOk()) {
        co_return;
      }
    }
    Status s = co_await w.finish();
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send(get("/big")));
  ClientResponse r = c.read();
  ASSERT_TRUE(r.complete);
  ASSERT_EQ(r.body.size(), kPiece * kPieces);
  for (size_t i = 0; i < kPieces; ++i) {
    EXPECT_EQ(r.body[i * kPiece], static_cast<char>('a' + i));
    EXPECT_EQ(r.body[(i + 1) * kPiece - 1], static_cast<char>('a' + i));
  }
  ASSERT_TRUE(c.send(get("/again")));
  EXPECT_EQ(c.read().body.size(), kPiece * kPieces);
}

TEST_F(ServerTest, ChunkedResponseWhenLengthIsUnknown) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Response r = reply();
    r.headers.add("Content-Type", "application/xml");
    EXPECT_TRUE((co_await w.start(std::move(r), std::nullopt)).isOk());
    EXPECT_TRUE((co_await w.write(std::string_view("<a>"))).isOk());
    EXPECT_TRUE((co_await w.write(std::string_view(""))).isOk());  // no premature last chunk
    EXPECT_TRUE((co_await w.write(std::string(20000, 'z'))).isOk());
    EXPECT_TRUE((co_await w.write(std::string_view("</a>"))).isOk());
    // finish() is left to the server.
  });
  TestClient c(port());
  ASSERT_TRUE(c.send(get("/list")));
  ClientResponse r = c.read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.headerOr("transfer-encoding"), "chunked");
  EXPECT_EQ(r.header("content-length"), nullptr);
  EXPECT_EQ(r.body, "<a>" + std::string(20000, 'z') + "</a>");
  ASSERT_TRUE(c.send(get("/list")));
  EXPECT_TRUE(c.read().complete);
}

TEST_F(ServerTest, HeadResponsesCarryNoBody) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(), "hello");
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("HEAD /o HTTP/1.1\r\nHost: t\r\n\r\n"));
  ClientResponse head = c.read(/*head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headerOr("content-length"), "5");
  // If body bytes had been sent, they would be parsed as the next response here.
  ASSERT_TRUE(c.send(get("/o")));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
}

TEST_F(ServerTest, NoContentAndNotModifiedHaveNoFraming) {
  startServer([](Request& req, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(req.path == "/204" ? 204 : 304), "ignored");
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send(get("/204") + get("/304") + get("/204")));
  for (int status : {204, 304, 204}) {
    ClientResponse r = c.read();
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.header("content-length"), nullptr);
    EXPECT_EQ(r.header("transfer-encoding"), nullptr);
  }
}

TEST_F(ServerTest, Http10ClientWithoutLengthGetsBodyUntilClose) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    EXPECT_TRUE((co_await w.start(reply(), std::nullopt)).isOk());
    EXPECT_TRUE((co_await w.write(std::string_view("old client"))).isOk());
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("GET / HTTP/1.0\r\n\r\n"));
  ClientResponse r = c.read();
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.header("transfer-encoding"), nullptr);
  EXPECT_EQ(r.headerOr("connection"), "close");
  EXPECT_EQ(r.body, "old client");
}

TEST_F(ServerTest, Http10KeepAlive) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(), "x");
    s.ignoreError();
  });
  TestClient c(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    ClientResponse r = c.read();
    EXPECT_EQ(r.body, "x");
    EXPECT_EQ(r.headerOr("connection"), "keep-alive");
  }
}

TEST_F(ServerTest, SmallUnreadBodyIsDrainedAndTheConnectionKept) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(), "ignored your body");
    s.ignoreError();
  });
  TestClient c(port());
  ASSERT_TRUE(c.send("PUT /o HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" +
                     std::string(1000, 'b')));
  ClientResponse r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), nullptr);
  ASSERT_TRUE(c.send("PUT /o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\n\r\n"));
  EXPECT_EQ(c.read().status, 200);
  ASSERT_TRUE(c.send(get("/next")));
  EXPECT_EQ(c.read().status, 200);
}

TEST_F(ServerTest, LargeUnreadBodyClosesTheConnection) {
  startServer([](Request&, RequestBody&, ResponseWriter& w) -> asio::awaitable<void> {
    Status s = co_await w.respond(reply(403), "no");
    s.ignoreError();
  });
  TestClient c(port());
  std::thread sender([&] {
    c.send("PUT /o HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n");
    c.send(std::string(1 << 20, 'b'));  // the rest never comes
  });
  ClientResponse r = c.read();
  sender.join();
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headerOr("connection"), "close");
  EXPECT_TRUE(c.waitClosed());
}

}  // namespace
}  // namespace ember::http::testing
