#include "common/digest.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ember {
namespace {

std::span<const char> spanOf(std::string_view s) { return {s.data(), s.size()}; }

std::string hexOf(std::string_view raw) { return hexEncode(raw); }

std::string randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(rng() & 0xff);
  }
  return out;
}

// Bit-at-a-time reference CRCs, straight from the definition, to check the table/SSE code.
uint32_t crc32cReference(std::string_view data) {
  uint32_t crc = 0xffffffffu;
  for (char ch : data) {
    crc ^= static_cast<unsigned char>(ch);
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
  }
  return ~crc;
}

uint64_t crc64NvmeReference(std::string_view data) {
  uint64_t crc = ~0ull;
  for (char ch : data) {
    crc ^= static_cast<unsigned char>(ch);
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 1) ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
    }
  }
  return ~crc;
}

// ---- hex ----------------------------------------------------------------------------------------

TEST(HexTest, EncodeIsLowercase) {
  EXPECT_EQ(hexEncode(""), "");
  EXPECT_EQ(hexEncode(std::string("\x00\xff\x10\xab", 4)), "00ff10ab");
}

TEST(HexTest, DecodeAcceptsBothCases) {
  auto r = hexDecode("00FF10ab");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, std::string("\x00\xff\x10\xab", 4));
  auto empty = hexDecode("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
}

TEST(HexTest, DecodeRejectsBadInput) {
  for (std::string_view bad : {"0", "abc", "0g", "zz", " 00", "00 ", "0x00"}) {
    auto r = hexDecode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(HexTest, RoundTripsAllBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  auto r = hexDecode(hexEncode(all));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, all);
}

// ---- base64 -------------------------------------------------------------------------------------

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    auto r = base64Decode(encoded);
    ASSERT_TRUE(r) << encoded;
    EXPECT_EQ(*r, plain);
  }
}

TEST(Base64Test, UsesStandardAlphabet) {
  EXPECT_EQ(base64Encode("\xfb\xff\xbf"), "+/+/");
  auto r = base64Decode("+/+/");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "\xfb\xff\xbf");
}

TEST(Base64Test, StrictDecodeRejects) {
  const std::string_view badInputs[] = {
      "Zg",        // missing padding
      "Zg=",       // short padding
      "Zm9",       // length not a multiple of 4
      "Z===",      // three padding characters
      "====",      // only padding
      "=Zg=",      // padding first
      "Zg==Zg==",  // padding in the middle
      "Zm=v",      // padding inside a group
      "Zh==",      // non-zero bits under the padding
      "Zm9=",      // non-zero bits under the padding (one '=')
      "Zm9v\n",    // whitespace
      "Zm 9v",     // whitespace
      "-_-_",      // URL-safe alphabet
      "Zm9v!AAA",  // junk
      std::string_view("Zm\0v", 4),
  };
  for (std::string_view bad : badInputs) {
    auto r = base64Decode(bad);
    EXPECT_FALSE(r) << "accepted: " << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(Base64Test, RoundTripsEveryLength) {
  std::string data = randomBytes(70, 7);
  for (size_t n = 0; n <= data.size(); ++n) {
    std::string_view plain(data.data(), n);
    std::string enc = base64Encode(plain);
    EXPECT_EQ(enc.size(), (n + 2) / 3 * 4);
    auto r = base64Decode(enc);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, plain);
  }
}

// ---- MD5 / SHA / HMAC ---------------------------------------------------------------------------

TEST(DigestTest, Md5) {
  EXPECT_EQ(hexOf(md5Raw("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hexOf(md5Raw("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(base64Encode(md5Raw("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST(DigestTest, Sha256) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Raw("abc").size(), 32u);
  EXPECT_EQ(sha256Hex("Welcome to Amazon S3."),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

struct HmacVector {
  std::string key;
  std::string data;
  std::string_view expectHex;
};

TEST(DigestTest, HmacSha256Rfc4231) {
  std::string key4;
  for (int i = 1; i <= 25; ++i) {
    key4.push_back(static_cast<char>(i));
  }
  const HmacVector vectors[] = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {key4, std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. "
       "The key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(hexOf(hmacSha256Raw(v.key, v.data)), v.expectHex);
  }
  // Test case 5 is truncated to 128 bits.
  EXPECT_EQ(hexOf(hmacSha256Raw(std::string(20, '\x0c'), "Test With Truncation")).substr(0, 32),
            "a3b6167473100ee06e0c796c2955552b");
}

TEST(DigestTest, HmacWithEmptyKeyAndData) {
  EXPECT_EQ(hexOf(hmacSha256Raw("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(DigestTest, HmacSha1Rfc2202) {
  std::string key4;
  for (int i = 1; i <= 25; ++i) {
    key4.push_back(static_cast<char>(i));
  }
  const HmacVector vectors[] = {
      {std::string(20, '\x0b'), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
      {"Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
      {key4, std::string(50, '\xcd'), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
      {std::string(20, '\x0c'), "Test With Truncation",
       "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
      {std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
      {std::string(80, '\xaa'),
       "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
       "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(hexOf(hmacSha1Raw(v.key, v.data)), v.expectHex);
  }
  EXPECT_EQ(hmacSha1Raw("k", "d").size(), 20u);
  EXPECT_EQ(hexOf(hmacSha1Raw("", "")), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

// ---- CRCs ---------------------------------------------------------------------------------------

TEST(CrcTest, CheckValues) {
  std::string_view check = "123456789";
  EXPECT_EQ(crc32Update(0, spanOf(check)), 0xCBF43926u);
  EXPECT_EQ(crc32cUpdate(0, spanOf(check)), 0xE3069283u);
  EXPECT_EQ(crc32cUpdateTableForTest(0, spanOf(check)), 0xE3069283u);
  EXPECT_EQ(crc64nvmeUpdate(0, spanOf(check)), 0xae8b14860a799888ull);
  EXPECT_EQ(crc32Update(0, {}), 0u);
  EXPECT_EQ(crc32cUpdate(0, {}), 0u);
  EXPECT_EQ(crc64nvmeUpdate(0, {}), 0u);
}

TEST(CrcTest, Crc32cRfc3720Vectors) {
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string inc;
  std::string dec;
  for (int i = 0; i < 32; ++i) {
    inc.push_back(static_cast<char>(i));
    dec.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32cUpdate(0, spanOf(zeros)), 0x8A9136AAu);
  EXPECT_EQ(crc32cUpdate(0, spanOf(ones)), 0x62A8AB43u);
  EXPECT_EQ(crc32cUpdate(0, spanOf(inc)), 0x46DD794Eu);
  EXPECT_EQ(crc32cUpdate(0, spanOf(dec)), 0x113FDB5Cu);
}

TEST(CrcTest, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  std::string data = randomBytes(300, 42);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; off + n <= data.size(); n += (n < 40 ? 1 : 37)) {
      std::string_view s(data.data() + off, n);
      ASSERT_EQ(crc32cUpdate(0, spanOf(s)), crc32cReference(s)) << off << " " << n;
      ASSERT_EQ(crc32cUpdateTableForTest(0, spanOf(s)), crc32cReference(s)) << off << " " << n;
      ASSERT_EQ(crc64nvmeUpdate(0, spanOf(s)), crc64NvmeReference(s)) << off << " " << n;
    }
  }
}

TEST(CrcTest, IncrementalEqualsOneShot) {
  std::string data = randomBytes(1000, 3);
  uint32_t c32 = crc32Update(0, spanOf(data));
  uint32_t c32c = crc32cUpdate(0, spanOf(data));
  uint64_t c64 = crc64nvmeUpdate(0, spanOf(data));
  for (size_t split : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{500}, size_t{999}}) {
    std::string_view a(data.data(), split);
    std::string_view b(data.data() + split, data.size() - split);
    EXPECT_EQ(crc32Update(crc32Update(0, spanOf(a)), spanOf(b)), c32);
    EXPECT_EQ(crc32cUpdate(crc32cUpdate(0, spanOf(a)), spanOf(b)), c32c);
    EXPECT_EQ(crc32cUpdateTableForTest(crc32cUpdateTableForTest(0, spanOf(a)), spanOf(b)), c32c);
    EXPECT_EQ(crc64nvmeUpdate(crc64nvmeUpdate(0, spanOf(a)), spanOf(b)), c64);
  }
}

// ---- Hasher -------------------------------------------------------------------------------------

TEST(HasherTest, EveryAlgorithmMatchesKnownDigest) {
  struct Case {
    ChecksumAlgo algo;
    std::string_view hex;  // digest of "123456789"
  };
  const Case cases[] = {
      {ChecksumAlgo::kCRC32, "cbf43926"},
      {ChecksumAlgo::kCRC32C, "e3069283"},
      {ChecksumAlgo::kCRC64NVME, "ae8b14860a799888"},
      {ChecksumAlgo::kSHA1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
      {ChecksumAlgo::kSHA256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"},
      {ChecksumAlgo::kMD5, "25f9e794323b453885f5181f1b624d0b"},
  };
  std::string_view check = "123456789";
  for (const auto& c : cases) {
    auto h = Hasher::create(c.algo);
    ASSERT_NE(h, nullptr);
    h->update(spanOf(check.substr(0, 4)));
    h->update({});
    h->update(spanOf(check.substr(4)));
    EXPECT_EQ(hexOf(h->finish()), c.hex) << checksumName(c.algo);
  }
}

TEST(HasherTest, EmptyInputGivesS3EmptyChecksums) {
  EXPECT_EQ(base64Encode(Hasher::create(ChecksumAlgo::kCRC32)->finish()), "AAAAAA==");
  EXPECT_EQ(base64Encode(Hasher::create(ChecksumAlgo::kCRC32C)->finish()), "AAAAAA==");
  EXPECT_EQ(base64Encode(Hasher::create(ChecksumAlgo::kCRC64NVME)->finish()), "AAAAAAAAAAA=");
  EXPECT_EQ(hexOf(Hasher::create(ChecksumAlgo::kSHA256)->finish()), sha256Hex(""));
}

TEST(HasherTest, LargeInputAcrossManyUpdates) {
  std::string data = randomBytes(1 << 20, 11);
  for (ChecksumAlgo algo : {ChecksumAlgo::kCRC32, ChecksumAlgo::kCRC32C, ChecksumAlgo::kCRC64NVME,
                            ChecksumAlgo::kSHA1, ChecksumAlgo::kSHA256, ChecksumAlgo::kMD5}) {
    auto whole = Hasher::create(algo);
    whole->update(spanOf(data));
    auto pieces = Hasher::create(algo);
    std::mt19937 rng(5);
    for (size_t pos = 0; pos < data.size();) {
      size_t n = std::min<size_t>(data.size() - pos, rng() % 5000);
      pieces->update(spanOf(std::string_view(data).substr(pos, n)));
      pos += n;
    }
    EXPECT_EQ(whole->finish(), pieces->finish()) << checksumName(algo);
  }
}

// ---- names --------------------------------------------------------------------------------------

TEST(ChecksumNameTest, ParseIsCaseInsensitive) {
  EXPECT_EQ(parseChecksumAlgo("CRC32"), ChecksumAlgo::kCRC32);
  EXPECT_EQ(parseChecksumAlgo("crc32c"), ChecksumAlgo::kCRC32C);
  EXPECT_EQ(parseChecksumAlgo("CrC64NvMe"), ChecksumAlgo::kCRC64NVME);
  EXPECT_EQ(parseChecksumAlgo("sha1"), ChecksumAlgo::kSHA1);
  EXPECT_EQ(parseChecksumAlgo("SHA256"), ChecksumAlgo::kSHA256);
  EXPECT_EQ(parseChecksumAlgo("MD5"), std::nullopt);
  EXPECT_EQ(parseChecksumAlgo(""), std::nullopt);
  EXPECT_EQ(parseChecksumAlgo("CRC32 "), std::nullopt);
  EXPECT_EQ(parseChecksumAlgo("SHA-256"), std::nullopt);
}

TEST(ChecksumNameTest, NamesAndHeadersRoundTrip) {
  for (ChecksumAlgo algo : {ChecksumAlgo::kCRC32, ChecksumAlgo::kCRC32C, ChecksumAlgo::kCRC64NVME,
                            ChecksumAlgo::kSHA1, ChecksumAlgo::kSHA256}) {
    EXPECT_EQ(parseChecksumAlgo(checksumName(algo)), algo);
  }
  EXPECT_EQ(checksumHeader(ChecksumAlgo::kCRC32), "x-amz-checksum-crc32");
  EXPECT_EQ(checksumHeader(ChecksumAlgo::kCRC32C), "x-amz-checksum-crc32c");
  EXPECT_EQ(checksumHeader(ChecksumAlgo::kCRC64NVME), "x-amz-checksum-crc64nvme");
  EXPECT_EQ(checksumHeader(ChecksumAlgo::kSHA1), "x-amz-checksum-sha1");
  EXPECT_EQ(checksumHeader(ChecksumAlgo::kSHA256), "x-amz-checksum-sha256");
  EXPECT_EQ(checksumHeader(ChecksumAlgo::kMD5), "content-md5");
  EXPECT_EQ(checksumName(ChecksumAlgo::kMD5), "MD5");
}

}  // namespace
}  // namespace ember
