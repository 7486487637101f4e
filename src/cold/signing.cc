// Client-side signing for the cold connectors (signing.h).
#include "cold/signing.h"

#include <algorithm>
#include <ctime>
#include <vector>

#include <fmt/format.h>

#include "auth/azure_shared_key.h"
#include "auth/sigv4.h"
#include "common/digest.h"
#include "common/time_util.h"

namespace ember::cold {

std::string httpDate(int64_t unixSeconds) { return formatHttpDate(unixSeconds * 1000); }

std::string amzDate(int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<int64_t> parseIso8601Ms(std::string_view s) {
  // YYYY-MM-DDThh:mm:ss[.fff...]Z
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    if (pos + len > s.size()) {
      return std::nullopt;
    }
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *d > 31) {
    return std::nullopt;
  }
  int64_t ms = 0;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) {
        ms = ms * 10 + (s[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    for (; digits < 3; ++digits) {
      ms *= 10;
    }
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') {
    return std::nullopt;
  }
  // Days from civil (Howard Hinnant's algorithm).
  int64_t yy = *y - (*mo <= 2 ? 1 : 0);
  const int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const int64_t yoe = yy - era * 400;
  const int64_t mp = (*mo + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + *d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return ((days * 24 + *h) * 60 + *mi) * 60000 + int64_t{*se} * 1000 + ms;
}

Status signSharedKey(std::string_view method, std::string_view rawPath, std::string_view rawQuery,
                     Headers& headers, uint64_t contentLength, std::string_view account,
                     std::string_view base64Key, int64_t nowSeconds) {
  auto key = base64Decode(base64Key);
  if (!key) {
    return makeError(Code::kInvalidArgument, "the Azure account key is not base64");
  }
  headers.set("x-ms-date", httpDate(nowSeconds));
  Headers signedView = headers;
  if (contentLength > 0) {
    signedView.set("Content-Length", std::to_string(contentLength));
  }
  auth::AzureRequest in{method, rawPath, rawQuery, signedView, account, nowSeconds, {}, false};
  const std::string sts = auth::sharedKeyStringToSign(in, /*lite=*/false);
  headers.set("Authorization",
              fmt::format("SharedKey {}:{}", account, auth::signAzure(*key, sts)));
  return Status::ok();
}

void signSigV4(std::string_view method, std::string_view host, std::string_view rawPath,
               std::string_view rawQuery, Headers& headers, std::string_view payloadHash,
               const SigV4Key& key, int64_t nowSeconds) {
  const std::string date = amzDate(nowSeconds);
  headers.set("x-amz-date", date);
  headers.set("x-amz-content-sha256", std::string(payloadHash));

  // Signed headers: lowercased names, sorted, values trimmed; host is not in `headers` (the HTTP
  // client adds it) so it is added here.
  std::vector<std::pair<std::string, std::string>> sig{{"host", std::string(host)}};
  for (const Headers::Field& f : headers.fields()) {
    std::string n = toLower(f.name);
    if (n == "content-type" || n == "content-md5" || n.rfind("x-amz-", 0) == 0) {
      std::string v = f.value;
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
        v.pop_back();
      }
      size_t lead = v.find_first_not_of(" \t");
      sig.emplace_back(std::move(n), lead == std::string::npos ? "" : v.substr(lead));
    }
  }
  std::sort(sig.begin(), sig.end());
  std::string canonicalHeaders;
  std::string signedNames;
  for (size_t i = 0; i < sig.size(); ++i) {
    // Repeated names are joined with ',' (the verifier does the same).
    if (i > 0 && sig[i].first == sig[i - 1].first) {
      canonicalHeaders.pop_back();
      canonicalHeaders += "," + sig[i].second + "\n";
      continue;
    }
    canonicalHeaders += sig[i].first + ":" + sig[i].second + "\n";
    signedNames += (signedNames.empty() ? "" : ";") + sig[i].first;
  }
  const std::string path = rawPath.empty() ? std::string("/") : std::string(rawPath);
  const std::string canonicalRequest =
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}", method,
                  auth::uriEncode(auth::uriDecodeLenient(path), /*encodeSlash=*/false),
                  auth::canonicalQuery(rawQuery, false), canonicalHeaders, signedNames,
                  payloadHash);
  const std::string scope = fmt::format("{}/{}/s3/aws4_request", date.substr(0, 8), key.region);
  const std::string stringToSign =
      fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", date, scope, sha256Hex(canonicalRequest));
  const std::string signingKey =
      auth::deriveSigningKey(key.secretKey, date.substr(0, 8), key.region, "s3");
  headers.set("Authorization",
              fmt::format("AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={},Signature={}",
                          key.accessKey, scope, signedNames,
                          auth::signHex(signingKey, stringToSign)));
}

std::string encodePath(std::string_view name) { return auth::uriEncode(name, false); }
std::string encodeQuery(std::string_view value) { return auth::uriEncode(value, true); }

}  // namespace ember::cold
