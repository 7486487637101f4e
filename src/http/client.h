#pragma once
// The outbound HTTP/1.1 client: one request per connection, over TCP or TLS, with the response
// body streamed through a ByteSource (never held whole in memory). fetch() (GET or HEAD) fetches
// remote copy sources (Blob Copy Blob / Put Blob From URL / Put Block From URL); send() adds PUT,
// POST and DELETE with a request body for the cold-store connectors (src/cold). Built to be safe
// to point at URLs chosen by clients (SSRF):
//   - only http:// and https:// URLs without user info are accepted (parseUrl);
//   - a HostAllowList decides which hosts may be contacted at all, and the addresses a name
//     resolves to are checked before connecting (loopback, link-local, unspecified and multicast
//     addresses are refused unless the host is listed exactly), then those same addresses are
//     connected to (no second lookup, so DNS rebinding cannot slip past the check);
//   - redirects are not followed unless the caller asks (FetchRequest::maxRedirects), and every
//     hop is checked like the first;
//   - every step has a deadline (connect: DNS + TCP + TLS; read: sending the request, the head,
//     and each body read).
// TLS verifies the peer's certificate chain against the system trust store (plus an optional CA
// file) and its name against the URL's host (SNI is sent for DNS names).
//
// Beast and OpenSSL stay inside client.cc; this header shows only Asio's awaitable/executor types.
// URL parsing, the allow-list and the address classification are plain functions, unit-tested in
// client_test.cc without sockets.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/headers.h"
#include "common/status.h"
#include "common/stream.h"

namespace ember::http {

// --- URLs ---

struct Url {
  std::string scheme;         // "http" or "https" (lower-cased)
  std::string host;           // lower-cased; an IPv6 literal without its brackets
  uint16_t port = 0;          // the explicit port, else 80 / 443
  bool explicitPort = false;  // the URL named a port
  std::string path;           // raw (percent-encoded) path, "/" when the URL has none
  std::string query;          // raw query string without '?', may be empty

  bool https() const { return scheme == "https"; }
  bool ipv6() const { return host.find(':') != std::string::npos; }
  // "host" or "host:port" as a Host header names it (the port only when not the default; IPv6
  // in brackets).
  std::string authority() const;
  // The request-target: path, plus "?query" when there is one.
  std::string target() const;
  // scheme://authority/path without the query (safe to log: a SAS lives in the query).
  std::string withoutQuery() const;
};

// Parses an absolute http(s) URL: scheme "://" host [":" port] [path] ["?" query] ["#" fragment,
// dropped]. Host: a DNS name (letters, digits, '-', '.', '_'; one trailing dot is dropped), an IPv4
// literal, or an IPv6 literal in brackets. Errors (kInvalidArgument, message says why): another
// scheme, user info ("user@host": a classic way to make a URL read as one host and go to
// another), an empty or malformed host, a port that is not 1..65535, whitespace, control
// characters or a backslash anywhere.
Result<Url> parseUrl(std::string_view url);

// Resolves a redirect's Location against the URL it came from: absolute URLs, scheme-relative
// ("//host/p"), absolute paths ("/p") and relative paths. Errors: parseUrl's.
Result<Url> resolveLocation(const Url& base, std::string_view location);

// --- SSRF policy ---

// Hosts an outbound request may go to. Entries (case-insensitive):
//   "host"            exactly this host, any port
//   "host:port"       exactly this host and port
//   "*.suffix"        any host ending in ".suffix" (not "suffix" itself), any port
//   "*.suffix:port"   the same, on that port only
// IPv6 literals are written in brackets: "[::1]:10000". An empty list allows nothing.
class HostAllowList {
 public:
  enum class Match {
    kNone,      // not listed: do not contact
    kWildcard,  // listed by a "*." entry: contact, but only at public (non-local) addresses
    kExact,     // listed by name: contact at whatever it resolves to (loopback included)
  };

  HostAllowList() = default;
  // Validates the entries. Errors: kInvalidArgument naming the bad entry (empty, "*" alone, a
  // wildcard not of the form "*.suffix", a bad port, characters a host cannot have).
  static Result<HostAllowList> parse(const std::vector<std::string>& entries);

  // The strongest match for host (lower-case, IPv6 without brackets) and port.
  Match match(std::string_view host, uint16_t port) const;
  Match match(const Url& url) const { return match(url.host, url.port); }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string host;             // exact host, or the suffix including its leading '.'
    bool wildcard = false;
    std::optional<uint16_t> port;
  };
  std::vector<Entry> entries_;
};

// True for addresses an SSRF-safe request must not reach unless the host was listed exactly:
// loopback (127/8, ::1), link-local (169.254/16, fe80::/10, where cloud metadata services live),
// unspecified ("this host": 0/8, ::), multicast and broadcast, and IPv4-mapped/compatible IPv6
// forms of those. Private ranges (10/8, 192.168/16, fc00::/7) are not refused: storage servers
// often live there. An unparsable string counts as restricted.
bool isRestrictedAddress(std::string_view ip);

// --- TLS ---

// Client-side TLS settings: the trust store and protocol floor (TLS 1.2). Thread-safe once
// created; share one per configuration.
class TlsContext {
 public:
  // The system trust store (OpenSSL's default paths), plus the PEM certificates of `caFile`
  // when it is not empty. Errors: kInvalidArgument naming the file when it cannot be loaded,
  // kInternal when OpenSSL cannot create a context.
  static Result<std::shared_ptr<TlsContext>> create(const std::string& caFile = {});
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  TlsContext();
  std::unique_ptr<Impl> impl_;
};

// --- fetching ---

struct FetchRequest {
  std::string method = "GET";  // "GET" or "HEAD"
  std::string url;
  // Extra request headers (e.g. Authorization, Range, x-ms-version). Host, Connection and
  // Content-Length are fetch()'s own and may not be given. Values may not contain CR, LF or NUL.
  Headers headers;
  std::chrono::milliseconds connectTimeout{10'000};  // DNS lookup + TCP connect + TLS handshake
  std::chrono::milliseconds readTimeout{60'000};     // request write, response head, each read
  // Redirects (301, 302, 303, 307, 308 with a Location) followed at most this many times; 0 = a
  // redirect is returned to the caller like any other response. Authorization is dropped when a
  // redirect changes the host, port or scheme. Each hop is checked against the policy below.
  int maxRedirects = 0;
  // Which hosts may be contacted. When set, a URL whose host it does not list fails with
  // kPermissionDenied before any connection; a wildcard match may not reach restricted addresses
  // (isRestrictedAddress), an exact match may. The list must outlive the fetch() call.
  const HostAllowList* allowList = nullptr;
  // Without an allowList: whether restricted addresses may be reached (false: SSRF-safe).
  bool allowRestrictedAddresses = false;
  // TLS settings for https URLs; nullptr = the system trust store (created on first use).
  std::shared_ptr<TlsContext> tls;
  size_t maxHeaderBytes = 64 * 1024;       // response status line + headers
  uint64_t maxBodyBytes = UINT64_MAX;      // larger bodies fail the read with kEntityTooLarge
  std::string userAgent = "ember/0.1";
};

// A response whose head has been read. The connection stays open until the body has been read to
// the end or the response is destroyed (it is never reused for another request). Lives on the
// executor fetch() ran on; body().read() must be called from there, one read at a time.
class ClientResponse {
 public:
  virtual ~ClientResponse() = default;
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }
  const Headers& headers() const { return headers_; }
  // Content-Length, when the response has one (absent for chunked or read-until-close bodies).
  std::optional<uint64_t> contentLength() const { return contentLength_; }
  // The URL that answered (differs from the request's after followed redirects).
  const Url& url() const { return url_; }
  // The body, decoded from chunked framing. read() returns 0 at its end; errors: kTimeout (no
  // data within readTimeout), kIncompleteBody (the peer closed early), kEntityTooLarge
  // (maxBodyBytes), kUnavailable (reset, malformed framing, TLS failure).
  virtual ByteSource& body() = 0;

 protected:
  int status_ = 0;
  std::string reason_;
  Headers headers_;
  std::optional<uint64_t> contentLength_;
  Url url_;
};

// Sends the request and reads the response head. Any status is a successful fetch: the caller
// decides what 404 or 302 mean. Errors:
//   kInvalidArgument   bad URL, method, or header
//   kPermissionDenied  the allow-list does not list the host, or every address it resolves to is
//                      restricted (see FetchRequest::allowList / allowRestrictedAddresses)
//   kTimeout           connect or read deadline passed
//   kEntityTooLarge    the response's Content-Length is over maxBodyBytes
//   kUnavailable       DNS failure, connection refused or reset, TLS handshake or certificate
//                      verification failure, malformed response, too many redirects
asio::awaitable<Result<std::unique_ptr<ClientResponse>>> fetch(asio::any_io_executor executor,
                                                               FetchRequest request);

// --- requests with a body (cold-store connectors) ---

// The body of send(): nothing, an in-memory string, or `size` bytes pulled from a ByteSource.
// The source must yield exactly `size` bytes (fewer fail the send with kIncompleteBody; more are
// not read) and must outlive the send() call.
struct OutboundBody {
  std::string data;              // used when source is null
  ByteSource* source = nullptr;
  uint64_t size = 0;             // the source's length (ignored when source is null)

  uint64_t length() const { return source != nullptr ? size : data.size(); }
};

// Like fetch(), for any of GET, HEAD, PUT, POST and DELETE, with a request body sent after the
// head with a Content-Length (always sent for PUT and POST, and for other methods when the body is
// not empty). Redirects are never followed (a body cannot be replayed): request.maxRedirects is
// ignored and a 3xx comes back as a response. Each body write has the read deadline. Errors: as
// fetch(), plus kInvalidArgument for another method, and the source's own read errors.
asio::awaitable<Result<std::unique_ptr<ClientResponse>>> send(asio::any_io_executor executor,
                                                              FetchRequest request,
                                                              OutboundBody body);

}  // namespace ember::http
