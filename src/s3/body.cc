#include "s3/body.h"

#include <charconv>

namespace ember::s3 {

namespace {

std::optional<uint64_t> parseU64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

constexpr ChecksumAlgo kAlgos[] = {ChecksumAlgo::kCRC32, ChecksumAlgo::kCRC32C,
                                   ChecksumAlgo::kCRC64NVME, ChecksumAlgo::kSHA1,
                                   ChecksumAlgo::kSHA256};

}  // namespace

void addChecksumHeaders(http::Headers& h, const store::StringPairs& checksums) {
  for (const auto& [algo, value] : checksums) {
    if (auto a = parseChecksumAlgo(algo)) {
      h.add(checksumHeader(*a), value);
    }
  }
}

Status verifySmallBody(const Ctx& c, std::string_view body, bool required) {
  const Headers& h = c.req.headers;
  bool present = false;
  if (const std::string* v = h.find("content-md5")) {
    present = true;
    auto raw = base64Decode(*v);
    if (!raw || raw->size() != 16) {
      return makeError(Code::kInvalidDigest, "The Content-MD5 you specified is not valid.");
    }
    if (*raw != md5Raw(body)) {
      return makeError(Code::kBadDigest,
                       "The Content-MD5 you specified did not match what we received.");
    }
  }
  for (ChecksumAlgo a : kAlgos) {
    if (const std::string* v = h.find(checksumHeader(a))) {
      present = true;
      auto hasher = Hasher::create(a);
      hasher->update(std::span<const char>(body.data(), body.size()));
      if (base64Encode(hasher->finish()) != *v) {
        return makeError(Code::kBadDigest, "The " + std::string(checksumName(a)) +
                                               " you specified did not match the calculated "
                                               "checksum.");
      }
    }
  }
  if (required && !present) {
    return makeError(Code::kInvalidRequest,
                     "Missing required header for this request: Content-MD5");
  }
  return Status::ok();
}

Result<std::unique_ptr<UploadBody>> makeUploadBody(Ctx& c) {
  auto ub = std::make_unique<UploadBody>();
  const Headers& h = c.req.headers;
  if (auth::isStreaming(c.auth.payload)) {
    std::optional<uint64_t> decoded;
    if (const std::string* d = h.find("x-amz-decoded-content-length")) {
      decoded = parseU64(*d);
      if (!decoded) {
        return unexpected(Code::kInvalidArgument, "invalid x-amz-decoded-content-length");
      }
    } else if (c.auth.payload == auth::PayloadMode::kStreamingSigned) {
      return unexpected(Code::kMissingContentLength,
                        "x-amz-decoded-content-length is required for streaming uploads");
    }
    ub->chunked = std::make_unique<auth::AwsChunkedSource>(c.body, c.auth, decoded);
    ub->source = ub->chunked.get();
    ub->expectedSize = decoded;
  } else {
    if (!h.has("content-length") && !h.has("transfer-encoding")) {
      return unexpected(Code::kMissingContentLength,
                        "You must provide the Content-Length HTTP header.");
    }
    ub->source = &c.body;
    ub->expectedSize = c.req.contentLength;
  }

  // Which checksums the client asked for: explicit headers, the SDK algorithm header, trailers.
  std::set<ChecksumAlgo> fromHeaders;
  for (ChecksumAlgo a : kAlgos) {
    if (h.has(checksumHeader(a))) {
      fromHeaders.insert(a);
      ub->store.insert(a);
    }
  }
  for (const char* name : {"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"}) {
    if (const std::string* v = h.find(name)) {
      auto a = parseChecksumAlgo(*v);
      if (!a) {
        return unexpected(Code::kInvalidRequest, "Checksum algorithm provided is unsupported. "
                                                 "Please try again with any of the valid types: "
                                                 "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
      }
      ub->store.insert(*a);
    }
  }
  std::set<ChecksumAlgo> fromTrailer;
  if (const std::string* t = h.find("x-amz-trailer")) {
    for (ChecksumAlgo a : kAlgos) {
      if (iequals(*t, checksumHeader(a))) {
        fromTrailer.insert(a);
        ub->store.insert(a);
      }
    }
    if (fromTrailer.empty()) {
      return unexpected(Code::kInvalidRequest, "unsupported x-amz-trailer: " + *t);
    }
  }
  if (c.auth.payload == auth::PayloadMode::kSigned && !ub->store.contains(ChecksumAlgo::kSHA256)) {
    ub->verifyOnly.insert(ChecksumAlgo::kSHA256);
  }
  std::optional<std::string> md5;
  if (const std::string* v = h.find("content-md5")) {
    auto raw = base64Decode(*v);
    if (!raw || raw->size() != 16) {
      return unexpected(Code::kInvalidDigest, "The Content-MD5 you specified is not valid.");
    }
    md5 = *raw;
  }
  std::string signedHash =
      c.auth.payload == auth::PayloadMode::kSigned ? c.auth.payloadSha256Hex : std::string();
  auth::AwsChunkedSource* chunked = ub->chunked.get();
  Headers headerCopy;
  for (ChecksumAlgo a : fromHeaders) {
    headerCopy.add(checksumHeader(a), std::string(h.get(checksumHeader(a))));
  }
  ub->verify = [md5, signedHash, chunked, headerCopy, fromTrailer](
                   const core::Digests& d) -> Status {
    if (!signedHash.empty()) {
      auto it = d.sums.find(ChecksumAlgo::kSHA256);
      if (it == d.sums.end() || hexEncode(it->second) != signedHash) {
        return makeError(Code::kContentSha256Mismatch,
                         "The provided 'x-amz-content-sha256' header does not match what was "
                         "computed.");
      }
    }
    if (md5 && *md5 != d.md5) {
      return makeError(Code::kBadDigest,
                       "The Content-MD5 you specified did not match what we received.");
    }
    auto check = [&d](ChecksumAlgo a, std::string_view given) -> Status {
      auto it = d.sums.find(a);
      if (it == d.sums.end() || base64Encode(it->second) != given) {
        return makeError(Code::kBadDigest, "The " + std::string(checksumName(a)) +
                                               " you specified did not match the calculated "
                                               "checksum.");
      }
      return Status::ok();
    };
    for (const auto& f : headerCopy.fields()) {
      EMBER_TRY(check(*parseChecksumAlgo(f.name.substr(std::string("x-amz-checksum-").size())),
                      f.value));
    }
    for (ChecksumAlgo a : fromTrailer) {
      const std::string* v = chunked ? chunked->trailers().find(checksumHeader(a)) : nullptr;
      if (!v) {
        return makeError(Code::kInvalidRequest,
                         "The trailer " + checksumHeader(a) + " was declared but not sent.");
      }
      EMBER_TRY(check(a, *v));
    }
    return Status::ok();
  };
  return ub;
}

}  // namespace ember::s3
