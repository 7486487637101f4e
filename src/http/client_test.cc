// The outbound client (client.h): URL parsing, the host allow-list and the restricted-address
// test as plain functions; fetch() against a scripted raw-socket server (plain and TLS) for
// streaming, chunked bodies, redirects, the SSRF checks, timeouts and truncated bodies.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "http/client.h"

namespace ember::http::client_test {
namespace {

using std::chrono::milliseconds;

// ----------------------------------------------------------------------------------------- URLs

TEST(ParseUrl, AzureStyleUrl) {
  auto u = parseUrl("https://Acct.Blob.Core.Windows.NET/c/b%20x.bin?sv=2021&sig=a%2Bb#frag");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "acct.blob.core.windows.net");
  EXPECT_EQ(u->port, 443);
  EXPECT_FALSE(u->explicitPort);
  EXPECT_EQ(u->path, "/c/b%20x.bin");
  EXPECT_EQ(u->query, "sv=2021&sig=a%2Bb");
  EXPECT_EQ(u->authority(), "acct.blob.core.windows.net");
  EXPECT_EQ(u->target(), "/c/b%20x.bin?sv=2021&sig=a%2Bb");
  EXPECT_EQ(u->withoutQuery(), "https://acct.blob.core.windows.net/c/b%20x.bin");
}

TEST(ParseUrl, PortsPathsAndLiterals) {
  auto u = parseUrl("HTTP://127.0.0.1:10000/devstoreaccount1/c/b");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->port, 10000);
  EXPECT_TRUE(u->explicitPort);
  EXPECT_EQ(u->authority(), "127.0.0.1:10000");
  auto v6 = parseUrl("http://[::1]:8080/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->ipv6());
  EXPECT_EQ(v6->authority(), "[::1]:8080");
  auto bare = parseUrl("http://example.com");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
  EXPECT_EQ(bare->target(), "/");
  auto q = parseUrl("http://example.com.?a=1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->host, "example.com");  // the root dot is dropped
  EXPECT_EQ(q->path, "/");
  EXPECT_EQ(q->query, "a=1");
  auto dflt = parseUrl("https://h:443/p");
  ASSERT_TRUE(dflt);
  EXPECT_EQ(dflt->authority(), "h");  // the default port is not repeated in Host
}

TEST(ParseUrl, RejectsWhatCouldMisdirect) {
  for (const char* bad : {"ftp://h/x", "h/x", "/just/a/path", "http://user@h/x",
                          "http://user:pw@h/", "http://a@b@c/", "http:///x", "http://:80/x",
                          "http://h:0/", "http://h:65536/", "http://h:abc/", "http://h:/",
                          "http://h x/", "http://h/a b", "http://h/\x01", "http://h\\@evil/",
                          "http://::1/", "http://[::1/", "http://[::1]x/", "http://[fe80::1%25e]/",
                          "http://a..b/", "http://.a/", "http://h%2e/", "file:///etc/passwd"}) {
    EXPECT_FALSE(parseUrl(bad)) << bad;
  }
}

TEST(ResolveLocation, AbsoluteRelativeAndSchemeRelative) {
  auto base = parseUrl("http://h:81/a/b/c?x=1");
  ASSERT_TRUE(base);
  EXPECT_EQ(resolveLocation(*base, "https://o/p")->withoutQuery(), "https://o/p");
  EXPECT_EQ(resolveLocation(*base, "//o:9/p")->withoutQuery(), "http://o:9/p");
  EXPECT_EQ(resolveLocation(*base, "/root?y=2")->target(), "/root?y=2");
  EXPECT_EQ(resolveLocation(*base, "/root")->authority(), "h:81");
  EXPECT_EQ(resolveLocation(*base, "d")->path, "/a/b/d");
  EXPECT_FALSE(resolveLocation(*base, "ftp://o/p"));
}

// ----------------------------------------------------------------------------------- allow-list

TEST(HostAllowList, ParseErrors) {
  for (const char* bad : {"", "*", "*.", "a*.b", "*x.com", "*.*.com", "h:0", "h:99999", "::1",
                          "[::1", "*.[::1]", "h/x", "user@h", "h:"}) {
    auto l = HostAllowList::parse({bad});
    EXPECT_FALSE(l) << bad;
    if (!l) {
      EXPECT_NE(l.error().message().find(bad), std::string::npos) << l.error().message();
    }
  }
  EXPECT_TRUE(HostAllowList::parse({}));
  EXPECT_TRUE(HostAllowList::parse({" host.example:10000 ", "[::1]", "[::1]:9", "*.x.y:443"}));
}

TEST(HostAllowList, ExactAndWildcardMatches) {
  using M = HostAllowList::Match;
  auto l = HostAllowList::parse({"127.0.0.1:10000", "Source.Example.", "*.blob.core.windows.net",
                                 "*.internal:8443", "[::1]:7000"});
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->size(), 5u);
  EXPECT_EQ(l->match("127.0.0.1", 10000), M::kExact);
  EXPECT_EQ(l->match("127.0.0.1", 10001), M::kNone);  // the port is part of the entry
  EXPECT_EQ(l->match("source.example", 1), M::kExact);  // no port in the entry: any port
  EXPECT_EQ(l->match("source.example", 443), M::kExact);
  EXPECT_EQ(l->match("other.example", 443), M::kNone);
  EXPECT_EQ(l->match("acct.blob.core.windows.net", 443), M::kWildcard);
  EXPECT_EQ(l->match("a.b.blob.core.windows.net", 80), M::kWildcard);
  EXPECT_EQ(l->match("blob.core.windows.net", 443), M::kNone);  // not the apex
  EXPECT_EQ(l->match("evilblob.core.windows.net", 443), M::kNone);
  EXPECT_EQ(l->match("blob.core.windows.net.evil", 443), M::kNone);
  EXPECT_EQ(l->match("svc.internal", 8443), M::kWildcard);
  EXPECT_EQ(l->match("svc.internal", 443), M::kNone);
  EXPECT_EQ(l->match("::1", 7000), M::kExact);
  auto u = parseUrl("https://ACCT.blob.core.windows.net./c/b");
  ASSERT_TRUE(u);
  EXPECT_EQ(l->match(*u), M::kWildcard);
  // an exact entry beats a wildcard for the same host
  auto both = HostAllowList::parse({"*.example.com", "a.example.com"});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->match("a.example.com", 80), M::kExact);
  EXPECT_EQ(both->match("b.example.com", 80), M::kWildcard);
  EXPECT_EQ(HostAllowList().match("anything", 80), M::kNone);
}

TEST(RestrictedAddress, LoopbackLinkLocalAndFriends) {
  for (const char* ip : {"127.0.0.1", "127.5.6.7", "0.0.0.0", "0.1.2.3", "169.254.169.254",
                         "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "ff02::1",
                         "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "garbage",
                         ""}) {
    EXPECT_TRUE(isRestrictedAddress(ip)) << ip;
  }
  for (const char* ip : {"10.0.0.1", "192.168.1.1", "172.16.0.1", "8.8.8.8", "2001:db8::1",
                         "fd00::1", "::ffff:8.8.8.8", "169.253.1.1"}) {
    EXPECT_FALSE(isRestrictedAddress(ip)) << ip;
  }
}

// ------------------------------------------------------------------------- scripted test server

// One side of an accepted connection (TLS when the server has an SSL_CTX).
struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  bool send(std::string_view d) const {
    while (!d.empty()) {
      int n = ssl ? SSL_write(ssl, d.data(), static_cast<int>(d.size()))
                  : static_cast<int>(::send(fd, d.data(), d.size(), MSG_NOSIGNAL));
      if (n <= 0) {
        return false;
      }
      d.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  int recv(char* buf, size_t n) const {
    return ssl ? SSL_read(ssl, buf, static_cast<int>(n))
               : static_cast<int>(::recv(fd, buf, n, 0));
  }
};

// Accepts connections on 127.0.0.1 one at a time, reads a request head and runs the script for it
// (which writes the response). Records the heads it received.
class ScriptedServer {
 public:
  using Script = std::function<void(const Conn&, const std::string& head)>;

  explicit ScriptedServer(Script script, SSL_CTX* tls = nullptr)
      : script_(std::move(script)), tls_(tls) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }

  uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  std::vector<std::string> heads() {
    std::lock_guard lock(mu_);
    return heads_;
  }

 private:
  void loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        return;
      }
      ++connections_;
      timeval tv{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      Conn conn{c, nullptr};
      bool ok = true;
      if (tls_ != nullptr) {
        conn.ssl = SSL_new(tls_);
        SSL_set_fd(conn.ssl, c);
        ok = SSL_accept(conn.ssl) == 1;
      }
      std::string head;
      char buf[4096];
      while (ok && head.find("\r\n\r\n") == std::string::npos) {
        int n = conn.recv(buf, sizeof(buf));
        if (n <= 0) {
          ok = false;
          break;
        }
        head.append(buf, static_cast<size_t>(n));
      }
      if (ok) {
        {
          std::lock_guard lock(mu_);
          heads_.push_back(head);
        }
        script_(conn, head);
      }
      if (conn.ssl != nullptr) {
        SSL_shutdown(conn.ssl);
        SSL_free(conn.ssl);
      }
      ::close(c);
    }
  }

  Script script_;
  SSL_CTX* tls_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::string> heads_;
};

std::string okHead(uint64_t length, std::string_view extra = {}) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(length) + "\r\n" +
         std::string(extra) + "\r\n";
}

std::string patterned(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 131 + i / 7919) & 0xff);
  }
  return s;
}

struct Fetched {
  Status error;  // fetch() or body read error
  bool bodyError = false;
  int status = 0;
  Headers headers;
  std::optional<uint64_t> contentLength;
  std::string body;
};

asio::awaitable<Fetched> doFetch(asio::any_io_executor ex, FetchRequest req, size_t readSize) {
  Fetched out;
  auto r = co_await fetch(ex, std::move(req));
  if (!r) {
    out.error = r.error();
    co_return out;
  }
  out.status = (*r)->status();
  out.headers = (*r)->headers();
  out.contentLength = (*r)->contentLength();
  std::vector<char> buf(readSize);
  for (;;) {
    auto n = co_await (*r)->body().read(std::span<char>(buf));
    if (!n) {
      out.error = n.error();
      out.bodyError = true;
      break;
    }
    if (*n == 0) {
      break;
    }
    out.body.append(buf.data(), *n);
  }
  co_return out;
}

Fetched runFetch(FetchRequest req, size_t readSize = 16 * 1024) {
  asio::io_context ioc;
  auto fut = asio::co_spawn(ioc, doFetch(ioc.get_executor(), std::move(req), readSize),
                            asio::use_future);
  ioc.run();
  return fut.get();
}

FetchRequest localRequest(uint16_t port, std::string path = "/c/b?sig=x") {
  FetchRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + path;
  r.allowRestrictedAddresses = true;
  r.connectTimeout = milliseconds(3000);
  r.readTimeout = milliseconds(3000);
  return r;
}

// ------------------------------------------------------------------------------ fetch: plain

TEST(Fetch, StreamsALargeBodyInBoundedReads) {
  const std::string data = patterned(3 * 1024 * 1024 + 17);
  ScriptedServer srv([&](const Conn& c, const std::string&) {
    c.send(okHead(data.size(), "Content-Type: image/png\r\nx-ms-meta-a: 1\r\n") + data);
  });
  FetchRequest req = localRequest(srv.port());
  req.headers.add("Authorization", "Bearer tok");
  req.headers.add("x-ms-version", "2021-12-02");
  Fetched f = runFetch(std::move(req), 1000);
  ASSERT_TRUE(f.error.isOk()) << f.error.toString();
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.contentLength, data.size());
  EXPECT_EQ(f.headers.get("content-type"), "image/png");
  EXPECT_EQ(f.headers.get("x-ms-meta-a"), "1");
  EXPECT_TRUE(f.body == data);
  auto heads = srv.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_TRUE(heads[0].starts_with("GET /c/b?sig=x HTTP/1.1\r\n")) << heads[0];
  EXPECT_NE(heads[0].find("Host: 127.0.0.1:" + std::to_string(srv.port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(heads[0].find("Authorization: Bearer tok\r\n"), std::string::npos);
  EXPECT_NE(heads[0].find("x-ms-version: 2021-12-02\r\n"), std::string::npos);
  EXPECT_NE(heads[0].find("Connection: close\r\n"), std::string::npos);
}

TEST(Fetch, ChunkedBodyAndHead) {
  ScriptedServer srv([](const Conn& c, const std::string& head) {
    if (head.starts_with("HEAD")) {
      c.send(okHead(1000));
      return;
    }
    c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  });
  Fetched f = runFetch(localRequest(srv.port()));
  ASSERT_TRUE(f.error.isOk()) << f.error.toString();
  EXPECT_FALSE(f.contentLength);
  EXPECT_EQ(f.body, "hello world");
  FetchRequest head = localRequest(srv.port());
  head.method = "HEAD";
  Fetched h = runFetch(std::move(head));
  ASSERT_TRUE(h.error.isOk()) << h.error.toString();
  EXPECT_EQ(h.contentLength, 1000u);
  EXPECT_EQ(h.body, "");
}

TEST(Fetch, ErrorStatusesAreResponses) {
  ScriptedServer srv([](const Conn& c, const std::string&) {
    c.send("HTTP/1.1 404 The specified blob does not exist.\r\nx-ms-error-code: BlobNotFound\r\n"
           "Content-Length: 3\r\n\r\nnop");
  });
  Fetched f = runFetch(localRequest(srv.port()));
  ASSERT_TRUE(f.error.isOk()) << f.error.toString();
  EXPECT_EQ(f.status, 404);
  EXPECT_EQ(f.headers.get("x-ms-error-code"), "BlobNotFound");
}

TEST(Fetch, RedirectsAreNotFollowedByDefault) {
  ScriptedServer srv([](const Conn& c, const std::string& head) {
    if (head.starts_with("GET /final")) {
      c.send(okHead(2) + "ok");
      return;
    }
    c.send("HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n");
  });
  Fetched f = runFetch(localRequest(srv.port(), "/start"));
  ASSERT_TRUE(f.error.isOk()) << f.error.toString();
  EXPECT_EQ(f.status, 302);
  EXPECT_EQ(srv.connections(), 1);
  // opted in: followed, Authorization kept on the same origin
  FetchRequest follow = localRequest(srv.port(), "/start");
  follow.maxRedirects = 1;
  follow.headers.add("Authorization", "Bearer same-origin");
  Fetched g = runFetch(std::move(follow));
  ASSERT_TRUE(g.error.isOk()) << g.error.toString();
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body, "ok");
  auto heads = srv.heads();
  ASSERT_EQ(heads.size(), 3u);
  EXPECT_TRUE(heads[2].starts_with("GET /final HTTP/1.1")) << heads[2];
  EXPECT_NE(heads[2].find("Authorization: Bearer same-origin"), std::string::npos);
}

TEST(Fetch, RedirectHopsAreCheckedAgainstTheAllowList) {
  ScriptedServer srv([](const Conn& c, const std::string&) {
    c.send("HTTP/1.1 301 Moved\r\nLocation: http://169.254.169.254/latest/meta-data\r\n"
           "Content-Length: 0\r\n\r\n");
  });
  auto list = HostAllowList::parse({"127.0.0.1:" + std::to_string(srv.port())});
  ASSERT_TRUE(list);
  FetchRequest req = localRequest(srv.port());
  req.allowRestrictedAddresses = false;
  req.allowList = &*list;
  req.maxRedirects = 3;
  Fetched f = runFetch(std::move(req));
  EXPECT_EQ(f.error.code(), Code::kPermissionDenied) << f.error.toString();
  EXPECT_EQ(srv.connections(), 1);
}

TEST(Fetch, SsrfChecksBeforeConnecting) {
  ScriptedServer srv([](const Conn& c, const std::string&) { c.send(okHead(0)); });
  const std::string port = std::to_string(srv.port());
  // no list, restricted addresses not allowed: loopback refused
  FetchRequest plain = localRequest(srv.port());
  plain.allowRestrictedAddresses = false;
  Fetched a = runFetch(std::move(plain));
  EXPECT_EQ(a.error.code(), Code::kPermissionDenied) << a.error.toString();
  // a host the list does not name
  auto other = HostAllowList::parse({"127.0.0.1:1"});
  FetchRequest unlisted = localRequest(srv.port());
  unlisted.allowList = &*other;
  Fetched b = runFetch(std::move(unlisted));
  EXPECT_EQ(b.error.code(), Code::kPermissionDenied) << b.error.toString();
  // a wildcard entry may not reach loopback (whatever the flag says)
  auto wild = HostAllowList::parse({"*.0.0.1"});
  FetchRequest viaWildcard = localRequest(srv.port());
  viaWildcard.allowList = &*wild;
  Fetched c = runFetch(std::move(viaWildcard));
  EXPECT_EQ(c.error.code(), Code::kPermissionDenied) << c.error.toString();
  EXPECT_EQ(srv.connections(), 0);
  // an exact entry may
  auto exact = HostAllowList::parse({"127.0.0.1:" + port});
  FetchRequest listed = localRequest(srv.port());
  listed.allowRestrictedAddresses = false;
  listed.allowList = &*exact;
  Fetched d = runFetch(std::move(listed));
  EXPECT_TRUE(d.error.isOk()) << d.error.toString();
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(srv.connections(), 1);
}

TEST(Fetch, BadRequestsAreRefused) {
  FetchRequest post = localRequest(1);
  post.method = "POST";
  EXPECT_EQ(runFetch(std::move(post)).error.code(), Code::kInvalidArgument);
  FetchRequest injected = localRequest(1);
  injected.headers.add("x-a", "1\r\nHost: evil");
  EXPECT_EQ(runFetch(std::move(injected)).error.code(), Code::kInvalidArgument);
  FetchRequest host = localRequest(1);
  host.headers.add("Host", "evil");
  EXPECT_EQ(runFetch(std::move(host)).error.code(), Code::kInvalidArgument);
  FetchRequest userinfo = localRequest(1);
  userinfo.url = "http://127.0.0.1:1@evil/x";
  EXPECT_EQ(runFetch(std::move(userinfo)).error.code(), Code::kInvalidArgument);
}

TEST(Fetch, ConnectionRefused) {
  uint16_t port;
  {
    ScriptedServer gone([](const Conn&, const std::string&) {});
    port = gone.port();
  }
  Fetched f = runFetch(localRequest(port));
  EXPECT_EQ(f.error.code(), Code::kUnavailable) << f.error.toString();
}

TEST(Fetch, TimeoutsOnHeadAndBody) {
  ScriptedServer silent([](const Conn&, const std::string&) {
    std::this_thread::sleep_for(milliseconds(600));
  });
  FetchRequest slowHead = localRequest(silent.port(), "/head");
  slowHead.readTimeout = milliseconds(200);
  Fetched a = runFetch(std::move(slowHead));
  EXPECT_EQ(a.error.code(), Code::kTimeout) << a.error.toString();
  ScriptedServer stalls([](const Conn& c, const std::string&) {
    c.send(okHead(100) + "partial");
    std::this_thread::sleep_for(milliseconds(600));
  });
  FetchRequest slowBody = localRequest(stalls.port(), "/body");
  slowBody.readTimeout = milliseconds(200);
  Fetched b = runFetch(std::move(slowBody));
  EXPECT_TRUE(b.bodyError);
  EXPECT_EQ(b.error.code(), Code::kTimeout) << b.error.toString();
  EXPECT_EQ(b.body, "partial");
}

TEST(Fetch, TruncatedBodyAndBodyLimit) {
  ScriptedServer srv([](const Conn& c, const std::string&) {
    c.send(okHead(100) + std::string(50, 'x'));
  });
  Fetched a = runFetch(localRequest(srv.port()));
  EXPECT_TRUE(a.bodyError);
  EXPECT_EQ(a.error.code(), Code::kIncompleteBody) << a.error.toString();
  EXPECT_EQ(a.body.size(), 50u);
  FetchRequest limited = localRequest(srv.port());
  limited.maxBodyBytes = 10;
  Fetched b = runFetch(std::move(limited));
  EXPECT_EQ(b.error.code(), Code::kEntityTooLarge) << b.error.toString();
}

// -------------------------------------------------------------------------------- fetch: TLS

struct TestPki {
  std::string certPem;
  SSL_CTX* server = nullptr;
  ~TestPki() { SSL_CTX_free(server); }
};

// A self-signed certificate (P-256) for `san` ("IP:127.0.0.1", "DNS:name") and a server SSL_CTX
// that presents it.
std::unique_ptr<TestPki> makePki(const std::string& san) {
  auto pki = std::make_unique<TestPki>();
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ember test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, san},
                            {NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  pki->certPem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  pki->server = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(pki->server, x);
  SSL_CTX_use_PrivateKey(pki->server, key);
  X509_free(x);
  EVP_PKEY_free(key);
  return pki;
}

std::string writeTemp(const std::string& text) {
  char path[] = "/tmp/ember-client-test-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

TEST(FetchTls, VerifiesTheChainAndTheName) {
  auto pki = makePki("IP:127.0.0.1");
  ScriptedServer srv([](const Conn& c, const std::string&) { c.send(okHead(6) + "secret"); },
                     pki->server);
  const std::string url = "https://127.0.0.1:" + std::to_string(srv.port()) + "/x";
  // trusted through the CA file
  const std::string caFile = writeTemp(pki->certPem);
  auto tls = TlsContext::create(caFile);
  ASSERT_TRUE(tls) << tls.error().toString();
  FetchRequest ok = localRequest(srv.port());
  ok.url = url;
  ok.tls = *tls;
  Fetched a = runFetch(std::move(ok));
  ASSERT_TRUE(a.error.isOk()) << a.error.toString();
  EXPECT_EQ(a.body, "secret");
  // the system store does not know the certificate
  FetchRequest untrusted = localRequest(srv.port());
  untrusted.url = url;
  Fetched b = runFetch(std::move(untrusted));
  EXPECT_EQ(b.error.code(), Code::kUnavailable) << b.error.toString();
  EXPECT_NE(b.error.message().find("certificate verify failed"), std::string::npos)
      << b.error.message();
  std::filesystem::remove(caFile);
  EXPECT_FALSE(TlsContext::create("/nonexistent/ca.pem"));
}

TEST(FetchTls, NameMismatchFails) {
  auto pki = makePki("DNS:other.example");
  ScriptedServer srv([](const Conn& c, const std::string&) { c.send(okHead(0)); }, pki->server);
  const std::string caFile = writeTemp(pki->certPem);
  auto tls = TlsContext::create(caFile);
  ASSERT_TRUE(tls);
  FetchRequest req = localRequest(srv.port());
  req.url = "https://127.0.0.1:" + std::to_string(srv.port()) + "/x";
  req.tls = *tls;
  Fetched f = runFetch(std::move(req));
  EXPECT_EQ(f.error.code(), Code::kUnavailable) << f.error.toString();
  std::filesystem::remove(caFile);
}

TEST(FetchTls, PlainServerFailsTheHandshake) {
  ScriptedServer srv([](const Conn& c, const std::string&) { c.send(okHead(0)); });
  FetchRequest req = localRequest(srv.port());
  req.url = "https://127.0.0.1:" + std::to_string(srv.port()) + "/x";
  req.connectTimeout = milliseconds(500);
  Fetched f = runFetch(std::move(req));
  EXPECT_NE(f.error.code(), Code::kOk);
}

}  // namespace
}  // namespace ember::http::client_test
