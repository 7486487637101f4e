#include "s3/headers.h"

#include "auth/sigv4.h"
#include "common/time_util.h"
#include "core/types.h"

namespace ember::s3 {

Result<store::ContentHeaders> contentHeaders(const http::Headers& h) {
  store::ContentHeaders c;
  c.contentType = std::string(h.get("content-type"));
  // aws-chunked is a transfer detail of the upload, not part of the object's encoding.
  std::string enc;
  std::string_view rest = h.get("content-encoding");
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (item.empty() || iequals(item, "aws-chunked")) {
      continue;
    }
    if (!enc.empty()) {
      enc += ",";
    }
    enc += item;
  }
  c.contentEncoding = enc;
  c.contentDisposition = std::string(h.get("content-disposition"));
  c.contentLanguage = std::string(h.get("content-language"));
  c.cacheControl = std::string(h.get("cache-control"));
  c.expires = std::string(h.get("expires"));
  return c;
}

Result<store::StringPairs> userMetadata(const http::Headers& h) {
  store::StringPairs meta;
  size_t total = 0;
  constexpr std::string_view kPrefix = "x-amz-meta-";
  for (const auto& f : h.fields()) {
    if (f.name.size() > kPrefix.size() && iequals(f.name.substr(0, kPrefix.size()), kPrefix)) {
      std::string name = toLower(f.name.substr(kPrefix.size()));
      total += name.size() + f.value.size();
      bool merged = false;
      for (auto& [n, v] : meta) {
        if (n == name) {
          v += "," + f.value;  // repeated headers combine, as HTTP does
          merged = true;
        }
      }
      if (!merged) {
        meta.emplace_back(std::move(name), f.value);
      }
    }
  }
  if (total > 2048) {
    return unexpected(Code::kMetadataTooLarge,
                      "Your metadata headers exceed the maximum allowed metadata size (2 KB).");
  }
  return meta;
}

core::Conditions conditions(const http::Headers& h, std::string_view prefix) {
  core::Conditions c;
  std::string p(prefix);
  if (const std::string* v = h.find(p + "if-match")) c.ifMatch = *v;
  if (const std::string* v = h.find(p + "if-none-match")) c.ifNoneMatch = *v;
  if (const std::string* v = h.find(p + "if-modified-since")) c.ifModifiedSinceMs = parseHttpDate(*v);
  if (const std::string* v = h.find(p + "if-unmodified-since")) {
    c.ifUnmodifiedSinceMs = parseHttpDate(*v);
  }
  return c;
}

void objectHeaders(http::Headers& out, const store::ObjectRecord& rec) {
  out.add("ETag", "\"" + rec.etag + "\"");
  out.add("Last-Modified", formatHttpDate(rec.mtimeMs));
  out.add("Content-Type",
          rec.content.contentType.empty() ? "binary/octet-stream" : rec.content.contentType);
  if (!rec.content.contentEncoding.empty()) out.add("Content-Encoding", rec.content.contentEncoding);
  if (!rec.content.contentDisposition.empty()) {
    out.add("Content-Disposition", rec.content.contentDisposition);
  }
  if (!rec.content.contentLanguage.empty()) out.add("Content-Language", rec.content.contentLanguage);
  if (!rec.content.cacheControl.empty()) out.add("Cache-Control", rec.content.cacheControl);
  if (!rec.content.expires.empty()) out.add("Expires", rec.content.expires);
  for (const auto& [n, v] : rec.userMeta) {
    out.add("x-amz-meta-" + n, v);
  }
  for (const auto& [n, v] : rec.attrs) {
    if (n == core::kTierStateAttr) {
      out.add(n, v);
    }
  }
}

Status parseCopySource(std::string_view value, std::string& bucket, std::string& key) {
  if (size_t q = value.find("?versionId="); q != std::string_view::npos) {
    value = value.substr(0, q);
  }
  auto decoded = auth::uriDecode(value);
  if (!decoded) {
    return makeError(Code::kInvalidArgument, "Invalid copy source encoding");
  }
  std::string_view v = *decoded;
  if (!v.empty() && v.front() == '/') {
    v.remove_prefix(1);
  }
  size_t slash = v.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == v.size()) {
    return makeError(Code::kInvalidArgument,
                     "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  }
  bucket = std::string(v.substr(0, slash));
  key = std::string(v.substr(slash + 1));
  return Status::ok();
}

}  // namespace ember::s3
