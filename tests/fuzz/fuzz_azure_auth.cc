// libFuzzer target for the Azure Blob verifiers (src/auth/azure_shared_key.h, azure_sas.h).
//
// The first input byte picks the kind of input; the rest is its body:
//  0 raw SharedKey: lines "method", "path", "query", then "Name: value" header lines, verified
//    as is. Checks memory safety and that only the one known account is ever returned.
//  1 raw SAS: lines "query", "container", "blob", "client ip"; verified as is. A grant must be
//    for the known account, and sasPermits never allows a letter outside the signed ones.
//  2 SharedKey round trip: a request built from the body is signed with a string to sign that
//    this file writes out itself (restricted to inputs where that is simple: x-ms-* names in
//    [a-z0-9-], unique; query names [a-z], values unescaped). It must verify, and fail once the
//    method or a header changes.
//  3 SAS round trip: an account or service SAS built from the body and signed with a string to
//    sign written out here (sv 2015-04-05, 2018-11-09 or 2021-12-02). It must verify inside its
//    time window (with kExpired outside it), and fail once the permissions change.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fuzzer/FuzzedDataProvider.h>

#include "auth/azure_sas.h"
#include "auth/azure_shared_key.h"
#include "auth/sigv4.h"
#include "common/digest.h"
#include "common/headers.h"
#include "common/strings.h"

namespace ember::auth {
namespace {

constexpr std::string_view kAccountName = "devstoreaccount1";
constexpr int64_t kNow = 1675418400;  // Fri, 03 Feb 2023 10:00:00 GMT
constexpr std::string_view kDate = "Fri, 03 Feb 2023 10:00:00 GMT";

// The emulator key (so that SDK-signed seeds verify) and a second key.
const AzureAccount& account() {
  static const AzureAccount a = [] {
    auto key = base64Decode(
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==");
    return AzureAccount{std::string(kAccountName), {key ? *key : std::string(), "key-two"}};
  }();
  return a;
}

const AzureAccount* lookup(std::string_view name) {
  return name == kAccountName ? &account() : nullptr;
}

std::vector<std::string_view> splitLines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) {
      nl = s.size();
    }
    lines.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

std::string_view lineAt(const std::vector<std::string_view>& lines, size_t i,
                        std::string_view fallback) {
  return i < lines.size() ? lines[i] : fallback;
}

void rawSharedKey(std::string_view text) {
  std::vector<std::string_view> lines = splitLines(text);
  Headers headers;
  for (size_t i = 3; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon != std::string_view::npos) {
      headers.add(std::string(lines[i].substr(0, colon)), std::string(lines[i].substr(colon + 1)));
    }
  }
  AzureRequest in{lineAt(lines, 0, "GET"), lineAt(lines, 1, "/"), lineAt(lines, 2, ""), headers,
                  kAccountName, kNow, "127.0.0.1", false};
  (void)sharedKeyStringToSign(in, false);
  (void)sharedKeyStringToSign(in, true);
  Result<std::string> result = verifySharedKey(in, lookup);
  if (result && (*result != kAccountName || !hasSharedKey(headers))) {
    std::abort();
  }
}

void rawSas(std::string_view text, uint8_t selector) {
  std::vector<std::string_view> lines = splitLines(text);
  std::string_view query = lineAt(lines, 0, "");
  SasInput in{query, kAccountName, lineAt(lines, 1, "c"), lineAt(lines, 2, "b"), kNow,
              lineAt(lines, 3, "127.0.0.1"), (selector & 1) != 0};
  if (auto params = parseSasParams(query)) {
    (void)parseSasTime(params->start);
    (void)parseSasTime(params->expiry);
    (void)sasStringToSign(*params, kAccountName, in.container, in.blob);
  }
  Result<SasGrant> grant = verifySas(in, lookup);
  if (!grant) {
    return;
  }
  if (!hasSas(query) || grant->account != kAccountName) {
    std::abort();
  }
  char letter = static_cast<char>('a' + selector % 26);
  auto level = static_cast<ResourceLevel>((selector >> 5) % 3);
  if (sasPermits(*grant, letter, level, in.container, in.blob) &&
      grant->permissions.find(letter) == std::string::npos) {
    std::abort();
  }
}

std::string fromAlphabet(FuzzedDataProvider& in, std::string_view alphabet, size_t maxLen) {
  std::string out;
  for (char c : in.ConsumeRandomLengthString(maxLen)) {
    out.push_back(alphabet[static_cast<unsigned char>(c) % alphabet.size()]);
  }
  return out;
}

void sharedKeyRoundTrip(FuzzedDataProvider& in) {
  static constexpr const char* kMethods[] = {"GET", "PUT", "HEAD", "DELETE", "POST"};
  std::string method = kMethods[in.ConsumeIntegralInRange<size_t>(0, 4)];
  std::string path = "/" + std::string(kAccountName) + "/" +
                     fromAlphabet(in, "abcxyz019/%-._~AZ", 40);
  std::map<std::string, std::string> query;  // byte-ordered, as canonicalization sorts
  size_t nQuery = in.ConsumeIntegralInRange<size_t>(0, 4);
  for (size_t i = 0; i < nQuery; ++i) {
    query[fromAlphabet(in, "abcdefz", 6) + "q"] = fromAlphabet(in, "abcXYZ019-._~/,", 12);
  }
  std::map<std::string, std::string> msHeaders;  // [a-z0-9-]: byte order is the service order
  msHeaders["x-ms-date"] = std::string(kDate);
  size_t nHeaders = in.ConsumeIntegralInRange<size_t>(0, 4);
  for (size_t i = 0; i < nHeaders; ++i) {
    msHeaders["x-ms-f" + fromAlphabet(in, "abcz019-", 8)] = fromAlphabet(in, "abc XYZ:,;=019", 20);
  }
  for (auto& [name, value] : msHeaders) {
    value = std::string(trimBlanks(value));
  }
  std::string contentType = fromAlphabet(in, "abc/;= 019", 16);
  contentType = std::string(trimBlanks(contentType));
  bool lite = in.ConsumeBool();

  std::string rawQuery;
  for (const auto& [name, value] : query) {
    rawQuery += (rawQuery.empty() ? "" : "&") + name + "=" + value;
  }
  Headers headers;
  for (const auto& [name, value] : msHeaders) {
    headers.add(name, value);
  }
  if (!contentType.empty()) {
    headers.add("Content-Type", contentType);
  }
  // The string to sign, written out independently of the library.
  std::string s = method + "\n";
  s += lite ? fmt::format("\n{}\n\n", contentType)
            : fmt::format("\n\n\n\n{}\n\n\n\n\n\n\n", contentType);
  for (const auto& [name, value] : msHeaders) {
    s += name + ":" + value + "\n";
  }
  s += "/" + std::string(kAccountName) + path;
  if (lite) {
    // No "comp" name can occur (query names end in 'q').
  } else {
    for (const auto& [name, value] : query) {
      s += "\n" + name + ":" + uriDecodeLenient(value);
    }
  }
  bool second = in.ConsumeBool();
  headers.add("Authorization", fmt::format("{} {}:{}", lite ? "SharedKeyLite" : "SharedKey",
                                           kAccountName,
                                           signAzure(account().keys[second ? 1 : 0], s)));
  AzureRequest req{method, path, rawQuery, headers, kAccountName, kNow, "127.0.0.1", false};
  Result<std::string> ok = verifySharedKey(req, lookup);
  if (!ok || *ok != kAccountName) {
    std::abort();  // a correctly signed request was refused
  }
  std::string other = method == "GET" ? "PUT" : "GET";
  AzureRequest changed{other, path, rawQuery, headers, kAccountName, kNow, "127.0.0.1", false};
  if (verifySharedKey(changed, lookup)) {
    std::abort();
  }
  Headers more = headers;
  more.add("x-ms-meta-added", "1");
  AzureRequest added{method, path, rawQuery, more, kAccountName, kNow, "127.0.0.1", false};
  if (verifySharedKey(added, lookup)) {
    std::abort();
  }
}

std::string isoTime(int64_t t) {
  int64_t days = t / 86400;
  int64_t rem = t % 86400;
  // civil_from_days (t >= 0 here).
  days += 719468;
  const int64_t era = days / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, rem / 3600,
                     rem % 3600 / 60, rem % 60);
}

void sasRoundTrip(FuzzedDataProvider& in) {
  static constexpr const char* kVersions[] = {"2015-04-05", "2018-11-09", "2021-12-02"};
  std::string sv = kVersions[in.ConsumeIntegralInRange<size_t>(0, 2)];
  static constexpr const char* kResources[] = {"", "c", "b"};
  std::string sr = kResources[in.ConsumeIntegralInRange<size_t>(0, 2)];
  std::string sp = fromAlphabet(in, "racwdxltmeiop", 6);
  if (sp.empty()) {
    sp = "r";
  }
  int64_t st = kNow + in.ConsumeIntegralInRange<int64_t>(-86400, 3600);
  int64_t se = st + in.ConsumeIntegralInRange<int64_t>(1, 86400);
  std::string stText = in.ConsumeBool() ? isoTime(st) : std::string();
  std::string seText = isoTime(se);
  std::string spr = in.ConsumeBool() ? "https" : "";
  std::string rscc = fromAlphabet(in, "abc-=;019", 10);
  std::string container = "c" + fromAlphabet(in, "abc019-", 10);
  std::string blob = "b" + fromAlphabet(in, "abc/ +%~é", 20);
  bool https = in.ConsumeBool();
  std::string stringToSign;
  std::string query = fmt::format("sv={}&sp={}&se={}", sv, sp, seText);
  if (!stText.empty()) {
    query += "&st=" + stText;
  }
  if (!spr.empty()) {
    query += "&spr=" + spr;
  }
  if (sr.empty()) {
    query += "&ss=b&srt=sco";
    stringToSign = fmt::format("{}\n{}\nb\nsco\n{}\n{}\n\n{}\n{}\n{}", kAccountName, sp, stText,
                               seText, spr, sv, sv >= "2020-12-06" ? "\n" : "");
  } else {
    query += "&sr=" + sr + (rscc.empty() ? "" : "&rscc=" + rscc);
    std::string resource = fmt::format("/blob/{}/{}{}", kAccountName, container,
                                       sr == "b" ? "/" + blob : "");
    stringToSign = fmt::format("{}\n{}\n{}\n{}\n\n\n{}\n{}", sp, stText, seText, resource, spr, sv);
    if (sv >= "2018-11-09") {
      stringToSign += "\n" + sr + "\n";  // sr, empty snapshot time
    }
    if (sv >= "2020-12-06") {
      stringToSign += "\n";  // empty ses
    }
    stringToSign += "\n" + rscc + "\n\n\n\n";
  }
  std::string sig = signAzure(account().keys[in.ConsumeBool() ? 1 : 0], stringToSign);
  std::string token = query + "&sig=" + uriEncode(sig, true);
  SasInput input{token, kAccountName, container, blob, kNow, "127.0.0.1", https};
  Result<SasGrant> grant = verifySas(input, lookup);
  bool inWindow = (stText.empty() || kNow >= st) && kNow <= se;
  if (!inWindow) {
    if (grant || grant.error().code() != Code::kExpired) {
      std::abort();
    }
    return;
  }
  if (spr == "https" && !https) {
    if (grant || grant.error().code() != Code::kPermissionDenied) {
      std::abort();
    }
    return;
  }
  if (!grant || grant->permissions != sp) {
    std::abort();  // a correctly signed SAS was refused
  }
  std::string changed = token;
  changed.replace(changed.find("&sp=") + 4, sp.size(), sp + "w");
  SasInput tampered{changed, kAccountName, container, blob, kNow, "127.0.0.1", https};
  Result<SasGrant> bad = verifySas(tampered, lookup);
  if (bad || bad.error().code() != Code::kSignatureMismatch) {
    std::abort();
  }
}

}  // namespace
}  // namespace ember::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      ember::auth::rawSharedKey(body);
      break;
    case 1:
      ember::auth::rawSas(body, data[0]);
      break;
    case 2: {
      FuzzedDataProvider in(data + 1, size - 1);
      ember::auth::sharedKeyRoundTrip(in);
      break;
    }
    default: {
      FuzzedDataProvider in(data + 1, size - 1);
      ember::auth::sasRoundTrip(in);
      break;
    }
  }
  return 0;
}
