#pragma once
// Internal to src/blob: what the copy handlers (ops_copy.cc) share with the remote-source path
// (ops_copy_remote.cc).

#include <string>

#include "blob/context.h"
#include "http/client.h"

namespace ember::blob {

// A parsed x-ms-copy-source.
struct CopySource {
  std::string url;      // as sent, SAS included
  http::Url parsed;
  bool remote = false;  // on another host: fetched (or refused) by ops_copy_remote.cc
  // Local sources only: decoded names.
  std::string account;
  std::string container;
  std::string blob;
};

// kCopySourceFailed with "NNN:message": CannotVerifyCopySource with HTTP status NNN.
Status sourceError(int status, std::string message);
// A new copy id in the GUID shape Azure uses.
std::string newCopyId();

// Answers Put Blob From URL: 201 with ETag, Last-Modified and Content-MD5.
asio::awaitable<Status> finishPutBlobFromUrl(Ctx& c, const store::ObjectRecord& rec);
// Records a finished Copy Blob on the destination (copy-id/-status/-source/-progress/
// -completion-time, the source URL without its query) and answers 202 with x-ms-copy-id and
// x-ms-copy-status: success (plus Content-MD5 for a sync copy).
asio::awaitable<Status> finishCopyBlob(Ctx& c, const CopySource& src,
                                       const store::ObjectRecord& rec);

// What the Copy Blob / Put Blob From URL handler parsed before it knew the source is remote.
struct RemoteCopyInput {
  bool fromUrl = false;         // Put Blob From URL (else Copy Blob)
  store::StringPairs metadata;  // the request's x-ms-meta-*
  core::Conditions conditions;  // the destination's If-* (source ones travel as headers)
};

// The remote paths. Both check the host against BlobOptions::copySourceHosts (not listed: 403
// CannotVerifyCopySource), GET the URL as given (ranged for x-ms-source-range) with
// x-ms-copy-source-authorization as Authorization, x-ms-version and the x-ms-source-if-*
// conditions, and stream the body into the namespace. The source's failures become
// CannotVerifyCopySource with the source's status; transport failures 502 (504 on timeouts).
asio::awaitable<Status> copyBlobFromRemote(Ctx& c, const CopySource& src, RemoteCopyInput in);
asio::awaitable<Status> putBlockFromRemote(Ctx& c, const CopySource& src, std::string blockId);

}  // namespace ember::blob
