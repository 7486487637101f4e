#include "auth/sigv4.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "common/strings.h"
#include "common/digest.h"

namespace ember::auth {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kService = "s3";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr int64_t kMaxSkewSeconds = 15 * 60;
constexpr int64_t kMaxPresignExpires = 7 * 24 * 3600;

// The derived key depends only on (secret, date, region): four HMACs that every request would
// otherwise repeat. Each thread keeps the keys it derived; the cache is dropped when it grows past
// a bound (many users or days), so it never grows without limit.
std::string cachedSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region);

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Client-supplied text quoted in an error message: bounded, control characters replaced.
std::string printable(std::string_view s, size_t max = 64) { return printableExcerpt(s, max); }

bool isLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isDigit(c) || (c >= 'a' && c <= 'f'); });
}


// ---- time ---------------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool isLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t daysInMonth(int64_t y, int64_t m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

std::optional<int64_t> parseDigits(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), isDigit)) {
    return std::nullopt;
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> civilToUnix(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi,
                                   int64_t s) {
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 ||
      mi > 59 || s > 60) {
    return std::nullopt;
  }
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

// "20130524T000000Z" (ISO 8601 basic, UTC) -> unix seconds.
std::optional<int64_t> parseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') {
    return std::nullopt;
  }
  auto y = parseDigits(s.substr(0, 4));
  auto mo = parseDigits(s.substr(4, 2));
  auto d = parseDigits(s.substr(6, 2));
  auto h = parseDigits(s.substr(9, 2));
  auto mi = parseDigits(s.substr(11, 2));
  auto sec = parseDigits(s.substr(13, 2));
  if (!y || !mo || !d || !h || !mi || !sec) {
    return std::nullopt;
  }
  return civilToUnix(*y, *mo, *d, *h, *mi, *sec);
}

// IMF-fixdate "Fri, 24 May 2013 00:00:00 GMT" (the HTTP Date header) -> unix seconds.
std::optional<int64_t> parseHttpDate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = trimBlanks(s);
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  auto d = parseDigits(s.substr(5, 2));
  auto y = parseDigits(s.substr(12, 4));
  auto h = parseDigits(s.substr(17, 2));
  auto mi = parseDigits(s.substr(20, 2));
  auto sec = parseDigits(s.substr(23, 2));
  auto month = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (!d || !y || !h || !mi || !sec || month == kMonths.end()) {
    return std::nullopt;
  }
  return civilToUnix(*y, month - kMonths.begin() + 1, *d, *h, *mi, *sec);
}

std::string formatAmzDate(int64_t unix) {
  int64_t days = unix / 86400;
  int64_t rem = unix % 86400;
  // civil_from_days (inverse of daysFromCivil); unix >= 0 here.
  days += 719468;
  const int64_t era = days / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", y, m, d, rem / 3600, rem % 3600 / 60,
                     rem % 60);
}

// ---- parsed credentials -------------------------------------------------------------------------

struct SignatureParams {
  std::string accessKey;
  std::string scopeDate;  // YYYYMMDD
  std::string region;
  std::string scope;                       // date/region/s3/aws4_request
  std::vector<std::string> signedHeaders;  // lowercase, in the order given
  std::string signedHeadersLine;
  std::string signature;  // lowercase hex
};

Status malformed(std::string message) { return Status(Code::kAuthMalformed, std::move(message)); }

// "AKID/20130524/us-east-1/s3/aws4_request": exactly five '/'-separated parts.
Status parseCredential(std::string_view value, SignatureParams& out) {
  std::array<std::string_view, 5> parts;
  std::string_view rest = value;
  for (size_t i = 0; i < parts.size(); ++i) {
    size_t slash = rest.find('/');
    bool last = i + 1 == parts.size();
    if ((slash == std::string_view::npos) != last) {
      return malformed(fmt::format(
          "Credential '{}' must have the form <access-key>/<YYYYMMDD>/<region>/s3/aws4_request",
          printable(value, 200)));
    }
    parts[i] = rest.substr(0, slash);
    rest = last ? std::string_view() : rest.substr(slash + 1);
  }
  auto [accessKey, date, region, service, terminator] = parts;
  if (accessKey.empty()) {
    return malformed("Credential has an empty access key id");
  }
  if (date.size() != 8 || !std::all_of(date.begin(), date.end(), isDigit)) {
    return malformed(fmt::format("Credential scope date '{}' is not YYYYMMDD", printable(date)));
  }
  if (region.empty()) {
    return malformed("Credential scope has an empty region");
  }
  if (service != kService) {
    return malformed(
        fmt::format("Credential scope service is '{}'; expected 's3'", printable(service)));
  }
  if (terminator != kTerminator) {
    return malformed(fmt::format("Credential scope must end with 'aws4_request', not '{}'",
                                 printable(terminator)));
  }
  out.accessKey = std::string(accessKey);
  out.scopeDate = std::string(date);
  out.region = std::string(region);
  out.scope = fmt::format("{}/{}/{}/{}", date, region, service, terminator);
  return Status::ok();
}

bool isTokenChar(char c) {
  // RFC 9110 tchar, lowercase letters only (SignedHeaders names are lowercase by definition).
  if ((c >= 'a' && c <= 'z') || isDigit(c)) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Status parseSignedHeaders(std::string_view value, SignatureParams& out) {
  if (value.empty()) {
    return malformed("SignedHeaders is empty");
  }
  out.signedHeaders.clear();
  bool haveHost = false;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t semi = value.find(';', pos);
    if (semi == std::string_view::npos) {
      semi = value.size();
    }
    std::string name = toLower(value.substr(pos, semi - pos));
    if (name.empty() || !std::all_of(name.begin(), name.end(), isTokenChar)) {
      return malformed(
          fmt::format("SignedHeaders '{}' has an invalid header name", printable(value)));
    }
    if (std::find(out.signedHeaders.begin(), out.signedHeaders.end(), name) !=
        out.signedHeaders.end()) {
      return malformed(fmt::format("SignedHeaders lists '{}' twice", printable(name)));
    }
    haveHost = haveHost || name == "host";
    out.signedHeaders.push_back(std::move(name));
    pos = semi + 1;
  }
  if (!haveHost) {
    return malformed("SignedHeaders must include 'host'");
  }
  out.signedHeadersLine.clear();
  for (const std::string& name : out.signedHeaders) {
    if (!out.signedHeadersLine.empty()) {
      out.signedHeadersLine.push_back(';');
    }
    out.signedHeadersLine += name;
  }
  return Status::ok();
}

Status parseSignature(std::string_view value, SignatureParams& out) {
  std::string sig = toLower(value);
  if (sig.size() != 64 || !isLowerHex(sig)) {
    return malformed("Signature must be 64 hexadecimal characters");
  }
  out.signature = std::move(sig);
  return Status::ok();
}

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." Components may be separated
// by commas and/or blanks in any amount and order, as AWS accepts.
Result<SignatureParams> parseAuthorizationHeader(std::string_view header) {
  header = trimBlanks(header);
  size_t algoEnd = 0;
  while (algoEnd < header.size() && !isBlank(header[algoEnd]) && header[algoEnd] != ',') {
    ++algoEnd;
  }
  std::string_view algorithm = header.substr(0, algoEnd);
  if (algorithm != kAlgorithm) {
    return unexpected(malformed(
        fmt::format("unsupported authorization algorithm '{}'; only AWS4-HMAC-SHA256 is supported",
                    printable(algorithm))));
  }
  std::optional<std::string_view> credential;
  std::optional<std::string_view> signedHeaders;
  std::optional<std::string_view> signature;
  std::string_view rest = header.substr(algoEnd);
  size_t pos = 0;
  while (pos < rest.size()) {
    if (isBlank(rest[pos]) || rest[pos] == ',') {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < rest.size() && !isBlank(rest[end]) && rest[end] != ',') {
      ++end;
    }
    std::string_view component = rest.substr(pos, end - pos);
    pos = end;
    size_t eq = component.find('=');
    if (eq == std::string_view::npos) {
      return unexpected(malformed(fmt::format(
          "Authorization component '{}' is not of the form key=value", printable(component))));
    }
    std::string_view key = component.substr(0, eq);
    std::string_view value = component.substr(eq + 1);
    std::optional<std::string_view>* slot = nullptr;
    if (key == "Credential") {
      slot = &credential;
    } else if (key == "SignedHeaders") {
      slot = &signedHeaders;
    } else if (key == "Signature") {
      slot = &signature;
    } else {
      return unexpected(
          malformed(fmt::format("unknown Authorization component '{}'", printable(key))));
    }
    if (slot->has_value()) {
      return unexpected(malformed(fmt::format("Authorization repeats '{}'", printable(key))));
    }
    *slot = value;
  }
  if (!credential) {
    return unexpected(malformed("Authorization is missing Credential"));
  }
  if (!signedHeaders) {
    return unexpected(malformed("Authorization is missing SignedHeaders"));
  }
  if (!signature) {
    return unexpected(malformed("Authorization is missing Signature"));
  }
  SignatureParams params;
  EMBER_TRY(parseCredential(*credential, params));
  EMBER_TRY(parseSignedHeaders(*signedHeaders, params));
  EMBER_TRY(parseSignature(*signature, params));
  return params;
}

// ---- canonical request --------------------------------------------------------------------------

// Trims the value and collapses inner runs of blanks into one space.
void appendCanonicalValue(std::string& out, std::string_view value) {
  value = trimBlanks(value);
  bool inBlank = false;
  for (char c : value) {
    if (isBlank(c)) {
      inBlank = true;
      continue;
    }
    if (inBlank) {
      out.push_back(' ');
      inBlank = false;
    }
    out.push_back(c);
  }
}

struct CanonicalHeaders {
  std::string text;                  // "name:value\n" for each signed header
  std::vector<std::string> missing;  // signed headers absent from the request
};

CanonicalHeaders canonicalHeaders(const Headers& headers,
                                  const std::vector<std::string>& signedHeaders) {
  CanonicalHeaders out;
  for (const std::string& name : signedHeaders) {
    out.text += name;
    out.text.push_back(':');
    bool first = true;
    for (const Headers::Field& field : headers.fields()) {
      if (!iequals(field.name, name)) {
        continue;
      }
      if (!first) {
        out.text.push_back(',');
      }
      appendCanonicalValue(out.text, field.value);
      first = false;
    }
    if (first) {
      out.missing.push_back(name);
    }
    out.text.push_back('\n');
  }
  return out;
}

Result<PayloadMode> classifyPayloadHash(std::string_view value) {
  if (value == kUnsignedPayload) {
    return PayloadMode::kUnsigned;
  }
  if (value == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
    return PayloadMode::kStreamingSigned;
  }
  if (value == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
    return PayloadMode::kStreamingSignedTrailer;
  }
  if (value == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    return PayloadMode::kStreamingUnsignedTrailer;
  }
  if (value.size() == 64 && isLowerHex(value)) {
    return PayloadMode::kSigned;
  }
  return unexpected(Code::kInvalidArgument,
                    fmt::format("x-amz-content-sha256 '{}' is neither a lowercase hex SHA-256 "
                                "nor a supported payload mode",
                                printable(value, 80)));
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct Verification {
  const SigV4Input& in;
  const SignatureParams& params;
  std::string_view canonicalQuery;
  std::string_view hashedPayload;
  std::string_view amzDate;
};

// Computes the signature and compares it; on success fills the signing fields of ctx.
Status checkSignature(const Verification& v, const Credential& cred, AuthContext& ctx) {
  std::string_view rawPath = v.in.rawPath.empty() ? std::string_view("/") : v.in.rawPath;
  auto decodedPath = uriDecode(rawPath);
  if (!decodedPath) {
    return Status(Code::kInvalidArgument,
                  fmt::format("request path has malformed percent-encoding: {}",
                              decodedPath.error().message()));
  }
  CanonicalHeaders headers = canonicalHeaders(v.in.headers, v.params.signedHeaders);
  std::string canonicalRequest;
  canonicalRequest.reserve(256 + headers.text.size() + v.canonicalQuery.size());
  canonicalRequest.append(v.in.method).push_back('\n');
  canonicalRequest.append(uriEncode(*decodedPath, /*encodeSlash=*/false)).push_back('\n');
  canonicalRequest.append(v.canonicalQuery).push_back('\n');
  canonicalRequest.append(headers.text).push_back('\n');
  canonicalRequest.append(v.params.signedHeadersLine).push_back('\n');
  canonicalRequest.append(v.hashedPayload);

  std::string stringToSign = fmt::format("{}\n{}\n{}\n{}", kAlgorithm, v.amzDate, v.params.scope,
                                         sha256Hex(canonicalRequest));
  std::string signingKey =
      cachedSigningKey(cred.secretKey, v.params.scopeDate, v.params.region);
  std::string expected = signHex(signingKey, stringToSign);
  if (!constantTimeEquals(expected, v.params.signature)) {
    std::string message =
        "the request signature does not match the signature computed with the secret key for "
        "this access key; check the secret key and the signing method";
    if (!headers.missing.empty()) {
      message += fmt::format(" (signed header '{}' is not present in the request)",
                             headers.missing.front());
    }
    message += fmt::format(" [canonical request sha256 {}]", sha256Hex(canonicalRequest));
    return Status(Code::kSignatureMismatch, std::move(message));
  }
  ctx.signingKey = std::move(signingKey);
  ctx.seedSignature = std::move(expected);
  ctx.amzDate = std::string(v.amzDate);
  ctx.scope = v.params.scope;
  return Status::ok();
}

const Credential* lookupKey(const CredentialLookup& lookup, std::string_view accessKey,
                            Status& error) {
  const Credential* cred = lookup ? lookup(accessKey) : nullptr;
  if (cred == nullptr) {
    error = Status(Code::kInvalidAccessKey,
                   fmt::format("the access key id '{}' does not exist", printable(accessKey, 128)));
  }
  return cred;
}

const QueryParam* findParam(const std::vector<QueryParam>& params, std::string_view name) {
  for (const QueryParam& p : params) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

bool isPresignParam(std::string_view name) {
  return name == "X-Amz-Algorithm" || name == "X-Amz-Credential" || name == "X-Amz-Date" ||
         name == "X-Amz-Expires" || name == "X-Amz-SignedHeaders" || name == "X-Amz-Signature";
}

Result<AuthContext> verifyHeaderAuth(const SigV4Input& in, std::string_view authorization,
                                     const CredentialLookup& lookup) {
  auto params = parseAuthorizationHeader(authorization);
  EMBER_TRY(params);

  const std::string* contentSha = in.headers.find("x-amz-content-sha256");
  if (contentSha == nullptr) {
    return unexpected(Code::kInvalidArgument,
                      "x-amz-content-sha256 is required with Authorization header signing");
  }
  auto mode = classifyPayloadHash(*contentSha);
  EMBER_TRY(mode);

  // The timestamp: x-amz-date, or else the Date header (signed in ISO 8601 basic form).
  std::string amzDate;
  std::optional<int64_t> requestTime;
  if (const std::string* xAmzDate = in.headers.find("x-amz-date")) {
    amzDate = std::string(trimBlanks(*xAmzDate));
    requestTime = parseAmzDate(amzDate);
    if (!requestTime) {
      return unexpected(malformed(
          fmt::format("x-amz-date '{}' is not an ISO 8601 basic timestamp (YYYYMMDDTHHMMSSZ)",
                      printable(amzDate))));
    }
  } else if (const std::string* date = in.headers.find("date")) {
    requestTime = parseHttpDate(*date);
    if (!requestTime) {
      return unexpected(malformed("the Date header is not an HTTP date and x-amz-date is absent"));
    }
    amzDate = formatAmzDate(*requestTime);
  } else {
    return unexpected(malformed("the request has neither x-amz-date nor Date"));
  }
  if (amzDate.compare(0, 8, params->scopeDate) != 0) {
    return unexpected(
        malformed(fmt::format("Credential scope date {} does not match the request date {}",
                              params->scopeDate, amzDate.substr(0, 8))));
  }

  Status error;
  const Credential* cred = lookupKey(lookup, params->accessKey, error);
  if (cred == nullptr) {
    return unexpected(std::move(error));
  }
  int64_t skew = *requestTime - in.nowSeconds;
  if (skew > kMaxSkewSeconds || skew < -kMaxSkewSeconds) {
    return unexpected(Code::kRequestTimeSkewed,
                      fmt::format("the request time {} differs from the server time by {} s; "
                                  "the limit is 15 minutes",
                                  amzDate, skew));
  }

  AuthContext ctx;
  ctx.anonymous = false;
  ctx.credential = cred;
  ctx.presigned = false;
  ctx.payload = *mode;
  if (*mode == PayloadMode::kSigned) {
    ctx.payloadSha256Hex = *contentSha;
  }
  std::string query = canonicalQuery(in.rawQuery, /*dropSignature=*/false);
  EMBER_TRY(checkSignature({in, *params, query, *contentSha, amzDate}, *cred, ctx));
  return ctx;
}

Result<AuthContext> verifyPresigned(const SigV4Input& in, const std::vector<QueryParam>& query,
                                    const CredentialLookup& lookup) {
  for (size_t i = 0; i < query.size(); ++i) {
    if (!isPresignParam(query[i].name)) {
      continue;
    }
    for (size_t j = i + 1; j < query.size(); ++j) {
      if (query[j].name == query[i].name) {
        return unexpected(
            malformed(fmt::format("query parameter {} is repeated", printable(query[i].name))));
      }
    }
  }
  auto require = [&](std::string_view name) -> Result<std::string_view> {
    const QueryParam* p = findParam(query, name);
    if (p == nullptr) {
      return unexpected(malformed(fmt::format("presigned URL is missing {}", name)));
    }
    return std::string_view(p->value);
  };
  auto algorithm = require("X-Amz-Algorithm");
  EMBER_TRY(algorithm);
  if (*algorithm != kAlgorithm) {
    return unexpected(malformed(fmt::format(
        "X-Amz-Algorithm '{}' is not supported; only AWS4-HMAC-SHA256 is", printable(*algorithm))));
  }
  auto credential = require("X-Amz-Credential");
  EMBER_TRY(credential);
  auto date = require("X-Amz-Date");
  EMBER_TRY(date);
  auto expires = require("X-Amz-Expires");
  EMBER_TRY(expires);
  auto signedHeaders = require("X-Amz-SignedHeaders");
  EMBER_TRY(signedHeaders);
  auto signature = require("X-Amz-Signature");
  EMBER_TRY(signature);

  SignatureParams params;
  EMBER_TRY(parseCredential(*credential, params));
  EMBER_TRY(parseSignedHeaders(*signedHeaders, params));
  EMBER_TRY(parseSignature(*signature, params));

  std::optional<int64_t> requestTime = parseAmzDate(*date);
  if (!requestTime) {
    return unexpected(malformed(
        fmt::format("X-Amz-Date '{}' is not an ISO 8601 basic timestamp (YYYYMMDDTHHMMSSZ)",
                    printable(*date))));
  }
  if (date->substr(0, 8) != params.scopeDate) {
    return unexpected(malformed(fmt::format("Credential scope date {} does not match X-Amz-Date {}",
                                            params.scopeDate, *date)));
  }
  std::optional<int64_t> expiresSeconds =
      expires->size() <= 7 ? parseDigits(*expires) : std::nullopt;
  if (!expiresSeconds || *expiresSeconds < 1 || *expiresSeconds > kMaxPresignExpires) {
    return unexpected(
        malformed(fmt::format("X-Amz-Expires '{}' must be a number of seconds from 1 to 604800",
                              printable(*expires, 32))));
  }

  // Presigned URLs carry no payload hash; a client may still send and sign x-amz-content-sha256.
  std::string_view hashedPayload = kUnsignedPayload;
  PayloadMode mode = PayloadMode::kUnsigned;
  const std::string* contentSha = in.headers.find("x-amz-content-sha256");
  if (contentSha != nullptr) {
    auto classified = classifyPayloadHash(*contentSha);
    EMBER_TRY(classified);
    mode = *classified;
    hashedPayload = *contentSha;
  }

  Status error;
  const Credential* cred = lookupKey(lookup, params.accessKey, error);
  if (cred == nullptr) {
    return unexpected(std::move(error));
  }
  if (in.nowSeconds > *requestTime + *expiresSeconds) {
    return unexpected(
        Code::kExpired,
        fmt::format("the presigned URL expired at {} (X-Amz-Date {} + {} s)",
                    formatAmzDate(*requestTime + *expiresSeconds), *date, *expiresSeconds));
  }
  if (*requestTime - in.nowSeconds > kMaxSkewSeconds) {
    return unexpected(Code::kRequestTimeSkewed,
                      fmt::format("the presigned URL is not valid yet: X-Amz-Date {} is more "
                                  "than 15 minutes ahead of the server time",
                                  *date));
  }

  AuthContext ctx;
  ctx.anonymous = false;
  ctx.credential = cred;
  ctx.presigned = true;
  ctx.payload = mode;
  if (mode == PayloadMode::kSigned) {
    ctx.payloadSha256Hex = *contentSha;
  }
  std::string canonical = canonicalQuery(in.rawQuery, /*dropSignature=*/true);
  std::string amzDate(*date);
  EMBER_TRY(checkSignature({in, params, canonical, hashedPayload, amzDate}, *cred, ctx));
  return ctx;
}

}  // namespace

bool isStreaming(PayloadMode mode) {
  return mode == PayloadMode::kStreamingSigned || mode == PayloadMode::kStreamingSignedTrailer ||
         mode == PayloadMode::kStreamingUnsignedTrailer;
}

Result<AuthContext> verifySigV4(const SigV4Input& in, const CredentialLookup& lookup) {
  const std::string* authorization = in.headers.find("authorization");
  std::vector<QueryParam> query = parseQueryLenient(in.rawQuery);
  bool presigned = std::any_of(query.begin(), query.end(), [](const QueryParam& p) {
    return p.name == "X-Amz-Signature" || p.name == "X-Amz-Algorithm" ||
           p.name == "X-Amz-Credential";
  });
  if (authorization != nullptr && presigned) {
    return unexpected(
        malformed("only one authentication mechanism is allowed: both an Authorization header and "
                  "presigned query parameters were sent"));
  }
  if (authorization != nullptr) {
    return verifyHeaderAuth(in, *authorization, lookup);
  }
  if (presigned) {
    return verifyPresigned(in, query, lookup);
  }
  return AuthContext{};
}

std::string uriEncode(std::string_view s, bool encodeSlash) {
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || isDigit(c) || c == '-' ||
                      c == '_' || c == '.' || c == '~';
    if (unreserved || (c == '/' && !encodeSlash)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kUpperHex[b >> 4]);
      out.push_back(kUpperHex[b & 0x0f]);
    }
  }
  return out;
}

// '%XX' decoding that keeps malformed escapes literally; canonicalQuery cannot fail, and a
// literal '%' is then re-encoded as %25 exactly as a client signing the raw text would do.
std::string uriDecodeLenient(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hexDigitValue(s[i + 1]);
      int lo = hexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>((hi << 4) | lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<QueryParam> parseQueryLenient(std::string_view rawQuery) {
  std::vector<QueryParam> params;
  size_t pos = 0;
  while (pos <= rawQuery.size()) {
    size_t amp = rawQuery.find('&', pos);
    if (amp == std::string_view::npos) {
      amp = rawQuery.size();
    }
    std::string_view part = rawQuery.substr(pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      QueryParam p;
      p.name = uriDecodeLenient(part.substr(0, eq));
      if (eq != std::string_view::npos) {
        p.value = uriDecodeLenient(part.substr(eq + 1));
        p.hasEquals = true;
      }
      params.push_back(std::move(p));
    }
    pos = amp + 1;
  }
  return params;
}

Result<std::vector<std::pair<std::string, std::string>>> decodeQuery(std::string_view q,
                                                                     std::string* badItem) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (item.empty()) {
      continue;
    }
    size_t eq = item.find('=');
    auto name = uriDecode(item.substr(0, eq));
    auto value = uriDecode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
    if (!name || !value) {
      if (badItem) {
        *badItem = std::string(item);
      }
      return unexpected(Code::kInvalidArgument, "malformed query string");
    }
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

Result<std::string> uriDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return unexpected(Code::kInvalidArgument,
                        fmt::format("truncated percent-escape at offset {}", i));
    }
    int hi = hexDigitValue(s[i + 1]);
    int lo = hexDigitValue(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return unexpected(Code::kInvalidArgument,
                        fmt::format("invalid percent-escape at offset {}", i));
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return out;
}

std::string canonicalQuery(std::string_view rawQuery, bool dropSignature) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (QueryParam& p : parseQueryLenient(rawQuery)) {
    if (dropSignature && p.name == "X-Amz-Signature") {
      continue;
    }
    encoded.emplace_back(uriEncode(p.name, true), uriEncode(p.value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string deriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string key = hmacSha256Raw("AWS4" + std::string(secret), date);
  key = hmacSha256Raw(key, region);
  key = hmacSha256Raw(key, service);
  return hmacSha256Raw(key, kTerminator);
}

namespace {
std::string cachedSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region) {
  thread_local std::unordered_map<std::string, std::string> cache;
  std::string id;
  id.reserve(secret.size() + date.size() + region.size() + 2);
  id.append(secret).push_back('\0');
  id.append(date).push_back('\0');
  id.append(region);
  if (auto it = cache.find(id); it != cache.end()) {
    return it->second;
  }
  if (cache.size() >= 256) {
    cache.clear();
  }
  std::string key = deriveSigningKey(secret, date, region, kService);
  cache.emplace(std::move(id), key);
  return key;
}
}  // namespace

std::string signHex(std::string_view signingKey, std::string_view stringToSign) {
  return hexEncode(hmacSha256Raw(signingKey, stringToSign));
}

}  // namespace ember::auth
