#pragma once
// The cold-store seam: what the warm tier needs from the object store that is the data's home
// (Azure Blob or S3, across a WAN that may be slow or down). One ColdStore serves one cold
// location (az://account/container/prefix or s3://bucket/prefix); keys passed to it are relative
// to the location's prefix.
//
// Contract shared by every implementation (see docs/tiering.md, "Cold connectors"):
//   - Every call has connect and read deadlines, is retried with exponential backoff and full
//     jitter on retryable failures (connection errors, timeouts, 5xx, 429/503 throttling), never
//     on a definite answer (403, 404, 412, other 4xx), and goes through the instance's circuit
//     breaker (resilience.h): while it is open, calls fail at once with kUnavailable.
//   - Errors (Status codes): kNotFound (no such object, container or bucket), kPermissionDenied
//     (401/403: bad credentials, signature or permission), kPreconditionFailed (412),
//     kInvalidRange (416), kInvalidArgument (other 4xx, bad arguments or configuration), kBusy
//     (429/503 throttling after the retries), kUnavailable (5xx, connection failures, breaker
//     open), kTimeout, kIncompleteBody, kCorruption (a reply that cannot be parsed).
//   - Calls are coroutines on the executor given at construction. A ColdStore may be used by
//     many coroutines at once on a single-threaded executor (or a strand); it is not meant to be
//     shared across threads.
//   - ETags are returned without quotes; times are unix milliseconds.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cold/resilience.h"
#include "common/status.h"
#include "common/stream.h"

namespace ember::cold {

// --- locations ---

struct ColdLocation {
  enum class Kind { kAzure, kS3 };
  Kind kind = Kind::kS3;
  std::string account;    // Azure storage account (empty for S3)
  std::string container;  // Azure container or S3 bucket
  std::string prefix;     // key prefix inside it, without leading or trailing '/'; may be empty

  // The object name in the container/bucket for a key relative to the location:
  // "prefix/key", or "key" when the prefix is empty.
  std::string objectName(std::string_view key) const;
  // The inverse: strips "prefix/" from an object name (names outside the prefix come back as is).
  std::string relativeKey(std::string_view objectName) const;
  std::string toString() const;  // "az://account/container/prefix" or "s3://bucket/prefix"
};

// Parses "az://account/container[/prefix...]" or "s3://bucket[/prefix...]". The account is 3..24
// lowercase letters and digits; a container 3..63 of [a-z0-9-] starting with a letter or digit,
// no "--"; a bucket 3..63 of [a-z0-9.-] starting and ending with a letter or digit. Slashes at
// the ends of the prefix are dropped; empty segments inside it ("a//b") are refused.
// Errors: kInvalidArgument saying what is wrong.
Result<ColdLocation> parseColdLocation(std::string_view text);

// --- configuration ---

struct AzureAuthConfig {
  enum class Mode { kSharedKey, kSas, kBearer };
  Mode mode = Mode::kSharedKey;
  std::string accountKey;  // kSharedKey: the base64 account key
  std::string sasToken;    // kSas: the query string of a SAS ("sv=...&sig=...", '?' optional)
  // kBearer: a managed-identity style token endpoint, asked with
  //   GET <tokenEndpoint>?resource=https://storage.azure.com/&api-version=2018-02-01
  //   Metadata: true
  // and answering JSON {"access_token": "...", "expires_on": <unix seconds, number or string>}.
  // Tokens are cached until tokenRefreshMargin before expiry.
  std::string tokenEndpoint;
  std::chrono::seconds tokenRefreshMargin{300};
};

struct S3AuthConfig {
  std::string accessKey;
  std::string secretKey;
  std::string region = "us-east-1";
};

struct ColdStoreConfig {
  ColdLocation location;
  // Service URL. Azure: the account's Blob service URL, e.g.
  // http://127.0.0.1:10000/devstoreaccount1 (path style, as Azurite serves it) or
  // https://<account>.blob.core.windows.net (the default when empty). S3: http(s)://host[:port];
  // requests are path style (<endpoint>/<bucket>/<key>).
  std::string endpoint;
  AzureAuthConfig azure;
  S3AuthConfig s3;
  std::string caFile;  // extra PEM trust anchors for https endpoints (empty: system store only)

  std::chrono::milliseconds connectTimeout{10'000};
  std::chrono::milliseconds readTimeout{60'000};
  RetryOptions retry;
  BreakerOptions breaker;

  // Objects of at least this size are uploaded in parts (S3 multipart, Azure Put Block + Put Block
  // List); smaller ones with one PUT. partSize bytes per part (S3 needs >= 5 MiB except the last;
  // Azure blocks <= 4000 MiB), at most parallelParts parts in flight (each is held in memory while
  // it is sent, so a put holds at most parallelParts * partSize bytes).
  uint64_t multipartThreshold = 16ull << 20;
  uint64_t partSize = 8ull << 20;
  int parallelParts = 4;
};

// --- the seam ---

struct ColdObjectInfo {
  std::string key;             // relative to the location (list) or as asked (head/get)
  uint64_t size = 0;           // the whole object's size
  std::string etag;            // unquoted
  int64_t lastModifiedMs = 0;  // unix ms; 0 when the store did not say
  std::string contentType;     // head/get only
};

struct ColdListPage {
  std::vector<ColdObjectInfo> objects;  // in key order
  std::vector<std::string> prefixes;    // delimiter roll-ups, relative to the location
  std::string nextMarker;               // empty: this was the last page
};

struct ByteRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;  // absent: to the end
};

struct PutOptions {
  std::string contentType = "application/octet-stream";
  // User metadata (x-amz-meta-* / x-ms-meta-*); names are sent lowercased and must be valid
  // HTTP token characters (Azure also needs C# identifier rules: letters, digits and '_').
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Counters of one ColdStore instance (for tests and metrics).
struct ColdStoreStats {
  uint64_t calls = 0;              // ColdStore method calls
  uint64_t attempts = 0;           // HTTP requests sent (including retries)
  uint64_t retries = 0;            // attempts after a retryable failure
  uint64_t breakerRejections = 0;  // attempts refused by the open breaker
};

class ColdStore {
 public:
  virtual ~ColdStore() = default;

  // Size, ETag, Last-Modified and Content-Type of an object. kNotFound when absent.
  virtual asio::awaitable<Result<ColdObjectInfo>> head(std::string key) = 0;

  // Streams the object (or the byte range of it) to `sink`, in order, and returns the object's
  // info (size = whole object). A range past the end is kInvalidRange; a range that runs over the
  // end is cut at the end. When the connection fails mid-body the read resumes after the bytes
  // already delivered (If-Match on the first response's ETag, so a changed object fails with
  // kPreconditionFailed rather than mixing versions); the sink never sees a byte twice.
  virtual asio::awaitable<Result<ColdObjectInfo>> get(std::string key,
                                                      std::optional<ByteRange> range,
                                                      ByteSink& sink) = 0;

  // Uploads exactly `size` bytes from `source` as the object (replacing any object of that key).
  // Below config.multipartThreshold: one PUT (the body is buffered so it can be retried); else in
  // parts of config.partSize, up to config.parallelParts in flight, each retried on its own; a
  // failed S3 multipart upload is aborted. Returns the new object's ETag.
  virtual asio::awaitable<Result<std::string>> put(std::string key, ByteSource& source,
                                                   uint64_t size, PutOptions options) = 0;

  // Deletes the object. Deleting an absent object is kNotFound on Azure; S3 answers 204 either way
  // (so it is OK there).
  virtual asio::awaitable<Status> del(std::string key) = 0;

  // One page of the objects whose keys start with `prefix` (relative to the location), after
  // `marker` (from a previous page's nextMarker; empty = from the start), at most maxKeys
  // (1..5000) entries counting objects and prefixes. With a delimiter, keys containing it after
  // the prefix are rolled up into `prefixes`.
  virtual asio::awaitable<Result<ColdListPage>> list(std::string prefix, std::string marker,
                                                     int maxKeys,
                                                     std::optional<std::string> delimiter) = 0;

  virtual const ColdLocation& location() const = 0;
  virtual ColdStoreStats stats() const = 0;
  virtual CircuitBreaker::State breakerState() const = 0;
};

// The store for config.location (Azure or S3). Errors: kInvalidArgument for a bad endpoint,
// missing or malformed credentials, partSize 0 or parallelParts < 1; kInvalidArgument/kInternal
// for a CA file that cannot be loaded.
Result<std::unique_ptr<ColdStore>> makeColdStore(asio::any_io_executor executor,
                                                 ColdStoreConfig config);

}  // namespace ember::cold
