#include "auth/chunked.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "common/strings.h"
#include "common/digest.h"

namespace ember::auth {

namespace {

constexpr size_t kMaxLine = 4 * 1024;                   // one chunk-header line
constexpr size_t kMaxTrailerBytes = 16 * 1024;          // the whole trailer section
constexpr uint64_t kMaxSignedChunk = 16 * 1024 * 1024;  // buffered until its signature checks
constexpr size_t kRawBufferSize = 64 * 1024;
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kTrailerSignatureName = "x-amz-trailer-signature";

bool isHexSignature(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return hexDigitValue(c) >= 0; });
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool isTrailerNameChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Status framing(std::string message) { return Status(Code::kInvalidArgument, std::move(message)); }

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

// The decoder proper. Everything lives here so that chunked.h stays free of the parsing state.
struct AwsChunkedSource::State {
  enum class Phase {
    kChunkHeader,  // expecting "<hex>[;chunk-signature=<sig>]"
    kSignedData,   // accumulating a signed chunk until it is complete and verified
    kServe,        // handing out a verified chunk
    kStreamData,   // passing unsigned chunk data through
    kDone,
    kFailed,
  };

  PayloadMode mode;
  bool signedChunks;
  std::string signingKey;
  std::string amzDate;
  std::string scope;
  std::string previousSignature;
  std::optional<uint64_t> decodedLength;
  uint64_t declared = 0;  // sum of chunk sizes seen so far
  uint64_t chunkIndex = 0;
  Phase phase = Phase::kChunkHeader;
  Status error;

  std::vector<char> in = std::vector<char>(kRawBufferSize);
  size_t inPos = 0;
  size_t inEnd = 0;
  bool rawEof = false;

  uint64_t chunkRemaining = 0;  // kStreamData: bytes of the current chunk not yet returned
  std::string chunkSignature;   // signature announced in the current chunk header
  std::string chunk;            // kSignedData / kServe: the current chunk's bytes
  size_t chunkFilled = 0;
  size_t servePos = 0;

  State(const AuthContext& ctx, std::optional<uint64_t> length)
      : mode(ctx.payload),
        signedChunks(ctx.payload == PayloadMode::kStreamingSigned ||
                     ctx.payload == PayloadMode::kStreamingSignedTrailer),
        signingKey(ctx.signingKey),
        amzDate(ctx.amzDate),
        scope(ctx.scope),
        previousSignature(ctx.seedSignature),
        decodedLength(length) {}

  size_t available() const { return inEnd - inPos; }

  asio::awaitable<Result<size_t>> read(ByteSource& raw, std::span<char> buf, Headers& trailers) {
    if (phase == Phase::kFailed) {
      co_return unexpected(error);
    }
    Result<size_t> r = co_await step(raw, buf, trailers);
    if (!r) {
      // Errors are sticky: a consumer that retries must not see data past a failed check.
      phase = Phase::kFailed;
      error = r.error();
      chunk.clear();
    }
    co_return r;
  }

  // Reads more raw bytes into `in`, compacting it first. Sets rawEof on end of stream.
  asio::awaitable<Status> fill(ByteSource& raw) {
    if (inPos > 0) {
      std::memmove(in.data(), in.data() + inPos, available());
      inEnd -= inPos;
      inPos = 0;
    }
    if (inEnd == in.size()) {
      co_return Status::ok();  // full; the caller's own limit check will fire
    }
    Result<size_t> n = co_await raw.read(std::span<char>(in.data() + inEnd, in.size() - inEnd));
    if (!n) {
      co_return n.error();
    }
    if (*n == 0) {
      rawEof = true;
    }
    inEnd += *n;
    co_return Status::ok();
  }

  // One line without its terminator ("\r\n", or a bare "\n" as some clients send in trailers).
  // nullopt: the body ended cleanly before any byte of a new line.
  asio::awaitable<Result<std::optional<std::string>>> readLine(ByteSource& raw, size_t maxLen,
                                                               std::string_view what) {
    size_t scanned = 0;
    for (;;) {
      const char* begin = in.data() + inPos;
      const void* nl = std::memchr(begin + scanned, '\n', available() - scanned);
      if (nl != nullptr) {
        size_t len = static_cast<size_t>(static_cast<const char*>(nl) - begin);
        size_t end = len;
        if (end > 0 && begin[end - 1] == '\r') {
          --end;
        }
        if (end > maxLen) {
          co_return unexpected(framing(fmt::format("{} is longer than {} bytes", what, maxLen)));
        }
        std::string line(begin, end);
        inPos += len + 1;
        co_return std::optional<std::string>(std::move(line));
      }
      scanned = available();
      if (scanned > maxLen + 1) {
        co_return unexpected(framing(fmt::format("{} is longer than {} bytes", what, maxLen)));
      }
      if (rawEof) {
        if (scanned == 0) {
          co_return std::optional<std::string>();
        }
        co_return unexpected(Code::kIncompleteBody, fmt::format("the body ended inside {}", what));
      }
      Status s = co_await fill(raw);
      if (!s) {
        co_return unexpected(std::move(s));
      }
    }
  }

  asio::awaitable<Status> expectCrlf(ByteSource& raw) {
    while (available() < 2 && !rawEof) {
      Status s = co_await fill(raw);
      if (!s) {
        co_return s;
      }
    }
    if (available() < 2) {
      co_return Status(Code::kIncompleteBody, "the body ended after chunk data, before its CRLF");
    }
    if (in[inPos] != '\r' || in[inPos + 1] != '\n') {
      co_return framing(fmt::format("chunk {} data is not followed by CRLF", chunkIndex));
    }
    inPos += 2;
    co_return Status::ok();
  }

  // Parses "<hex-size>[;chunk-signature=<64 hex>]" and checks it against the payload mode.
  Status parseChunkHeader(std::string_view line) {
    size_t semi = line.find(';');
    std::string_view sizeText = line.substr(0, semi);
    if (sizeText.empty() || sizeText.size() > 16) {
      return framing(fmt::format("chunk header '{}' has no valid hex size", printable(line)));
    }
    uint64_t size = 0;
    for (char c : sizeText) {
      int v = hexDigitValue(c);
      if (v < 0) {
        return framing(fmt::format("chunk header '{}' has no valid hex size", printable(line)));
      }
      size = (size << 4) | static_cast<uint64_t>(v);
    }
    chunkSignature.clear();
    if (signedChunks) {
      std::string_view ext =
          semi == std::string_view::npos ? std::string_view() : line.substr(semi + 1);
      constexpr std::string_view kPrefix = "chunk-signature=";
      if (ext.substr(0, kPrefix.size()) != kPrefix || !isHexSignature(ext.substr(kPrefix.size()))) {
        return framing(fmt::format(
            "chunk header '{}' lacks ';chunk-signature=<64 hex>' required by signed streaming",
            printable(line)));
      }
      chunkSignature = toLower(ext.substr(kPrefix.size()));
    }
    // In STREAMING-UNSIGNED-PAYLOAD-TRAILER chunk extensions carry nothing we use; ignore them.
    if (decodedLength && size > *decodedLength - declared) {
      return Status(Code::kIncompleteBody,
                    fmt::format("the chunks carry more than x-amz-decoded-content-length ({}) "
                                "bytes",
                                *decodedLength));
    }
    if (signedChunks && size > kMaxSignedChunk) {
      return framing(
          fmt::format("signed chunk of {} bytes exceeds the {} byte limit", size, kMaxSignedChunk));
    }
    declared += size;
    chunkRemaining = size;
    return Status::ok();
  }

  Status verifyChunk(std::string_view data) {
    std::string stringToSign = fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", amzDate,
                                           scope, previousSignature, kEmptySha256, sha256Hex(data));
    std::string expected = signHex(signingKey, stringToSign);
    if (!constantTimeEquals(expected, chunkSignature)) {
      return Status(Code::kSignatureMismatch,
                    fmt::format("the signature of aws-chunked chunk {} ({} bytes) does not match",
                                chunkIndex, data.size()));
    }
    previousSignature = std::move(expected);
    return Status::ok();
  }

  Status verifyTrailer(const Headers& trailers, std::string_view provided) {
    // Canonical trailer block: "name:value\n" per field, lowercase names in sorted order.
    std::vector<const Headers::Field*> fields;
    for (const Headers::Field& f : trailers.fields()) {
      fields.push_back(&f);
    }
    std::stable_sort(
        fields.begin(), fields.end(),
        [](const Headers::Field* a, const Headers::Field* b) { return a->name < b->name; });
    std::string canonical;
    for (const Headers::Field* f : fields) {
      canonical += f->name;
      canonical.push_back(':');
      canonical += f->value;
      canonical.push_back('\n');
    }
    std::string stringToSign = fmt::format("AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}", amzDate,
                                           scope, previousSignature, sha256Hex(canonical));
    std::string expected = signHex(signingKey, stringToSign);
    if (!constantTimeEquals(expected, toLower(provided))) {
      return Status(Code::kSignatureMismatch, "x-amz-trailer-signature does not match");
    }
    return Status::ok();
  }

  // After the final zero-length chunk: trailer lines, the blank line, end of body.
  asio::awaitable<Status> finishBody(ByteSource& raw, Headers& trailers) {
    size_t budget = kMaxTrailerBytes;
    std::optional<std::string> trailerSignature;
    for (;;) {
      auto line = co_await readLine(raw, std::min(budget, kMaxLine), "the trailer section");
      if (!line) {
        co_return line.error();
      }
      if (!*line) {
        break;  // EOF without the final blank line: accepted, as some clients end there.
      }
      std::string_view text = **line;
      if (text.size() + 2 > budget) {
        co_return framing(fmt::format("trailers exceed {} bytes", kMaxTrailerBytes));
      }
      budget -= text.size() + 2;
      if (text.empty()) {
        // Some clients end the checksum line with "\n\r\n", i.e. put a blank line before
        // x-amz-trailer-signature; only the blank line after the signature ends a signed trailer.
        if (mode == PayloadMode::kStreamingSignedTrailer && !trailerSignature) {
          continue;
        }
        break;
      }
      size_t colon = text.find(':');
      std::string_view name = colon == std::string_view::npos ? text : text.substr(0, colon);
      if (colon == std::string_view::npos || name.empty() ||
          !std::all_of(name.begin(), name.end(), isTrailerNameChar)) {
        co_return framing(fmt::format("malformed trailer line '{}'", printable(text)));
      }
      std::string lowerName = toLower(name);
      std::string_view value = trimBlanks(text.substr(colon + 1));
      if (mode == PayloadMode::kStreamingSigned) {
        co_return framing(
            fmt::format("trailer '{}' sent, but STREAMING-AWS4-HMAC-SHA256-PAYLOAD has no trailers",
                        printable(lowerName)));
      }
      if (trailerSignature) {
        co_return framing("trailer fields follow x-amz-trailer-signature");
      }
      if (lowerName == kTrailerSignatureName) {
        if (mode != PayloadMode::kStreamingSignedTrailer) {
          co_return framing("x-amz-trailer-signature sent with STREAMING-UNSIGNED-PAYLOAD-TRAILER");
        }
        if (!isHexSignature(value)) {
          co_return framing("x-amz-trailer-signature is not 64 hexadecimal characters");
        }
        trailerSignature = std::string(value);
        continue;
      }
      trailers.add(std::move(lowerName), std::string(value));
    }
    if (mode == PayloadMode::kStreamingSignedTrailer) {
      if (!trailerSignature) {
        // Blank lines before the signature are skipped, so the loop only ends here at EOF.
        co_return Status(Code::kIncompleteBody, "the body ended before x-amz-trailer-signature");
      }
      Status s = verifyTrailer(trailers, *trailerSignature);
      if (!s) {
        co_return s;
      }
    }
    if (decodedLength && declared != *decodedLength) {
      co_return Status(Code::kIncompleteBody,
                       fmt::format("decoded {} bytes, but x-amz-decoded-content-length is {}",
                                   declared, *decodedLength));
    }
    // Nothing may follow: the raw body must end here.
    while (available() == 0 && !rawEof) {
      Status s = co_await fill(raw);
      if (!s) {
        co_return s;
      }
    }
    if (available() != 0) {
      co_return framing("unexpected data after the final aws-chunked chunk");
    }
    co_return Status::ok();
  }

  asio::awaitable<Result<size_t>> step(ByteSource& raw, std::span<char> buf, Headers& trailers) {
    if (buf.empty()) {
      co_return size_t{0};
    }
    for (;;) {
      switch (phase) {
        case Phase::kDone: co_return size_t{0};

        case Phase::kFailed: co_return unexpected(error);

        case Phase::kServe: {
          if (servePos < chunkFilled) {
            size_t n = std::min(buf.size(), chunkFilled - servePos);
            std::memcpy(buf.data(), chunk.data() + servePos, n);
            servePos += n;
            co_return n;
          }
          phase = Phase::kChunkHeader;
          continue;
        }

        case Phase::kChunkHeader: {
          if (!isStreaming(mode)) {
            co_return unexpected(Code::kInvalidArgument,
                                 "the request's payload mode is not an aws-chunked streaming mode");
          }
          if (signedChunks && (signingKey.size() != 32 || previousSignature.size() != 64)) {
            co_return unexpected(Code::kInternal,
                                 "signed aws-chunked decoding needs the AuthContext of a verified "
                                 "request");
          }
          auto line = co_await readLine(raw, kMaxLine, "a chunk header");
          EMBER_CO_TRY(line);
          if (!*line) {
            co_return unexpected(Code::kIncompleteBody,
                                 "the body ended before the final zero-length chunk");
          }
          ++chunkIndex;
          EMBER_CO_TRY(parseChunkHeader(**line));
          if (chunkRemaining == 0) {
            if (signedChunks) {
              EMBER_CO_TRY(verifyChunk({}));
            }
            EMBER_CO_TRY(co_await finishBody(raw, trailers));
            phase = Phase::kDone;
            co_return size_t{0};
          }
          if (signedChunks) {
            chunkFilled = 0;
            servePos = 0;
            chunk.resize(static_cast<size_t>(chunkRemaining));
            phase = Phase::kSignedData;
          } else {
            phase = Phase::kStreamData;
          }
          continue;
        }

        case Phase::kSignedData: {
          // Buffered bytes first, then read straight into the chunk buffer.
          size_t fromBuffer = std::min(available(), chunk.size() - chunkFilled);
          std::memcpy(chunk.data() + chunkFilled, in.data() + inPos, fromBuffer);
          inPos += fromBuffer;
          chunkFilled += fromBuffer;
          while (chunkFilled < chunk.size()) {
            Result<size_t> n = co_await raw.read(
                std::span<char>(chunk.data() + chunkFilled, chunk.size() - chunkFilled));
            EMBER_CO_TRY(n);
            if (*n == 0) {
              rawEof = true;
              co_return unexpected(Code::kIncompleteBody,
                                   fmt::format("the body ended inside chunk {}", chunkIndex));
            }
            chunkFilled += *n;
          }
          EMBER_CO_TRY(co_await expectCrlf(raw));
          EMBER_CO_TRY(verifyChunk(std::string_view(chunk.data(), chunkFilled)));
          phase = Phase::kServe;
          continue;
        }

        case Phase::kStreamData: {
          if (chunkRemaining == 0) {
            EMBER_CO_TRY(co_await expectCrlf(raw));
            phase = Phase::kChunkHeader;
            continue;
          }
          size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), chunkRemaining));
          size_t n = 0;
          if (available() > 0) {
            n = std::min(want, available());
            std::memcpy(buf.data(), in.data() + inPos, n);
            inPos += n;
          } else {
            Result<size_t> r = co_await raw.read(buf.first(want));
            EMBER_CO_TRY(r);
            if (*r == 0) {
              rawEof = true;
              co_return unexpected(Code::kIncompleteBody,
                                   fmt::format("the body ended inside chunk {}", chunkIndex));
            }
            n = *r;
          }
          chunkRemaining -= n;
          co_return n;
        }
      }
    }
  }
};

AwsChunkedSource::AwsChunkedSource(ByteSource& raw, const AuthContext& ctx,
                                   std::optional<uint64_t> decodedLength)
    : raw_(raw), state_(std::make_unique<State>(ctx, decodedLength)) {}

AwsChunkedSource::~AwsChunkedSource() = default;

asio::awaitable<Result<size_t>> AwsChunkedSource::read(std::span<char> buf) {
  co_return co_await state_->read(raw_, buf, trailers_);
}

}  // namespace ember::auth
