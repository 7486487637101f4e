// libFuzzer target for AwsChunkedSource (src/auth/chunked.h).
//
// Two kinds of input, chosen by the first byte:
//  - raw: the rest is an aws-chunked body decoded under one of the three streaming modes. Checks
//    memory safety, bounded buffering and that no more bytes come out than the body holds.
//  - round trip: the rest describes data, chunk sizes and trailers; the harness encodes a valid
//  body
//    (with real chunk and trailer signatures), optionally corrupts one byte, and decodes it. An
//    uncorrupted body must decode to exactly the data and trailers; in signed modes a corrupted
//    body that is still accepted must decode to the same data and trailers (signatures protect
//    every byte that matters).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "auth/chunked.h"
#include "auth/sigv4_test_signer.h"
#include "common/digest.h"

namespace ember::auth {
namespace {

// Hands out a body in pieces whose sizes come from the fuzzer; completes synchronously.
class FuzzSource : public ByteSource {
 public:
  FuzzSource(std::string data, std::vector<uint8_t> pieces)
      : data_(std::move(data)), pieces_(std::move(pieces)) {}

  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    size_t piece = pieces_.empty() ? 4096 : size_t{1} + pieces_[next_++ % pieces_.size()] * 37u;
    size_t n = std::min({buf.size(), data_.size() - pos_, piece});
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }

 private:
  std::string data_;
  std::vector<uint8_t> pieces_;
  size_t pos_ = 0;
  size_t next_ = 0;
};

struct Decoded {
  bool ok = false;
  std::string data;
  Headers trailers;
};

Decoded decodeBody(std::string body, std::vector<uint8_t> pieces, const AuthContext& ctx,
                   std::optional<uint64_t> decodedLength, size_t readSize) {
  static asio::io_context io;
  Decoded out;
  size_t bodySize = body.size();
  FuzzSource raw(std::move(body), std::move(pieces));
  AwsChunkedSource source(raw, ctx, decodedLength);
  auto run = [&]() -> asio::awaitable<void> {
    std::vector<char> buf(readSize);
    for (;;) {
      Result<size_t> n = co_await source.read(buf);
      if (!n) {
        co_return;
      }
      if (*n == 0) {
        out.ok = true;
        out.trailers = source.trailers();
        co_return;
      }
      if (*n > buf.size()) {
        std::abort();
      }
      out.data.append(buf.data(), *n);
    }
  };
  asio::co_spawn(io, run(), [](std::exception_ptr e) {
    if (e) {
      std::abort();  // the decoder must report errors as values, never throw
    }
  });
  io.run();
  io.restart();
  if (out.data.size() > bodySize) {
    std::abort();  // more payload than raw bytes
  }
  return out;
}

AuthContext contextFor(PayloadMode mode) {
  static const std::string key = deriveSigningKey("fuzz-secret", "20240101", "us-east-1", "s3");
  AuthContext ctx;
  ctx.anonymous = false;
  ctx.payload = mode;
  if (mode != PayloadMode::kStreamingUnsignedTrailer) {
    ctx.signingKey = key;
    ctx.seedSignature = sha256Hex("seed");
    ctx.amzDate = "20240101T000000Z";
    ctx.scope = "20240101/us-east-1/s3/aws4_request";
  }
  return ctx;
}

bool sameTrailers(const Headers& a, const std::vector<std::pair<std::string, std::string>>& b) {
  if (a.fields().size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < b.size(); ++i) {
    if (a.fields()[i].name != b[i].first || a.fields()[i].value != b[i].second) {
      return false;
    }
  }
  return true;
}

void roundTrip(FuzzedDataProvider& in, PayloadMode mode) {
  AuthContext ctx = contextFor(mode);
  std::vector<size_t> sizes;
  size_t chunkCount = in.ConsumeIntegralInRange<size_t>(0, 6);
  for (size_t i = 0; i < chunkCount; ++i) {
    sizes.push_back(in.ConsumeIntegralInRange<size_t>(1, 3000));
  }
  std::vector<std::pair<std::string, std::string>> trailers;
  if (mode != PayloadMode::kStreamingSigned) {
    size_t trailerCount = in.ConsumeIntegralInRange<size_t>(0, 3);
    for (size_t i = 0; i < trailerCount; ++i) {
      // Sorted, distinct, well-formed names; values without blanks at the ends or line breaks.
      std::string value = in.ConsumeRandomLengthString(40);
      std::erase_if(value, [](char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; });
      trailers.emplace_back("x-amz-checksum-" + std::to_string(i), value);
    }
  }
  bool corrupt = in.ConsumeBool();
  size_t corruptAt = in.ConsumeIntegral<size_t>();
  uint8_t corruptXor = in.ConsumeIntegralInRange<uint8_t>(1, 255);
  size_t readSize = in.ConsumeIntegralInRange<size_t>(1, 70000);
  std::vector<uint8_t> pieces = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 16));
  std::string data = in.ConsumeRemainingBytesAsString();

  std::string body = testing::encodeAwsChunked(ctx, data, sizes, trailers);
  if (corrupt && !body.empty()) {
    body[corruptAt % body.size()] ^= static_cast<char>(corruptXor);
  }
  Decoded out = decodeBody(body, pieces, ctx, data.size(), readSize);
  if (!corrupt) {
    if (!out.ok || out.data != data || !sameTrailers(out.trailers, trailers)) {
      std::abort();  // a valid body was rejected or decoded wrongly
    }
    return;
  }
  bool isSigned = mode != PayloadMode::kStreamingUnsignedTrailer;
  if (isSigned && out.ok && out.data != data) {
    std::abort();  // a forged chunk was accepted
  }
  if (mode == PayloadMode::kStreamingSignedTrailer && out.ok &&
      !sameTrailers(out.trailers, trailers)) {
    std::abort();  // a forged trailer was accepted
  }
}

}  // namespace
}  // namespace ember::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ember::auth;
  FuzzedDataProvider in(data, size);
  uint8_t selector = in.ConsumeIntegral<uint8_t>();
  static constexpr PayloadMode kModes[] = {PayloadMode::kStreamingSigned,
                                           PayloadMode::kStreamingSignedTrailer,
                                           PayloadMode::kStreamingUnsignedTrailer};
  PayloadMode mode = kModes[selector % 3];
  if (selector & 0x80) {
    roundTrip(in, mode);
    return 0;
  }
  size_t readSize = in.ConsumeIntegralInRange<size_t>(1, 9000);
  std::optional<uint64_t> decodedLength;
  if (in.ConsumeBool()) {
    decodedLength = in.ConsumeIntegralInRange<uint64_t>(0, 100000);
  }
  std::vector<uint8_t> pieces = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 8));
  decodeBody(in.ConsumeRemainingBytesAsString(), pieces, contextFor(mode), decodedLength, readSize);
  return 0;
}
