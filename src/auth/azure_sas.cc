#include "auth/azure_sas.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "auth/azure_text.h"
#include "auth/sigv4.h"
#include "common/headers.h"
#include "common/time_util.h"

namespace ember::auth {

namespace {

using azure::constantTimeEquals;
using azure::malformed;
using azure::quoteStringToSign;
std::string printable(std::string_view s, size_t max = 64) { return azure::printable(s, max); }

constexpr std::string_view kOldestVersion = "2015-04-05";
constexpr std::string_view kVersionWithResource = "2018-11-09";          // sr, snapshot time
constexpr std::string_view kVersionWithEncryptionScope = "2020-12-06";   // ses

bool isDigit(char c) { return c >= '0' && c <= '9'; }





Status denied(std::string_view azureCode, std::string_view message) {
  return Status(Code::kPermissionDenied, fmt::format("{}: {}", azureCode, message));
}

// ---- time ---------------------------------------------------------------------------------------

std::optional<int64_t> parseFixedDigits(std::string_view s, size_t len) {
  if (s.size() != len || !std::all_of(s.begin(), s.end(), isDigit)) {
    return std::nullopt;
  }
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
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

std::optional<int64_t> civilDays(int64_t y, int64_t mo, int64_t d) {
  static constexpr std::array<int64_t, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1) {
    return std::nullopt;
  }
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > (mo == 2 && leap ? 29 : kDays[static_cast<size_t>(mo - 1)])) {
    return std::nullopt;
  }
  return daysFromCivil(y, mo, d);
}

// "Z" or "+hh:mm" / "-hh:mm" -> seconds east of UTC.
std::optional<int64_t> parseZone(std::string_view s) {
  if (s == "Z") {
    return 0;
  }
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') {
    return std::nullopt;
  }
  auto hh = parseFixedDigits(s.substr(1, 2), 2);
  auto mm = parseFixedDigits(s.substr(4, 2), 2);
  if (!hh || !mm || *hh > 23 || *mm > 59) {
    return std::nullopt;
  }
  int64_t offset = *hh * 3600 + *mm * 60;
  return s[0] == '+' ? offset : -offset;
}

std::string formatTime(int64_t seconds) { return formatHttpDate(seconds * 1000); }

// ---- IPv4 ---------------------------------------------------------------------------------------

std::optional<uint32_t> parseIpv4(std::string_view s) {
  uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) {
      return std::nullopt;
    }
    std::string_view part = s.substr(0, dot);
    if (!std::all_of(part.begin(), part.end(), isDigit)) {
      return std::nullopt;
    }
    unsigned v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    if (v > 255) {
      return std::nullopt;
    }
    out = (out << 8) | v;
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return out;
}

// The client address as IPv4: plain, or IPv4-mapped IPv6 ("::ffff:a.b.c.d").
std::optional<uint32_t> clientIpv4(std::string_view ip) {
  if (ip.size() > 7 && iequals(ip.substr(0, 7), "::ffff:")) {
    ip.remove_prefix(7);
  }
  return parseIpv4(ip);
}

struct IpRange {
  uint32_t low = 0;
  uint32_t high = 0;
};

// "a.b.c.d" or "a.b.c.d-e.f.g.h" (inclusive).
std::optional<IpRange> parseIpRange(std::string_view s) {
  size_t dash = s.find('-');
  auto low = parseIpv4(s.substr(0, dash));
  auto high = dash == std::string_view::npos ? low : parseIpv4(s.substr(dash + 1));
  if (!low || !high || *low > *high) {
    return std::nullopt;
  }
  return IpRange{*low, *high};
}

// ---- parameters ---------------------------------------------------------------------------------

std::string* fieldFor(SasParams& p, std::string_view lowerName) {
  static constexpr std::pair<std::string_view, std::string SasParams::*> kFields[] = {
      {"sv", &SasParams::version},        {"ss", &SasParams::services},
      {"srt", &SasParams::resourceTypes}, {"sp", &SasParams::permissions},
      {"st", &SasParams::start},          {"se", &SasParams::expiry},
      {"sip", &SasParams::ip},            {"spr", &SasParams::protocol},
      {"sr", &SasParams::resource},       {"si", &SasParams::identifier},
      {"ses", &SasParams::encryptionScope}, {"rscc", &SasParams::cacheControl},
      {"rscd", &SasParams::contentDisposition}, {"rsce", &SasParams::contentEncoding},
      {"rscl", &SasParams::contentLanguage}, {"rsct", &SasParams::contentType},
      {"sig", &SasParams::signature},     {"snapshot", &SasParams::snapshot},
      {"versionid", &SasParams::versionId},
  };
  for (const auto& [name, member] : kFields) {
    if (name == lowerName) {
      return &(p.*member);
    }
  }
  return nullptr;
}

bool isUserDelegationParam(std::string_view lowerName) {
  static constexpr std::string_view kNames[] = {"skoid", "sktid", "skt", "ske", "sks", "skv"};
  return std::find(std::begin(kNames), std::end(kNames), lowerName) != std::end(kNames);
}

bool isIsoDate(std::string_view s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-' && parseFixedDigits(s.substr(0, 4), 4) &&
         parseFixedDigits(s.substr(5, 2), 2) && parseFixedDigits(s.substr(8, 2), 2);
}

bool onlyLowerLetters(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The signedSnapshotTime field of a service SAS.
std::string_view snapshotTime(const SasParams& p) {
  if (p.resource == "bs") {
    return p.snapshot;
  }
  if (p.resource == "bv") {
    return p.versionId;
  }
  return {};
}

struct Times {
  std::optional<int64_t> start;
  int64_t expiry = 0;
};

// Field checks that need no key. Fills the times.
Status checkFields(const SasParams& p, const SasInput& in, bool account, Times& times) {
  if (p.signature.empty()) {
    return malformed("sig is mandatory in a shared access signature");
  }
  if (p.version.empty()) {
    return malformed("sv (signed version) is mandatory");
  }
  if (!isIsoDate(p.version)) {
    return malformed(fmt::format("sv '{}' is not a version date", printable(p.version)));
  }
  if (p.version < kOldestVersion) {
    return malformed(fmt::format("sv '{}' is not supported; the oldest supported version is {}",
                                 printable(p.version), kOldestVersion));
  }
  if (p.permissions.empty() || p.expiry.empty()) {
    return malformed("sp (signed permissions) and se (signed expiry) are mandatory");
  }
  if (!onlyLowerLetters(p.permissions)) {
    return malformed(fmt::format("sp '{}' is not a set of permission letters",
                                 printable(p.permissions)));
  }
  if (account) {
    if (p.services.empty() || p.resourceTypes.empty()) {
      return malformed("ss (signed services) and srt (signed resource types) are mandatory in an "
                       "account SAS");
    }
    if (!onlyLowerLetters(p.services) || !onlyLowerLetters(p.resourceTypes)) {
      return malformed(fmt::format("ss '{}' / srt '{}' are not sets of letters",
                                   printable(p.services), printable(p.resourceTypes)));
    }
  } else {
    if (p.resource == "d") {
      return malformed("sr=d (directory SAS) needs a hierarchical namespace, which this server "
                       "does not have");
    }
    if (p.resource != "c" && p.resource != "b" && p.resource != "bs" && p.resource != "bv") {
      return malformed(fmt::format("sr '{}' is not a valid signed resource (c, b, bs, bv)",
                                   printable(p.resource)));
    }
    if (p.resource != "c" && p.resource != "b" && p.version < kVersionWithResource) {
      return malformed(fmt::format("sr={} needs sv {} or later", p.resource, kVersionWithResource));
    }
  }
  if (!p.start.empty()) {
    times.start = parseSasTime(p.start);
    if (!times.start) {
      return malformed(fmt::format("st '{}' is not an ISO 8601 UTC time", printable(p.start)));
    }
  }
  std::optional<int64_t> expiry = parseSasTime(p.expiry);
  if (!expiry) {
    return malformed(fmt::format("se '{}' is not an ISO 8601 UTC time", printable(p.expiry)));
  }
  times.expiry = *expiry;
  if (!p.protocol.empty() && p.protocol != "https" && p.protocol != "https,http" &&
      p.protocol != "http,https") {
    return malformed(fmt::format("spr '{}' is not 'https' or 'https,http'", printable(p.protocol)));
  }
  if (!p.ip.empty() && !parseIpRange(p.ip)) {
    return malformed(fmt::format("sip '{}' is not an IPv4 address or range", printable(p.ip)));
  }
  if (!account) {
    if (p.resource == "c" && in.container.empty()) {
      return denied("AuthorizationResourceTypeMismatch",
                    "a container SAS (sr=c) does not authorize requests outside a container.");
    }
    if (p.resource != "c" && in.blob.empty()) {
      return denied("AuthorizationResourceTypeMismatch",
                    fmt::format("a blob SAS (sr={}) authorizes only requests for its blob.",
                                p.resource));
    }
  }
  return Status::ok();
}

}  // namespace

Result<SasParams> parseSasParams(std::string_view rawQuery) {
  SasParams out;
  std::vector<std::string> seen;
  for (QueryParam& q : parseQueryLenient(rawQuery)) {
    std::string name = toLower(q.name);
    if (isUserDelegationParam(name)) {
      out.userDelegation = true;
      continue;
    }
    std::string* field = fieldFor(out, name);
    if (field == nullptr) {
      continue;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return unexpected(malformed(fmt::format("SAS parameter {} is repeated", name)));
    }
    seen.push_back(name);
    *field = std::move(q.value);
    out.hasSignature = out.hasSignature || name == "sig";
  }
  return out;
}

bool hasSas(std::string_view rawQuery) {
  for (const QueryParam& q : parseQueryLenient(rawQuery)) {
    if (iequals(q.name, "sig")) {
      return true;
    }
  }
  return false;
}

std::string sasStringToSign(const SasParams& p, std::string_view account,
                            std::string_view container, std::string_view blob) {
  bool withScope = p.version >= kVersionWithEncryptionScope;
  if (p.resource.empty()) {
    std::string out = fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n", account, p.permissions,
                                  p.services, p.resourceTypes, p.start, p.expiry, p.ip,
                                  p.protocol, p.version);
    if (withScope) {
      out += p.encryptionScope;
      out.push_back('\n');
    }
    return out;
  }
  std::string resource = fmt::format("/blob/{}/{}", account, container);
  if (p.resource != "c") {
    resource += "/";
    resource += blob;
  }
  std::vector<std::string_view> fields = {p.permissions, p.start,    p.expiry,  resource,
                                          p.identifier,  p.ip,       p.protocol, p.version};
  if (p.version >= kVersionWithResource) {
    fields.push_back(p.resource);
    fields.push_back(snapshotTime(p));
  }
  if (withScope) {
    fields.push_back(p.encryptionScope);
  }
  for (const std::string* f : {&p.cacheControl, &p.contentDisposition, &p.contentEncoding,
                               &p.contentLanguage, &p.contentType}) {
    fields.push_back(*f);
  }
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      out.push_back('\n');
    }
    out += fields[i];
  }
  return out;
}

Result<SasGrant> verifySas(const SasInput& in, const AzureAccountLookup& lookup) {
  auto params = parseSasParams(in.rawQuery);
  EMBER_TRY(params);
  const SasParams& p = *params;
  if (!p.hasSignature) {
    return unexpected(malformed("the request carries no shared access signature (sig)"));
  }
  if (p.userDelegation) {
    return unexpected(Code::kNotImplemented,
                      "user delegation SAS (skoid, sktid, ...) is not supported");
  }
  if (!p.identifier.empty()) {
    return unexpected(Code::kNotImplemented,
                      "stored access policies (si=) are not supported");
  }
  bool accountSas = p.resource.empty();
  if (!accountSas && (!p.services.empty() || !p.resourceTypes.empty())) {
    return unexpected(malformed("a SAS has either sr (service SAS) or ss/srt (account SAS)"));
  }
  Times times;
  EMBER_TRY(checkFields(p, in, accountSas, times));

  const AzureAccount* account = lookup ? lookup(in.account) : nullptr;
  if (account == nullptr || account->keys.empty()) {
    return unexpected(Code::kSignatureMismatch,
                      fmt::format("Signature did not match: the account '{}' is not known.",
                                  printable(in.account)));
  }
  std::string stringToSign = sasStringToSign(p, in.account, in.container, in.blob);
  bool match = false;
  for (const std::string& key : account->keys) {
    match = constantTimeEquals(signAzure(key, stringToSign), p.signature) || match;
  }
  if (!match) {
    return unexpected(Code::kSignatureMismatch,
                      fmt::format("Signature did not match. String to sign used was {}",
                                  quoteStringToSign(stringToSign)));
  }

  if (times.start && times.expiry <= *times.start) {
    return unexpected(Code::kExpired,
                      fmt::format("Signed expiry time [{}] must be after signed start time [{}]",
                                  formatTime(times.expiry), formatTime(*times.start)));
  }
  if ((times.start && in.nowSeconds < *times.start) || in.nowSeconds > times.expiry) {
    return unexpected(
        Code::kExpired,
        fmt::format("Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - "
                    "Current [{}]",
                    times.start ? formatTime(*times.start) : std::string(),
                    formatTime(times.expiry), formatTime(in.nowSeconds)));
  }
  if (!p.ip.empty()) {
    std::optional<IpRange> range = parseIpRange(p.ip);
    std::optional<uint32_t> client = clientIpv4(in.clientIp);
    if (!range || !client || *client < range->low || *client > range->high) {
      return unexpected(denied(
          "AuthorizationSourceIPMismatch",
          fmt::format("This request is not authorized to perform this operation using this "
                      "source IP {}; the SAS allows {}.",
                      printable(in.clientIp), printable(p.ip))));
    }
  }
  if (p.protocol == "https" && !in.https) {
    return unexpected(denied("AuthorizationProtocolMismatch",
                             "This request is not authorized to perform this operation using "
                             "this protocol; the SAS allows https only."));
  }

  SasGrant g;
  g.account = account->name;
  g.kind = accountSas ? SasGrant::Kind::kAccount : SasGrant::Kind::kService;
  g.permissions = p.permissions;
  g.version = p.version;
  g.encryptionScope = p.encryptionScope;
  g.expiresAt = times.expiry;
  if (accountSas) {
    g.scope = SasGrant::Scope::kService;
    g.resourceTypes = p.resourceTypes;
    g.services = p.services;
  } else {
    g.scope = p.resource == "c" ? SasGrant::Scope::kContainer : SasGrant::Scope::kBlob;
    g.container = std::string(in.container);
    if (g.scope == SasGrant::Scope::kBlob) {
      g.blob = std::string(in.blob);
      g.snapshot = std::string(snapshotTime(p));
    }
    g.responseOverrides = {p.cacheControl, p.contentDisposition, p.contentEncoding,
                           p.contentLanguage, p.contentType};
  }
  return g;
}

Status sasPermits(const SasGrant& grant, char permission, ResourceLevel level,
                  std::string_view container, std::string_view blob) {
  constexpr std::string_view kResourceTypeMismatch =
      "This request is not authorized to perform this operation using this resource type.";
  if (grant.kind == SasGrant::Kind::kAccount) {
    if (grant.services.find('b') == std::string::npos) {
      return denied("AuthorizationServiceMismatch",
                    "This request is not authorized to perform this operation using this "
                    "service.");
    }
    char type = level == ResourceLevel::kService     ? 's'
                : level == ResourceLevel::kContainer ? 'c'
                                                     : 'o';
    if (grant.resourceTypes.find(type) == std::string::npos) {
      return denied("AuthorizationResourceTypeMismatch", kResourceTypeMismatch);
    }
  } else {
    bool inScope = false;
    if (grant.scope == SasGrant::Scope::kContainer) {
      inScope = level != ResourceLevel::kService && container == grant.container;
    } else if (grant.scope == SasGrant::Scope::kBlob) {
      inScope = level == ResourceLevel::kObject && container == grant.container &&
                blob == grant.blob;
    }
    if (!inScope) {
      return denied("AuthorizationResourceTypeMismatch", kResourceTypeMismatch);
    }
  }
  if (permission < 'a' || permission > 'z' ||
      grant.permissions.find(permission) == std::string::npos) {
    return denied("AuthorizationPermissionMismatch",
                  "This request is not authorized to perform this operation using this "
                  "permission.");
  }
  return Status::ok();
}

std::optional<int64_t> parseSasTime(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') {
    return std::nullopt;
  }
  auto y = parseFixedDigits(s.substr(0, 4), 4);
  auto mo = parseFixedDigits(s.substr(5, 2), 2);
  auto d = parseFixedDigits(s.substr(8, 2), 2);
  if (!y || !mo || !d) {
    return std::nullopt;
  }
  std::optional<int64_t> days = civilDays(*y, *mo, *d);
  if (!days) {
    return std::nullopt;
  }
  int64_t midnight = *days * 86400;
  if (s.size() == 10) {
    return midnight;
  }
  // "Thh:mm" [":ss" [".f+"]] TZD
  std::string_view rest = s.substr(10);
  if (rest.size() < 6 || rest[0] != 'T' || rest[3] != ':') {
    return std::nullopt;
  }
  auto h = parseFixedDigits(rest.substr(1, 2), 2);
  auto mi = parseFixedDigits(rest.substr(4, 2), 2);
  if (!h || !mi || *h > 23 || *mi > 59) {
    return std::nullopt;
  }
  int64_t sec = 0;
  rest.remove_prefix(6);
  if (!rest.empty() && rest[0] == ':') {
    auto ss = rest.size() >= 3 ? parseFixedDigits(rest.substr(1, 2), 2) : std::nullopt;
    if (!ss || *ss > 59) {
      return std::nullopt;
    }
    sec = *ss;
    rest.remove_prefix(3);
    if (!rest.empty() && rest[0] == '.') {
      size_t digits = 1;
      while (digits < rest.size() && isDigit(rest[digits])) {
        ++digits;
      }
      if (digits == 1) {
        return std::nullopt;
      }
      rest.remove_prefix(digits);
    }
  }
  std::optional<int64_t> zone = parseZone(rest);
  if (!zone) {
    return std::nullopt;
  }
  return midnight + *h * 3600 + *mi * 60 + sec - *zone;
}

}  // namespace ember::auth
