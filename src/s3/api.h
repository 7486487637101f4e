#pragma once
// The S3 protocol adapter: turns HTTP requests into namespace-core calls and core results into
// S3 responses. Pipeline per request (fixed order, so no step can be skipped):
//   route (addressing, operation) -> authenticate (SigV4) -> execute (core) -> render.

#include <memory>
#include <string>
#include <vector>

#include "auth/sigv4.h"
#include "core/namespace.h"
#include "http/http.h"

namespace ember::s3 {

struct S3Options {
  std::string region = "us-east-1";
  // Host suffixes for virtual-hosted-style addressing: "<bucket>.<domain>[:port]".
  std::vector<std::string> domains = {"localhost"};
  std::vector<auth::Credential> users;
  size_t maxXmlBodyBytes = 2 * 1024 * 1024;  // DeleteObjects / CompleteMultipartUpload bodies
};

class S3Api {
 public:
  S3Api(core::Namespace& ns, S3Options options);
  ~S3Api();
  // The handler to give to http::Server. S3Api must outlive the server.
  http::Handler handler();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ember::s3
