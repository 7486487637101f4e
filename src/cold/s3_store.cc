// S3ColdStore: the cold store on an S3 service, path-style URLs (<endpoint>/<bucket>/<key>),
// SigV4 header auth.
//   head  HEAD   /<bucket>/<key>
//   get   GET    /<bucket>/<key>                        Range: bytes=a-b
//   put   PUT    /<bucket>/<key>                        (below the threshold; signed payload)
//         POST   ...?uploads, PUT ...?partNumber=N&uploadId=U (signed payload, N from 1),
//         POST   ...?uploadId=U <CompleteMultipartUpload>, DELETE ...?uploadId=U on failure
//   del   DELETE /<bucket>/<key>                        (204)
//   list  GET    /<bucket>?list-type=2&prefix=&continuation-token=&max-keys=&delimiter=
#include <pugixml.hpp>

#include <fmt/format.h>

#include "cold/http_store.h"
#include "cold/signing.h"
#include "cold/store_factory.h"
#include "common/digest.h"
#include "common/time_util.h"

namespace ember::cold {

namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kMetaPrefix = "x-amz-meta-";
constexpr ListDialect kList{"list-type=2", "continuation-token", "max-keys", "ListBucketResult",
                            "ListObjectsV2"};

std::string xmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

class S3ColdStore final : public HttpColdStore {
 public:
  S3ColdStore(asio::any_io_executor ex, ColdStoreConfig config, http::Url endpoint,
              std::shared_ptr<http::TlsContext> tls)
      : HttpColdStore(std::move(ex), std::move(config), std::move(endpoint), std::move(tls)) {
    key_.accessKey = this->config().s3.accessKey;
    key_.secretKey = this->config().s3.secretKey;
    key_.region = this->config().s3.region;
  }

 protected:
  const ListDialect& listDialect() const override { return kList; }

  Result<ColdListPage> listPage(pugi::xml_node root) const override {
    ColdListPage page;
    for (pugi::xml_node c : root.children("Contents")) {
      ColdObjectInfo o;
      o.key = location().relativeKey(c.child_value("Key"));
      o.size = std::strtoull(c.child_value("Size"), nullptr, 10);
      o.etag = unquote(c.child_value("ETag"));
      o.lastModifiedMs = parseIso8601Ms(c.child_value("LastModified")).value_or(0);
      page.objects.push_back(std::move(o));
    }
    for (pugi::xml_node p : root.children("CommonPrefixes")) {
      page.prefixes.push_back(location().relativeKey(p.child_value("Prefix")));
    }
    if (std::string_view(root.child_value("IsTruncated")) == "true") {
      page.nextMarker = root.child_value("NextContinuationToken");
      if (page.nextMarker.empty()) {
        return unexpected(Code::kCorruption,
                          "ListObjectsV2 is truncated but has no NextContinuationToken");
      }
    }
    return page;
  }

  asio::awaitable<Status> sign(Outbound& req) override {
    // Bodies are buffered, so they are signed (the server checks the hash).
    const std::string hash = req.body ? sha256Hex(*req.body) : std::string(kEmptySha256);
    signSigV4(req.method, endpoint().authority(), req.rawPath, req.rawQuery, req.headers, hash,
              key_, nowSeconds());
    co_return Status::ok();
  }

  asio::awaitable<Result<std::string>> putSingle(const std::string& name,
                                                 std::shared_ptr<const std::string> body,
                                                 const PutOptions& options) override {
    Outbound req = objectRequest("PUT", name);
    req.headers.set("Content-Type", options.contentType);
    addMetadata(req.headers, options, kMetaPrefix);
    req.body = std::move(body);
    co_return co_await callForEtag(std::move(req));
  }

  asio::awaitable<Result<std::string>> beginParts(const std::string& name,
                                                  const PutOptions& options) override {
    Outbound req = objectRequest("POST", name);
    req.rawQuery = "uploads=";
    req.headers.set("Content-Type", options.contentType);
    addMetadata(req.headers, options, kMetaPrefix);
    auto r = co_await callText(std::move(req));
    EMBER_CO_TRY(r);
    pugi::xml_document doc;
    doc.load_buffer(r->body.data(), r->body.size());
    std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
    if (id.empty()) {
      co_return unexpected(Code::kCorruption, "CreateMultipartUpload returned no UploadId");
    }
    co_return id;
  }

  asio::awaitable<Result<std::string>> putPart(const std::string& name,
                                               const std::string& uploadId, int index,
                                               std::shared_ptr<const std::string> body) override {
    Outbound req = objectRequest("PUT", name);
    req.rawQuery = fmt::format("partNumber={}&uploadId={}", index + 1, encodeQuery(uploadId));
    req.body = std::move(body);
    auto r = co_await call(std::move(req));
    EMBER_CO_TRY(r);
    std::string etag((*r)->headers().get("etag"));
    if (etag.empty()) {
      co_return unexpected(Code::kCorruption, "UploadPart returned no ETag");
    }
    co_return etag;
  }

  asio::awaitable<Result<std::string>> commitParts(const std::string& name,
                                                   const std::string& uploadId,
                                                   const std::vector<std::string>& etags,
                                                   const PutOptions&) override {
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags.size(); ++i) {
      xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1,
                         xmlEscape(etags[i]));
    }
    xml += "</CompleteMultipartUpload>";
    Outbound req = objectRequest("POST", name);
    req.rawQuery = "uploadId=" + encodeQuery(uploadId);
    req.headers.set("Content-Type", "application/xml");
    req.body = std::make_shared<const std::string>(std::move(xml));
    auto r = co_await callText(std::move(req));
    EMBER_CO_TRY(r);
    // CompleteMultipartUpload can fail with 200 and an <Error> body.
    pugi::xml_document doc;
    doc.load_buffer(r->body.data(), r->body.size());
    if (pugi::xml_node err = doc.child("Error")) {
      co_return unexpected(std::string_view(err.child_value("Code")) == "InternalError"
                               ? Code::kUnavailable
                               : Code::kInvalidArgument,
                           fmt::format("CompleteMultipartUpload failed: {}: {}",
                                       err.child_value("Code"), err.child_value("Message")));
    }
    std::string etag = unquote(doc.child("CompleteMultipartUploadResult").child_value("ETag"));
    co_return etag.empty() ? unquote(r->headers.get("etag")) : etag;
  }

  asio::awaitable<void> abortParts(const std::string& name, const std::string& uploadId) override {
    Outbound req = objectRequest("DELETE", name);
    req.rawQuery = "uploadId=" + encodeQuery(uploadId);
    auto r = co_await call(std::move(req));
    if (!r) {
      r.error().ignoreError();  // best effort: an orphaned upload is only storage
    }
  }

 private:
  SigV4Key key_;
};

}  // namespace

Result<std::unique_ptr<ColdStore>> makeS3Store(asio::any_io_executor ex, ColdStoreConfig config,
                                               std::shared_ptr<http::TlsContext> tls) {
  if (config.s3.accessKey.empty() || config.s3.secretKey.empty()) {
    return unexpected(Code::kInvalidArgument, "S3 needs an access key and a secret key");
  }
  if (config.endpoint.empty()) {
    return unexpected(Code::kInvalidArgument, "S3 needs an endpoint URL");
  }
  auto url = http::parseUrl(config.endpoint);
  EMBER_TRY(url);
  if (!url->query.empty()) {
    return unexpected(Code::kInvalidArgument, "the S3 endpoint may not have a query");
  }
  return std::unique_ptr<ColdStore>(
      new S3ColdStore(std::move(ex), std::move(config), std::move(*url), std::move(tls)));
}

}  // namespace ember::cold
