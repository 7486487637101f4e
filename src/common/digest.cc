#include "common/digest.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <openssl/evp.h>
#include <zlib.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "common/strings.h"
#include "common/headers.h"

namespace ember {

namespace {

// ---- hex / base64 -------------------------------------------------------------------------------

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> makeBase64Reverse() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) {
    v = -1;
  }
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kBase64Reverse = makeBase64Reverse();

// ---- OpenSSL digests ----------------------------------------------------------------------------

// Explicitly fetched algorithms, cached for the process lifetime: with OpenSSL 3 the legacy
// EVP_sha256() objects trigger an implicit provider fetch on every EVP_DigestInit_ex call.
const EVP_MD* fetchMd(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  // EMBER_CHECK equivalent: the default provider always offers these; a build without them
  // cannot serve S3 at all, so failing loudly at first use is the right outcome.
  if (md == nullptr) {
    std::abort();
  }
  return md;
}

const EVP_MD* mdMd5() {
  static const EVP_MD* md = fetchMd("MD5");
  return md;
}
const EVP_MD* mdSha1() {
  static const EVP_MD* md = fetchMd("SHA1");
  return md;
}
const EVP_MD* mdSha256() {
  static const EVP_MD* md = fetchMd("SHA256");
  return md;
}

std::string digestOneShot(const EVP_MD* md, std::string_view data) {
  std::string out(static_cast<size_t>(EVP_MD_get_size(md)), '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len, md,
                 nullptr) != 1) {
    std::abort();  // only fails on allocation failure
  }
  out.resize(len);
  return out;
}

// HMAC (RFC 2104) over a pre-fetched digest. OpenSSL 3's one-shot HMAC() fetches the HMAC
// implementation on every call, which showed up as an eighth of the CPU of a 4 KiB GET; this
// reuses one digest context per thread and the cached EVP_MD.
std::string hmacOneShot(const EVP_MD* md, std::string_view key, std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           EVP_MD_CTX_free);
  const size_t block = static_cast<size_t>(EVP_MD_get_block_size(md));
  unsigned char k[EVP_MAX_MD_SIZE > 128 ? EVP_MAX_MD_SIZE : 128] = {};
  if (ctx == nullptr || block > sizeof(k)) {
    std::abort();  // allocation failure / a digest we never use
  }
  if (key.size() > block) {
    std::string hashed = digestOneShot(md, key);
    std::memcpy(k, hashed.data(), hashed.size());
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[sizeof(k)];
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned int innerLen = 0;
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  for (size_t i = 0; i < block; ++i) {
    pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
  }
  bool ok = EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), pad, block) == 1 &&
            EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
            EVP_DigestFinal_ex(ctx.get(), inner, &innerLen) == 1;
  for (size_t i = 0; i < block; ++i) {
    pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  }
  ok = ok && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
       EVP_DigestUpdate(ctx.get(), pad, block) == 1 &&
       EVP_DigestUpdate(ctx.get(), inner, innerLen) == 1 &&
       EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) == 1;
  if (!ok) {
    std::abort();  // only fails on allocation failure
  }
  out.resize(len);
  return out;
}

// ---- CRC tables (slicing-by-8, reflected polynomials) -------------------------------------------

template <typename T>
using SliceTables = std::array<std::array<T, 256>, 8>;

template <typename T>
constexpr SliceTables<T> makeSliceTables(T poly) {
  SliceTables<T> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    T crc = static_cast<T>(i);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? static_cast<T>((crc >> 1) ^ poly) : static_cast<T>(crc >> 1);
    }
    t[0][i] = crc;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t k = 1; k < 8; ++k) {
      t[k][i] = static_cast<T>((t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff]);
    }
  }
  return t;
}

constexpr SliceTables<uint32_t> kCrc32cTables = makeSliceTables<uint32_t>(0x82F63B78u);
constexpr SliceTables<uint64_t> kCrc64NvmeTables = makeSliceTables<uint64_t>(0x9a6c9329ac4bc9b5ull);

uint64_t loadLe64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) {
    v = __builtin_bswap64(v);
  }
  return v;
}

// Raw reflected CRC-32C register update (no pre/post inversion).
uint32_t crc32cTable(uint32_t crc, const char* p, size_t n) {
  const auto& t = kCrc32cTables;
  while (n >= 8) {
    uint64_t v = loadLe64(p) ^ crc;
    crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
          t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^ t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    crc = (crc >> 8) ^ t[0][(crc ^ static_cast<unsigned char>(*p++)) & 0xff];
  }
  return crc;
}

#if defined(__x86_64__)
// SSE4.2 computes exactly the Castagnoli polynomial, 8 bytes per instruction.
__attribute__((target("sse4.2"))) uint32_t crc32cHardware(uint32_t crc, const char* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    c = _mm_crc32_u64(c, loadLe64(p));
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n-- > 0) {
    c32 = _mm_crc32_u8(c32, static_cast<unsigned char>(*p++));
  }
  return c32;
}

bool haveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

uint64_t crc64Table(uint64_t crc, const char* p, size_t n) {
  const auto& t = kCrc64NvmeTables;
  while (n >= 8) {
    uint64_t v = loadLe64(p) ^ crc;
    crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
          t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^ t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    crc = (crc >> 8) ^ t[0][(crc ^ static_cast<unsigned char>(*p++)) & 0xff];
  }
  return crc;
}

template <typename T>
std::string bigEndianBytes(T v) {
  std::string out(sizeof(T), '\0');
  for (size_t i = 0; i < sizeof(T); ++i) {
    out[sizeof(T) - 1 - i] = static_cast<char>(v & 0xff);
    v = static_cast<T>(v >> 8);
  }
  return out;
}

// ---- Hasher implementations ---------------------------------------------------------------------

class EvpHasher final : public Hasher {
 public:
  explicit EvpHasher(const EVP_MD* md) : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, md, nullptr) != 1) {
      std::abort();  // allocation failure
    }
  }
  ~EvpHasher() override { EVP_MD_CTX_free(ctx_); }
  EvpHasher(const EvpHasher&) = delete;
  EvpHasher& operator=(const EvpHasher&) = delete;

  void update(std::span<const char> data) override {
    if (!data.empty()) {
      EVP_DigestUpdate(ctx_, data.data(), data.size());
    }
  }
  std::string finish() override {
    std::string out(EVP_MAX_MD_SIZE, '\0');
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out.data()), &len);
    out.resize(len);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

class Crc32Hasher final : public Hasher {
 public:
  void update(std::span<const char> data) override { crc_ = crc32Update(crc_, data); }
  std::string finish() override { return bigEndianBytes(crc_); }

 private:
  uint32_t crc_ = 0;
};

class Crc32cHasher final : public Hasher {
 public:
  void update(std::span<const char> data) override { crc_ = crc32cUpdate(crc_, data); }
  std::string finish() override { return bigEndianBytes(crc_); }

 private:
  uint32_t crc_ = 0;
};

class Crc64NvmeHasher final : public Hasher {
 public:
  void update(std::span<const char> data) override { crc_ = crc64nvmeUpdate(crc_, data); }
  std::string finish() override { return bigEndianBytes(crc_); }

 private:
  uint64_t crc_ = 0;
};

}  // namespace

std::string hexEncode(std::string_view raw) {
  std::string out;
  out.resize(raw.size() * 2);
  for (size_t i = 0; i < raw.size(); ++i) {
    auto b = static_cast<unsigned char>(raw[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0x0f];
  }
  return out;
}

Result<std::string> hexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return unexpected(Code::kInvalidArgument, "hex string has odd length");
  }
  std::string out;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hexDigitValue(hex[2 * i]);
    int lo = hexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return unexpected(Code::kInvalidArgument, "invalid hex digit");
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string base64Encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(raw[k])); };
  for (; i + 3 <= raw.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  size_t rest = raw.size() - i;
  if (rest == 1) {
    uint32_t v = byte(i) << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

Result<std::string> base64Decode(std::string_view b64) {
  // Strict RFC 4648: padded to a multiple of 4, no whitespace, padding only at the end, and the
  // unused bits of the last group must be zero (so every value has exactly one encoding).
  if (b64.size() % 4 != 0) {
    return unexpected(Code::kInvalidArgument, "base64 length is not a multiple of 4");
  }
  size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') {
    pad = (b64.size() >= 2 && b64[b64.size() - 2] == '=') ? 2 : 1;
  }
  std::string out;
  out.reserve(b64.size() / 4 * 3);
  for (size_t i = 0; i < b64.size(); i += 4) {
    bool last = i + 4 == b64.size();
    size_t padHere = last ? pad : 0;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = b64[i + k];
      int8_t d = 0;
      if (k >= 4 - padHere) {
        // Inside the padding run: only '=' is allowed (checked by construction of padHere).
      } else {
        d = kBase64Reverse[static_cast<unsigned char>(c)];
        if (d < 0) {
          return unexpected(
              Code::kInvalidArgument,
              c == '=' ? "base64 padding in the middle of the input" : "invalid base64 character");
        }
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (padHere == 2) {
      if ((v & 0xffff) != 0) {
        return unexpected(Code::kInvalidArgument, "base64 has non-zero padding bits");
      }
      break;
    }
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (padHere == 1) {
      if ((v & 0xff) != 0) {
        return unexpected(Code::kInvalidArgument, "base64 has non-zero padding bits");
      }
      break;
    }
    out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

std::string md5Raw(std::string_view data) { return digestOneShot(mdMd5(), data); }

std::string sha256Raw(std::string_view data) { return digestOneShot(mdSha256(), data); }

std::string sha256Hex(std::string_view data) { return hexEncode(sha256Raw(data)); }

std::string hmacSha256Raw(std::string_view key, std::string_view data) {
  return hmacOneShot(mdSha256(), key, data);
}

std::string hmacSha1Raw(std::string_view key, std::string_view data) {
  return hmacOneShot(mdSha1(), key, data);
}

std::optional<ChecksumAlgo> parseChecksumAlgo(std::string_view name) {
  if (iequals(name, "CRC32")) {
    return ChecksumAlgo::kCRC32;
  }
  if (iequals(name, "CRC32C")) {
    return ChecksumAlgo::kCRC32C;
  }
  if (iequals(name, "CRC64NVME")) {
    return ChecksumAlgo::kCRC64NVME;
  }
  if (iequals(name, "SHA1")) {
    return ChecksumAlgo::kSHA1;
  }
  if (iequals(name, "SHA256")) {
    return ChecksumAlgo::kSHA256;
  }
  return std::nullopt;
}

std::string_view checksumName(ChecksumAlgo algo) {
  switch (algo) {
    case ChecksumAlgo::kCRC32: return "CRC32";
    case ChecksumAlgo::kCRC32C: return "CRC32C";
    case ChecksumAlgo::kCRC64NVME: return "CRC64NVME";
    case ChecksumAlgo::kSHA1: return "SHA1";
    case ChecksumAlgo::kSHA256: return "SHA256";
    case ChecksumAlgo::kMD5: return "MD5";
  }
  return "UNKNOWN";
}

std::string checksumHeader(ChecksumAlgo algo) {
  // MD5 travels in Content-MD5 (base64, like the x-amz-checksum-* values).
  if (algo == ChecksumAlgo::kMD5) {
    return "content-md5";
  }
  return "x-amz-checksum-" + toLower(checksumName(algo));
}

std::unique_ptr<Hasher> Hasher::create(ChecksumAlgo algo) {
  switch (algo) {
    case ChecksumAlgo::kCRC32: return std::make_unique<Crc32Hasher>();
    case ChecksumAlgo::kCRC32C: return std::make_unique<Crc32cHasher>();
    case ChecksumAlgo::kCRC64NVME: return std::make_unique<Crc64NvmeHasher>();
    case ChecksumAlgo::kSHA1: return std::make_unique<EvpHasher>(mdSha1());
    case ChecksumAlgo::kSHA256: return std::make_unique<EvpHasher>(mdSha256());
    case ChecksumAlgo::kMD5: return std::make_unique<EvpHasher>(mdMd5());
  }
  return nullptr;
}

uint32_t crc32Update(uint32_t crc, std::span<const char> data) {
  // zlib already does pre/post inversion, so its running value is the finished CRC.
  uLong c = crc;
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t n = data.size();
  while (n > 0) {
    // crc32_z takes z_size_t; chunking keeps this correct even where that is 32 bits wide.
    size_t step = std::min<size_t>(n, size_t{1} << 30);
    c = crc32_z(c, p, static_cast<z_size_t>(step));
    p += step;
    n -= step;
  }
  return static_cast<uint32_t>(c);
}

uint32_t crc32cUpdate(uint32_t crc, std::span<const char> data) {
  uint32_t c = ~crc;
#if defined(__x86_64__)
  if (haveSse42()) {
    return ~crc32cHardware(c, data.data(), data.size());
  }
#endif
  return ~crc32cTable(c, data.data(), data.size());
}

uint32_t crc32cUpdateTableForTest(uint32_t crc, std::span<const char> data) {
  return ~crc32cTable(~crc, data.data(), data.size());
}

uint64_t crc64nvmeUpdate(uint64_t crc, std::span<const char> data) {
  return ~crc64Table(~crc, data.data(), data.size());
}

}  // namespace ember
