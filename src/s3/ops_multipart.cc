// Multipart upload operations.
#include <charconv>

#include "common/time_util.h"
#include "s3/body.h"
#include "s3/context.h"
#include "s3/headers.h"
#include "s3/xml.h"

namespace ember::s3 {

namespace {

Result<uint32_t> queryNumber(const Ctx& c, const std::string& name, uint32_t fallback,
                             uint32_t max) {
  if (!c.hasQuery(name)) {
    return fallback;
  }
  std::string v = c.queryValue(name);
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0) {
    return unexpected(Code::kInvalidArgument, "Argument " + name + " must be an integer between "
                                              "0 and 2147483647");
  }
  return static_cast<uint32_t>(std::min<int64_t>(n, max));
}

void addOwner(XmlWriter& w, const char* tag, std::string_view owner) {
  w.open(tag).add("ID", owner).add("DisplayName", owner).close();
}

Result<uint32_t> partNumber(const Ctx& c) {
  std::string v = c.queryValue("partNumber");
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 10000) {
    return unexpected(Code::kInvalidArgument,
                      "Part number must be an integer between 1 and 10000, inclusive");
  }
  return n;
}

}  // namespace

asio::awaitable<Status> createMultipart(Ctx& c) {
  auto content = contentHeaders(c.req.headers);
  auto meta = userMetadata(c.req.headers);
  if (!meta) {
    co_return co_await sendError(c, meta.error());
  }
  store::UploadRecord up;
  up.bucket = c.bucket;
  up.key = c.key;
  up.owner = c.owner();
  up.content = std::move(*content);
  up.userMeta = std::move(*meta);
  if (const std::string* a = c.req.headers.find("x-amz-checksum-algorithm")) {
    auto algo = parseChecksumAlgo(*a);
    if (!algo) {
      co_return co_await sendError(
          c, makeError(Code::kInvalidRequest, "Checksum algorithm provided is unsupported."));
    }
    up.checksumAlgorithm = std::string(checksumName(*algo));
    up.checksumType = std::string(c.req.headers.get("x-amz-checksum-type", "COMPOSITE"));
  }
  auto r = co_await c.ns.createUpload(std::move(up));
  if (!r) {
    co_return co_await sendError(c, r.error());
  }
  XmlWriter w("InitiateMultipartUploadResult");
  w.add("Bucket", c.bucket).add("Key", c.key).add("UploadId", r->uploadId);
  http::Headers h;
  if (!r->checksumAlgorithm.empty()) {
    h.add("x-amz-checksum-algorithm", r->checksumAlgorithm);
    h.add("x-amz-checksum-type", r->checksumType);
  }
  co_return co_await sendXml(c, 200, w.finish(), std::move(h));
}

asio::awaitable<Status> uploadPart(Ctx& c) {
  auto n = partNumber(c);
  if (!n) {
    co_return co_await sendError(c, n.error());
  }
  auto body = makeUploadBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  core::PartInput in;
  in.bucket = c.bucket;
  in.key = c.key;
  in.uploadId = c.queryValue("uploadId");
  in.partNumber = *n;
  in.checksums = (*body)->store;
  in.verifyOnly = (*body)->verifyOnly;
  in.expectedSize = (*body)->expectedSize;
  in.verify = (*body)->verify;
  auto part = co_await c.ns.uploadPart(std::move(in), *(*body)->source);
  if (!part) {
    if (c.body.bytesRead() < c.req.contentLength.value_or(0)) {
      c.out.closeAfter();
    }
    co_return co_await sendError(c, part.error());
  }
  http::Headers h;
  h.add("ETag", quoteEtag(part->etag));
  addChecksumHeaders(h, part->checksums);
  co_return co_await sendEmpty(c, 200, std::move(h));
}

asio::awaitable<Status> uploadPartCopy(Ctx& c) {
  auto n = partNumber(c);
  if (!n) {
    co_return co_await sendError(c, n.error());
  }
  std::string srcBucket;
  std::string srcKey;
  Status s = parseCopySource(c.req.headers.get("x-amz-copy-source"), srcBucket, srcKey);
  if (s) {
    s = co_await checkSourceAccess(c, srcBucket);
  }
  if (!s) {
    co_return co_await sendError(c, s);
  }
  core::PartInput in;
  in.bucket = c.bucket;
  in.key = c.key;
  in.uploadId = c.queryValue("uploadId");
  in.partNumber = *n;
  std::optional<std::string> range;
  if (const std::string* r = c.req.headers.find("x-amz-copy-source-range")) {
    range = *r;
  }
  auto part = co_await c.ns.uploadPartCopy(std::move(in), srcBucket, srcKey,
                                           conditions(c.req.headers, "x-amz-copy-source-"), range);
  if (!part) {
    co_return co_await sendError(c, part.error());
  }
  XmlWriter w("CopyPartResult");
  w.add("LastModified", formatIso8601(part->mtimeMs)).add("ETag", quoteEtag(part->etag));
  for (const auto& [algo, v] : part->checksums) {
    w.add("Checksum" + algo, v);
  }
  co_return co_await sendXml(c, 200, w.finish());
}

asio::awaitable<Status> completeMultipart(Ctx& c) {
  auto body = co_await readSmallBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  auto parts = parseCompleteMultipart(*body);
  if (!parts) {
    co_return co_await sendError(c, parts.error());
  }
  auto rec = co_await c.ns.completeUpload(c.bucket, c.key, c.queryValue("uploadId"),
                                          std::move(*parts), conditions(c.req.headers));
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  XmlWriter w("CompleteMultipartUploadResult");
  w.add("Location", "/" + c.bucket + "/" + c.key)
      .add("Bucket", c.bucket)
      .add("Key", c.key)
      .add("ETag", quoteEtag(rec->etag));
  for (const auto& [algo, v] : rec->checksums) {
    w.add("Checksum" + algo, v);
  }
  if (!rec->checksumType.empty()) {
    w.add("ChecksumType", rec->checksumType);
  }
  co_return co_await sendXml(c, 200, w.finish());
}

asio::awaitable<Status> abortMultipart(Ctx& c) {
  Status s = co_await c.ns.abortUpload(c.bucket, c.key, c.queryValue("uploadId"));
  if (!s) {
    co_return co_await sendError(c, s);
  }
  co_return co_await sendEmpty(c, 204);
}

asio::awaitable<Status> listParts(Ctx& c) {
  std::string uploadId = c.queryValue("uploadId");
  auto up = co_await c.ns.getUpload(c.bucket, c.key, uploadId);
  if (!up) {
    co_return co_await sendError(c, up.error());
  }
  auto maxParts = queryNumber(c, "max-parts", 1000, 1000);
  auto marker = queryNumber(c, "part-number-marker", 0, 10000);
  if (!maxParts || !marker) {
    co_return co_await sendError(c, !maxParts ? maxParts.error() : marker.error());
  }
  auto parts = co_await c.ns.listParts(uploadId, *marker, *maxParts + 1);
  if (!parts) {
    co_return co_await sendError(c, parts.error());
  }
  bool truncated = parts->size() > *maxParts;
  if (truncated) {
    parts->resize(*maxParts);
  }
  XmlWriter w("ListPartsResult");
  w.add("Bucket", c.bucket).add("Key", c.key).add("UploadId", uploadId);
  addOwner(w, "Initiator", up->owner);
  addOwner(w, "Owner", up->owner);
  w.add("StorageClass", "STANDARD")
      .add("PartNumberMarker", std::to_string(*marker))
      .add("NextPartNumberMarker", std::to_string(parts->empty() ? 0 : parts->back().number))
      .add("MaxParts", std::to_string(*maxParts))
      .add("IsTruncated", truncated ? "true" : "false");
  if (!up->checksumAlgorithm.empty()) {
    w.add("ChecksumAlgorithm", up->checksumAlgorithm);
  }
  for (const auto& p : *parts) {
    w.open("Part")
        .add("PartNumber", std::to_string(p.number))
        .add("LastModified", formatIso8601(p.mtimeMs))
        .add("ETag", quoteEtag(p.etag))
        .add("Size", std::to_string(p.size));
    for (const auto& [algo, v] : p.checksums) {
      w.add("Checksum" + algo, v);
    }
    w.close();
  }
  co_return co_await sendXml(c, 200, w.finish());
}

asio::awaitable<Status> listUploads(Ctx& c) {
  auto maxUploads = queryNumber(c, "max-uploads", 1000, 1000);
  if (!maxUploads) {
    co_return co_await sendError(c, maxUploads.error());
  }
  core::ListUploadsInput in;
  in.bucket = c.bucket;
  in.prefix = c.queryValue("prefix");
  in.delimiter = c.queryValue("delimiter");
  in.keyMarker = c.queryValue("key-marker");
  in.uploadIdMarker = c.queryValue("upload-id-marker");
  in.maxUploads = *maxUploads;
  auto out = co_await c.ns.listUploads(in);
  if (!out) {
    co_return co_await sendError(c, out.error());
  }
  XmlWriter w("ListMultipartUploadsResult");
  w.add("Bucket", c.bucket)
      .add("KeyMarker", in.keyMarker)
      .add("UploadIdMarker", in.uploadIdMarker)
      .add("NextKeyMarker", out->truncated ? out->nextKeyMarker : "")
      .add("NextUploadIdMarker", out->truncated ? out->nextUploadIdMarker : "")
      .add("Prefix", in.prefix);
  if (!in.delimiter.empty()) {
    w.add("Delimiter", in.delimiter);
  }
  w.add("MaxUploads", std::to_string(in.maxUploads))
      .add("IsTruncated", out->truncated ? "true" : "false");
  for (const auto& u : out->uploads) {
    w.open("Upload").add("Key", u.key).add("UploadId", u.uploadId);
    addOwner(w, "Initiator", u.owner);
    addOwner(w, "Owner", u.owner);
    w.add("StorageClass", "STANDARD").add("Initiated", formatIso8601(u.initiatedMs)).close();
  }
  for (const auto& p : out->commonPrefixes) {
    w.open("CommonPrefixes").add("Prefix", p).close();
  }
  co_return co_await sendXml(c, 200, w.finish());
}

}  // namespace ember::s3
