// Object-level S3 operations: PutObject, CopyObject, GetObject/HeadObject, DeleteObject.
#include <charconv>

#include "common/time_util.h"
#include "s3/body.h"
#include "s3/context.h"
#include "s3/headers.h"
#include "s3/xml.h"

namespace ember::s3 {

namespace {

// response-* query overrides (only honoured on authenticated requests, which all of ours are).
void applyOverrides(const Ctx& c, http::Headers& h) {
  static const std::pair<const char*, const char*> kOverrides[] = {
      {"response-content-type", "Content-Type"},
      {"response-content-language", "Content-Language"},
      {"response-expires", "Expires"},
      {"response-cache-control", "Cache-Control"},
      {"response-content-disposition", "Content-Disposition"},
      {"response-content-encoding", "Content-Encoding"},
  };
  for (const auto& [q, header] : kOverrides) {
    if (c.hasQuery(q)) {
      h.set(header, c.queryValue(q));
    }
  }
}

}  // namespace

asio::awaitable<Status> putObject(Ctx& c) {
  auto content = contentHeaders(c.req.headers);
  auto meta = userMetadata(c.req.headers);
  if (!meta) {
    co_return co_await sendError(c, meta.error());
  }
  auto body = makeUploadBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  core::PutInput in;
  in.bucket = c.bucket;
  in.key = c.key;
  in.owner = c.owner();
  in.content = std::move(*content);
  in.userMeta = std::move(*meta);
  in.conditions = conditions(c.req.headers);
  in.checksums = (*body)->store;
  in.verifyOnly = (*body)->verifyOnly;
  in.expectedSize = (*body)->expectedSize;
  in.verify = (*body)->verify;
  auto rec = co_await c.ns.putObject(std::move(in), *(*body)->source);
  if (!rec) {
    if (c.body.bytesRead() < c.req.contentLength.value_or(0)) {
      c.out.closeAfter();  // do not try to read the rest of a rejected body
    }
    co_return co_await sendError(c, rec.error());
  }
  http::Headers h;
  h.add("ETag", quoteEtag(rec->etag));
  addChecksumHeaders(h, rec->checksums);
  if (!rec->checksumType.empty()) {
    h.add("x-amz-checksum-type", rec->checksumType);
  }
  co_return co_await sendEmpty(c, 200, std::move(h));
}

asio::awaitable<Status> copyObject(Ctx& c) {
  core::CopyInput in;
  Status s = parseCopySource(c.req.headers.get("x-amz-copy-source"), in.srcBucket, in.srcKey);
  if (s) {
    s = co_await checkSourceAccess(c, in.srcBucket);
  }
  if (!s) {
    co_return co_await sendError(c, s);
  }
  std::string_view directive = c.req.headers.get("x-amz-metadata-directive", "COPY");
  if (directive == "REPLACE") {
    in.directive = core::MetadataDirective::kReplace;
  } else if (directive != "COPY") {
    co_return co_await sendError(
        c, makeError(Code::kInvalidArgument, "Unknown metadata directive."));
  }
  auto content = contentHeaders(c.req.headers);
  auto meta = userMetadata(c.req.headers);
  if (!meta) {
    co_return co_await sendError(c, meta.error());
  }
  in.srcConditions = conditions(c.req.headers, "x-amz-copy-source-");
  in.dst.bucket = c.bucket;
  in.dst.key = c.key;
  in.dst.owner = c.owner();
  in.dst.content = std::move(*content);
  in.dst.userMeta = std::move(*meta);
  in.dst.conditions = conditions(c.req.headers);
  if (auto a = parseChecksumAlgo(c.req.headers.get("x-amz-checksum-algorithm"))) {
    in.dst.checksums.insert(*a);
  }
  auto rec = co_await c.ns.copyObject(std::move(in));
  if (!rec) {
    co_return co_await sendError(c, rec.error());
  }
  XmlWriter w("CopyObjectResult");
  w.add("LastModified", formatIso8601(rec->mtimeMs)).add("ETag", quoteEtag(rec->etag));
  for (const auto& [algo, v] : rec->checksums) {
    w.add("Checksum" + algo, v);
  }
  co_return co_await sendXml(c, 200, w.finish());
}

asio::awaitable<Status> getObject(Ctx& c, bool head) {
  core::ReadInput in;
  in.bucket = c.bucket;
  in.key = c.key;
  in.conditions = conditions(c.req.headers);
  if (const std::string* r = c.req.headers.find("range")) {
    in.range = *r;
  }
  if (c.hasQuery("partNumber")) {
    std::string v = c.queryValue("partNumber");
    uint32_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 10000) {
      co_return co_await sendError(
          c, makeError(Code::kInvalidArgument,
                       "Part number must be an integer between 1 and 10000, inclusive"));
    }
    if (in.range) {
      co_return co_await sendError(
          c, makeError(Code::kInvalidRequest, "Cannot specify both Range header and partNumber "
                                              "query parameter"));
    }
    in.partNumber = n;
  }
  auto h = co_await c.ns.openRead(std::move(in));
  if (!h) {
    http::Headers extra;
    Code code = h.error().code();
    if (code == Code::kInvalidRange || code == Code::kNotModified) {
      // 416 names the object's size (RFC 9110); 304 carries the validators.
      if (auto rec = co_await c.ns.headObject(c.bucket, c.key)) {
        if (code == Code::kInvalidRange) {
          extra.add("Content-Range", "bytes */" + std::to_string(rec->size));
        } else {
          extra.add("ETag", quoteEtag(rec->etag));
          extra.add("Last-Modified", formatHttpDate(rec->mtimeMs));
        }
      }
    }
    co_return co_await sendError(c, h.error(), std::move(extra));
  }
  const store::ObjectRecord& rec = h->record();
  http::Response resp;
  resp.status = h->partial ? 206 : 200;
  resp.headers.add("x-amz-request-id", c.req.requestId);
  resp.headers.add("x-amz-id-2", c.req.requestId);
  resp.headers.add("Accept-Ranges", "bytes");
  objectHeaders(resp.headers, rec);
  if (h->partial) {
    uint64_t last = h->length == 0 ? h->offset : h->offset + h->length - 1;
    resp.headers.add("Content-Range", "bytes " + std::to_string(h->offset) + "-" +
                                          std::to_string(last) + "/" + std::to_string(rec.size));
  }
  if (c.hasQuery("partNumber") && h->partsCount > 0) {
    resp.headers.add("x-amz-mp-parts-count", std::to_string(h->partsCount));
  }
  if (iequals(c.req.headers.get("x-amz-checksum-mode"), "ENABLED") && !h->partial) {
    addChecksumHeaders(resp.headers, rec.checksums);
    if (!rec.checksumType.empty()) {
      resp.headers.add("x-amz-checksum-type", rec.checksumType);
    }
  }
  applyOverrides(c, resp.headers);
  Status s = co_await c.out.start(std::move(resp), h->length);
  if (!s || head) {
    co_return s;
  }
  http::ResponseSink sink(c.out);
  s = co_await c.ns.streamRead(*h, sink);
  if (!s) {
    c.out.closeAfter();  // the body is short: the client must see the connection drop
    co_return s;
  }
  co_return co_await c.out.finish();
}

asio::awaitable<Status> deleteObject(Ctx& c) {
  auto r = co_await c.ns.deleteObject(c.bucket, c.key, conditions(c.req.headers));
  if (!r) {
    co_return co_await sendError(c, r.error());
  }
  co_return co_await sendEmpty(c, 204);
}

}  // namespace ember::s3
