// The server side of Beast (the other translation unit that includes it is client.cc): a basic_parser subclass
// that writes the request head straight into http::Request and body bytes into the caller's buffer.

#include "http/request_decoder.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace ember::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using beast::error_code;

namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Beast reports every malformed version as bad_version; only a well-formed "HTTP/x.y" with a
// major version other than 1 deserves 505 rather than 400.
bool isOtherHttpVersion(std::string_view in) {
  std::string_view line = in.substr(0, in.find("\r\n"));
  size_t sp = line.rfind(' ');
  if (sp == std::string_view::npos) {
    return false;
  }
  std::string_view v = line.substr(sp + 1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return v.size() == 8 && v.substr(0, 5) == "HTTP/" && digit(v[5]) && v[6] == '.' &&
         digit(v[7]) && v[5] != '1';
}

// Per-request decoding state, shared by the Beast callbacks and RequestDecoder.
struct DecoderState {
  explicit DecoderState(DecoderLimits l) : limits(l) {}

  // Records the first error; the parser then stops with `ec` set.
  void fail(int status, std::string detail, error_code& ec) {
    if (errorStatus == 0) {
      errorStatus = status;
      errorDetail = std::move(detail);
    }
    ec = bhttp::error::bad_value;
  }

  const DecoderLimits limits;
  Request* req = nullptr;
  size_t headBytes = 0;  // head bytes consumed so far (including skipped leading CRLFs)
  size_t fieldCount = 0;
  size_t trailerCount = 0;
  int errorStatus = 0;
  std::string errorDetail;
  int version = 11;
  bool headDone = false;
  bool hostSeen = false;
  bool transferEncodingSeen = false;
  bool expect100 = false;
  bool expect100NoBody = false;
  BodyFraming framing = BodyFraming::kNone;
  // Body output window for the current putBody() call.
  char* out = nullptr;
  size_t outSize = 0;
  size_t produced = 0;
};

class BeastRequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit BeastRequestParser(DecoderState* d) : d_(d) {}

 private:
  void on_request_impl(bhttp::verb method, beast::string_view methodSv, beast::string_view targetSv,
                       int version, error_code& ec) override {
    std::string_view methodStr(methodSv.data(), methodSv.size());
    std::string_view target(targetSv.data(), targetSv.size());
    Request& req = *d_->req;
    req.method.assign(methodStr);
    req.target.assign(target);
    d_->version = version;
    std::string_view pathAndQuery;
    if (!target.empty() && target.front() == '/') {
      pathAndQuery = target;  // origin-form, what every S3 client sends
    } else if (target == "*") {
      if (method != bhttp::verb::options) {
        d_->fail(400, "asterisk-form target on a method other than OPTIONS", ec);
        return;
      }
      req.path.assign("*");
      return;
    } else if (startsWithNoCase(target, "http://") || startsWithNoCase(target, "https://")) {
      // absolute-form (proxies): keep the path and query after the authority.
      std::string_view rest = target.substr(target.find("://") + 3);
      size_t slash = rest.find_first_of("/?");
      if (slash == std::string_view::npos) {
        pathAndQuery = "/";
      } else if (rest[slash] == '?') {
        req.path.assign("/");
        req.query.assign(rest.substr(slash + 1));
        return;
      } else {
        pathAndQuery = rest.substr(slash);
      }
    } else {
      d_->fail(400, "malformed request target", ec);
      return;
    }
    size_t q = pathAndQuery.find('?');
    req.path.assign(pathAndQuery.substr(0, q));
    if (q != std::string_view::npos) {
      req.query.assign(pathAndQuery.substr(q + 1));
    }
  }

  void on_response_impl(int, beast::string_view, int, error_code& ec) override {
    ec = bhttp::error::bad_version;  // unreachable for a request parser
  }

  void on_field_impl(bhttp::field name, beast::string_view nameSv, beast::string_view valueSv,
                     error_code& ec) override {
    std::string_view nameStr(nameSv.data(), nameSv.size());
    std::string_view value(valueSv.data(), valueSv.size());
    if (d_->headDone) {
      // Chunk trailer: bounded like the head, then dropped (nothing in Ember reads trailers).
      if (++d_->trailerCount > d_->limits.maxHeaderCount) {
        d_->fail(431, "too many trailer fields", ec);
      }
      return;
    }
    if (++d_->fieldCount > d_->limits.maxHeaderCount) {
      d_->fail(431, "too many header fields", ec);
      return;
    }
    switch (name) {
      case bhttp::field::host:
        if (d_->hostSeen) {
          d_->fail(400, "duplicate Host", ec);
          return;
        }
        d_->hostSeen = true;
        break;
      case bhttp::field::transfer_encoding:
        // Beast ignores codings it does not know, which would let "Transfer-Encoding: gzip"
        // smuggle a body as the next request. Only a single "chunked" is accepted.
        if (d_->transferEncodingSeen) {
          d_->fail(400, "repeated Transfer-Encoding", ec);
          return;
        }
        d_->transferEncodingSeen = true;
        if (!iequals(trimOws(value), "chunked")) {
          d_->fail(501, "unsupported Transfer-Encoding", ec);
          return;
        }
        break;
      case bhttp::field::expect:
        if (iequals(trimOws(value), "100-continue")) {
          d_->expect100 = true;
        }
        break;
      default:
        break;
    }
    d_->req->headers.add(std::string(nameStr), std::string(value));
  }

  void on_header_impl(error_code& ec) override {
    d_->headDone = true;
    if (d_->version >= 11 && !d_->hostSeen) {
      d_->fail(400, "missing Host", ec);
    }
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}

  size_t on_body_impl(beast::string_view body, error_code& ec) override {
    return copyOut(std::string_view(body.data(), body.size()), ec);
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}

  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override {
    return copyOut(std::string_view(body.data(), body.size()), ec);
  }

  void on_finish_impl(error_code&) override {}

  // Copies as much as fits. A full window reports need_buffer, which stops put() (its eager loop
  // would otherwise spin on a zero-byte copy) without being an error for the decoder.
  size_t copyOut(std::string_view body, error_code& ec) {
    size_t room = d_->outSize - d_->produced;
    size_t n = std::min(room, body.size());
    if (n > 0) {
      std::memcpy(d_->out + d_->produced, body.data(), n);
      d_->produced += n;
    }
    if (n < body.size()) {
      ec = bhttp::error::need_buffer;
    }
    return n;
  }

  DecoderState* d_;
};

}  // namespace

struct RequestDecoder::Impl : DecoderState {
  using DecoderState::DecoderState;
  std::optional<BeastRequestParser> parser;  // re-emplaced per request (Beast parsers are one-shot)
};

RequestDecoder::RequestDecoder(DecoderLimits limits) : impl_(std::make_unique<Impl>(limits)) {}

RequestDecoder::~RequestDecoder() = default;

void RequestDecoder::reset(Request* req) {
  Impl& d = *impl_;
  d.req = req;
  req->method.clear();
  req->target.clear();
  req->path.clear();
  req->query.clear();
  req->headers = Headers();
  req->contentLength.reset();
  req->keepAlive = true;
  d.headBytes = 0;
  d.fieldCount = 0;
  d.trailerCount = 0;
  d.errorStatus = 0;
  d.errorDetail.clear();
  d.version = 11;
  d.headDone = false;
  d.hostSeen = false;
  d.transferEncodingSeen = false;
  d.expect100 = false;
  d.expect100NoBody = false;
  d.framing = BodyFraming::kNone;
  d.out = nullptr;
  d.outSize = 0;
  d.produced = 0;
  d.parser.emplace(&d);
  constexpr size_t kMaxBeastLimit = std::numeric_limits<std::uint32_t>::max();
  d.parser->header_limit(static_cast<std::uint32_t>(std::min(d.limits.maxHeaderBytes,
                                                             kMaxBeastLimit)));
  d.parser->body_limit(d.limits.maxBodyBytes);
  d.parser->eager(false);  // stop after the head; putBody() turns eager on
}

RequestDecoder::HeadStep RequestDecoder::putHead(std::string_view in) {
  Impl& d = *impl_;
  HeadStep step;
  // Leading empty lines are allowed before the request line.
  if (!d.parser->got_some()) {
    while (in.size() >= 2 && in[0] == '\r' && in[1] == '\n' &&
           d.headBytes + 2 <= d.limits.maxHeaderBytes) {
      in.remove_prefix(2);
      d.headBytes += 2;
      step.consumed += 2;
    }
    if (in.size() == 1 && in[0] == '\r') {
      return step;  // maybe the first half of another empty line
    }
  }
  // Beast's header_limit bounds only the unconsumed window of one put(); the total is bounded
  // here by never offering more than the bytes left under maxHeaderBytes.
  size_t window = d.limits.maxHeaderBytes - d.headBytes;
  bool truncated = in.size() >= window;
  std::string_view offer = in.substr(0, window);
  error_code ec;
  size_t n = d.parser->put(boost::asio::const_buffer(offer.data(), offer.size()), ec);
  d.headBytes += n;
  step.consumed += n;
  if (ec == bhttp::error::need_more) {
    if (truncated) {
      d.errorStatus = 431;
      d.errorDetail = "request head too large";
      d.expect100 = false;
      step.state = HeadState::kError;
    }
    return step;
  }
  if (ec) {
    if (d.errorStatus == 0) {
      if (ec == bhttp::error::header_limit) {
        d.errorStatus = 431;
      } else if (ec == bhttp::error::body_limit) {
        d.errorStatus = 413;
      } else if (ec == bhttp::error::bad_version && isOtherHttpVersion(offer)) {
        d.errorStatus = 505;
      } else {
        d.errorStatus = 400;
      }
      d.errorDetail = ec.message();
    }
    d.expect100 = false;
    step.state = HeadState::kError;
    return step;
  }
  if (!d.parser->is_header_done()) {
    return step;  // progress without completion (cannot happen with eager off, but be safe)
  }
  Request& req = *d.req;
  req.keepAlive = d.parser->keep_alive();
  if (d.parser->chunked()) {
    d.framing = BodyFraming::kChunked;
  } else {
    req.contentLength = d.parser->content_length().value_or(0);
    d.framing = *req.contentLength > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  }
  const bool expect = d.expect100 && d.version >= 11;
  d.expect100 = expect && d.framing != BodyFraming::kNone;
  d.expect100NoBody = expect && d.framing == BodyFraming::kNone;
  step.state = HeadState::kDone;
  return step;
}

int RequestDecoder::errorStatus() const { return impl_->errorStatus; }

const std::string& RequestDecoder::errorDetail() const { return impl_->errorDetail; }

BodyFraming RequestDecoder::framing() const { return impl_->framing; }

bool RequestDecoder::expectContinue() const { return impl_->expect100; }

bool RequestDecoder::expectContinueWithoutBody() const { return impl_->expect100NoBody; }

int RequestDecoder::version() const { return impl_->version; }

bool RequestDecoder::bodyDone() const {
  return impl_->framing == BodyFraming::kNone || impl_->parser->is_done();
}

Result<RequestDecoder::BodyStep> RequestDecoder::putBody(std::string_view in,
                                                        std::span<char> out) {
  Impl& d = *impl_;
  BodyStep step;
  if (bodyDone()) {
    step.done = true;
    return step;
  }
  d.out = out.data();
  d.outSize = out.size();
  d.produced = 0;
  d.parser->eager(true);
  error_code ec;
  step.consumed = d.parser->put(boost::asio::const_buffer(in.data(), in.size()), ec);
  step.produced = d.produced;
  d.out = nullptr;
  d.outSize = 0;
  if (ec && ec != bhttp::error::need_more && ec != bhttp::error::need_buffer) {
    if (ec == bhttp::error::body_limit) {
      return unexpected(Code::kEntityTooLarge, "request body exceeds the configured limit");
    }
    if (d.errorStatus == 431) {
      return unexpected(Code::kInvalidArgument, d.errorDetail);
    }
    return unexpected(Code::kInvalidArgument, "malformed chunked body: " + ec.message());
  }
  step.done = d.parser->is_done();
  return step;
}

}  // namespace ember::http
