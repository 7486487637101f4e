#pragma once
// Per-request state shared by the Blob operation handlers (internal to src/blob).

#include <map>
#include <optional>
#include <string>

#include "auth/azure_sas.h"
#include "blob/api.h"
#include "blob/errors.h"
#include "core/namespace.h"
#include "http/http.h"

namespace ember::blob {

struct Ctx {
  Ctx(http::Request& r, http::RequestBody& b, http::ResponseWriter& o, core::Namespace& n,
      const BlobOptions& opts)
      : req(r), body(b), out(o), ns(n), options(opts) {}

  http::Request& req;
  http::RequestBody& body;
  http::ResponseWriter& out;
  core::Namespace& ns;
  const BlobOptions& options;
  const BlobAccount* account = nullptr;
  std::string container;                       // decoded; empty for service-level requests
  std::string blob;                            // decoded; empty for container-level requests
  std::map<std::string, std::string> query;    // lower-cased names, decoded values
  std::string version;                         // x-ms-version to echo
  std::optional<auth::SasGrant> sas;           // set for SAS-authorized requests

  bool hasQuery(const std::string& name) const { return query.count(name) > 0; }
  std::string queryValue(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
  Scope scope() const { return blob.empty() ? Scope::kContainer : Scope::kBlob; }
  std::string owner() const { return account ? account->owner : std::string(); }
  // "http://host/account/" for the ServiceEndpoint attribute of listings.
  std::string serviceEndpoint() const;
  // x-ms-lease-id, if sent.
  std::optional<std::string> leaseId() const;
};

// Response helpers (response.cc). Every response carries x-ms-request-id, x-ms-version and the
// echoed x-ms-client-request-id.
http::Response baseResponse(const Ctx& c, int status);
asio::awaitable<Status> sendError(Ctx& c, const Status& s, http::Headers extra = {});
asio::awaitable<Status> sendXml(Ctx& c, int status, std::string body, http::Headers extra = {});
asio::awaitable<Status> sendEmpty(Ctx& c, int status, http::Headers extra = {});
// Reads a small request body (XML) into memory, bounded by options.maxXmlBodyBytes.
asio::awaitable<Result<std::string>> readSmallBody(Ctx& c);
// Checks that the container exists and belongs to the request's account. Errors:
// kNoSuchBucket, kPermissionDenied ("AuthorizationFailure: ...").
asio::awaitable<Result<store::BucketRecord>> requireContainer(Ctx& c);
// A body verifier for Content-MD5 (transactional) and, when `blobMd5` is set,
// x-ms-blob-content-md5 (whole blob). Errors from the returned verifier: kBadDigest.
Result<core::BodyVerifier> md5Verifier(const Ctx& c, bool blobMd5);
// x-ms-lease-action and its companions. Errors: kMissingHeader, kInvalidHeader.
Result<core::LeaseInput> parseLeaseInput(const Ctx& c);
// The lease response: 201 acquire, 202 break, else 200, with x-ms-lease-id / x-ms-lease-time.
asio::awaitable<Status> sendLeaseResult(Ctx& c, const core::LeaseInput& in,
                                        const core::LeaseResult& r);
// The commit check of a blob write: Azure conditions (If-*) and the lease rules against the
// current blob (which may be absent).
store::CommitCheck writeCheck(const Ctx& c, core::Conditions cond);
// Content headers of a blob write: x-ms-blob-content-* (and x-ms-blob-cache-control).
store::ContentHeaders blobContentHeaders(const Ctx& c);
// A new opaque ETag for a property/metadata write (Azure changes it on every write).
std::string newPropertyEtag();
// Adds the blob's property headers (GET/HEAD of a blob, Get Metadata uses `metadataOnly`).
void blobHeaders(http::Headers& h, const store::ObjectRecord& rec, bool metadataOnly);

// Operation handlers (ops_*.cc). Each returns the status of the response write; protocol errors
// are sent by the handler itself via sendError.
asio::awaitable<Status> listContainers(Ctx& c);
asio::awaitable<Status> getServiceProperties(Ctx& c);
asio::awaitable<Status> setServiceProperties(Ctx& c);
asio::awaitable<Status> getAccountInfo(Ctx& c);
asio::awaitable<Status> createContainer(Ctx& c);
asio::awaitable<Status> getContainerProperties(Ctx& c);
asio::awaitable<Status> setContainerMetadata(Ctx& c);
asio::awaitable<Status> getContainerAcl(Ctx& c);
asio::awaitable<Status> setContainerAcl(Ctx& c);
asio::awaitable<Status> deleteContainer(Ctx& c);
asio::awaitable<Status> leaseContainer(Ctx& c);
asio::awaitable<Status> listBlobs(Ctx& c);

asio::awaitable<Status> putBlob(Ctx& c);
asio::awaitable<Status> getBlob(Ctx& c, bool head);
asio::awaitable<Status> deleteBlob(Ctx& c);
asio::awaitable<Status> getBlobMetadata(Ctx& c, bool head);
asio::awaitable<Status> setBlobMetadata(Ctx& c);
asio::awaitable<Status> setBlobProperties(Ctx& c);
asio::awaitable<Status> setBlobTier(Ctx& c);
asio::awaitable<Status> leaseBlob(Ctx& c);

asio::awaitable<Status> putBlock(Ctx& c);
asio::awaitable<Status> putBlockList(Ctx& c);
asio::awaitable<Status> getBlockList(Ctx& c);
asio::awaitable<Status> appendBlock(Ctx& c);
asio::awaitable<Status> sealBlob(Ctx& c);

asio::awaitable<Status> copyBlob(Ctx& c);         // Copy Blob (async and sync) and Put Blob From URL
asio::awaitable<Status> putBlockFromUrl(Ctx& c);
asio::awaitable<Status> abortCopy(Ctx& c);

}  // namespace ember::blob
