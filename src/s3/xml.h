#pragma once
// Small XML helpers for S3 bodies (pugixml inside): a writer for responses and parsers for the
// request bodies S3 defines (CompleteMultipartUpload, Delete, CreateBucketConfiguration).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/types.h"

namespace ember::s3 {

// Builds one document. Nested elements: open()/close(). Text is escaped.
class XmlWriter {
 public:
  explicit XmlWriter(std::string_view root, bool withNamespace = true);
  ~XmlWriter();
  XmlWriter& add(std::string_view name, std::string_view text);
  XmlWriter& open(std::string_view name);
  XmlWriter& close();
  std::string finish();  // "<?xml ...?>" + document

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct DeleteRequest {
  bool quiet = false;
  std::vector<std::string> keys;
};

// Errors: kMalformedXml (not well-formed, wrong root, > 1000 keys, no keys).
Result<DeleteRequest> parseDelete(std::string_view xml);
// Errors: kMalformedXml. Part ETags are returned without quotes.
Result<std::vector<core::CompletePart>> parseCompleteMultipart(std::string_view xml);
// Returns the LocationConstraint ("" when the body is empty). Errors: kMalformedXml.
Result<std::string> parseCreateBucket(std::string_view xml);

}  // namespace ember::s3
