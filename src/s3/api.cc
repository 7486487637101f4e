// S3 request pipeline: addressing -> operation -> SigV4 -> handler; errors via the S3 table.
#include "s3/api.h"

#include <array>

#include <spdlog/spdlog.h>

#include "auth/sigv2.h"
#include "common/metrics.h"
#include "common/time_util.h"
#include "s3/context.h"
#include "s3/errors.h"

namespace ember::s3 {

struct S3Api::Impl {
  core::Namespace& ns;
  S3Options options;
  std::map<std::string, auth::Credential, std::less<>> byKey;
  auth::CredentialLookup lookup;

  Impl(core::Namespace& n, S3Options o) : ns(n), options(std::move(o)) {
    for (const auto& u : options.users) {
      byKey.emplace(u.accessKey, u);
    }
    lookup = [this](std::string_view ak) -> const auth::Credential* {
      auto it = byKey.find(ak);
      return it == byKey.end() ? nullptr : &it->second;
    };
  }

  asio::awaitable<void> handle(http::Request& req, http::RequestBody& body,
                               http::ResponseWriter& out);
};

namespace {

enum class Op {
  kListBuckets, kCreateBucket, kHeadBucket, kDeleteBucket, kGetBucketLocation,
  kGetBucketVersioning, kGetAcl, kGetSubresource, kListObjects, kListObjectsV2, kDeleteObjects, kListUploads,
  kPutObject, kCopyObject, kGetObject, kHeadObject, kDeleteObject, kCreateMultipart,
  kUploadPart, kUploadPartCopy, kCompleteMultipart, kAbortMultipart, kListParts,
  kNotImplemented, kMethodNotAllowed,
};

const char* opName(Op op) {
  static const char* kNames[] = {
      "ListBuckets", "CreateBucket", "HeadBucket", "DeleteBucket", "GetBucketLocation",
      "GetBucketVersioning", "GetAcl", "GetSubresource", "ListObjects", "ListObjectsV2", "DeleteObjects",
      "ListMultipartUploads", "PutObject", "CopyObject", "GetObject", "HeadObject",
      "DeleteObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
      "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts", "NotImplemented",
      "MethodNotAllowed"};
  return kNames[static_cast<int>(op)];
}

constexpr int kOpCount = static_cast<int>(Op::kMethodNotAllowed) + 1;

// Per-operation counters, looked up once (the registry lookup sorts labels under a mutex).
metrics::Counter& opCounter(Op op) {
  static const auto counters = [] {
    std::array<metrics::Counter*, kOpCount> a{};
    for (int i = 0; i < kOpCount; ++i) {
      a[i] = &metrics::Registry::global().counter(
          "ember_s3_operations_total", "S3 operations by type", {{"op", opName(Op(i))}});
    }
    return a;
  }();
  return *counters[static_cast<int>(op)];
}

// Sub-resources that select operations we do not implement yet.
bool unsupportedSubresource(const Ctx& c) {
  static const char* kUnsupported[] = {
      "policy", "cors", "lifecycle", "website", "tagging", "replication", "logging",
      "notification", "encryption", "object-lock", "retention", "legal-hold", "accelerate",
      "requestPayment", "inventory", "analytics", "metrics", "intelligent-tiering",
      "ownershipControls", "publicAccessBlock", "versions", "torrent", "restore", "select",
      "attributes", "policyStatus"};
  for (const char* q : kUnsupported) {
    if (c.hasQuery(q)) {
      return true;
    }
  }
  return false;
}

bool knownSubresource(const Ctx& c) {
  for (const auto& [name, value] : c.query) {
    if (subresourceAnswer(name, !c.key.empty())) {
      return true;
    }
  }
  return false;
}

Op classify(const Ctx& c) {
  const std::string& m = c.req.method;
  if (c.bucket.empty()) {
    return m == "GET" ? Op::kListBuckets : Op::kMethodNotAllowed;
  }
  if (unsupportedSubresource(c)) {
    // Reading a configuration Ember does not have answers like an unconfigured S3 bucket;
    // changing one is not implemented.
    return m == "GET" && knownSubresource(c) ? Op::kGetSubresource : Op::kNotImplemented;
  }
  if (c.key.empty()) {
    if (m == "PUT") {
      return c.hasQuery("acl") || c.hasQuery("versioning") ? Op::kNotImplemented
                                                             : Op::kCreateBucket;
    }
    if (m == "GET") {
      if (c.hasQuery("location")) return Op::kGetBucketLocation;
      if (c.hasQuery("versioning")) return Op::kGetBucketVersioning;
      if (c.hasQuery("acl")) return Op::kGetAcl;
      if (c.hasQuery("uploads")) return Op::kListUploads;
      if (c.queryValue("list-type") == "2") return Op::kListObjectsV2;
      return Op::kListObjects;
    }
    if (m == "HEAD") return Op::kHeadBucket;
    if (m == "DELETE") return Op::kDeleteBucket;
    if (m == "POST" && c.hasQuery("delete")) return Op::kDeleteObjects;
    return Op::kMethodNotAllowed;
  }
  bool copy = c.req.headers.has("x-amz-copy-source");
  if (m == "PUT") {
    if (c.hasQuery("acl")) return Op::kNotImplemented;
    if (c.hasQuery("uploadId") || c.hasQuery("partNumber")) {
      return copy ? Op::kUploadPartCopy : Op::kUploadPart;
    }
    return copy ? Op::kCopyObject : Op::kPutObject;
  }
  if (m == "GET") {
    if (c.hasQuery("acl")) return Op::kGetAcl;
    return c.hasQuery("uploadId") ? Op::kListParts : Op::kGetObject;
  }
  if (m == "HEAD") return Op::kHeadObject;
  if (m == "DELETE") return c.hasQuery("uploadId") ? Op::kAbortMultipart : Op::kDeleteObject;
  if (m == "POST") {
    if (c.hasQuery("uploads")) return Op::kCreateMultipart;
    if (c.hasQuery("uploadId")) return Op::kCompleteMultipart;
  }
  return Op::kMethodNotAllowed;
}

asio::awaitable<Status> dispatch(Op op, Ctx& c) {
  switch (op) {
    case Op::kListBuckets: co_return co_await listBuckets(c);
    case Op::kCreateBucket: co_return co_await createBucket(c);
    case Op::kHeadBucket: co_return co_await headBucket(c);
    case Op::kDeleteBucket: co_return co_await deleteBucket(c);
    case Op::kGetBucketLocation: co_return co_await getBucketLocation(c);
    case Op::kGetBucketVersioning: co_return co_await getBucketVersioning(c);
    case Op::kGetAcl: co_return co_await getAcl(c);
    case Op::kGetSubresource: co_return co_await getSubresource(c);
    case Op::kListObjects: co_return co_await listObjects(c, false);
    case Op::kListObjectsV2: co_return co_await listObjects(c, true);
    case Op::kDeleteObjects: co_return co_await deleteObjects(c);
    case Op::kListUploads: co_return co_await listUploads(c);
    case Op::kPutObject: co_return co_await putObject(c);
    case Op::kCopyObject: co_return co_await copyObject(c);
    case Op::kGetObject: co_return co_await getObject(c, false);
    case Op::kHeadObject: co_return co_await getObject(c, true);
    case Op::kDeleteObject: co_return co_await deleteObject(c);
    case Op::kCreateMultipart: co_return co_await createMultipart(c);
    case Op::kUploadPart: co_return co_await uploadPart(c);
    case Op::kUploadPartCopy: co_return co_await uploadPartCopy(c);
    case Op::kCompleteMultipart: co_return co_await completeMultipart(c);
    case Op::kAbortMultipart: co_return co_await abortMultipart(c);
    case Op::kListParts: co_return co_await listParts(c);
    case Op::kNotImplemented: break;
    case Op::kMethodNotAllowed:
      co_return co_await sendError(c, makeError(Code::kMethodNotAllowed));
  }
  co_return co_await sendError(c, makeError(Code::kNotImplemented));
}

// Splits the query string into decoded (name, value) pairs.
Status parseQuery(std::string_view q, std::multimap<std::string, std::string>& out) {
  auto pairs = auth::decodeQuery(q);
  EMBER_TRY(pairs);
  for (auto& [name, value] : *pairs) {
    out.emplace(std::move(name), std::move(value));
  }
  return Status::ok();
}

// Virtual-hosted-style: Host "<bucket>.<domain>[:port]" selects the bucket; else path style.
Status route(Ctx& c) {
  std::string_view host = c.req.headers.get("host");
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos &&
                                      host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string vhostBucket;
  for (const std::string& d : c.options.domains) {
    if (host.size() > d.size() + 1 && host.ends_with(d) && host[host.size() - d.size() - 1] == '.') {
      vhostBucket = toLower(host.substr(0, host.size() - d.size() - 1));
      break;
    }
  }
  auto path = auth::uriDecode(c.req.path);
  if (!path) {
    return makeError(Code::kInvalidArgument, "malformed request path");
  }
  std::string_view p = *path;
  if (p.empty() || p.front() != '/') {
    return makeError(Code::kInvalidArgument, "request path must start with '/'");
  }
  p.remove_prefix(1);
  if (!vhostBucket.empty()) {
    c.virtualHosted = true;
    c.bucket = vhostBucket;
    c.key = std::string(p);
  } else {
    size_t slash = p.find('/');
    c.bucket = std::string(p.substr(0, slash));
    c.key = slash == std::string_view::npos ? std::string() : std::string(p.substr(slash + 1));
  }
  return parseQuery(c.req.query, c.query);
}

// SigV4, then the credential scope's region, then bucket ownership: a bucket is private to the
// user who created it (S3's default); CreateBucket and ListBuckets need no bucket.
asio::awaitable<Status> authenticate(Ctx& c, Op op, const auth::CredentialLookup& lookup) {
  const http::Request& req = c.req;
  auth::SigV4Input in{req.method, req.path, req.query, req.headers, nowSeconds()};
  // SigV2 (boto3's default for presigned URLs, older tools) or SigV4.
  auto authn = auth::hasSigV2(in)
                   ? auth::verifySigV2(in, lookup, c.virtualHosted ? c.bucket : std::string())
                   : auth::verifySigV4(in, lookup);
  if (!authn) {
    Status e = authn.error();
    if (e.code() == Code::kAuthMalformed && req.query.find("X-Amz-") != std::string::npos) {
      e = makeError(Code::kAuthQueryMalformed, e.message());
    }
    co_return e;
  }
  c.auth = std::move(*authn);
  if (c.auth.anonymous) {
    co_return makeError(Code::kUnauthenticated, "Access Denied");
  }
  if (c.auth.presigned) {
    // Presigned URLs carry signed x-amz-* request headers (metadata, ACL) in the query string.
    for (const auto& [name, value] : c.query) {
      if (name.size() > 6 && iequals(name.substr(0, 6), "x-amz-") &&
          !iequals(name.substr(0, 9), "x-amz-alg") && !iequals(name.substr(0, 9), "x-amz-cre") &&
          !iequals(name.substr(0, 9), "x-amz-dat") && !iequals(name.substr(0, 9), "x-amz-exp") &&
          !iequals(name.substr(0, 9), "x-amz-sig") && !c.req.headers.has(name)) {
        c.req.headers.add(name, value);
      }
    }
  }
  // scope = <date>/<region>/s3/aws4_request (SigV4 only)
  std::string_view scope = c.auth.scope;
  size_t a = scope.find('/');
  size_t b = a == std::string_view::npos ? a : scope.find('/', a + 1);
  if (b != std::string_view::npos) {
    std::string_view region = scope.substr(a + 1, b - a - 1);
    if (region != c.options.region) {
      co_return makeError(Code::kAuthMalformed,
                          "The authorization header is malformed; the region '" +
                              std::string(region) + "' is wrong; expecting '" + c.options.region +
                              "'");
    }
  }
  if (!c.bucket.empty() && op != Op::kCreateBucket) {
    auto bucket = co_await c.ns.getBucket(c.bucket);
    if (bucket && bucket->owner != c.owner()) {
      co_return makeError(Code::kPermissionDenied, "Access Denied");
    }
  }
  co_return Status::ok();
}

}  // namespace

asio::awaitable<void> S3Api::Impl::handle(http::Request& req, http::RequestBody& body,
                                          http::ResponseWriter& out) {
  Ctx c{req, body, out, ns, options, {}, {}, false, {}, {}};
  Status routed = route(c);
  if (!routed) {
    (co_await sendError(c, routed)).ignoreError();
    co_return;
  }
  Op op = classify(c);
  Status authz = co_await authenticate(c, op, lookup);
  if (!authz) {
    spdlog::debug("{} {} denied: {}", req.requestId, opName(op), authz.toString());
    (co_await sendError(c, authz)).ignoreError();
    co_return;
  }
  opCounter(op).inc();
  Status s = co_await dispatch(op, c);
  if (!s) {
    spdlog::debug("{} {} response write failed: {}", req.requestId, opName(op), s.toString());
  }
}

S3Api::S3Api(core::Namespace& ns, S3Options options)
    : impl_(std::make_shared<Impl>(ns, std::move(options))) {}

S3Api::~S3Api() = default;

http::Handler S3Api::handler() {
  auto impl = impl_;
  return [impl](http::Request& req, http::RequestBody& body,
                http::ResponseWriter& out) -> asio::awaitable<void> {
    co_await impl->handle(req, body, out);
  };
}

}  // namespace ember::s3
