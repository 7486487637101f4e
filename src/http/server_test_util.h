#pragma once
// Test support for the server tests (header-only, included by *_test.cc only): a blocking raw
// socket client with receive timeouts, so a broken server fails a test instead of hanging it, and
// a fixture that runs a Server on 127.0.0.1:0 with two io_context threads.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/metrics.h"
#include "http/http.h"

namespace ember::http::testing {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  bool complete = false;  // the whole response (body included) arrived

  const std::string* header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) {
        return &v;
      }
    }
    return nullptr;
  }
  std::string headerOr(std::string_view name, std::string fallback = {}) const {
    const std::string* v = header(name);
    return v ? *v : fallback;
  }
};

// One blocking TCP connection. Every receive gives up after `timeout`.
class TestClient {
 public:
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{};
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~TestClient() { close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return connected_; }

  // Sends everything; false if the peer is gone.
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Closes the socket; with reset, as an abortive close (RST).
  void close(bool reset = false) {
    if (fd_ < 0) {
      return;
    }
    if (reset) {
      linger l{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    ::close(fd_);
    fd_ = -1;
  }

  // Reads one response (an interim 1xx one is returned as such). For a HEAD request pass
  // head = true. A missing or truncated response has complete == false.
  ClientResponse read(bool head = false) {
    ClientResponse r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return r;
      }
    }
    std::string_view headText(buf_.data(), end);
    size_t lineEnd = headText.find("\r\n");
    std::string_view statusLine = headText.substr(0, lineEnd);
    if (statusLine.size() >= 12) {
      r.status = std::atoi(std::string(statusLine.substr(9, 3)).c_str());
    }
    while (lineEnd != std::string_view::npos) {
      headText.remove_prefix(lineEnd + 2);
      lineEnd = headText.find("\r\n");
      std::string_view line = headText.substr(0, lineEnd);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        continue;
      }
      std::string name(line.substr(0, colon));
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
      }
      r.headers.emplace_back(std::move(name), std::string(value));
    }
    buf_.erase(0, end + 4);
    if (r.status < 200 || head || r.status == 204 || r.status == 304) {
      r.complete = true;
      return r;
    }
    if (r.headerOr("transfer-encoding") == "chunked") {
      r.complete = readChunked(r.body);
    } else if (const std::string* cl = r.header("content-length")) {
      size_t n = std::stoull(*cl);
      r.complete = readExactly(n, r.body);
    } else {
      while (fill()) {
      }
      r.body = std::move(buf_);
      buf_.clear();
      r.complete = eof_;
    }
    return r;
  }

  // True when the server closes the connection (EOF or reset) before `within` passes; bytes that
  // arrive meanwhile are kept for read().
  bool waitClosed(std::chrono::milliseconds within = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!fill()) {
        return eof_;
      }
    }
    return false;
  }

  const std::string& buffered() const { return buf_; }

 private:
  // Appends received bytes to buf_; false on EOF, error or timeout.
  bool fill() {
    if (fd_ < 0 || eof_) {
      return false;
    }
    char tmp[64 * 1024];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      eof_ = true;
    }
    return false;
  }

  bool readExactly(size_t n, std::string& out) {
    while (buf_.size() < n) {
      if (!fill()) {
        out = buf_;
        buf_.clear();
        return false;
      }
    }
    out.append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

  bool readLine(std::string& line) {
    size_t pos;
    while ((pos = buf_.find("\r\n")) == std::string::npos) {
      if (!fill()) {
        return false;
      }
    }
    line = buf_.substr(0, pos);
    buf_.erase(0, pos + 2);
    return true;
  }

  bool readChunked(std::string& out) {
    for (;;) {
      std::string line;
      if (!readLine(line)) {
        return false;
      }
      size_t size = std::stoull(line, nullptr, 16);
      if (size == 0) {
        // Trailer fields until an empty line.
        do {
          if (!readLine(line)) {
            return false;
          }
        } while (!line.empty());
        return true;
      }
      if (!readExactly(size, out) || !readLine(line) || !line.empty()) {
        return false;
      }
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

// Polls `pred` until it holds or `within` passes.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds within = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A Server on 127.0.0.1:0 over an io_context run by two threads. The metrics label `server` is
// unique per server instance, so tests can read their own counters from the global registry.
class ServerFixture : public ::testing::Test {
 protected:
  void startServer(Handler handler, ServerOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    static std::atomic<int> instances{0};  // fresh series when a test is repeated
    options.name = std::string(info->test_suite_name()) + "." + info->name() + "#" +
                   std::to_string(instances++);
    name_ = options.name;
    server_ = std::make_unique<Server>(ioc_, options, std::move(handler));
    Status s = server_->start();
    ASSERT_TRUE(s.isOk()) << s.toString();
    for (int i = 0; i < 2; ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
  }

  void TearDown() override {
    if (server_) {
      server_->stop(std::chrono::milliseconds(0));
      EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
    }
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) {
      t.join();
    }
    server_.reset();
  }

  uint16_t port() const { return server_->port(); }

  uint64_t counter(const std::string& family, metrics::Labels extra = {}) {
    extra.emplace_back("server", name_);
    return metrics::Registry::global().counter(family, "", extra).value();
  }

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(ioc_);
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
  std::string name_;
};

}  // namespace ember::http::testing
