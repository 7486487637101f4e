// Service and container operations: List Containers, service properties, account information,
// Create/Get/Set/Delete Container, container ACL and lease, List Blobs.
#include <algorithm>
#include <charconv>
#include <set>

#include "blob/context.h"
#include "blob/lease_view.h"
#include "blob/wire.h"
#include "blob/xml.h"
#include "common/digest.h"
#include "common/time_util.h"
#include "core/lease.h"

namespace ember::blob {

namespace {

constexpr uint32_t kMaxResults = 5000;

// maxresults: 1..5000 (larger values are clamped, as Azure does); 0 or junk is a 400.
Result<uint32_t> maxResults(const Ctx& c) {
  if (!c.hasQuery("maxresults")) {
    return kMaxResults;
  }
  std::string v = c.queryValue("maxresults");
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n == 0) {
    return unexpected(Code::kInvalidQueryParam,
                      "OutOfRangeQueryParameterValue: maxresults must be between 1 and 5000.");
  }
  return static_cast<uint32_t>(std::min<uint64_t>(n, kMaxResults));
}

// Markers are the last name returned, base64-encoded (opaque to clients).
std::string encodeMarker(std::string_view last) { return base64Encode(last); }
Result<std::string> decodeMarker(const Ctx& c) {
  if (!c.hasQuery("marker") || c.queryValue("marker").empty()) {
    return std::string();
  }
  auto raw = base64Decode(c.queryValue("marker"));
  if (!raw) {
    return unexpected(Code::kInvalidQueryParam,
                      "OutOfRangeQueryParameterValue: the marker is not valid.");
  }
  return *raw;
}

http::Headers containerHeaders(const store::BucketRecord& b) {
  http::Headers h;
  h.add("ETag", quoteEtag(containerEtag(b)));
  h.add("Last-Modified", rfc1123(containerLastModifiedMs(b)));
  return h;
}

}  // namespace

asio::awaitable<Status> listContainers(Ctx& c) {
  auto limit = maxResults(c);
  auto marker = decodeMarker(c);
  if (!limit || !marker) {
    co_return co_await sendError(c, !limit ? limit.error() : marker.error());
  }
  auto all = co_await c.ns.listBuckets();
  if (!all) {
    co_return co_await sendError(c, all.error());
  }
  ListContainersXml x;
  x.serviceEndpoint = c.serviceEndpoint();
  std::string prefix = c.queryValue("prefix");
  if (c.hasQuery("prefix")) x.prefix = prefix;
  if (c.hasQuery("marker")) x.marker = c.queryValue("marker");
  if (c.hasQuery("maxresults")) x.maxResults = *limit;
  x.includeMetadata = parseListInclude(c.queryValue("include")).metadata;
  const int64_t now = nowMillis();
  for (const store::BucketRecord& b : *all) {
    if (b.owner != c.owner() || b.name.compare(0, prefix.size(), prefix) != 0 ||
        (!marker->empty() && b.name <= *marker)) {
      continue;
    }
    if (x.containers.size() == *limit) {
      x.nextMarker = encodeMarker(x.containers.back().bucket.name);
      break;
    }
    x.containers.push_back(ContainerEntry{b, leaseView(b.lease, now), ""});
  }
  co_return co_await sendXml(c, 200, listContainersXml(x));
}

asio::awaitable<Status> getServiceProperties(Ctx& c) {
  co_return co_await sendXml(c, 200, defaultServicePropertiesXml());
}

asio::awaitable<Status> setServiceProperties(Ctx& c) {
  // Accepted and validated, not applied: logging, metrics and CORS are configured in emberd.
  auto body = co_await readSmallBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  if (Status s = validateServiceProperties(*body); !s) {
    co_return co_await sendError(c, s);
  }
  co_return co_await sendEmpty(c, 202);
}

asio::awaitable<Status> getAccountInfo(Ctx& c) {
  http::Headers h;
  h.add("x-ms-sku-name", "Standard_LRS");
  h.add("x-ms-account-kind", "StorageV2");
  h.add("x-ms-is-hns-enabled", "false");
  co_return co_await sendEmpty(c, 200, std::move(h));
}

asio::awaitable<Status> createContainer(Ctx& c) {
  auto meta = parseBlobMetadata(c.req.headers);
  if (!meta) {
    co_return co_await sendError(c, meta.error());
  }
  // Azure container names: S3 bucket rules without dots, and no "--".
  if (!core::validBucketName(c.container) || c.container.find('.') != std::string::npos ||
      c.container.find("--") != std::string::npos) {
    co_return co_await sendError(
        c, makeError(Code::kInvalidBucketName, "The specifed resource name contains invalid "
                                               "characters."));
  }
  Status s = co_await c.ns.createBucket(c.container, c.owner(), "", std::move(*meta));
  if (s.code() == Code::kAlreadyOwned) {
    s = makeError(Code::kAlreadyExists, "The specified container already exists.");
  }
  if (!s) {
    co_return co_await sendError(c, s);
  }
  auto b = co_await c.ns.getBucket(c.container);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  co_return co_await sendEmpty(c, 201, containerHeaders(*b));
}

asio::awaitable<Status> getContainerProperties(Ctx& c) {
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  if (auto id = c.leaseId()) {
    if (Status s = core::checkLeaseForRead(b->lease, *id, nowMillis()); !s) {
      co_return co_await sendError(c, s);
    }
  }
  http::Headers h = containerHeaders(*b);
  for (const auto& [name, value] : b->userMeta) {
    h.add("x-ms-meta-" + name, value);
  }
  LeaseView lease = leaseView(b->lease, nowMillis());
  h.add("x-ms-lease-status", lease.status);
  h.add("x-ms-lease-state", lease.state);
  if (!lease.duration.empty()) {
    h.add("x-ms-lease-duration", lease.duration);
  }
  h.add("x-ms-has-immutability-policy", "false");
  h.add("x-ms-has-legal-hold", "false");
  co_return co_await sendEmpty(c, 200, std::move(h));
}

asio::awaitable<Status> setContainerMetadata(Ctx& c) {
  auto meta = parseBlobMetadata(c.req.headers);
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!meta || !cond) {
    co_return co_await sendError(c, !meta ? meta.error() : cond.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  std::optional<std::string> leaseId = c.leaseId();
  store::BucketUpdate update = [cond = *cond, meta = *meta,
                                leaseId](store::BucketRecord& rec) -> Status {
    EMBER_TRY(checkContainerConditions(cond, rec));
    if (leaseId) {
      EMBER_TRY(core::checkLeaseForRead(rec.lease, *leaseId, nowMillis()));
    }
    rec.userMeta = meta;
    rec.etag = core::newBucketEtag();
    rec.mtimeMs = nowMillis();
    return Status::ok();
  };
  Status s = co_await c.ns.updateBucket(c.container, update);
  if (!s) {
    co_return co_await sendError(c, s);
  }
  auto after = co_await c.ns.getBucket(c.container);
  if (!after) {
    co_return co_await sendError(c, after.error());
  }
  co_return co_await sendEmpty(c, 200, containerHeaders(*after));
}

asio::awaitable<Status> getContainerAcl(Ctx& c) {
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  // Containers are private; no stored access policies are kept.
  co_return co_await sendXml(
      c, 200, "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers />",
      containerHeaders(*b));
}

asio::awaitable<Status> setContainerAcl(Ctx& c) {
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  if (c.req.headers.has("x-ms-blob-public-access")) {
    co_return co_await sendError(
        c, makeError(Code::kNotImplemented, "Public access to containers is not supported."));
  }
  auto body = co_await readSmallBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  if (body->find("SignedIdentifier>") != std::string::npos) {
    co_return co_await sendError(
        c, makeError(Code::kNotImplemented, "Stored access policies are not supported."));
  }
  co_return co_await sendEmpty(c, 200, containerHeaders(*b));
}

asio::awaitable<Status> deleteContainer(Ctx& c) {
  auto cond = parseBlobConditions(c.req.headers, false);
  if (!cond) {
    co_return co_await sendError(c, cond.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  std::optional<std::string> leaseId = c.leaseId();
  std::function<Status(const store::BucketRecord&)> check =
      [cond = *cond, leaseId](const store::BucketRecord& rec) -> Status {
    EMBER_TRY(checkContainerConditions(cond, rec));
    return core::checkLeaseForWrite(rec.lease, leaseId, nowMillis());
  };
  Status s = co_await c.ns.deleteBucketWithContents(c.container, check);
  if (!s) {
    co_return co_await sendError(c, s);
  }
  co_return co_await sendEmpty(c, 202);
}

asio::awaitable<Status> listBlobs(Ctx& c) {
  auto limit = maxResults(c);
  auto marker = decodeMarker(c);
  if (!limit || !marker) {
    co_return co_await sendError(c, !limit ? limit.error() : marker.error());
  }
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  core::ListInput in;
  in.bucket = c.container;
  in.prefix = c.queryValue("prefix");
  in.delimiter = c.queryValue("delimiter");
  in.startAfter = *marker;
  in.maxKeys = *limit;
  in.fullRecords = true;
  auto page = co_await c.ns.list(in);
  if (!page) {
    co_return co_await sendError(c, page.error());
  }
  ListBlobsXml x;
  x.serviceEndpoint = c.serviceEndpoint();
  x.containerName = c.container;
  if (c.hasQuery("prefix")) x.prefix = in.prefix;
  if (c.hasQuery("marker")) x.marker = c.queryValue("marker");
  if (c.hasQuery("maxresults")) x.maxResults = *limit;
  if (c.hasQuery("delimiter")) x.delimiter = in.delimiter;
  ListInclude include = parseListInclude(c.queryValue("include"));
  x.includeMetadata = include.metadata;
  x.includeCopy = include.copy;
  const int64_t now = nowMillis();
  // Blobs and prefixes interleave in name order.
  size_t pi = 0;
  for (store::ObjectRecord& rec : page->objects) {
    while (pi < page->commonPrefixes.size() && page->commonPrefixes[pi] < rec.key) {
      x.entries.emplace_back(BlobPrefixItem{page->commonPrefixes[pi++]});
    }
    LeaseView lease = leaseView(rec.lease, now);
    x.entries.emplace_back(BlobItem{std::move(rec), std::move(lease)});
  }
  while (pi < page->commonPrefixes.size()) {
    x.entries.emplace_back(BlobPrefixItem{page->commonPrefixes[pi++]});
  }
  if (include.uncommittedBlobs && in.delimiter.empty()) {
    // Blobs that have staged blocks but no committed version yet, within this page's key range.
    core::ListUploadsInput ui;
    ui.bucket = c.container;
    ui.prefix = in.prefix;
    ui.keyMarker = *marker;
    auto uploads = co_await c.ns.listUploads(ui);
    if (uploads) {
      std::set<std::string> present;
      for (const ListBlobsEntry& e : x.entries) {
        present.insert(std::get<BlobItem>(e).record.key);
      }
      for (const store::UploadRecord& u : uploads->uploads) {
        if (!u.uploadId.starts_with("blk") || present.count(u.key) != 0 ||
            (page->truncated && u.key > page->nextMarker)) {
          continue;
        }
        store::ObjectRecord r;
        r.bucket = u.bucket;
        r.key = u.key;
        r.mtimeMs = u.initiatedMs;
        r.createdMs = u.initiatedMs;
        present.insert(u.key);
        x.entries.emplace_back(BlobItem{std::move(r), leaseView({}, now)});
      }
      std::sort(x.entries.begin(), x.entries.end(), [](const ListBlobsEntry& a,
                                                      const ListBlobsEntry& b) {
        return std::get<BlobItem>(a).record.key < std::get<BlobItem>(b).record.key;
      });
    }
  }
  if (page->truncated) {
    x.nextMarker = encodeMarker(page->nextMarker);
  }
  co_return co_await sendXml(c, 200, listBlobsXml(x));
}

asio::awaitable<Status> leaseContainer(Ctx& c) {
  auto b = co_await requireContainer(c);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  auto in = parseLeaseInput(c);
  if (!in) {
    co_return co_await sendError(c, in.error());
  }
  auto r = co_await c.ns.leaseBucket(c.container, *in);
  if (!r) {
    co_return co_await sendError(c, r.error());
  }
  co_return co_await sendLeaseResult(c, *in, *r);
}

}  // namespace ember::blob
