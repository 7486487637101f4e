#include "auth/sigv2.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "common/digest.h"
#include "common/headers.h"
#include "common/strings.h"

namespace ember::auth {

namespace {

constexpr std::string_view kAuthPrefix = "AWS ";
constexpr std::string_view kAmzPrefix = "x-amz-";
constexpr int64_t kMaxSkewSeconds = 15 * 60;
constexpr size_t kMaxQuotedStringToSign = 1024;

// Query parameters that name a sub-resource and so are signed as part of CanonicalizedResource:
// the AWS SigV2 list (acl ... website, the response-* overrides, cors, delete, restore, tagging)
// plus the names botocore's HmacV1Auth.QSAOfInterest adds for newer APIs. This is the set clients
// sign; signing more or fewer names would break them. Sorted (byte order) for binary search.
constexpr std::array<std::string_view, 35> kSubResources = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};
static_assert(std::is_sorted(kSubResources.begin(), kSubResources.end()));

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Client-supplied text quoted in an error message: bounded, control characters replaced.
std::string printable(std::string_view s, size_t max = 64) { return printableExcerpt(s, max); }

// The StringToSign as S3 reports it on a mismatch: line breaks written as "\n", bounded.
std::string quoteStringToSign(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxQuotedStringToSign)) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
  }
  if (s.size() > kMaxQuotedStringToSign) {
    out += "...";
  }
  return out;
}

Status malformed(std::string message) { return Status(Code::kAuthMalformed, std::move(message)); }

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---- query --------------------------------------------------------------------------------------

bool hasParam(const std::vector<QueryParam>& query, std::string_view name) {
  return std::any_of(query.begin(), query.end(),
                     [name](const QueryParam& p) { return p.name == name; });
}

bool hasV2QueryCredentials(const std::vector<QueryParam>& query) {
  return hasParam(query, "AWSAccessKeyId") || hasParam(query, "Signature");
}

bool hasV4QueryCredentials(const std::vector<QueryParam>& query) {
  return hasParam(query, "X-Amz-Signature") || hasParam(query, "X-Amz-Algorithm") ||
         hasParam(query, "X-Amz-Credential");
}

// The value of a query parameter that must appear exactly once.
Result<std::string_view> requireOnce(const std::vector<QueryParam>& query, std::string_view name) {
  const QueryParam* found = nullptr;
  for (const QueryParam& p : query) {
    if (p.name != name) {
      continue;
    }
    if (found != nullptr) {
      return unexpected(malformed(fmt::format("query parameter {} is repeated", name)));
    }
    found = &p;
  }
  if (found == nullptr) {
    return unexpected(malformed(fmt::format("query string authentication requires {}", name)));
  }
  return std::string_view(found->value);
}

std::string_view trimLeadingBlanks(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) {
    s.remove_prefix(1);
  }
  return s;
}

bool isV2AuthorizationHeader(std::string_view value) {
  return trimLeadingBlanks(value).starts_with(kAuthPrefix);
}

// ---- time ---------------------------------------------------------------------------------------

std::optional<int64_t> parseDigits(std::string_view s, size_t minLen, size_t maxLen) {
  if (s.size() < minLen || s.size() > maxLen || !std::all_of(s.begin(), s.end(), isDigit)) {
    return std::nullopt;
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<int64_t> civilToUnix(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi,
                                   int64_t s) {
  static constexpr std::array<int64_t, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) {
    return std::nullopt;
  }
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int64_t monthDays = mo == 2 && leap ? 29 : kDays[static_cast<size_t>(mo - 1)];
  if (d > monthDays) {
    return std::nullopt;
  }
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

// "HH:MM:SS" -> seconds into the day.
std::optional<int64_t> parseClock(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') {
    return std::nullopt;
  }
  auto h = parseDigits(s.substr(0, 2), 2, 2);
  auto mi = parseDigits(s.substr(3, 2), 2, 2);
  auto sec = parseDigits(s.substr(6, 2), 2, 2);
  if (!h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 60) {
    return std::nullopt;
  }
  return *h * 3600 + *mi * 60 + *sec;
}

// RFC 822 zone -> seconds east of UTC: GMT, UT, UTC, Z or +hhmm / -hhmm.
std::optional<int64_t> parseZone(std::string_view s) {
  if (s == "GMT" || s == "UT" || s == "UTC" || s == "Z") {
    return 0;
  }
  if (s.size() != 5 || (s[0] != '+' && s[0] != '-')) {
    return std::nullopt;
  }
  auto hh = parseDigits(s.substr(1, 2), 2, 2);
  auto mm = parseDigits(s.substr(3, 2), 2, 2);
  if (!hh || !mm || *hh > 23 || *mm > 59) {
    return std::nullopt;
  }
  int64_t offset = *hh * 3600 + *mm * 60;
  return s[0] == '+' ? offset : -offset;
}

// "Tue, 27 Mar 2007 19:36:42 +0000" / "Tue, 27 Mar 2007 19:36:42 GMT": RFC 1123 dates with any
// RFC 822 zone, the day name optional, runs of blanks allowed between fields.
std::optional<int64_t> parseRfc1123(std::string_view s) {
  static constexpr std::array<std::string_view, 7> kDayNames = {"Mon", "Tue", "Wed", "Thu",
                                                                "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < s.size() && fields.size() <= 6) {
    if (isBlank(s[pos])) {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < s.size() && !isBlank(s[end])) {
      ++end;
    }
    fields.push_back(s.substr(pos, end - pos));
    pos = end;
  }
  if (!fields.empty() && fields.front().ends_with(',')) {
    std::string_view dayName = fields.front().substr(0, fields.front().size() - 1);
    if (std::find(kDayNames.begin(), kDayNames.end(), dayName) == kDayNames.end()) {
      return std::nullopt;
    }
    fields.erase(fields.begin());
  }
  if (fields.size() != 5) {
    return std::nullopt;
  }
  auto day = parseDigits(fields[0], 1, 2);
  auto month = std::find(kMonths.begin(), kMonths.end(), fields[1]);
  auto year = parseDigits(fields[2], 4, 4);
  auto clock = parseClock(fields[3]);
  auto zone = parseZone(fields[4]);
  if (!day || month == kMonths.end() || !year || !clock || !zone) {
    return std::nullopt;
  }
  auto midnight = civilToUnix(*year, month - kMonths.begin() + 1, *day, 0, 0, 0);
  if (!midnight) {
    return std::nullopt;
  }
  return *midnight + *clock - *zone;
}

// "20070327T193642Z" (ISO 8601 basic, UTC).
std::optional<int64_t> parseIsoBasic(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') {
    return std::nullopt;
  }
  auto y = parseDigits(s.substr(0, 4), 4, 4);
  auto mo = parseDigits(s.substr(4, 2), 2, 2);
  auto d = parseDigits(s.substr(6, 2), 2, 2);
  auto h = parseDigits(s.substr(9, 2), 2, 2);
  auto mi = parseDigits(s.substr(11, 2), 2, 2);
  auto sec = parseDigits(s.substr(13, 2), 2, 2);
  if (!y || !mo || !d || !h || !mi || !sec) {
    return std::nullopt;
  }
  return civilToUnix(*y, *mo, *d, *h, *mi, *sec);
}

std::optional<int64_t> parseRequestTime(std::string_view s) {
  s = trimBlanks(s);
  if (auto t = parseRfc1123(s)) {
    return t;
  }
  return parseIsoBasic(s);
}

// ---- canonicalization ---------------------------------------------------------------------------

// Appends a header value trimmed, each folded line break (with the blanks around it) replaced by
// one space, as the SigV2 rules for CanonicalizedAmzHeaders require.
void appendFoldedValue(std::string& out, std::string_view value) {
  while (!value.empty() && isSpace(value.front())) {
    value.remove_prefix(1);
  }
  while (!value.empty() && isSpace(value.back())) {
    value.remove_suffix(1);
  }
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c != '\r' && c != '\n') {
      out.push_back(c);
      continue;
    }
    while (!out.empty() && isBlank(out.back())) {
      out.pop_back();
    }
    while (i + 1 < value.size() && isSpace(value[i + 1])) {
      ++i;
    }
    out.push_back(' ');
  }
}

using AmzHeaders = std::map<std::string, std::string>;  // lowercase name -> joined values

void addAmzHeader(AmzHeaders& amz, std::string_view name, std::string_view value) {
  std::string lower = toLower(name);
  if (!lower.starts_with(kAmzPrefix)) {
    return;
  }
  auto [it, inserted] = amz.try_emplace(std::move(lower));
  if (!inserted) {
    it->second.push_back(',');
  }
  appendFoldedValue(it->second, value);
}

// x-amz-* request headers; for query auth also the x-amz-* query parameters, which botocore's
// presigner moves out of the headers (x-amz-acl, x-amz-meta-*, x-amz-security-token, ...).
AmzHeaders collectAmzHeaders(const Headers& headers, const std::vector<QueryParam>* query) {
  AmzHeaders amz;
  for (const Headers::Field& field : headers.fields()) {
    addAmzHeader(amz, field.name, field.value);
  }
  if (query != nullptr) {
    for (const QueryParam& p : *query) {
      addAmzHeader(amz, p.name, p.value);
    }
  }
  return amz;
}

// "?name=value&name" for the sub-resource parameters, sorted by name (stable, so repeated names
// keep their order), values decoded; "" when there are none.
std::string subResourceSuffix(const std::vector<QueryParam>& query) {
  std::vector<const QueryParam*> sub;
  for (const QueryParam& p : query) {
    if (std::binary_search(kSubResources.begin(), kSubResources.end(), p.name)) {
      sub.push_back(&p);
    }
  }
  std::stable_sort(sub.begin(), sub.end(),
                   [](const QueryParam* a, const QueryParam* b) { return a->name < b->name; });
  std::string out;
  for (const QueryParam* p : sub) {
    out.push_back(out.empty() ? '?' : '&');
    out += p->name;
    if (p->hasEquals) {
      out.push_back('=');
      out += p->value;
    }
  }
  return out;
}

std::string headerValue(const Headers& headers, std::string_view name) {
  const std::string* value = headers.find(name);
  return value == nullptr ? std::string() : std::string(trimBlanks(*value));
}

struct Presented {
  std::string_view accessKey;
  std::string_view signature;  // base64, as sent (query: decoded)
  std::string dateLine;        // Date, "" (x-amz-date present) or Expires
  bool presigned = false;
};

const Credential* lookupKey(const CredentialLookup& lookup, std::string_view accessKey,
                            Status& error) {
  const Credential* cred = lookup ? lookup(accessKey) : nullptr;
  if (cred == nullptr) {
    error = Status(Code::kInvalidAccessKey,
                   fmt::format("the access key id '{}' does not exist", printable(accessKey, 128)));
  }
  return cred;
}

// Builds the StringToSign, compares signatures and fills the context.
Result<AuthContext> checkSignature(const SigV4Input& in, const std::vector<QueryParam>& query,
                                   std::string_view vhostBucket, const Credential& cred,
                                   const Presented& p) {
  std::string head;
  head.append(in.method).push_back('\n');
  head.append(headerValue(in.headers, "content-md5")).push_back('\n');
  head.append(headerValue(in.headers, "content-type")).push_back('\n');
  head.append(p.dateLine).push_back('\n');
  for (const auto& [name, value] : collectAmzHeaders(in.headers, p.presigned ? &query : nullptr)) {
    head.append(name).push_back(':');
    head.append(value).push_back('\n');
  }
  std::string_view path = in.rawPath.empty() ? std::string_view("/") : in.rawPath;
  std::string bucketPrefix = vhostBucket.empty() ? std::string() : "/" + std::string(vhostBucket);
  std::string sub = subResourceSuffix(query);

  std::string stringToSign = head + bucketPrefix + std::string(path) + sub;
  bool match = constantTimeEquals(signSigV2(cred.secretKey, stringToSign), p.signature);
  // botocore signs bucket operations as "/bucket/" even when it sends the path-style "/bucket";
  // both name the same resource, so either form is accepted.
  bool bucketOnly = vhostBucket.empty() && path.size() > 1 && path.find('/', 1) == path.npos;
  if (!match && bucketOnly) {
    std::string withSlash = head + std::string(path) + "/" + sub;
    match = constantTimeEquals(signSigV2(cred.secretKey, withSlash), p.signature);
  }
  if (!match) {
    return unexpected(
        Code::kSignatureMismatch,
        fmt::format("the request signature does not match the signature computed with the secret "
                    "key for this access key; check the secret key and the signing method "
                    "[string to sign \"{}\"]",
                    quoteStringToSign(stringToSign)));
  }
  AuthContext ctx;
  ctx.anonymous = false;
  ctx.credential = &cred;
  ctx.presigned = p.presigned;
  ctx.payload = PayloadMode::kUnsigned;
  return ctx;
}

Result<AuthContext> verifyHeaderAuth(const SigV4Input& in, std::string_view authorization,
                                     const std::vector<QueryParam>& query,
                                     const CredentialLookup& lookup,
                                     std::string_view vhostBucket) {
  // REQUIRES (checked by the caller): isV2AuthorizationHeader(authorization).
  std::string_view rest = trimBlanks(trimLeadingBlanks(authorization).substr(kAuthPrefix.size()));
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
    return unexpected(malformed(
        fmt::format("Authorization '{}' must have the form 'AWS <access-key>:<signature>'",
                    printable(authorization, 200))));
  }
  Presented p;
  p.accessKey = rest.substr(0, colon);
  p.signature = rest.substr(colon + 1);

  // With x-amz-date the Date line is empty and x-amz-date is signed among the amz headers.
  std::string timestamp;
  if (const std::string* xAmzDate = in.headers.find("x-amz-date")) {
    timestamp = *xAmzDate;
  } else if (const std::string* date = in.headers.find("date")) {
    timestamp = *date;
    p.dateLine = std::string(trimBlanks(*date));
  } else {
    return unexpected(malformed("Signature Version 2 requires a Date or x-amz-date header"));
  }
  std::optional<int64_t> requestTime = parseRequestTime(timestamp);
  if (!requestTime) {
    return unexpected(malformed(fmt::format(
        "request time '{}' is not an RFC 1123 date (or ISO 8601 basic timestamp)",
        printable(timestamp))));
  }

  Status error;
  const Credential* cred = lookupKey(lookup, p.accessKey, error);
  if (cred == nullptr) {
    return unexpected(std::move(error));
  }
  int64_t skew = *requestTime - in.nowSeconds;
  if (skew > kMaxSkewSeconds || skew < -kMaxSkewSeconds) {
    return unexpected(Code::kRequestTimeSkewed,
                      fmt::format("the request time '{}' differs from the server time by {} s; "
                                  "the limit is 15 minutes",
                                  printable(timestamp), skew));
  }
  return checkSignature(in, query, vhostBucket, *cred, p);
}

Result<AuthContext> verifyQueryAuth(const SigV4Input& in, const std::vector<QueryParam>& query,
                                    const CredentialLookup& lookup,
                                    std::string_view vhostBucket) {
  auto accessKey = requireOnce(query, "AWSAccessKeyId");
  EMBER_TRY(accessKey);
  auto signature = requireOnce(query, "Signature");
  EMBER_TRY(signature);
  auto expires = requireOnce(query, "Expires");
  EMBER_TRY(expires);
  if (accessKey->empty()) {
    return unexpected(malformed("AWSAccessKeyId is empty"));
  }
  std::optional<int64_t> expiresAt = parseDigits(*expires, 1, 18);
  if (!expiresAt) {
    return unexpected(malformed(fmt::format(
        "Expires '{}' must be a time in seconds since the epoch", printable(*expires, 32))));
  }

  Status error;
  const Credential* cred = lookupKey(lookup, *accessKey, error);
  if (cred == nullptr) {
    return unexpected(std::move(error));
  }
  if (in.nowSeconds > *expiresAt) {
    return unexpected(Code::kExpired,
                      fmt::format("the presigned URL expired at {} (Expires), {} s ago",
                                  *expiresAt, in.nowSeconds - *expiresAt));
  }
  Presented p;
  p.accessKey = *accessKey;
  p.signature = *signature;
  p.dateLine = std::string(*expires);
  p.presigned = true;
  return checkSignature(in, query, vhostBucket, *cred, p);
}

}  // namespace

bool hasSigV2(const SigV4Input& in) {
  const std::string* authorization = in.headers.find("authorization");
  if (authorization != nullptr && isV2AuthorizationHeader(*authorization)) {
    return true;
  }
  return hasV2QueryCredentials(parseQueryLenient(in.rawQuery));
}

Result<AuthContext> verifySigV2(const SigV4Input& in, const CredentialLookup& lookup,
                                std::string_view vhostBucket) {
  const std::string* authorization = in.headers.find("authorization");
  std::vector<QueryParam> query = parseQueryLenient(in.rawQuery);
  bool v2Query = hasV2QueryCredentials(query);
  bool v4Query = hasV4QueryCredentials(query);
  if (authorization != nullptr && (v2Query || v4Query)) {
    return unexpected(
        malformed("only one authentication mechanism is allowed: both an Authorization header and "
                  "query string credentials were sent"));
  }
  if (authorization != nullptr) {
    if (!isV2AuthorizationHeader(*authorization)) {
      return unexpected(malformed(
          fmt::format("Authorization '{}' is not a Signature Version 2 header ('AWS "
                      "<access-key>:<signature>')",
                      printable(*authorization, 32))));
    }
    return verifyHeaderAuth(in, *authorization, query, lookup, vhostBucket);
  }
  if (v2Query && v4Query) {
    return unexpected(malformed(
        "only one authentication mechanism is allowed: both Signature Version 2 and Signature "
        "Version 4 query parameters were sent"));
  }
  if (v2Query) {
    return verifyQueryAuth(in, query, lookup, vhostBucket);
  }
  return unexpected(malformed("the request carries no Signature Version 2 credentials"));
}

std::string signSigV2(std::string_view secretKey, std::string_view stringToSign) {
  return base64Encode(hmacSha1Raw(secretKey, stringToSign));
}

}  // namespace ember::auth
