// libFuzzer target for the HTTP request parsing path: RequestDecoder (src/http/request_decoder.h),
// driven exactly as a connection drives it. The input's first two bytes choose how the rest is cut
// into socket reads and how large the handler's body buffer is; the rest is the byte stream of
// one connection, decoded as a sequence of pipelined requests (heads and bodies) until an error
// or the end of the input.
//
// Checked invariants (abort on violation): consumption never exceeds the input, every decoded
// request has a method and a path, errors carry one of the statuses the server sends, a body never
// produces more than its Content-Length or its window, and decoding always makes progress.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_decoder.h"

namespace {

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

// One connection's bytes, handed out in reads of `piece` bytes, with unconsumed bytes kept in
// front like the connection's receive buffer.
class Stream {
 public:
  Stream(std::string_view data, size_t piece) : data_(data), piece_(piece) {}
  std::string& buffer() { return buf_; }
  // Appends the next read; false when the input is exhausted.
  bool receive() {
    if (pos_ >= data_.size()) {
      return false;
    }
    size_t n = std::min(piece_, data_.size() - pos_);
    buf_.append(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }

 private:
  std::string_view data_;
  size_t piece_;
  size_t pos_ = 0;
  std::string buf_;
};

bool knownErrorStatus(int status) {
  return status == 400 || status == 413 || status == 431 || status == 501 || status == 505;
}

// Decodes one head; false when the stream ended or the head was rejected.
bool decodeHead(ember::http::RequestDecoder& d, ember::http::Request& req, Stream& s) {
  using State = ember::http::RequestDecoder::HeadState;
  for (;;) {
    std::string& buf = s.buffer();
    if (!buf.empty()) {
      ember::http::RequestDecoder::HeadStep step = d.putHead(buf);
      FUZZ_CHECK(step.consumed <= buf.size());
      buf.erase(0, step.consumed);
      if (step.state == State::kDone) {
        FUZZ_CHECK(!req.method.empty());
        FUZZ_CHECK(!req.path.empty());
        FUZZ_CHECK(req.target.size() >= req.path.size());
        return true;
      }
      if (step.state == State::kError) {
        FUZZ_CHECK(knownErrorStatus(d.errorStatus()));
        return false;
      }
    }
    if (!s.receive()) {
      return false;
    }
  }
}

// Decodes one body through a window of `window` bytes; false when the stream ended or the body
// was rejected.
bool decodeBody(ember::http::RequestDecoder& d, const ember::http::Request& req, Stream& s,
                size_t window) {
  std::vector<char> out(window);
  uint64_t total = 0;
  while (!d.bodyDone()) {
    std::string& buf = s.buffer();
    ember::Result<ember::http::RequestDecoder::BodyStep> step = d.putBody(buf, out);
    if (!step) {
      FUZZ_CHECK(step.error().code() == ember::Code::kInvalidArgument ||
                 step.error().code() == ember::Code::kEntityTooLarge);
      return false;
    }
    FUZZ_CHECK(step->consumed <= buf.size());
    FUZZ_CHECK(step->produced <= window);
    buf.erase(0, step->consumed);
    total += step->produced;
    if (req.contentLength) {
      FUZZ_CHECK(total <= *req.contentLength);
    }
    if (step->done) {
      FUZZ_CHECK(d.bodyDone());
      if (req.contentLength) {
        FUZZ_CHECK(total == *req.contentLength);
      }
      return true;
    }
    // No progress means the decoder needs input; anything else would loop forever.
    if (step->consumed == 0 && step->produced == 0 && !s.receive()) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  size_t piece = static_cast<size_t>(data[0]) + 1;
  size_t window = static_cast<size_t>(data[1]) + 1;
  std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  // Small limits so that inputs of fuzzer size reach them.
  ember::http::DecoderLimits limits;
  limits.maxHeaderBytes = 2048;
  limits.maxHeaderCount = 16;
  limits.maxBodyBytes = 4096;
  ember::http::RequestDecoder decoder(limits);
  ember::http::Request req;
  Stream s(stream, piece);
  for (int i = 0; i < 64; ++i) {
    decoder.reset(&req);
    if (!decodeHead(decoder, req, s)) {
      break;
    }
    FUZZ_CHECK(decoder.version() == 10 || decoder.version() == 11);
    if (decoder.framing() == ember::http::BodyFraming::kChunked) {
      FUZZ_CHECK(!req.contentLength.has_value());
    } else {
      FUZZ_CHECK(req.contentLength.has_value());
      FUZZ_CHECK(*req.contentLength <= limits.maxBodyBytes);
    }
    if (!decodeBody(decoder, req, s, window)) {
      break;
    }
  }
  return 0;
}
