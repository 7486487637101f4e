#pragma once
// Azure Storage "Shared Key" authorization for the Blob service: the SharedKey and SharedKeyLite
// Authorization schemes in their version 2009-09-19 and later form. Pure functions: no I/O, no
// clock (the caller passes "now"), fuzzed (tests/fuzz/fuzz_azure_auth.cc).
// Reference: Microsoft Learn "Authorize with Shared Key"; checked against the string the Python
// SDK azure-storage-blob 12.15 (SharedKeyCredentialPolicy) signs, see azure_shared_key_test.cc.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/headers.h"
#include "common/status.h"

namespace ember::auth {

// A storage account and its keys. Azure accounts have two keys so that one can be rotated while
// clients still use the other; a signature made with either verifies.
struct AzureAccount {
  std::string name;
  std::vector<std::string> keys;  // raw key bytes (the base64-decoded account keys); 1 or 2
};

// Returns the account of that name, or nullptr when unknown. Must be thread-safe.
using AzureAccountLookup = std::function<const AzureAccount*(std::string_view name)>;

struct AzureRequest {
  std::string_view method;
  // The path as on the wire: percent-encoded, no query, e.g. "/devstoreaccount1/c/b%20x" for a
  // path-style request. Clients sign it as sent ("encoded exactly as it is in the URI").
  std::string_view rawPath;
  std::string_view rawQuery;  // without '?'
  const Headers& headers;
  // The account the request addresses, resolved by the caller from the host (virtual-host style)
  // or from the first path segment (path style).
  std::string_view account;
  int64_t nowSeconds = 0;      // unix time, for the 15-minute skew check (SharedKey) and SAS times
  std::string_view clientIp;   // peer address, for SAS sip= checks
  bool https = false;          // for SAS spr= checks
};

// True when the request carries an Authorization header with the SharedKey or SharedKeyLite
// scheme (the caller picks the verifier by scheme).
bool hasSharedKey(const Headers& headers);

// The string a client signs for this request.
//   SharedKey:      VERB, Content-Encoding, Content-Language, Content-Length ("" when "0", from
//                   x-ms-version 2015-02-21 on), Content-MD5, Content-Type, Date ("" when
//                   x-ms-date is present), If-Modified-Since, If-Match, If-None-Match,
//                   If-Unmodified-Since, Range, each followed by '\n'; then the canonicalized
//                   headers and the canonicalized resource.
//   SharedKeyLite:  VERB, Content-MD5, Content-Type, Date, then the canonicalized headers and the
//                   canonicalized resource in its Lite form.
// Canonicalized headers: every x-ms-* header, name lowercased, value trimmed (repeated headers
// joined with ','), "name:value\n", sorted the way the service (and the Python SDK) sorts them:
// see azureHeaderNameLess. Canonicalized resource: "/" + account + rawPath (so a path-style
// request names the account twice: "/devstoreaccount1/devstoreaccount1/c/b"), then for SharedKey
// one "\nname:value" line per query parameter (names lowercased and sorted, values %-decoded;
// the values of a repeated name sorted and joined with ','); for SharedKeyLite only "?comp=value"
// when the query has comp.
std::string sharedKeyStringToSign(const AzureRequest& in, bool lite);

// Verifies "Authorization: SharedKey <account>:<signature>" (or SharedKeyLite) and returns the
// account name. Errors (messages follow Azure's AuthenticationErrorDetail where it has one):
//   kUnauthenticated     no Authorization header
//   kAuthMalformed       the header is not "<scheme> <account>:<signature>", the scheme is not
//                        SharedKey/SharedKeyLite, or neither x-ms-date nor Date is present or the
//                        one used is not an HTTP (RFC 1123) date
//   kSignatureMismatch   the account is unknown, differs from the addressed account, or the
//                        signature matches no key of the account; the message carries the
//                        server's string to sign
//   kRequestTimeSkewed   x-ms-date (else Date) more than 15 minutes from nowSeconds
// Besides the canonical string to sign, two forms that real clients produce are accepted: Date
// signed although x-ms-date is present (the spec lets clients choose), and the x-ms-* headers in
// plain byte order (the Go SDK and older Python SDKs sort that way; the forms differ only when
// header names mix '_' or other punctuation with digits or letters).
Result<std::string> verifySharedKey(const AzureRequest& in, const AzureAccountLookup& lookup);

// base64(HMAC-SHA256(key, stringToSign)): the signature of SharedKey, SharedKeyLite and SAS.
std::string signAzure(std::string_view key, std::string_view stringToSign);

// The order of canonicalized header names: character by character by the weights of the
// alphabet  -!#$%&*.^_|~+"'(),/`~0123456789:;<=>?@A..Z[]a..z{}  (other bytes after it, by value), a
// proper prefix first. It differs from byte order for '_' and other punctuation (e.g.
// "x-ms-meta-a_b" < "x-ms-meta-a1").
bool azureHeaderNameLess(std::string_view a, std::string_view b);

}  // namespace ember::auth
