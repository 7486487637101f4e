#include "auth/chunked.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/sigv4_test_signer.h"
#include "common/digest.h"

namespace ember::auth {
namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kExampleSeed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr std::string_view kExampleTrailerSeed =
    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";

// An in-memory body that hands out its bytes in random small pieces and yields to the executor
// between reads, like a socket would. Optionally fails after `failAfter` bytes.
class PieceSource : public ByteSource {
 public:
  PieceSource(std::string data, size_t maxPiece, uint32_t seed)
      : data_(std::move(data)), maxPiece_(maxPiece), rng_(seed) {}

  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    ++reads_;
    if (failAfter_ && pos_ >= *failAfter_) {
      co_return unexpected(Code::kTimeout, "injected read failure");
    }
    if (pos_ == data_.size()) {
      ++readsAtEof_;
      co_return size_t{0};
    }
    size_t n =
        std::min({buf.size(), data_.size() - pos_, static_cast<size_t>(1 + rng_() % maxPiece_)});
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }

  void failAfter(size_t offset) { failAfter_ = offset; }
  size_t consumed() const { return pos_; }
  int readsAtEof() const { return readsAtEof_; }

 private:
  std::string data_;
  size_t pos_ = 0;
  size_t maxPiece_;
  std::mt19937 rng_;
  std::optional<size_t> failAfter_;
  int reads_ = 0;
  int readsAtEof_ = 0;
};

struct Outcome {
  std::string data;  // every byte read() returned, even if an error followed
  Status status;     // the first error, or ok after read() returned 0
  Headers trailers;
  int readsAfterEnd = 0;
};

// Decodes `body` to the end (or the first error) in an io_context, reading `readSize` at a time.
Outcome decode(std::string body, const AuthContext& ctx, std::optional<uint64_t> decodedLength,
               size_t maxPiece = 97, size_t readSize = 1000, uint32_t seed = 1,
               std::optional<size_t> failAfter = std::nullopt) {
  Outcome out;
  asio::io_context io;
  PieceSource raw(std::move(body), maxPiece, seed);
  if (failAfter) {
    raw.failAfter(*failAfter);
  }
  AwsChunkedSource source(raw, ctx, decodedLength);
  auto run = [&]() -> asio::awaitable<void> {
    std::vector<char> buf(readSize);
    for (;;) {
      Result<size_t> n = co_await source.read(buf);
      if (!n) {
        out.status = n.error();
        // Errors are sticky.
        Result<size_t> again = co_await source.read(buf);
        EXPECT_FALSE(again);
        co_return;
      }
      if (*n == 0) {
        // Reading again at the end keeps returning 0.
        Result<size_t> again = co_await source.read(buf);
        EXPECT_TRUE(again && *again == 0);
        out.trailers = source.trailers();
        co_return;
      }
      out.data.append(buf.data(), *n);
    }
  };
  asio::co_spawn(io, run(), [](std::exception_ptr e) {
    if (e) {
      std::rethrow_exception(e);
    }
  });
  io.run();
  return out;
}

AuthContext exampleContext(PayloadMode mode, std::string_view seed) {
  AuthContext ctx;
  ctx.anonymous = false;
  ctx.payload = mode;
  ctx.signingKey = deriveSigningKey(kSecret, "20130524", "us-east-1", "s3");
  ctx.seedSignature = std::string(seed);
  ctx.amzDate = "20130524T000000Z";
  ctx.scope = "20130524/us-east-1/s3/aws4_request";
  return ctx;
}

AuthContext unsignedTrailerContext() {
  AuthContext ctx;
  ctx.anonymous = false;
  ctx.payload = PayloadMode::kStreamingUnsignedTrailer;
  return ctx;
}

std::string awsExampleBody(std::string_view sig1, std::string_view sig2, std::string_view sig3,
                           std::string_view trailer) {
  std::string body;
  body += "10000;chunk-signature=" + std::string(sig1) + "\r\n" + std::string(65536, 'a') + "\r\n";
  body += "400;chunk-signature=" + std::string(sig2) + "\r\n" + std::string(1024, 'a') + "\r\n";
  body += "0;chunk-signature=" + std::string(sig3) + "\r\n";
  body += trailer;
  return body;
}

const std::string kPublishedSignedBody =
    awsExampleBody("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                   "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                   "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9", "\r\n");

const std::string kPublishedTrailerBody = awsExampleBody(
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    "x-amz-checksum-crc32c:sOO8/Q==\r\n"
    "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
    "\r\n");

std::string replaceOnce(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// ---- AWS published examples ---------------------------------------------------------------------

TEST(AwsChunkedTest, AwsExampleSignedPayload) {
  ASSERT_EQ(kPublishedSignedBody.size(), 66824u);  // the example's Content-Length
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  // {read size, largest raw piece}: byte-at-a-time on either side, odd sizes, and everything at
  // once.
  const std::pair<size_t, size_t> shapes[] = {{1, 9000},  {4096, 1},     {7, 13},
                                              {4096, 13}, {70000, 9000}, {70000, 100000}};
  for (const auto& [readSize, maxPiece] : shapes) {
    Outcome out = decode(kPublishedSignedBody, ctx, 66560, maxPiece, readSize, 17);
    ASSERT_TRUE(out.status.isOk()) << out.status.toString();
    EXPECT_EQ(out.data, std::string(66560, 'a'));
    EXPECT_TRUE(out.trailers.fields().empty());
  }
  // The test signer reproduces the published body byte for byte.
  EXPECT_EQ(testing::encodeAwsChunked(ctx, std::string(66560, 'a'), {65536, 1024}, {}),
            kPublishedSignedBody);
}

TEST(AwsChunkedTest, AwsExampleSignedPayloadWithTrailer) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSignedTrailer, kExampleTrailerSeed);
  Outcome out = decode(kPublishedTrailerBody, ctx, 66560);
  ASSERT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.data, std::string(66560, 'a'));
  ASSERT_EQ(out.trailers.fields().size(), 1u);
  EXPECT_EQ(out.trailers.get("x-amz-checksum-crc32c"), "sOO8/Q==");
  // The trailer really is the CRC32C of the data.
  auto crc = Hasher::create(ChecksumAlgo::kCRC32C);
  crc->update(out.data);
  EXPECT_EQ(base64Encode(crc->finish()), "sOO8/Q==");
  EXPECT_EQ(testing::encodeAwsChunked(ctx, out.data, {65536, 1024},
                                      {{"x-amz-checksum-crc32c", "sOO8/Q=="}}),
            kPublishedTrailerBody);
}

TEST(AwsChunkedTest, AwsExampleTrailerTampered) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSignedTrailer, kExampleTrailerSeed);
  Outcome out = decode(replaceOnce(kPublishedTrailerBody, "sOO8/Q==", "AAAAAA=="), ctx, 66560);
  EXPECT_EQ(out.status.code(), Code::kSignatureMismatch) << out.status.toString();
  out = decode(replaceOnce(kPublishedTrailerBody, "signature:d81f", "signature:e81f"), ctx, 66560);
  EXPECT_EQ(out.status.code(), Code::kSignatureMismatch) << out.status.toString();
  // All data verified by chunk signatures was delivered before the trailer failed.
  EXPECT_EQ(out.data.size(), 66560u);
}

// ---- signature chain ----------------------------------------------------------------------------

TEST(AwsChunkedTest, BadChunkSignatureReleasesNoUnverifiedByte) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  {
    // First chunk's signature wrong: nothing at all is returned.
    Outcome out = decode(replaceOnce(kPublishedSignedBody, "signature=ad80", "signature=bd80"), ctx,
                         66560, 5000, 1);
    EXPECT_EQ(out.status.code(), Code::kSignatureMismatch);
    EXPECT_TRUE(out.data.empty());
  }
  {
    // One data byte of the second chunk flipped: exactly the first chunk comes out.
    std::string body = kPublishedSignedBody;
    body[body.size() - 200] = 'b';
    Outcome out = decode(body, ctx, 66560, 5000, 1);
    EXPECT_EQ(out.status.code(), Code::kSignatureMismatch);
    EXPECT_EQ(out.data, std::string(65536, 'a'));
  }
  {
    // The final (empty) chunk's signature is checked too.
    Outcome out =
        decode(replaceOnce(kPublishedSignedBody, "signature=b6c6", "signature=b6c7"), ctx, 66560);
    EXPECT_EQ(out.status.code(), Code::kSignatureMismatch);
  }
  {
    // Chunks cannot be reordered or replayed: signatures chain from the seed.
    AuthContext other = ctx;
    other.seedSignature = std::string(64, '0');
    Outcome out = decode(kPublishedSignedBody, other, 66560);
    EXPECT_EQ(out.status.code(), Code::kSignatureMismatch);
    EXPECT_TRUE(out.data.empty());
  }
  {
    // A different signing key (wrong secret) fails on the first chunk.
    AuthContext other = ctx;
    other.signingKey = deriveSigningKey("other", "20130524", "us-east-1", "s3");
    EXPECT_EQ(decode(kPublishedSignedBody, other, 66560).status.code(), Code::kSignatureMismatch);
  }
}

TEST(AwsChunkedTest, SignedRoundTripsWithRandomChunking) {
  std::mt19937 rng(99);
  for (PayloadMode mode : {PayloadMode::kStreamingSigned, PayloadMode::kStreamingSignedTrailer,
                           PayloadMode::kStreamingUnsignedTrailer}) {
    for (int iter = 0; iter < 20; ++iter) {
      AuthContext ctx = mode == PayloadMode::kStreamingUnsignedTrailer
                            ? unsignedTrailerContext()
                            : exampleContext(mode, kExampleSeed);
      std::string data(rng() % 50000, '\0');
      for (char& c : data) {
        c = static_cast<char>(rng());
      }
      std::vector<size_t> sizes;
      for (int i = 0; i < 10; ++i) {
        sizes.push_back(1 + rng() % 9000);
      }
      std::vector<std::pair<std::string, std::string>> trailers;
      if (mode != PayloadMode::kStreamingSigned) {
        auto crc = Hasher::create(ChecksumAlgo::kCRC64NVME);
        crc->update(data);
        trailers.emplace_back("x-amz-checksum-crc64nvme", base64Encode(crc->finish()));
      }
      std::string body = testing::encodeAwsChunked(ctx, data, sizes, trailers);
      Outcome out = decode(body, ctx, data.size(), 1 + rng() % 3000, 1 + rng() % 10000, rng());
      ASSERT_TRUE(out.status.isOk()) << out.status.toString();
      EXPECT_EQ(out.data, data);
      if (!trailers.empty()) {
        EXPECT_EQ(out.trailers.get("x-amz-checksum-crc64nvme"), trailers[0].second);
      }
      // Without a decoded length the same body decodes as well.
      EXPECT_TRUE(decode(body, ctx, std::nullopt).status.isOk());
    }
  }
}

TEST(AwsChunkedTest, SignedModesNeedAVerifiedContext) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  ctx.signingKey.clear();
  EXPECT_EQ(decode(kPublishedSignedBody, ctx, 66560).status.code(), Code::kInternal);
  AuthContext plain = exampleContext(PayloadMode::kSigned, kExampleSeed);
  EXPECT_EQ(decode(kPublishedSignedBody, plain, 66560).status.code(), Code::kInvalidArgument);
}

TEST(AwsChunkedTest, SignedChunkSizeCap) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  std::string body = "1000001;chunk-signature=" + std::string(64, 'a') + "\r\n";
  Outcome out = decode(body, ctx, std::nullopt);
  EXPECT_EQ(out.status.code(), Code::kInvalidArgument);
  EXPECT_NE(out.status.message().find("limit"), std::string::npos) << out.status.message();
  // The same size streams through in unsigned-trailer mode (it then ends early here).
  out = decode("1000001\r\n" + std::string(100, 'x'), unsignedTrailerContext(), std::nullopt);
  EXPECT_EQ(out.status.code(), Code::kIncompleteBody);
  EXPECT_EQ(out.data, std::string(100, 'x'));
}

// ---- unsigned trailer mode ----------------------------------------------------------------------

TEST(AwsChunkedTest, UnsignedTrailerAsSdksSendIt) {
  // botocore / aws-sdk-java v2: "<hex>\r\n<data>\r\n" ... "0\r\n" trailers "\r\n".
  std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
  Outcome out = decode(body, unsignedTrailerContext(), 11, 3, 4);
  ASSERT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.data, "hello world");
  EXPECT_EQ(out.trailers.get("x-amz-checksum-crc32"), "DUoRhQ==");
  auto crc = Hasher::create(ChecksumAlgo::kCRC32);
  crc->update(out.data);
  EXPECT_EQ(base64Encode(crc->finish()), "DUoRhQ==");
}

TEST(AwsChunkedTest, UnsignedTrailerLenientEndings) {
  AuthContext ctx = unsignedTrailerContext();
  for (std::string_view body : {
           "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n",  // no final blank line
           "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\n\n",  // bare LF line ends
           "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:  NhCmhg== \r\n\r\n",
           "5;ext=1\r\nhello\r\n0\r\nX-Amz-Checksum-CRC32:NhCmhg==\r\n\r\n",
       }) {
    Outcome out = decode(std::string(body), ctx, 5);
    EXPECT_TRUE(out.status.isOk()) << body << ": " << out.status.toString();
    EXPECT_EQ(out.data, "hello");
    EXPECT_EQ(out.trailers.get("x-amz-checksum-crc32"), "NhCmhg==") << body;
  }
  // No trailers at all, with and without the blank line.
  for (std::string_view body : {"5\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n", "0\r\n\r\n"}) {
    Outcome out = decode(std::string(body), ctx, std::nullopt);
    EXPECT_TRUE(out.status.isOk()) << body << ": " << out.status.toString();
    EXPECT_TRUE(out.trailers.fields().empty());
  }
}

TEST(AwsChunkedTest, UnsignedTrailerStreamsData) {
  // Data is handed out before the chunk is complete: the source ends mid-chunk, yet the bytes
  // that did arrive were returned before the error.
  Outcome out = decode("10\r\n0123456789", unsignedTrailerContext(), std::nullopt, 3, 4);
  EXPECT_EQ(out.status.code(), Code::kIncompleteBody);
  EXPECT_EQ(out.data, "0123456789");
}

// ---- malformed framing and truncation -----------------------------------------------------------

struct BadBody {
  std::string_view body;
  Code code;
};

TEST(AwsChunkedTest, MalformedUnsignedFraming) {
  const BadBody cases[] = {
      {"", Code::kIncompleteBody},
      {"5\r\nhel", Code::kIncompleteBody},
      {"5\r\nhello", Code::kIncompleteBody},
      {"5\r\nhello\r", Code::kIncompleteBody},
      {"5\r\nhello\r\n", Code::kIncompleteBody},
      {"5\r\nhello\r\n0", Code::kIncompleteBody},
      {"5\r\nhelloXY0\r\n\r\n", Code::kInvalidArgument},  // data not followed by CRLF
      {"5\r\nhello\n0\r\n\r\n", Code::kInvalidArgument},
      {"\r\n", Code::kInvalidArgument},  // empty size
      {"x\r\n", Code::kInvalidArgument},
      {" 5\r\nhello\r\n0\r\n\r\n", Code::kInvalidArgument},
      {"-5\r\nhello\r\n", Code::kInvalidArgument},
      {"0x5\r\nhello\r\n0\r\n\r\n", Code::kInvalidArgument},
      {"10000000000000000\r\n", Code::kInvalidArgument},  // 17 hex digits
      {"0\r\nno-colon-here\r\n\r\n", Code::kInvalidArgument},
      {"0\r\n:value\r\n\r\n", Code::kInvalidArgument},
      {"0\r\nbad name:value\r\n\r\n", Code::kInvalidArgument},
      {"0\r\n\r\nextra", Code::kInvalidArgument},  // data after the end
      {"0\r\nx-amz-trailer-signature:"
       "0000000000000000000000000000000000000000000000000000000000000000\r\n\r\n",
       Code::kInvalidArgument},                                       // signature in unsigned mode
      {"0\r\nx-amz-checksum-crc32:AAAAAA==", Code::kIncompleteBody},  // cut inside a trailer
  };
  for (const BadBody& c : cases) {
    Outcome out = decode(std::string(c.body), unsignedTrailerContext(), std::nullopt, 2, 3);
    EXPECT_EQ(out.status.code(), c.code) << "body '" << c.body << "' -> " << out.status.toString();
  }
}

TEST(AwsChunkedTest, MalformedSignedFraming) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  const std::string sig(64, 'a');
  const std::string cases[] = {
      "5\r\nhello\r\n",  // no signature extension
      "5;chunk-signature=\r\nhello\r\n",
      "5;chunk-signature=" + sig.substr(1) + "\r\nhello\r\n",
      "5;chunk-signature=" + sig + "0\r\nhello\r\n",
      "5;chunk-signature=" + std::string(64, 'g') + "\r\nhello\r\n",
      "5;chunk-sig=" + sig + "\r\nhello\r\n",
      "5 ;chunk-signature=" + sig + "\r\nhello\r\n",
  };
  for (const std::string& body : cases) {
    Outcome out = decode(body, ctx, std::nullopt);
    EXPECT_EQ(out.status.code(), Code::kInvalidArgument) << body << " -> " << out.status.toString();
    EXPECT_TRUE(out.data.empty());
  }
  // Trailer lines are not allowed without a trailer mode.
  std::string withTrailer =
      replaceOnce(kPublishedSignedBody,
                  "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
                  "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\nx-amz-"
                  "checksum-crc32:AAAAAA==\r\n\r\n");
  EXPECT_EQ(decode(withTrailer, ctx, 66560).status.code(), Code::kInvalidArgument);
}

TEST(AwsChunkedTest, OverlongLines) {
  AuthContext ctx = unsignedTrailerContext();
  Outcome out = decode(std::string(5000, '1'), ctx, std::nullopt, 4096);
  EXPECT_EQ(out.status.code(), Code::kInvalidArgument);
  out = decode("0\r\nx-amz-meta:" + std::string(5000, 'v') + "\r\n\r\n", ctx, std::nullopt, 4096);
  EXPECT_EQ(out.status.code(), Code::kInvalidArgument);
  // Many trailer lines, each short, beyond the 16 KiB section limit.
  std::string many = "0\r\n";
  for (int i = 0; i < 1000; ++i) {
    many += "x-amz-meta-" + std::to_string(i) + ":0123456789\r\n";
  }
  many += "\r\n";
  out = decode(many, ctx, std::nullopt, 4096);
  EXPECT_EQ(out.status.code(), Code::kInvalidArgument);
}

TEST(AwsChunkedTest, TruncatedSignedBodies) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  // Every cut before the final chunk header's line end is incomplete; never a silent success.
  for (size_t cut : {size_t{0}, size_t{10}, size_t{88}, size_t{30000}, size_t{65624}, size_t{65626},
                     size_t{66700}, kPublishedSignedBody.size() - 5}) {
    Outcome out = decode(kPublishedSignedBody.substr(0, cut), ctx, 66560);
    EXPECT_EQ(out.status.code(), Code::kIncompleteBody) << "cut at " << cut;
    EXPECT_TRUE(out.data.size() == 0 || out.data.size() == 65536 || out.data.size() == 66560);
  }
  // Cut right after the final chunk header: accepted (no trailers were promised).
  Outcome out = decode(kPublishedSignedBody.substr(0, kPublishedSignedBody.size() - 2), ctx, 66560);
  EXPECT_TRUE(out.status.isOk()) << out.status.toString();

  AuthContext tctx = exampleContext(PayloadMode::kStreamingSignedTrailer, kExampleTrailerSeed);
  size_t sigLine = kPublishedTrailerBody.find("x-amz-trailer-signature");
  out = decode(kPublishedTrailerBody.substr(0, sigLine), tctx, 66560);
  EXPECT_EQ(out.status.code(), Code::kIncompleteBody) << out.status.toString();
  out = decode(kPublishedTrailerBody.substr(0, sigLine) + "\r\n", tctx, 66560);
  EXPECT_NE(out.status.code(), Code::kOk);
}

TEST(AwsChunkedTest, RawSourceErrorsPropagate) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  for (size_t at : {size_t{0}, size_t{50}, size_t{40000}, size_t{66000}}) {
    Outcome out = decode(kPublishedSignedBody, ctx, 66560, 97, 1000, 1, at);
    EXPECT_EQ(out.status.code(), Code::kTimeout) << at;
  }
}

TEST(AwsChunkedTest, DecodedLengthMismatch) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSigned, kExampleSeed);
  {
    Outcome out = decode(kPublishedSignedBody, ctx, 66561);
    EXPECT_EQ(out.status.code(), Code::kIncompleteBody);
  }
  {
    // Too long is caught at the chunk header, before the chunk is read.
    Outcome out = decode(kPublishedSignedBody, ctx, 65537);
    EXPECT_EQ(out.status.code(), Code::kIncompleteBody);
    EXPECT_EQ(out.data.size(), 65536u);
  }
  {
    Outcome out = decode(kPublishedSignedBody, ctx, 0);
    EXPECT_EQ(out.status.code(), Code::kIncompleteBody);
    EXPECT_TRUE(out.data.empty());
  }
  Outcome out = decode("5\r\nhello\r\n0\r\n\r\n", unsignedTrailerContext(), 4);
  EXPECT_EQ(out.status.code(), Code::kIncompleteBody);
  out = decode("5\r\nhello\r\n0\r\n\r\n", unsignedTrailerContext(), 6);
  EXPECT_EQ(out.status.code(), Code::kIncompleteBody);
}

TEST(AwsChunkedTest, SignedTrailerVariants) {
  AuthContext ctx = exampleContext(PayloadMode::kStreamingSignedTrailer, kExampleSeed);
  std::string data = "some object data";
  std::vector<std::pair<std::string, std::string>> trailers = {{"x-amz-checksum-crc32", "AAAAAA=="},
                                                               {"x-amz-checksum-sha256", "abc="}};
  std::string body = testing::encodeAwsChunked(ctx, data, {7}, trailers);
  Outcome out = decode(body, ctx, data.size());
  ASSERT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.trailers.fields().size(), 2u);
  // Without the final blank line (EOF right after the signature line).
  out = decode(body.substr(0, body.size() - 2), ctx, data.size());
  EXPECT_TRUE(out.status.isOk()) << out.status.toString();
  // No trailer fields at all, only the signature.
  std::string bare = testing::encodeAwsChunked(ctx, data, {}, {});
  EXPECT_TRUE(decode(bare, ctx, data.size()).status.isOk());
  // Missing signature line: blank lines are skipped while waiting for it, then the body ends.
  size_t at = body.find("x-amz-trailer-signature");
  out = decode(body.substr(0, at) + "\r\n\r\n", ctx, data.size());
  EXPECT_EQ(out.status.code(), Code::kIncompleteBody) << out.status.toString();
  // The "\n\r\n" form some clients send before the signature line.
  std::string lfForm = replaceOnce(body, "abc=\r\nx-amz-trailer", "abc=\n\r\nx-amz-trailer");
  out = decode(lfForm, ctx, data.size());
  EXPECT_TRUE(out.status.isOk()) << out.status.toString();
  EXPECT_EQ(out.trailers.get("x-amz-checksum-sha256"), "abc=");
  // A field after the signature.
  std::string after = body.substr(0, body.size() - 2) + "x-amz-meta-late:1\r\n\r\n";
  EXPECT_EQ(decode(after, ctx, data.size()).status.code(), Code::kInvalidArgument);
  // A malformed signature value.
  std::string shortSig = replaceOnce(body, "x-amz-trailer-signature:", "x-amz-trailer-signature:0");
  EXPECT_EQ(decode(shortSig, ctx, data.size()).status.code(), Code::kInvalidArgument);
  // A dropped trailer field.
  std::string dropped = replaceOnce(body, "x-amz-checksum-crc32:AAAAAA==\r\n", "");
  EXPECT_EQ(decode(dropped, ctx, data.size()).status.code(), Code::kSignatureMismatch);
}

TEST(AwsChunkedTest, EmptyReadBufferReturnsZeroWithoutConsuming) {
  asio::io_context io;
  PieceSource raw("5\r\nhello\r\n0\r\n\r\n", 100, 1);
  AwsChunkedSource source(raw, unsignedTrailerContext(), 5);
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<size_t> n = co_await source.read({});
        EXPECT_TRUE(n && *n == 0);
        EXPECT_EQ(raw.consumed(), 0u);
        char buf[16];
        n = co_await source.read(buf);
        EXPECT_TRUE(n && *n == 5);
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) {
          std::rethrow_exception(e);
        }
      });
  io.run();
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace ember::auth
