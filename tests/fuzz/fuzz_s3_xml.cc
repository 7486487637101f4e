// libFuzzer target: the S3 request-body XML parsers (DeleteObjects, CompleteMultipartUpload,
// CreateBucketConfiguration). Any input must yield a value or a kMalformedXml error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "s3/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto del = ember::s3::parseDelete(in);
  if (del && (del->keys.empty() || del->keys.size() > 1000)) {
    std::abort();  // the parser promised 1..1000 keys
  }
  if (!del && del.error().code() != ember::Code::kMalformedXml) {
    std::abort();
  }
  auto parts = ember::s3::parseCompleteMultipart(in);
  if (!parts && parts.error().code() != ember::Code::kMalformedXml) {
    std::abort();
  }
  auto region = ember::s3::parseCreateBucket(in);
  if (!region && region.error().code() != ember::Code::kMalformedXml) {
    std::abort();
  }
  return 0;
}
