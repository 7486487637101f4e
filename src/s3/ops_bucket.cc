// Service- and bucket-level S3 operations.
#include <charconv>

#include "common/time_util.h"
#include "s3/body.h"
#include "s3/context.h"
#include "s3/errors.h"
#include "s3/xml.h"

namespace ember::s3 {

namespace {

void addOwner(XmlWriter& w, std::string_view owner) {
  w.open("Owner").add("ID", owner).add("DisplayName", owner).close();
}

Result<uint32_t> parseMaxKeys(const Ctx& c, const std::string& name) {
  if (!c.hasQuery(name)) {
    return 1000u;
  }
  std::string v = c.queryValue(name);
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0) {
    return unexpected(Code::kInvalidArgument, "Provided " + name + " not an integer or within "
                                              "integer range");
  }
  return static_cast<uint32_t>(std::min<int64_t>(n, 1000));
}

}  // namespace

asio::awaitable<Status> listBuckets(Ctx& c) {
  auto buckets = co_await c.ns.listBuckets();
  if (!buckets) {
    co_return co_await sendError(c, buckets.error());
  }
  XmlWriter w("ListAllMyBucketsResult");
  addOwner(w, c.owner());
  w.open("Buckets");
  for (const auto& b : *buckets) {
    if (b.owner != c.owner()) {
      continue;  // buckets are private to their creator
    }
    w.open("Bucket").add("Name", b.name).add("CreationDate", formatIso8601(b.createdMs)).close();
  }
  w.close();
  co_return co_await sendXml(c, 200, w.finish());
}

asio::awaitable<Status> createBucket(Ctx& c) {
  auto body = co_await readSmallBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  auto region = parseCreateBucket(*body);
  if (!region) {
    co_return co_await sendError(c, region.error());
  }
  Status s = co_await c.ns.createBucket(c.bucket, c.owner(), *region);
  if (!s) {
    co_return co_await sendError(c, s);
  }
  http::Headers h;
  h.add("Location", "/" + c.bucket);
  co_return co_await sendEmpty(c, 200, std::move(h));
}

asio::awaitable<Status> headBucket(Ctx& c) {
  auto b = co_await c.ns.getBucket(c.bucket);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  http::Headers h;
  h.add("x-amz-bucket-region", b->region.empty() ? c.options.region : b->region);
  co_return co_await sendEmpty(c, 200, std::move(h));
}

asio::awaitable<Status> deleteBucket(Ctx& c) {
  Status s = co_await c.ns.deleteBucket(c.bucket);
  if (!s) {
    co_return co_await sendError(c, s);
  }
  co_return co_await sendEmpty(c, 204);
}

asio::awaitable<Status> getBucketLocation(Ctx& c) {
  auto b = co_await c.ns.getBucket(c.bucket);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  XmlWriter w("LocationConstraint");
  std::string region = b->region == "us-east-1" ? "" : b->region;
  std::string doc = w.finish();
  // <LocationConstraint xmlns="...">region</LocationConstraint>
  size_t close = doc.rfind("/>");
  if (close != std::string::npos) {
    doc = doc.substr(0, close) + ">" + region + "</LocationConstraint>";
  }
  co_return co_await sendXml(c, 200, doc);
}

asio::awaitable<Status> getBucketVersioning(Ctx& c) {
  auto b = co_await c.ns.getBucket(c.bucket);
  if (!b) {
    co_return co_await sendError(c, b.error());
  }
  XmlWriter w("VersioningConfiguration");
  co_return co_await sendXml(c, 200, w.finish());
}

asio::awaitable<Status> getAcl(Ctx& c) {
  std::string owner;
  if (c.key.empty()) {
    auto b = co_await c.ns.getBucket(c.bucket);
    if (!b) {
      co_return co_await sendError(c, b.error());
    }
    owner = b->owner;
  } else {
    auto o = co_await c.ns.headObject(c.bucket, c.key);
    if (!o) {
      co_return co_await sendError(c, o.error());
    }
    owner = o->owner;
  }
  // Ember has no ACLs: the owner has FULL_CONTROL, which is what S3 reports for a private object.
  std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>" +
      owner + "</ID><DisplayName>" + owner +
      "</DisplayName></Owner><AccessControlList><Grant><Grantee "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>" +
      owner + "</ID><DisplayName>" + owner +
      "</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
      "</AccessControlList></AccessControlPolicy>";
  co_return co_await sendXml(c, 200, doc);
}

const SubresourceAnswer* subresourceAnswer(std::string_view name, bool object) {
  static const SubresourceAnswer kAnswers[] = {
      {"tagging", true, 200, "Tagging", "", ""},
      {"tagging", false, 404, "", "NoSuchTagSet", "The TagSet does not exist"},
      {"policy", false, 404, "", "NoSuchBucketPolicy", "The bucket policy does not exist"},
      {"cors", false, 404, "", "NoSuchCORSConfiguration",
       "The CORS configuration does not exist"},
      {"lifecycle", false, 404, "", "NoSuchLifecycleConfiguration",
       "The lifecycle configuration does not exist"},
      {"website", false, 404, "", "NoSuchWebsiteConfiguration",
       "The specified bucket does not have a website configuration"},
      {"encryption", false, 404, "", "ServerSideEncryptionConfigurationNotFoundError",
       "The server side encryption configuration was not found"},
      {"replication", false, 404, "", "ReplicationConfigurationNotFoundError",
       "The replication configuration was not found"},
      {"object-lock", false, 404, "", "ObjectLockConfigurationNotFoundError",
       "Object Lock configuration does not exist for this bucket"},
      {"publicAccessBlock", false, 404, "", "NoSuchPublicAccessBlockConfiguration",
       "The public access block configuration was not found"},
      {"ownershipControls", false, 404, "", "OwnershipControlsNotFoundError",
       "The bucket ownership controls were not found"},
      {"logging", false, 200, "BucketLoggingStatus", "", ""},
      {"notification", false, 200, "NotificationConfiguration", "", ""},
      {"accelerate", false, 200, "AccelerateConfiguration", "", ""},
      {"requestPayment", false, 200, "RequestPaymentConfiguration", "", ""},
  };
  for (const auto& a : kAnswers) {
    if (a.object == object && name == a.name) {
      return &a;
    }
  }
  return nullptr;
}

asio::awaitable<Status> getSubresource(Ctx& c) {
  const SubresourceAnswer* answer = nullptr;
  for (const auto& [name, value] : c.query) {
    if ((answer = subresourceAnswer(name, !c.key.empty()))) {
      break;
    }
  }
  // The bucket (and object) must exist, as for any read.
  if (c.key.empty()) {
    auto b = co_await c.ns.getBucket(c.bucket);
    if (!b) {
      co_return co_await sendError(c, b.error());
    }
  } else {
    auto o = co_await c.ns.headObject(c.bucket, c.key);
    if (!o) {
      co_return co_await sendError(c, o.error());
    }
  }
  if (answer->status == 200) {
    XmlWriter w(answer->emptyRoot);
    if (std::string_view(answer->name) == "tagging") {
      w.open("TagSet").close();
    } else if (std::string_view(answer->name) == "requestPayment") {
      w.add("Payer", "BucketOwner");
    }
    co_return co_await sendXml(c, 200, w.finish());
  }
  http::Response r;
  r.status = answer->status;
  r.headers.add("x-amz-request-id", c.req.requestId);
  r.headers.add("Content-Type", "application/xml");
  std::string body = renderErrorXml(S3Error{answer->status, answer->code, answer->message}, "",
                                    c.resource(), c.req.requestId);
  co_return co_await c.out.respond(std::move(r), body);
}

asio::awaitable<Status> listObjects(Ctx& c, bool v2) {
  auto maxKeys = parseMaxKeys(c, "max-keys");
  if (!maxKeys) {
    co_return co_await sendError(c, maxKeys.error());
  }
  std::string encoding = c.queryValue("encoding-type");
  if (!encoding.empty() && encoding != "url") {
    co_return co_await sendError(c, makeError(Code::kInvalidArgument,
                                              "Invalid Encoding Method specified in Request"));
  }
  bool url = encoding == "url";
  auto enc = [url](std::string_view s) {
    return url ? auth::uriEncode(s, false) : std::string(s);
  };
  core::ListInput in;
  in.bucket = c.bucket;
  in.prefix = c.queryValue("prefix");
  in.delimiter = c.queryValue("delimiter");
  in.maxKeys = *maxKeys;
  std::string token = c.queryValue("continuation-token");
  if (v2) {
    if (c.hasQuery("continuation-token")) {
      auto decoded = base64Decode(token);
      if (!decoded || token.empty()) {
        co_return co_await sendError(
            c, makeError(Code::kInvalidArgument, "The continuation token provided is incorrect"));
      }
      in.startAfter = *decoded;
    } else {
      in.startAfter = c.queryValue("start-after");
    }
  } else {
    in.startAfter = c.queryValue("marker");
  }
  auto out = co_await c.ns.list(in);
  if (!out) {
    co_return co_await sendError(c, out.error());
  }
  bool fetchOwner = !v2 || c.queryValue("fetch-owner") == "true";
  XmlWriter w("ListBucketResult");
  w.add("Name", c.bucket).add("Prefix", enc(in.prefix));
  if (v2) {
    if (c.hasQuery("start-after")) {
      w.add("StartAfter", enc(c.queryValue("start-after")));
    }
    if (c.hasQuery("continuation-token")) {
      w.add("ContinuationToken", token);
    }
    if (out->truncated) {
      w.add("NextContinuationToken", base64Encode(out->nextMarker));
    }
    w.add("KeyCount", std::to_string(out->objects.size() + out->commonPrefixes.size()));
  } else {
    w.add("Marker", enc(in.startAfter));
    if (out->truncated && !in.delimiter.empty()) {
      w.add("NextMarker", enc(out->nextMarker));
    }
  }
  w.add("MaxKeys", std::to_string(in.maxKeys));
  if (c.hasQuery("delimiter")) {
    w.add("Delimiter", enc(in.delimiter));
  }
  if (url) {
    w.add("EncodingType", "url");
  }
  w.add("IsTruncated", out->truncated ? "true" : "false");
  for (const auto& o : out->objects) {
    w.open("Contents")
        .add("Key", enc(o.key))
        .add("LastModified", formatIso8601(o.mtimeMs))
        .add("ETag", quoteEtag(o.etag))
        .add("Size", std::to_string(o.size));
    for (const auto& [algo, v] : o.checksums) {
      w.add("ChecksumAlgorithm", algo);
    }
    if (fetchOwner) {
      addOwner(w, o.owner);
    }
    w.add("StorageClass", "STANDARD").close();
  }
  for (const auto& p : out->commonPrefixes) {
    w.open("CommonPrefixes").add("Prefix", enc(p)).close();
  }
  co_return co_await sendXml(c, 200, w.finish());
}

asio::awaitable<Status> deleteObjects(Ctx& c) {
  auto body = co_await readSmallBody(c);
  if (!body) {
    co_return co_await sendError(c, body.error());
  }
  // S3 requires an integrity header on DeleteObjects (Content-MD5 or an x-amz-checksum-*), and
  // checks it: a corrupted key list must not delete the wrong objects.
  Status integrity = verifySmallBody(c, *body, /*required=*/true);
  if (!integrity) {
    co_return co_await sendError(c, integrity);
  }
  auto req = parseDelete(*body);
  if (!req) {
    co_return co_await sendError(c, req.error());
  }
  auto bucket = co_await c.ns.getBucket(c.bucket);
  if (!bucket) {
    co_return co_await sendError(c, bucket.error());
  }
  XmlWriter w("DeleteResult");
  for (const std::string& key : req->keys) {
    auto r = co_await c.ns.deleteObject(c.bucket, key, {});
    if (r) {
      if (!req->quiet) {
        w.open("Deleted").add("Key", key).close();
      }
    } else {
      S3Error e = s3ErrorFor(r.error().code());
      w.open("Error")
          .add("Key", key)
          .add("Code", e.code)
          .add("Message", r.error().message().empty() ? e.message : r.error().message())
          .close();
    }
  }
  co_return co_await sendXml(c, 200, w.finish());
}

}  // namespace ember::s3
