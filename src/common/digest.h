#pragma once
// Digests, checksums and encodings used by the protocols: MD5 (ETags, Content-MD5), SHA-1/SHA-256,
// HMAC-SHA256 (SigV4, SharedKey), HMAC-SHA1 (SigV2), CRC32 / CRC32C / CRC64NVME
// (x-amz-checksum-*), hex, base64.
// Pure functions and small incremental hashers; no I/O.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ember {

std::string hexEncode(std::string_view raw);                 // lowercase
Result<std::string> hexDecode(std::string_view hex);         // kInvalidArgument on bad input
std::string base64Encode(std::string_view raw);
Result<std::string> base64Decode(std::string_view b64);      // strict (padding required)

std::string md5Raw(std::string_view data);                   // 16 bytes
std::string sha256Raw(std::string_view data);                // 32 bytes
std::string sha256Hex(std::string_view data);
std::string hmacSha256Raw(std::string_view key, std::string_view data);  // 32 bytes
std::string hmacSha1Raw(std::string_view key, std::string_view data);    // 20 bytes (SigV2 only)

enum class ChecksumAlgo { kCRC32, kCRC32C, kCRC64NVME, kSHA1, kSHA256, kMD5 };

// "CRC32", "crc32c", ... (case-insensitive). kMD5 is not an x-amz-checksum algorithm and is not
// returned by this parser.
std::optional<ChecksumAlgo> parseChecksumAlgo(std::string_view name);
std::string_view checksumName(ChecksumAlgo algo);    // "CRC32", "CRC32C", "CRC64NVME", "SHA1", ...
std::string checksumHeader(ChecksumAlgo algo);       // "x-amz-checksum-crc32", ...

// Incremental hasher. finish() returns the raw digest (CRCs big-endian: 4 bytes for CRC32/CRC32C,
// 8 bytes for CRC64NVME), as S3 base64-encodes them.
class Hasher {
 public:
  virtual ~Hasher() = default;
  virtual void update(std::span<const char> data) = 0;
  virtual std::string finish() = 0;  // call once
  static std::unique_ptr<Hasher> create(ChecksumAlgo algo);
};

// Plain CRC helpers (also used for combining part checksums).
uint32_t crc32Update(uint32_t crc, std::span<const char> data);   // start with 0
uint32_t crc32cUpdate(uint32_t crc, std::span<const char> data);  // start with 0
uint64_t crc64nvmeUpdate(uint64_t crc, std::span<const char> data);  // start with 0

// The portable slicing-by-8 CRC32C that crc32cUpdate falls back to without SSE4.2 (tests only).
uint32_t crc32cUpdateTableForTest(uint32_t crc, std::span<const char> data);

}  // namespace ember
