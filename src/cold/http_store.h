#pragma once
// The part of the Azure and S3 connectors that does not depend on the protocol: sending a signed
// request with deadlines, retries and the breaker; mapping HTTP answers to Status; resumable
// streaming reads; single and multi-part uploads with a bounded number of parts in flight; the
// path-style URLs both use (<endpoint path>/<container>/<object name>), delete, and the shape of a
// list request. Subclasses (azure_store.cc, s3_store.cc) build the protocol's requests and sign them.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <pugixml.hpp>

#include "cold/cold_store.h"
#include "common/headers.h"
#include "http/client.h"

namespace ember::cold {

// One request as a connector builds it; signed again before every attempt.
struct Outbound {
  std::string method = "GET";
  std::string rawPath;   // percent-encoded, starting with '/', including the endpoint's base path
  std::string rawQuery;  // without '?'
  Headers headers;
  std::shared_ptr<const std::string> body;  // null: no body
  uint64_t bodySize() const { return body ? body->size() : 0; }
};

// A reply read whole (list results, errors, upload ids).
struct TextReply {
  int status = 0;
  Headers headers;
  std::string body;
};

// How one protocol lists a container: the query parameter names and the reply's root element.
struct ListDialect {
  std::string_view fixed;    // sent first as is ("list-type=2")
  std::string_view marker;   // where the previous page's next marker goes
  std::string_view maxKeys;  // the page size
  const char* root;          // the root element of the XML reply
  std::string_view call;     // the operation's name, for errors ("ListObjectsV2")
};

// Maps a non-2xx HTTP status (and the service's error code, if any) to a Status code; see the
// error list in cold_store.h.
Code codeForHttpStatus(int status);

class HttpColdStore : public ColdStore {
 public:
  HttpColdStore(asio::any_io_executor executor, ColdStoreConfig config, http::Url endpoint,
                std::shared_ptr<http::TlsContext> tls);

  asio::awaitable<Result<ColdObjectInfo>> head(std::string key) override;
  asio::awaitable<Result<ColdObjectInfo>> get(std::string key, std::optional<ByteRange> range,
                                              ByteSink& sink) override;
  asio::awaitable<Result<std::string>> put(std::string key, ByteSource& source, uint64_t size,
                                           PutOptions options) override;
  // DELETE of the object (a 404 is kNotFound; S3 answers 204 for an absent key).
  asio::awaitable<Status> del(std::string key) override;
  // GET of the container with listDialect()'s query (prefix joined to the location's, marker when
  // not empty, page size clamped to 1..5000, delimiter when not empty); the reply's root element
  // (kCorruption when missing or not XML) goes to listPage().
  asio::awaitable<Result<ColdListPage>> list(std::string prefix, std::string marker, int maxKeys,
                                             std::optional<std::string> delimiter) override;
  const ColdLocation& location() const override { return config_.location; }
  ColdStoreStats stats() const override { return stats_; }
  CircuitBreaker::State breakerState() const override { return breaker_.state(); }

 protected:
  // Adds authentication to a request about to be sent (called before every attempt).
  virtual asio::awaitable<Status> sign(Outbound& req) = 0;
  // The protocol's list call, and the page in its reply's root element (keys made relative).
  virtual const ListDialect& listDialect() const = 0;
  virtual Result<ColdListPage> listPage(pugi::xml_node root) const = 0;
  // A request on an object name (before signing): <base path>/<container>/<encoded name>.
  Outbound objectRequest(std::string_view method, std::string_view name) const;
  // The name of the range request header ("Range" or "x-ms-range").
  virtual std::string_view rangeHeader() const { return "Range"; }
  // One-shot upload of a buffered body; returns the ETag.
  virtual asio::awaitable<Result<std::string>> putSingle(
      const std::string& name, std::shared_ptr<const std::string> body,
      const PutOptions& options) = 0;
  // Multi-part upload: begin (returns an upload id, may be empty), one part (index from 0;
  // returns the token the commit needs), commit (returns the ETag), abort (best effort).
  virtual asio::awaitable<Result<std::string>> beginParts(const std::string& name,
                                                          const PutOptions& options) = 0;
  virtual asio::awaitable<Result<std::string>> putPart(const std::string& name,
                                                       const std::string& uploadId, int index,
                                                       std::shared_ptr<const std::string> body) = 0;
  virtual asio::awaitable<Result<std::string>> commitParts(
      const std::string& name, const std::string& uploadId,
      const std::vector<std::string>& tokens, const PutOptions& options) = 0;
  virtual asio::awaitable<void> abortParts(const std::string& name,
                                           const std::string& uploadId) = 0;

  // Sends `req` with retries and the breaker; a 2xx (or a status in `accept`) comes back as the
  // response to read, anything else as its mapped Status (with the service's error code and
  // message when the body has them).
  asio::awaitable<Result<std::unique_ptr<http::ClientResponse>>> call(
      Outbound req, std::vector<int> accept = {});
  // call() and read the body whole (at most maxBody bytes; more is kCorruption).
  asio::awaitable<Result<TextReply>> callText(Outbound req, size_t maxBody = 16 << 20);
  // call() and return the reply's unquoted ETag header (uploads).
  asio::awaitable<Result<std::string>> callForEtag(Outbound req);
  // One attempt, no retries, no breaker.
  asio::awaitable<Result<std::unique_ptr<http::ClientResponse>>> once(
      const Outbound& req, const std::vector<int>& accept);

  std::string url(const Outbound& req) const;
  const http::Url& endpoint() const { return endpoint_; }
  const ColdStoreConfig& config() const { return config_; }
  asio::any_io_executor executor() const { return executor_; }
  void countCall() { ++stats_.calls; }

 private:
  Outbound listRequest(const ListDialect& d, const std::string& prefix, const std::string& marker,
                       int maxKeys, const std::optional<std::string>& delimiter) const;
  asio::awaitable<void> sleepFor(std::chrono::milliseconds d);
  asio::awaitable<Result<std::string>> putParts(const std::string& name, ByteSource& source,
                                                uint64_t size, const PutOptions& options);

  asio::any_io_executor executor_;
  ColdStoreConfig config_;
  http::Url endpoint_;
  std::string basePath_;  // the endpoint's path without trailing '/' ("" for the root)
  std::shared_ptr<http::TlsContext> tls_;
  RetryPolicy policy_;
  mutable CircuitBreaker breaker_;
  ColdStoreStats stats_;
};

// Reads a whole ByteSource of exactly n bytes into a string. kIncompleteBody when it ends early.
asio::awaitable<Result<std::string>> readExactly(ByteSource& source, uint64_t n);
// The object info in a HEAD/GET response: size from Content-Range's total (206) or
// Content-Length, unquoted ETag, Last-Modified, Content-Type.
ColdObjectInfo infoFromHeaders(const http::ClientResponse& r, std::string key);
std::string unquote(std::string_view etag);
// Adds user metadata as headers named headerPrefix + the lowercased name ("x-amz-meta-").
void addMetadata(Headers& h, const PutOptions& options, std::string_view headerPrefix);

}  // namespace ember::cold
