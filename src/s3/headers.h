#pragma once
// Request-header parsing shared by the object and multipart handlers.

#include "core/types.h"
#include "http/http.h"
#include "s3/context.h"

namespace ember::s3 {

// Content-* headers and x-amz-meta-* of a request. Errors: kInvalidArgument (metadata > 2 KiB).
Result<store::ContentHeaders> contentHeaders(const http::Headers& h);
Result<store::StringPairs> userMetadata(const http::Headers& h);
// If-* headers (or x-amz-copy-source-if-* when `prefix` is "x-amz-copy-source-").
core::Conditions conditions(const http::Headers& h, std::string_view prefix = "");
// Writes object headers: content headers, metadata, ETag, Last-Modified.
void objectHeaders(http::Headers& out, const store::ObjectRecord& rec);
// Decodes x-amz-copy-source ("/bucket/key" or "bucket/key", URL-encoded).
Status parseCopySource(std::string_view value, std::string& bucket, std::string& key);

}  // namespace ember::s3
