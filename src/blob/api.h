#pragma once
// The Azure Blob protocol adapter: the second thin adapter over the namespace core (the first is
// src/s3). A container is a bucket, a blob is an object; what one protocol writes the other reads.
// Pipeline per request (fixed order, so no step can be skipped):
//   address (account, container, blob) -> operation -> x-ms-version -> authenticate (SharedKey or
//   SAS; bearer tokens slot in here later) -> authorize (SAS permissions, account ownership) ->
//   execute (core) -> render (one error table, blob/errors.h).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/namespace.h"
#include "http/client.h"
#include "http/http.h"

namespace ember::blob {

struct BlobAccount {
  std::string name;               // e.g. "devstoreaccount1"
  std::vector<std::string> keys;  // raw (base64-decoded) account keys, 1 or 2
  std::string owner;              // the user that owns the account's containers (S3 user name)
};

struct BlobOptions {
  // Virtual-host suffixes: "<account>.blob.<suffix>[:port]" selects the account; else path style.
  std::vector<std::string> domains = {"localhost"};
  std::vector<BlobAccount> accounts;
  size_t maxXmlBodyBytes = 4 * 1024 * 1024;  // block lists (50,000 ids), service properties
  int64_t maxClockSkewSeconds = 15 * 60;

  // Remote copy sources (Copy Blob, Put Blob From URL, Put Block From URL naming a URL on another
  // host): fetched over HTTP(S) only when the host is on this list (SSRF protection; empty =
  // every remote source is refused with CannotVerifyCopySource 403). A host listed by a "*."
  // wildcard may not resolve to loopback or link-local addresses; one listed exactly may.
  http::HostAllowList copySourceHosts;
  std::shared_ptr<http::TlsContext> copySourceTls;  // https sources; null = system trust store
  std::chrono::milliseconds copySourceConnectTimeout{10'000};
  std::chrono::milliseconds copySourceReadTimeout{60'000};
};

class BlobApi {
 public:
  BlobApi(core::Namespace& ns, BlobOptions options);
  ~BlobApi();
  // The handler to give to http::Server. BlobApi must outlive the server.
  http::Handler handler();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ember::blob
