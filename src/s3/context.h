#pragma once
// Per-request state shared by the S3 operation handlers (internal to src/s3).

#include <map>
#include <optional>
#include <string>

#include "auth/sigv4.h"
#include "core/namespace.h"
#include "http/http.h"
#include "s3/api.h"

namespace ember::s3 {

struct Ctx {
  http::Request& req;
  http::RequestBody& body;
  http::ResponseWriter& out;
  core::Namespace& ns;
  const S3Options& options;
  std::string bucket;                          // decoded; empty for service-level requests
  std::string key;                             // decoded; empty for bucket-level requests
  bool virtualHosted = false;                  // bucket came from the Host header
  std::multimap<std::string, std::string> query;  // decoded names and values
  auth::AuthContext auth;

  bool hasQuery(const std::string& name) const { return query.count(name) > 0; }
  std::string queryValue(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
  std::string owner() const { return auth.credential ? auth.credential->user : "anonymous"; }
  std::string resource() const;
};

// Response helpers.
asio::awaitable<Status> sendError(Ctx& c, const Status& s, http::Headers extra = {});
asio::awaitable<Status> sendXml(Ctx& c, int status, std::string body, http::Headers extra = {});
asio::awaitable<Status> sendEmpty(Ctx& c, int status, http::Headers extra = {});
// Reads a small request body (XML) into memory, bounded by options.maxXmlBodyBytes.
asio::awaitable<Result<std::string>> readSmallBody(Ctx& c);
std::string quoteEtag(std::string_view etag);
// A copy source must be in a bucket the caller owns (kPermissionDenied otherwise); a missing
// bucket is left for the copy itself to report.
asio::awaitable<Status> checkSourceAccess(Ctx& c, const std::string& srcBucket);

// Operation handlers (ops_*.cc). Each returns the status of the response write; protocol errors
// are sent by the handler itself via sendError.
asio::awaitable<Status> listBuckets(Ctx& c);
asio::awaitable<Status> createBucket(Ctx& c);
asio::awaitable<Status> headBucket(Ctx& c);
asio::awaitable<Status> deleteBucket(Ctx& c);
asio::awaitable<Status> getBucketLocation(Ctx& c);
asio::awaitable<Status> getBucketVersioning(Ctx& c);
asio::awaitable<Status> getAcl(Ctx& c);

// How S3 answers a GET of a configuration Ember does not keep (policy, cors, lifecycle, tagging
// …): either 200 with an empty document (`emptyRoot`) or a 404 with the S3 error code.
struct SubresourceAnswer {
  const char* name;       // query sub-resource
  bool object;            // applies to objects (true) or buckets (false)
  int status;             // 200 or 404
  const char* emptyRoot;  // 200: root element of the empty document
  const char* code;       // 404: S3 error code
  const char* message;
};
const SubresourceAnswer* subresourceAnswer(std::string_view name, bool object);
asio::awaitable<Status> getSubresource(Ctx& c);
asio::awaitable<Status> listObjects(Ctx& c, bool v2);
asio::awaitable<Status> deleteObjects(Ctx& c);

asio::awaitable<Status> putObject(Ctx& c);
asio::awaitable<Status> copyObject(Ctx& c);
asio::awaitable<Status> getObject(Ctx& c, bool head);
asio::awaitable<Status> deleteObject(Ctx& c);

asio::awaitable<Status> createMultipart(Ctx& c);
asio::awaitable<Status> uploadPart(Ctx& c);
asio::awaitable<Status> uploadPartCopy(Ctx& c);
asio::awaitable<Status> completeMultipart(Ctx& c);
asio::awaitable<Status> abortMultipart(Ctx& c);
asio::awaitable<Status> listParts(Ctx& c);
asio::awaitable<Status> listUploads(Ctx& c);

}  // namespace ember::s3
