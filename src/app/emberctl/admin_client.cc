#include "app/emberctl/admin_client.h"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "auth/sigv4.h"
#include "http/client.h"

namespace ember::ctl {

namespace {

constexpr uint64_t kMaxReplyBytes = 64ULL << 20;

asio::awaitable<Result<AdminReply>> exchange(asio::any_io_executor ex, http::FetchRequest req) {
  http::OutboundBody noBody;
  auto sent = co_await http::send(ex, std::move(req), std::move(noBody));
  if (!sent) {
    co_return unexpected(sent.error());
  }
  std::unique_ptr<http::ClientResponse>& resp = *sent;
  AdminReply reply;
  reply.status = resp->status();
  reply.contentType = std::string(resp->headers().get("content-type"));
  std::vector<char> buf(64 * 1024);
  for (;;) {
    Result<size_t> n = co_await resp->body().read(std::span<char>(buf));
    if (!n) {
      co_return unexpected(n.error());
    }
    if (*n == 0) {
      break;
    }
    reply.body.append(buf.data(), *n);
  }
  co_return reply;
}

}  // namespace

Result<std::string> adminBaseUrl(std::string_view url, std::optional<uint16_t> port) {
  std::string text(url);
  if (text.find("://") == std::string::npos) {
    text = "http://" + text;
  }
  auto parsed = http::parseUrl(text);
  if (!parsed) {
    return unexpected(Code::kInvalidArgument,
                      "bad admin URL \"" + std::string(url) + "\": " + parsed.error().message());
  }
  if (parsed->path != "/" || !parsed->query.empty()) {
    return unexpected(Code::kInvalidArgument,
                      "bad admin URL \"" + std::string(url) +
                          "\": give only scheme, host and port (like http://127.0.0.1:9001)");
  }
  if (port) {
    parsed->port = *port;
    parsed->explicitPort = true;
  }
  return parsed->scheme + "://" + parsed->authority();
}

Result<uint16_t> portFromPortFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return unexpected(Code::kIOError, "cannot read the port file " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return unexpected(Code::kInvalidArgument, "the port file " + path + " is not JSON");
  }
  auto it = j.find("admin");
  if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() == 0 ||
      it->get<uint64_t>() > 65535) {
    return unexpected(Code::kInvalidArgument, "the port file " + path + " has no \"admin\" port");
  }
  return static_cast<uint16_t>(it->get<uint64_t>());
}

Result<AdminReply> adminRequest(const std::string& method, const std::string& base,
                                const std::string& target, std::chrono::milliseconds readTimeout,
                                std::chrono::milliseconds connectTimeout) {
  http::FetchRequest req;
  req.method = method;
  req.url = base + target;
  req.connectTimeout = connectTimeout;
  req.readTimeout = readTimeout;
  req.allowRestrictedAddresses = true;  // the operator's own emberd, usually on loopback
  req.maxBodyBytes = kMaxReplyBytes;
  req.userAgent = "emberctl/0.1";
  req.headers.add("Accept", "application/json");
  asio::io_context ioc;
  auto fut = asio::co_spawn(ioc, exchange(ioc.get_executor(), std::move(req)), asio::use_future);
  ioc.run();
  return fut.get();
}

std::string encodeQueryValue(std::string_view value) {
  return auth::uriEncode(value, /*encodeSlash=*/true);
}

}  // namespace ember::ctl
