#pragma once
// Azure Storage shared access signatures (SAS) for the Blob service: account SAS and service SAS
// (container and blob) signed with an account key, signed versions 2015-04-05 and later. Pure
// functions: no I/O, no clock (the caller passes "now"), fuzzed (tests/fuzz/fuzz_azure_auth.cc).
// References: Microsoft Learn "Create an account SAS" and "Create a service SAS"; checked against
// the tokens azure-storage-blob 12.15 (sv=2021-12-02) and the legacy SDKs in
// azure-multiapi-storage (sv=2018-11-09, sv=2015-04-05) generate, see azure_sas_test.cc.
//
// Not supported: user delegation SAS (skoid=...) and stored access policies (si=), both answered
// kNotImplemented; directory SAS (sr=d, hierarchical namespace only) is kAuthMalformed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/azure_shared_key.h"
#include "common/status.h"

namespace ember::auth {

// The SAS parameters of a query string (names matched case-insensitively, values %-decoded).
// Absent parameters are empty strings, which is also how they enter the string to sign.
struct SasParams {
  std::string version;        // sv
  std::string services;       // ss (account SAS)
  std::string resourceTypes;  // srt (account SAS)
  std::string permissions;    // sp
  std::string start;          // st
  std::string expiry;         // se
  std::string ip;             // sip
  std::string protocol;       // spr
  std::string resource;       // sr (service SAS): c, b, bs, bv (d: directory, unsupported)
  std::string identifier;     // si
  std::string encryptionScope;  // ses
  std::string cacheControl;        // rscc
  std::string contentDisposition;  // rscd
  std::string contentEncoding;     // rsce
  std::string contentLanguage;     // rscl
  std::string contentType;         // rsct
  std::string signature;      // sig (base64)
  // Not SAS fields but signed by a service SAS as signedSnapshotTime: the request's snapshot=
  // (sr=bs) or versionid= (sr=bv).
  std::string snapshot;
  std::string versionId;
  bool userDelegation = false;  // any of skoid, sktid, skt, ske, sks, skv
  bool hasSignature = false;
};

// Errors: kAuthMalformed when a SAS parameter is repeated.
Result<SasParams> parseSasParams(std::string_view rawQuery);

// True when the query carries a SAS signature (a sig= parameter).
bool hasSas(std::string_view rawQuery);

// The string a client signs. Account SAS when sr is empty, else service SAS, whose canonicalized
// resource is "/blob/<account>/<container>[/<blob>]" (names decoded). The fields depend on sv:
//   account: account, sp, ss, srt, st, se, sip, spr, sv, [ses from 2020-12-06], each + '\n'
//   service: sp, st, se, resource, si, sip, spr, sv, [sr, snapshot time from 2018-11-09],
//            [ses from 2020-12-06], rscc, rscd, rsce, rscl, rsct, joined with '\n'
std::string sasStringToSign(const SasParams& params, std::string_view account,
                            std::string_view container, std::string_view blob);

// What a verified SAS grants.
struct SasGrant {
  enum class Kind { kAccount, kService };
  // Account SAS: kService. Service SAS: sr=c -> kContainer, sr=b/bs/bv -> kBlob.
  enum class Scope { kService, kContainer, kBlob };
  std::string account;
  Kind kind = Kind::kAccount;
  std::string permissions;    // letters as signed, e.g. "racwdl"
  Scope scope = Scope::kService;
  std::string container;      // service SAS: the container it was signed for
  std::string blob;           // service SAS sr=b/bs/bv: the blob it was signed for
  std::string resourceTypes;  // account SAS srt letters: s, c, o
  std::string services;       // account SAS ss letters: b (blob), f, q, t
  std::string snapshot;       // sr=bs: the snapshot; sr=bv: the version id it is limited to
  std::string version;        // sv
  std::string encryptionScope;  // ses
  int64_t expiresAt = 0;      // unix seconds
  struct ResponseOverrides {
    std::string cacheControl, contentDisposition, contentEncoding, contentLanguage, contentType;
  } responseOverrides;        // service SAS rscc/rscd/rsce/rscl/rsct
};

struct SasInput {
  std::string_view rawQuery;   // the request's query, without '?'
  std::string_view account;    // the account the request addresses
  std::string_view container;  // decoded container name, "" for service-level requests
  std::string_view blob;       // decoded blob name, "" for service- and container-level requests
  int64_t nowSeconds = 0;
  std::string_view clientIp;   // IPv4 (or IPv4-mapped IPv6) text form
  bool https = false;
};

// Verifies the SAS in a request. Checks, in order: parameters well-formed; signature (with every
// key of the account); start/expiry against now; sip; spr. Errors:
//   kAuthMalformed      repeated/missing fields (sv, sig, sp, se; ss and srt for account SAS),
//                       unparsable dates, sv before 2015-04-05, unknown sr or spr, bad sip
//   kNotImplemented     user delegation SAS (skoid...), stored access policy (si=)
//   kSignatureMismatch  "Signature did not match. String to sign used was <string>"; also an
//                       unknown account
//   kExpired            se not after st ("Signed expiry time [...] must be after signed start
//                       time [...]"), or now outside [st, se] ("Signature not valid in the
//                       specified time frame: ...")
//   kPermissionDenied   message starting with the Azure error code:
//                       "AuthorizationSourceIPMismatch: ..." (sip), "AuthorizationProtocolMismatch:
//                       ..." (spr=https on http), "AuthorizationResourceTypeMismatch: ..." (a
//                       container SAS on a request without a container, a blob SAS without a blob)
Result<SasGrant> verifySas(const SasInput& in, const AzureAccountLookup& lookup);

// The level of the resource an operation acts on: the account (list containers, service
// properties), a container (create, list blobs) or an object (blob operations).
enum class ResourceLevel { kService, kContainer, kObject };

// Whether a verified SAS allows an operation needing `permission` (one letter, e.g. 'r', 'w',
// 'l') on the resource at `level` named by container/blob. kPermissionDenied with a message that
// starts with the Azure error code:
//   AuthorizationServiceMismatch       account SAS whose ss lacks 'b'
//   AuthorizationResourceTypeMismatch  account SAS whose srt lacks the level's letter (s, c, o);
//                                      service SAS used outside its container (sr=c) or its
//                                      blob (sr=b, bs, bv)
//   AuthorizationPermissionMismatch    the permission letter is not in sp
Status sasPermits(const SasGrant& grant, char permission, ResourceLevel level,
                  std::string_view container, std::string_view blob);

// SAS times: "YYYY-MM-DD", "YYYY-MM-DDThh:mmTZD", "YYYY-MM-DDThh:mm:ssTZD" and
// "YYYY-MM-DDThh:mm:ss.fffffffTZD" with TZD "Z" or "+hh:mm"/"-hh:mm" -> unix seconds (fractions
// dropped); nullopt when malformed.
std::optional<int64_t> parseSasTime(std::string_view s);

}  // namespace ember::auth
