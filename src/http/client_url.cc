// The pure half of the outbound client (client.h): URL parsing, redirect resolution, the host
// allow-list and the restricted-address test. No sockets; unit-tested in client_test.cc.
#include <charconv>

#include <boost/asio/ip/address.hpp>

#include "http/client.h"

namespace ember::http {

namespace {

constexpr uint16_t defaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

bool hostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

// A lower-cased DNS name or IPv4 literal: host characters only, no empty label. One trailing dot
// (the DNS root) is dropped so that "a.example." and "a.example" are one name to the allow-list.
Result<std::string> normalizeName(std::string_view in) {
  std::string h = toLower(in);
  if (!h.empty() && h.back() == '.') {
    h.pop_back();
  }
  if (h.empty()) {
    return unexpected(Code::kInvalidArgument, "the host is empty");
  }
  for (char c : h) {
    if (!hostChar(c)) {
      return unexpected(Code::kInvalidArgument, "the host contains a character a host name "
                                                "cannot have");
    }
  }
  if (h.front() == '.' || h.find("..") != std::string::npos) {
    return unexpected(Code::kInvalidArgument, "the host has an empty label");
  }
  return h;
}

Result<std::string> normalizeIpv6(std::string_view in) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address_v6(std::string(in), ec);
  if (ec || in.find('%') != std::string_view::npos) {
    return unexpected(Code::kInvalidArgument, "the host is not a valid IPv6 literal");
  }
  return a.to_string();
}

Result<uint16_t> parsePort(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || s.size() > 5 || ec != std::errc() || end != s.data() + s.size() || v == 0 ||
      v > 65535) {
    return unexpected(Code::kInvalidArgument, "the port is not a number in 1..65535");
  }
  return static_cast<uint16_t>(v);
}

struct HostPort {
  std::string host;
  std::optional<uint16_t> port;
};

// "host", "host:port", "[v6]" or "[v6]:port" (the authority of a URL without user info, or an
// allow-list entry without its "*").
Result<HostPort> splitHostPort(std::string_view a) {
  HostPort out;
  std::string_view portText;
  bool hasPort = false;
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos) {
      return unexpected(Code::kInvalidArgument, "an IPv6 literal lacks its closing bracket");
    }
    auto h = normalizeIpv6(a.substr(1, close - 1));
    EMBER_TRY(h);
    out.host = std::move(*h);
    std::string_view rest = a.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return unexpected(Code::kInvalidArgument, "unexpected text after an IPv6 literal");
      }
      hasPort = true;
      portText = rest.substr(1);
    }
  } else {
    size_t colon = a.find(':');
    if (colon != std::string_view::npos && a.find(':', colon + 1) != std::string_view::npos) {
      return unexpected(Code::kInvalidArgument, "an IPv6 literal must be in brackets");
    }
    auto h = normalizeName(a.substr(0, colon));
    EMBER_TRY(h);
    out.host = std::move(*h);
    if (colon != std::string_view::npos) {
      hasPort = true;
      portText = a.substr(colon + 1);
    }
  }
  if (hasPort) {
    auto p = parsePort(portText);
    EMBER_TRY(p);
    out.port = *p;
  }
  return out;
}

bool restrictedV4(const boost::asio::ip::address_v4& a) {
  auto b = a.to_bytes();
  return b[0] == 0 ||                     // "this network", 0.0.0.0
         b[0] == 127 ||                   // loopback
         (b[0] == 169 && b[1] == 254) ||  // link-local (cloud instance metadata)
         b[0] >= 224;                     // multicast, reserved, broadcast
}

}  // namespace

std::string Url::authority() const {
  std::string a = ipv6() ? "[" + host + "]" : host;
  if (port != defaultPort(scheme)) {
    a += ":" + std::to_string(port);
  }
  return a;
}

std::string Url::target() const { return query.empty() ? path : path + "?" + query; }

std::string Url::withoutQuery() const { return scheme + "://" + authority() + path; }

Result<Url> parseUrl(std::string_view in) {
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '\\') {
      return unexpected(Code::kInvalidArgument,
                        "the URL contains whitespace, a control character or a backslash");
    }
  }
  if (size_t hash = in.find('#'); hash != std::string_view::npos) {
    in = in.substr(0, hash);
  }
  size_t sep = in.find("://");
  if (sep == std::string_view::npos) {
    return unexpected(Code::kInvalidArgument, "not an absolute URL");
  }
  Url u;
  u.scheme = toLower(in.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") {
    return unexpected(Code::kInvalidArgument, "only http and https URLs are supported");
  }
  std::string_view rest = in.substr(sep + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return unexpected(Code::kInvalidArgument, "URLs with user info (user@host) are not accepted");
  }
  auto hp = splitHostPort(authority);
  if (!hp) {
    return unexpected(Code::kInvalidArgument, "bad URL host: " + hp.error().message());
  }
  u.host = std::move(hp->host);
  u.explicitPort = hp->port.has_value();
  u.port = hp->port.value_or(defaultPort(u.scheme));
  std::string_view pathQuery = end == std::string_view::npos ? "" : rest.substr(end);
  size_t q = pathQuery.find('?');
  u.path = std::string(pathQuery.substr(0, q));
  if (u.path.empty()) {
    u.path = "/";
  }
  if (q != std::string_view::npos) {
    u.query = std::string(pathQuery.substr(q + 1));
  }
  return u;
}

Result<Url> resolveLocation(const Url& base, std::string_view location) {
  size_t sep = location.find("://");
  if (sep != std::string_view::npos && location.find_first_of("/?") > sep) {
    return parseUrl(location);
  }
  if (location.starts_with("//")) {
    return parseUrl(base.scheme + ":" + std::string(location));
  }
  std::string prefix = base.scheme + "://" + base.authority();
  if (location.starts_with("/")) {
    return parseUrl(prefix + std::string(location));
  }
  std::string dir = base.path.substr(0, base.path.rfind('/') + 1);
  return parseUrl(prefix + dir + std::string(location));
}

Result<HostAllowList> HostAllowList::parse(const std::vector<std::string>& entries) {
  HostAllowList list;
  for (const std::string& raw : entries) {
    auto bad = [&raw](const std::string& why) {
      return unexpected(Code::kInvalidArgument, "bad host \"" + raw + "\": " + why);
    };
    std::string_view e = raw;
    while (!e.empty() && (e.front() == ' ' || e.front() == '\t')) {
      e.remove_prefix(1);
    }
    while (!e.empty() && (e.back() == ' ' || e.back() == '\t')) {
      e.remove_suffix(1);
    }
    Entry entry;
    if (e.starts_with("*")) {
      if (!e.starts_with("*.") || e.size() < 3) {
        return bad("a wildcard must have the form *.suffix");
      }
      entry.wildcard = true;
      e.remove_prefix(2);
      if (e.front() == '[') {
        return bad("a wildcard cannot name an IP address");
      }
    }
    if (e.find('*') != std::string_view::npos) {
      return bad("'*' may only start an entry, as in *.example.com");
    }
    auto hp = splitHostPort(e);
    if (!hp) {
      return bad(hp.error().message());
    }
    entry.host = entry.wildcard ? "." + hp->host : hp->host;
    entry.port = hp->port;
    list.entries_.push_back(std::move(entry));
  }
  return list;
}

HostAllowList::Match HostAllowList::match(std::string_view host, uint16_t port) const {
  Match best = Match::kNone;
  for (const Entry& e : entries_) {
    if (e.port && *e.port != port) {
      continue;
    }
    if (!e.wildcard && host == e.host) {
      return Match::kExact;
    }
    if (e.wildcard && host.size() > e.host.size() && host.ends_with(e.host)) {
      best = Match::kWildcard;
    }
  }
  return best;
}

bool isRestrictedAddress(std::string_view ip) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(ip), ec);
  if (ec) {
    return true;
  }
  if (a.is_v4()) {
    return restrictedV4(a.to_v4());
  }
  const auto v6 = a.to_v6();
  if (v6.is_unspecified() || v6.is_loopback() || v6.is_link_local() || v6.is_multicast()) {
    return true;
  }
  auto b = v6.to_bytes();
  bool zero10 = true;
  for (size_t i = 0; i < 10; ++i) {
    zero10 = zero10 && b[i] == 0;
  }
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the deprecated compatible form) carry an IPv4 address.
  if (zero10 && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0))) {
    return restrictedV4(boost::asio::ip::address_v4({b[12], b[13], b[14], b[15]}));
  }
  return false;
}

}  // namespace ember::http
