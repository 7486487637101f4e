// Blob request pipeline: addressing -> operation -> x-ms-version -> SharedKey/SAS -> handler;
// errors through the Blob table (blob/errors.h).
#include "blob/api.h"

#include <array>
#include <map>

#include <spdlog/spdlog.h>

#include "auth/azure_sas.h"
#include "auth/azure_shared_key.h"
#include "auth/azure_text.h"
#include "auth/sigv4.h"
#include "blob/context.h"
#include "blob/wire.h"
#include "common/metrics.h"
#include "common/time_util.h"

namespace ember::blob {

struct BlobApi::Impl {
  core::Namespace& ns;
  BlobOptions options;
  std::map<std::string, auth::AzureAccount, std::less<>> verifierAccounts;
  std::map<std::string, const BlobAccount*, std::less<>> byName;
  auth::AzureAccountLookup lookup;

  Impl(core::Namespace& n, BlobOptions o) : ns(n), options(std::move(o)) {
    for (const BlobAccount& a : options.accounts) {
      verifierAccounts.emplace(a.name, auth::AzureAccount{a.name, a.keys});
      byName.emplace(a.name, &a);
    }
    lookup = [this](std::string_view name) -> const auth::AzureAccount* {
      auto it = verifierAccounts.find(name);
      return it == verifierAccounts.end() ? nullptr : &it->second;
    };
  }

  asio::awaitable<void> handle(http::Request& req, http::RequestBody& body,
                               http::ResponseWriter& out);
};

namespace {

enum class Op {
  kListContainers, kGetServiceProperties, kSetServiceProperties, kGetAccountInfo,
  kCreateContainer, kGetContainerProperties, kSetContainerMetadata, kGetContainerAcl,
  kSetContainerAcl, kDeleteContainer, kLeaseContainer, kListBlobs,
  kPutBlob, kGetBlob, kHeadBlob, kDeleteBlob, kGetBlobMetadata, kHeadBlobMetadata,
  kSetBlobMetadata, kSetBlobProperties, kSetBlobTier, kLeaseBlob,
  kPutBlock, kPutBlockFromUrl, kPutBlockList, kGetBlockList, kAppendBlock, kSeal,
  kCopyBlob, kAbortCopy,
  kNotImplemented, kMethodNotAllowed,
};

constexpr const char* kOpNames[] = {
    "ListContainers", "GetServiceProperties", "SetServiceProperties", "GetAccountInformation",
    "CreateContainer", "GetContainerProperties", "SetContainerMetadata", "GetContainerACL",
    "SetContainerACL", "DeleteContainer", "LeaseContainer", "ListBlobs",
    "PutBlob", "GetBlob", "GetBlobProperties", "DeleteBlob", "GetBlobMetadata",
    "GetBlobMetadataHead", "SetBlobMetadata", "SetBlobProperties", "SetBlobTier", "LeaseBlob",
    "PutBlock", "PutBlockFromURL", "PutBlockList", "GetBlockList", "AppendBlock", "SealBlob",
    "CopyBlob", "AbortCopyBlob", "NotImplemented", "MethodNotAllowed"};
constexpr int kOpCount = static_cast<int>(Op::kMethodNotAllowed) + 1;
static_assert(std::size(kOpNames) == kOpCount);

metrics::Counter& opCounter(Op op) {
  static const auto counters = [] {
    std::array<metrics::Counter*, kOpCount> a{};
    for (int i = 0; i < kOpCount; ++i) {
      a[i] = &metrics::Registry::global().counter("ember_blob_operations_total",
                                                  "Blob operations by type", {{"op", kOpNames[i]}});
    }
    return a;
  }();
  return *counters[static_cast<int>(op)];
}

// What a SAS must grant for an operation: a permission letter and the resource level.
struct SasNeed {
  char permission;
  auth::ResourceLevel level;
};

SasNeed sasNeed(Op op, bool blobExists) {
  using L = auth::ResourceLevel;
  switch (op) {
    case Op::kListContainers: return {'l', L::kService};
    case Op::kGetServiceProperties:
    case Op::kGetAccountInfo: return {'r', L::kService};
    case Op::kSetServiceProperties: return {'w', L::kService};
    case Op::kGetContainerProperties:
    case Op::kGetContainerAcl: return {'r', L::kContainer};
    case Op::kCreateContainer:
    case Op::kSetContainerMetadata:
    case Op::kSetContainerAcl:
    case Op::kLeaseContainer: return {'w', L::kContainer};
    case Op::kDeleteContainer: return {'d', L::kContainer};
    case Op::kListBlobs: return {'l', L::kContainer};
    case Op::kGetBlob:
    case Op::kHeadBlob:
    case Op::kGetBlobMetadata:
    case Op::kHeadBlobMetadata:
    case Op::kGetBlockList: return {'r', L::kObject};
    case Op::kDeleteBlob: return {'d', L::kObject};
    case Op::kAppendBlock: return {'a', L::kObject};
    case Op::kPutBlob:
    case Op::kCopyBlob: return {blobExists ? 'w' : 'c', L::kObject};
    default: return {'w', L::kObject};
  }
}

// Decoded query: names lower-cased (Azure query keys are case-insensitive), values decoded once.
Status parseQuery(std::string_view q, std::map<std::string, std::string>& out) {
  for (const auth::QueryParam& p : auth::azure::parseAzureQuery(q)) {
    out.emplace(toLower(p.name), p.value);
  }
  return Status::ok();
}

Op classify(const Ctx& c) {
  const std::string& m = c.req.method;
  const std::string restype = c.queryValue("restype");
  const std::string comp = c.queryValue("comp");
  if (restype == "account" && comp == "properties" && (m == "GET" || m == "HEAD")) {
    return Op::kGetAccountInfo;  // valid on service, container and blob paths
  }
  if (c.container.empty()) {
    if (comp == "list" && m == "GET") return Op::kListContainers;
    if (restype == "service" && comp == "properties") {
      if (m == "GET") return Op::kGetServiceProperties;
      if (m == "PUT") return Op::kSetServiceProperties;
    }
    if (restype == "service") return Op::kNotImplemented;  // stats, user delegation key
    return m == "GET" || m == "PUT" ? Op::kNotImplemented : Op::kMethodNotAllowed;
  }
  if (c.blob.empty()) {
    if (restype != "container") {
      return Op::kNotImplemented;
    }
    if (m == "PUT") {
      if (comp.empty()) return Op::kCreateContainer;
      if (comp == "metadata") return Op::kSetContainerMetadata;
      if (comp == "acl") return Op::kSetContainerAcl;
      if (comp == "lease") return Op::kLeaseContainer;
      return Op::kNotImplemented;
    }
    if (m == "GET" || m == "HEAD") {
      if (comp.empty() || comp == "metadata") return Op::kGetContainerProperties;
      if (comp == "acl") return Op::kGetContainerAcl;
      if (comp == "list" && m == "GET") return Op::kListBlobs;
      return Op::kNotImplemented;
    }
    if (m == "DELETE" && comp.empty()) return Op::kDeleteContainer;
    return Op::kMethodNotAllowed;
  }
  const bool copySource = c.req.headers.has("x-ms-copy-source");
  if (m == "PUT") {
    if (comp.empty()) {
      if (copySource) return Op::kCopyBlob;  // Copy Blob, Copy Blob From URL, Put Blob From URL
      return Op::kPutBlob;
    }
    if (comp == "block") return copySource ? Op::kPutBlockFromUrl : Op::kPutBlock;
    if (comp == "blocklist") return Op::kPutBlockList;
    if (comp == "appendblock") return copySource ? Op::kNotImplemented : Op::kAppendBlock;
    if (comp == "seal") return Op::kSeal;
    if (comp == "metadata") return Op::kSetBlobMetadata;
    if (comp == "properties") return Op::kSetBlobProperties;
    if (comp == "tier") return Op::kSetBlobTier;
    if (comp == "lease") return Op::kLeaseBlob;
    if (comp == "copy") return Op::kAbortCopy;
    return Op::kNotImplemented;
  }
  if (m == "GET" || m == "HEAD") {
    const bool head = m == "HEAD";
    if (comp.empty()) return head ? Op::kHeadBlob : Op::kGetBlob;
    if (comp == "metadata") return head ? Op::kHeadBlobMetadata : Op::kGetBlobMetadata;
    if (comp == "blocklist" && !head) return Op::kGetBlockList;
    return Op::kNotImplemented;
  }
  if (m == "DELETE" && comp.empty()) return Op::kDeleteBlob;
  return Op::kMethodNotAllowed;
}

asio::awaitable<Status> dispatch(Op op, Ctx& c) {
  switch (op) {
    case Op::kListContainers: co_return co_await listContainers(c);
    case Op::kGetServiceProperties: co_return co_await getServiceProperties(c);
    case Op::kSetServiceProperties: co_return co_await setServiceProperties(c);
    case Op::kGetAccountInfo: co_return co_await getAccountInfo(c);
    case Op::kCreateContainer: co_return co_await createContainer(c);
    case Op::kGetContainerProperties: co_return co_await getContainerProperties(c);
    case Op::kSetContainerMetadata: co_return co_await setContainerMetadata(c);
    case Op::kGetContainerAcl: co_return co_await getContainerAcl(c);
    case Op::kSetContainerAcl: co_return co_await setContainerAcl(c);
    case Op::kDeleteContainer: co_return co_await deleteContainer(c);
    case Op::kLeaseContainer: co_return co_await leaseContainer(c);
    case Op::kListBlobs: co_return co_await listBlobs(c);
    case Op::kPutBlob: co_return co_await putBlob(c);
    case Op::kGetBlob: co_return co_await getBlob(c, false);
    case Op::kHeadBlob: co_return co_await getBlob(c, true);
    case Op::kDeleteBlob: co_return co_await deleteBlob(c);
    case Op::kGetBlobMetadata: co_return co_await getBlobMetadata(c, false);
    case Op::kHeadBlobMetadata: co_return co_await getBlobMetadata(c, true);
    case Op::kSetBlobMetadata: co_return co_await setBlobMetadata(c);
    case Op::kSetBlobProperties: co_return co_await setBlobProperties(c);
    case Op::kSetBlobTier: co_return co_await setBlobTier(c);
    case Op::kLeaseBlob: co_return co_await leaseBlob(c);
    case Op::kPutBlock: co_return co_await putBlock(c);
    case Op::kPutBlockFromUrl: co_return co_await putBlockFromUrl(c);
    case Op::kPutBlockList: co_return co_await putBlockList(c);
    case Op::kGetBlockList: co_return co_await getBlockList(c);
    case Op::kAppendBlock: co_return co_await appendBlock(c);
    case Op::kSeal: co_return co_await sealBlob(c);
    case Op::kCopyBlob: co_return co_await copyBlob(c);
    case Op::kAbortCopy: co_return co_await abortCopy(c);
    case Op::kNotImplemented:
      co_return co_await sendError(
          c, makeError(Code::kNotImplemented, "The requested operation is not implemented."));
    case Op::kMethodNotAllowed:
      co_return co_await sendError(
          c, makeError(Code::kMethodNotAllowed, "The resource doesn't support the HTTP verb."));
  }
  co_return Status::ok();
}

// Host "<account>.blob.<domain>[:port]" selects the account (virtual-host style).
std::string accountFromHost(std::string_view host, const std::vector<std::string>& domains) {
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos &&
                                      host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  for (const std::string& d : domains) {
    std::string suffix = ".blob." + d;
    if (host.size() > suffix.size() && iequals(host.substr(host.size() - suffix.size()), suffix)) {
      return toLower(host.substr(0, host.size() - suffix.size()));
    }
  }
  return {};
}

}  // namespace

asio::awaitable<void> BlobApi::Impl::handle(http::Request& req, http::RequestBody& body,
                                            http::ResponseWriter& out) {
  Ctx c(req, body, out, ns, options);
  c.version = std::string(req.headers.get("x-ms-version"));
  // Addressing: the account from the host, else the first path segment.
  std::string path = auth::uriDecodeLenient(req.path);
  std::string_view rest = path;
  if (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
  }
  std::string accountName = accountFromHost(req.headers.get("host"), options.domains);
  if (accountName.empty()) {
    size_t slash = rest.find('/');
    accountName = std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    c.container = std::string(rest.substr(0, slash));
    c.blob = std::string(rest.substr(slash + 1));
  } else {
    c.container = std::string(rest);
  }
  parseQuery(req.query, c.query).ignoreError();
  if (auto it = byName.find(accountName); it != byName.end()) {
    c.account = it->second;
  }
  if (c.version.empty()) {
    c.version = "2021-12-02";
  }
  Status s;
  if (Status v = checkApiVersion(req.headers.get("x-ms-version")); !v) {
    s = v;
  } else if (c.account == nullptr) {
    s = makeError(Code::kNotFound, "The specified resource does not exist.");
    c.container.clear();  // an unknown account is ResourceNotFound, whatever the path names
    c.blob.clear();
  }
  Op op = s ? classify(c) : Op::kNotImplemented;
  if (s) {
    opCounter(op).inc();
  }
  // Authentication: SharedKey in the Authorization header, else a SAS in the query.
  if (s) {
    auth::AzureRequest areq{req.method, req.path, req.query, req.headers, accountName,
                            nowSeconds(), req.remoteAddress, false};
    if (req.headers.has("authorization")) {
      if (auth::hasSharedKey(req.headers)) {
        auto who = auth::verifySharedKey(areq, lookup);
        if (!who) {
          s = who.error();
          // Azure answers a missing or unparsable request date with 403 AuthenticationFailed;
          // only a malformed Authorization header itself is 400 InvalidAuthenticationInfo.
          if (s.code() == Code::kAuthMalformed &&
              s.message().find("date") != std::string::npos) {
            s = makeError(Code::kAuthMalformed, "AuthenticationFailed: " + s.message());
          }
        }
      } else {
        s = makeError(Code::kAuthMalformed,
                      "AuthenticationFailed: Authentication scheme is not supported (bearer "
                      "tokens need HTTPS and come in a later release).");
      }
    } else if (auth::hasSas(req.query)) {
      std::string ip = req.remoteAddress.substr(0, req.remoteAddress.rfind(':'));
      auth::SasInput sin{req.query, accountName, c.container, c.blob, nowSeconds(), ip, false};
      auto grant = auth::verifySas(sin, lookup);
      if (!grant) {
        s = grant.error();
      } else {
        bool exists = false;
        if ((op == Op::kPutBlob || op == Op::kCopyBlob) && !c.container.empty()) {
          exists = static_cast<bool>(co_await ns.headObject(c.container, c.blob));
        }
        SasNeed need = sasNeed(op, exists);
        s = auth::sasPermits(*grant, need.permission, need.level, c.container, c.blob);
        // Writing through a 'w' SAS may also create; a 'c'-only SAS may not overwrite.
        if (!s && need.permission == 'c') {
          s = auth::sasPermits(*grant, 'w', need.level, c.container, c.blob);
        }
        c.sas = std::move(*grant);
      }
    } else if (c.hasQuery("sv") && (c.hasQuery("se") || c.hasQuery("sp"))) {
      s = makeError(Code::kAuthMalformed,
                    "AuthenticationFailed: the shared access signature has no signature (sig).");
    } else {
      s = makeError(Code::kUnauthenticated, "Server failed to authenticate the request. Please "
                                            "refer to the information in the www-authenticate "
                                            "header.");
    }
  }
  if (!s) {
    spdlog::debug("blob {} {} {}: {}", req.requestId, req.method, req.target, s.toString());
    s = co_await sendError(c, s);
    if (!s) {
      spdlog::debug("blob {}: error response not sent: {}", req.requestId, s.toString());
    }
    co_return;
  }
  s = co_await dispatch(op, c);
  if (!s) {
    spdlog::debug("blob {} {}: {}", req.requestId, kOpNames[static_cast<int>(op)], s.toString());
  }
}

BlobApi::BlobApi(core::Namespace& ns, BlobOptions options)
    : impl_(std::make_shared<Impl>(ns, std::move(options))) {}

BlobApi::~BlobApi() = default;

http::Handler BlobApi::handler() {
  std::shared_ptr<Impl> impl = impl_;
  return [impl](http::Request& req, http::RequestBody& body,
                http::ResponseWriter& out) -> asio::awaitable<void> {
    co_await impl->handle(req, body, out);
  };
}

}  // namespace ember::blob
