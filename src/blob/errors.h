#pragma once
// The Azure Blob error table: core Status -> (HTTP status, x-ms-error-code, default message), per
// reference azure-blob.md §3-§5. Every Blob error response goes through blobErrorFor() /
// blobErrorForBlob(); handlers never pick HTTP statuses or Azure codes for errors themselves.
//
// Azure codes finer than the core Code set travel in the Status message as a prefix
// "<AzureCode>: detail" (e.g. "AuthorizationSourceIPMismatch: ..." from the SAS verifier,
// "InvalidMetadata: ..." from parseBlobMetadata). The table honours such a prefix only for the
// (Code, AzureCode) pairs it lists, so a stray "Foo: bar" message never becomes an error code.
// kCopySourceFailed messages may start with "NNN:" (the source's HTTP status, 100..599).
//
// Rendering: an error response carries `x-ms-error-code: <code>` always and, except for HEAD and
// 304, the XML body of renderBlobErrorXml(). For the authentication codes (BlobError::authDetail)
// put errorDetail(status) into <AuthenticationErrorDetail>; for the others the detail may go to the
// log or an extra element, the <Message> stays Azure's text (SDKs and tests compare it).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ember::blob {

struct BlobError {
  int status;                // HTTP status
  std::string_view code;     // x-ms-error-code / <Code>, e.g. "BlobNotFound"
  std::string_view message;  // Azure's default message for the code
  bool authDetail = false;   // the Status message belongs in <AuthenticationErrorDetail>
};

// Which resource the request addresses. The same core Code can name different Azure codes:
// kAlreadyExists is ContainerAlreadyExists on Create Container but BlobAlreadyExists on a blob
// write (If-None-Match: *), kNotFound is ResourceNotFound at service level but BlobNotFound on a
// blob, and write-lease failures are Lease*WithContainerOperation vs Lease*WithBlobOperation.
enum class Scope { kContainer, kBlob };

// Service- and container-level requests (List Containers, Create/Delete Container, List Blobs...).
BlobError blobErrorFor(const Status& s);
// Blob-level requests (Put Blob, Get Blob, Put Block List, Lease Blob, Copy Blob...).
BlobError blobErrorForBlob(const Status& s);
BlobError blobErrorFor(const Status& s, Scope scope);

// The Status message without a recognised "<AzureCode>: " or "NNN:" prefix (what the table
// consumed), for <AuthenticationErrorDetail>, logs, or a <Message> when the caller wants detail.
std::string_view errorDetail(const Status& s);

// <?xml version="1.0" encoding="utf-8"?><Error><Code>code</Code>
// <Message>message\nRequestId:<id>\nTime:<ISO 8601, 7 fractional digits>Z</Message>
// [<name>value</name> for each of `extra`, in order]</Error>
// `extra` names are element names chosen by the caller: AuthenticationErrorDetail, HeaderName,
// HeaderValue, QueryParameterName, QueryParameterValue, Reason, ...
std::string renderBlobErrorXml(std::string_view code, std::string_view message,
                               std::string_view requestId, int64_t nowMs,
                               const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace ember::blob
