#pragma once
// Decoder for aws-chunked request bodies (Content-Encoding: aws-chunked), used by SDKs for
// STREAMING-* payload modes:
//   <hex-size>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//     [trailer lines]\r\n                                      (signed, optionally with trailer)
//   <hex-size>\r\n<data>\r\n ... 0\r\n<trailer lines>\r\n      (STREAMING-UNSIGNED-PAYLOAD-TRAILER)
// Signed chunks are verified as they arrive (string-to-sign "AWS4-HMAC-SHA256-PAYLOAD", chained
// from the seed signature); a signed trailer is verified against x-amz-trailer-signature.
// Memory is bounded: chunk-header lines <= 4 KiB, trailers <= 16 KiB. In the signed modes each
// chunk is buffered whole (<= 16 MiB, larger is kInvalidArgument) and released only after its
// signature checks, so read() never returns an unverified byte; unsigned-trailer data streams
// through. The trailing checksum value is only parsed here; the caller compares it.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "auth/sigv4.h"
#include "common/headers.h"
#include "common/stream.h"

namespace ember::auth {

class AwsChunkedSource : public ByteSource {
 public:
  // `raw` is the body as received (after any HTTP transfer decoding) and must outlive this.
  // `ctx` supplies the payload mode, signing key, seed signature, date and scope.
  // `decodedLength` is x-amz-decoded-content-length when sent: the decoded body must match it.
  AwsChunkedSource(ByteSource& raw, const AuthContext& ctx, std::optional<uint64_t> decodedLength);
  ~AwsChunkedSource() override;

  // Decoded bytes; 0 at the end, after the final chunk and trailers were read and verified.
  // Errors: kIncompleteBody (raw ended early or decoded length differs), kInvalidArgument
  // (malformed framing), kSignatureMismatch (a chunk or trailer signature is wrong).
  asio::awaitable<Result<size_t>> read(std::span<char> buf) override;

  // Trailer fields (e.g. x-amz-checksum-crc32), available once read() has returned 0.
  const Headers& trailers() const { return trailers_; }

 private:
  struct State;
  ByteSource& raw_;
  std::unique_ptr<State> state_;
  Headers trailers_;
};

}  // namespace ember::auth
