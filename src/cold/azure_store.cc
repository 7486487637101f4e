// AzureBlobColdStore: the cold store on Azure Blob (block blobs), x-ms-version 2021-12-02.
//   head  HEAD   /<container>/<blob>
//   get   GET    /<container>/<blob>            x-ms-range: bytes=a-b
//   put   PUT    /<container>/<blob>            x-ms-blob-type: BlockBlob (below the threshold)
//         PUT    ...?comp=block&blockid=<id>    one per part, then
//         PUT    ...?comp=blocklist             <BlockList><Latest>id</Latest>...</BlockList>
//   del   DELETE /<container>/<blob>            (202)
//   list  GET    /<container>?restype=container&comp=list&prefix=&marker=&maxresults=&delimiter=
// Auth: SharedKey (signed per attempt), a SAS (appended to every query), or a bearer token from a
// managed-identity style endpoint (azure_token.h).
#include <pugixml.hpp>

#include <fmt/format.h>

#include "cold/azure_token.h"
#include "cold/http_store.h"
#include "cold/signing.h"
#include "cold/store_factory.h"
#include "common/digest.h"
#include "common/time_util.h"

namespace ember::cold {

namespace {

constexpr std::string_view kVersion = "2021-12-02";
constexpr std::string_view kMetaPrefix = "x-ms-meta-";
constexpr ListDialect kList{"restype=container&comp=list", "marker", "maxresults",
                           "EnumerationResults", "List Blobs"};

// Block ids: base64 of a fixed-width decimal, so every id of a blob has the same length.
std::string blockId(int index) { return base64Encode(fmt::format("ember-block-{:08}", index)); }

class AzureBlobColdStore final : public HttpColdStore {
 public:
  AzureBlobColdStore(asio::any_io_executor ex, ColdStoreConfig config, http::Url endpoint,
                     std::shared_ptr<http::TlsContext> tls)
      : HttpColdStore(ex, std::move(config), std::move(endpoint), tls) {
    std::string sas = this->config().azure.sasToken;
    if (!sas.empty() && sas.front() == '?') {
      sas.erase(0, 1);
    }
    sas_ = std::move(sas);
    if (this->config().azure.mode == AzureAuthConfig::Mode::kBearer) {
      tokens_ = std::make_unique<AzureTokenProvider>(
          ex, AzureTokenProvider::fetchFromEndpoint(ex, this->config().azure.tokenEndpoint, tls,
                                                this->config().connectTimeout,
                                                this->config().readTimeout),
          this->config().azure.tokenRefreshMargin);
    }
  }

 protected:
  const ListDialect& listDialect() const override { return kList; }

  Result<ColdListPage> listPage(pugi::xml_node root) const override {
    ColdListPage page;
    for (pugi::xml_node n : root.child("Blobs").children()) {
      if (std::string_view(n.name()) == "Blob") {
        ColdObjectInfo o;
        o.key = location().relativeKey(n.child_value("Name"));
        pugi::xml_node p = n.child("Properties");
        o.size = std::strtoull(p.child_value("Content-Length"), nullptr, 10);
        o.etag = unquote(p.child_value("Etag"));
        o.lastModifiedMs = parseHttpDate(p.child_value("Last-Modified")).value_or(0);
        o.contentType = p.child_value("Content-Type");
        page.objects.push_back(std::move(o));
      } else if (std::string_view(n.name()) == "BlobPrefix") {
        page.prefixes.push_back(location().relativeKey(n.child_value("Name")));
      }
    }
    page.nextMarker = root.child_value("NextMarker");
    return page;
  }

  std::string_view rangeHeader() const override { return "x-ms-range"; }

  asio::awaitable<Status> sign(Outbound& req) override {
    req.headers.set("x-ms-version", std::string(kVersion));
    const AzureAuthConfig& a = config().azure;
    switch (a.mode) {
      case AzureAuthConfig::Mode::kSharedKey:
        co_return signSharedKey(req.method, req.rawPath, req.rawQuery, req.headers,
                                req.bodySize(), location().account, a.accountKey, nowSeconds());
      case AzureAuthConfig::Mode::kSas:
        req.rawQuery = req.rawQuery.empty() ? sas_ : req.rawQuery + "&" + sas_;
        co_return Status::ok();
      case AzureAuthConfig::Mode::kBearer: {
        auto t = co_await tokens_->token();
        EMBER_CO_TRY(t);
        req.headers.set("x-ms-date", httpDate(nowSeconds()));
        req.headers.set("Authorization", "Bearer " + *t);
        co_return Status::ok();
      }
    }
    co_return makeError(Code::kInternal, "unknown Azure auth mode");
  }

  asio::awaitable<Result<std::string>> putSingle(const std::string& name,
                                                 std::shared_ptr<const std::string> body,
                                                 const PutOptions& options) override {
    Outbound req = objectRequest("PUT", name);
    req.headers.set("x-ms-blob-type", "BlockBlob");
    req.headers.set("Content-Type", options.contentType);
    addMetadata(req.headers, options, kMetaPrefix);
    req.body = std::move(body);
    co_return co_await callForEtag(std::move(req));
  }

  asio::awaitable<Result<std::string>> beginParts(const std::string&, const PutOptions&) override {
    co_return std::string();  // blocks are staged against the blob name; nothing to begin
  }

  asio::awaitable<Result<std::string>> putPart(const std::string& name, const std::string&,
                                               int index,
                                               std::shared_ptr<const std::string> body) override {
    Outbound req = objectRequest("PUT", name);
    const std::string id = blockId(index);
    req.rawQuery = "comp=block&blockid=" + encodeQuery(id);
    req.body = std::move(body);
    auto r = co_await call(std::move(req));
    EMBER_CO_TRY(r);
    co_return id;
  }

  asio::awaitable<Result<std::string>> commitParts(const std::string& name, const std::string&,
                                                   const std::vector<std::string>& ids,
                                                   const PutOptions& options) override {
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
    for (const std::string& id : ids) {
      xml += "<Latest>" + id + "</Latest>";
    }
    xml += "</BlockList>";
    Outbound req = objectRequest("PUT", name);
    req.rawQuery = "comp=blocklist";
    req.headers.set("Content-Type", "application/xml");
    req.headers.set("x-ms-blob-content-type", options.contentType);
    addMetadata(req.headers, options, kMetaPrefix);
    req.body = std::make_shared<const std::string>(std::move(xml));
    co_return co_await callForEtag(std::move(req));
  }

  asio::awaitable<void> abortParts(const std::string&, const std::string&) override {
    co_return;  // uncommitted blocks are dropped by the service (after a week) or the next commit
  }

 private:
  std::string sas_;
  std::unique_ptr<AzureTokenProvider> tokens_;
};

}  // namespace

Result<std::unique_ptr<ColdStore>> makeAzureStore(asio::any_io_executor ex,
                                                  ColdStoreConfig config,
                                                  std::shared_ptr<http::TlsContext> tls) {
  const AzureAuthConfig& a = config.azure;
  switch (a.mode) {
    case AzureAuthConfig::Mode::kSharedKey:
      if (!base64Decode(a.accountKey)) {
        return unexpected(Code::kInvalidArgument,
                          "Azure SharedKey auth needs a base64 account key");
      }
      break;
    case AzureAuthConfig::Mode::kSas:
      if (a.sasToken.find("sig=") == std::string::npos) {
        return unexpected(Code::kInvalidArgument, "the Azure SAS token has no sig= parameter");
      }
      break;
    case AzureAuthConfig::Mode::kBearer:
      if (!http::parseUrl(a.tokenEndpoint)) {
        return unexpected(Code::kInvalidArgument,
                          "Azure bearer auth needs an http(s) token endpoint URL");
      }
      break;
  }
  std::string ep = config.endpoint.empty()
                       ? "https://" + config.location.account + ".blob.core.windows.net"
                       : config.endpoint;
  auto url = http::parseUrl(ep);
  EMBER_TRY(url);
  if (!url->query.empty()) {
    return unexpected(Code::kInvalidArgument,
                      "the Azure endpoint has a query; give a SAS as azure.sasToken");
  }
  return std::unique_ptr<ColdStore>(
      new AzureBlobColdStore(std::move(ex), std::move(config), std::move(*url), std::move(tls)));
}

}  // namespace ember::cold
