#include "auth/azure_shared_key.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "auth/azure_text.h"
#include "auth/sigv4.h"
#include "common/digest.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace ember::auth {

namespace {

using azure::constantTimeEquals;
using azure::malformed;
using azure::quoteStringToSign;
std::string printable(std::string_view s, size_t max = 128) { return azure::printable(s, max); }

constexpr std::string_view kSharedKey = "SharedKey";
constexpr std::string_view kSharedKeyLite = "SharedKeyLite";
constexpr std::string_view kMsPrefix = "x-ms-";
constexpr int64_t kMaxSkewSeconds = 15 * 60;

// The service's header-name collation (what azure-storage-blob 12.15 emulates in
// _storage_header_sort). '~' appears twice; the first position counts.
constexpr std::string_view kHeaderAlphabet =
    "-!#$%&*.^_|~+\"'(),/`~0123456789:;<=>?@"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz{}";

int headerWeight(char c) {
  size_t pos = kHeaderAlphabet.find(c);
  return pos == std::string_view::npos ? 256 + static_cast<unsigned char>(c)
                                       : static_cast<int>(pos);
}





// What varies between the forms of string to sign that clients produce.
struct Form {
  bool lite = false;
  bool signDate = false;   // Date signed although x-ms-date is present
  bool byteOrder = false;  // x-ms-* headers sorted by byte value
};

std::string headerLine(const Headers& headers, std::string_view name) {
  const std::string* value = headers.find(name);
  return value == nullptr ? std::string() : std::string(trimBlanks(*value));
}

// Empty when x-ms-date is present (unless the form signs it anyway).
std::string dateLine(const Headers& headers, const Form& form) {
  if (headers.has("x-ms-date") && !form.signDate) {
    return {};
  }
  return headerLine(headers, "date");
}

std::string contentLengthLine(const Headers& headers) {
  std::string value = headerLine(headers, "content-length");
  if (value != "0") {
    return value;
  }
  // Before 2015-02-21 a zero length was signed as "0"; ISO dates compare as strings.
  const std::string* version = headers.find("x-ms-version");
  bool old = version != nullptr && !trimBlanks(*version).empty() &&
             trimBlanks(*version) < std::string_view("2015-02-21");
  return old ? value : std::string();
}

// lowercase name -> values in arrival order
using MsHeaders = std::vector<std::pair<std::string, std::string>>;

MsHeaders collectMsHeaders(const Headers& headers, bool byteOrder) {
  std::map<std::string, std::string> joined;
  for (const Headers::Field& field : headers.fields()) {
    std::string name = toLower(trimBlanks(field.name));
    if (!name.starts_with(kMsPrefix)) {
      continue;
    }
    auto [it, inserted] = joined.try_emplace(std::move(name));
    if (!inserted) {
      it->second.push_back(',');
    }
    it->second += trimBlanks(field.value);
  }
  MsHeaders out(joined.begin(), joined.end());  // byte order
  if (!byteOrder) {
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return azureHeaderNameLess(a.first, b.first);
    });
  }
  return out;
}

std::string canonicalizedResource(const AzureRequest& in, bool lite) {
  std::string out = "/";
  out += in.account;
  out += in.rawPath.empty() ? std::string_view("/") : in.rawPath;
  std::vector<QueryParam> query = azure::parseAzureQuery(in.rawQuery);
  if (lite) {
    for (const QueryParam& p : query) {
      if (toLower(p.name) == "comp") {
        out += "?comp=";
        out += p.value;
        break;
      }
    }
    return out;
  }
  std::map<std::string, std::vector<std::string>> params;  // lowercase name -> values
  for (QueryParam& p : query) {
    params[toLower(p.name)].push_back(std::move(p.value));
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out.push_back('\n');
    out += name;
    out.push_back(':');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) {
        out.push_back(',');
      }
      out += values[i];
    }
  }
  return out;
}

std::string buildStringToSign(const AzureRequest& in, const Form& form) {
  const Headers& h = in.headers;
  std::string out(in.method);
  out.push_back('\n');
  auto line = [&out](std::string_view value) {
    out += value;
    out.push_back('\n');
  };
  if (form.lite) {
    line(headerLine(h, "content-md5"));
    line(headerLine(h, "content-type"));
    line(dateLine(h, form));
  } else {
    line(headerLine(h, "content-encoding"));
    line(headerLine(h, "content-language"));
    line(contentLengthLine(h));
    line(headerLine(h, "content-md5"));
    line(headerLine(h, "content-type"));
    line(dateLine(h, form));
    line(headerLine(h, "if-modified-since"));
    line(headerLine(h, "if-match"));
    line(headerLine(h, "if-none-match"));
    line(headerLine(h, "if-unmodified-since"));
    line(headerLine(h, "range"));
  }
  for (const auto& [name, value] : collectMsHeaders(h, form.byteOrder)) {
    out += name;
    out.push_back(':');
    out += value;
    out.push_back('\n');
  }
  out += canonicalizedResource(in, form.lite);
  return out;
}

// The forms worth trying for this request, canonical first, without duplicates.
std::vector<std::string> candidateStringsToSign(const AzureRequest& in, bool lite) {
  std::vector<std::string> out;
  auto add = [&](const Form& form) {
    std::string s = buildStringToSign(in, form);
    if (std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(std::move(s));
    }
  };
  add(Form{lite, false, false});
  if (in.headers.has("x-ms-date") && in.headers.has("date")) {
    add(Form{lite, true, false});
  }
  add(Form{lite, false, true});
  return out;
}

struct Presented {
  bool lite = false;
  std::string_view account;
  std::string_view signature;
};

Result<Presented> parseAuthorization(std::string_view value) {
  value = trimBlanks(value);
  size_t space = value.find(' ');
  std::string_view scheme = value.substr(0, space);
  Presented p;
  if (iequals(scheme, kSharedKeyLite)) {
    p.lite = true;
  } else if (!iequals(scheme, kSharedKey)) {
    return unexpected(malformed(fmt::format(
        "Authorization scheme '{}' is not SharedKey or SharedKeyLite", printable(scheme, 32))));
  }
  std::string_view rest =
      space == std::string_view::npos ? std::string_view() : trimBlanks(value.substr(space + 1));
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
    return unexpected(malformed(
        "Authorization header is not in the form '<scheme> <account-name>:<signature>'"));
  }
  p.account = rest.substr(0, colon);
  p.signature = rest.substr(colon + 1);
  if (p.account.find_first_of(" \t") != std::string_view::npos ||
      p.signature.find_first_of(" \t") != std::string_view::npos) {
    return unexpected(malformed(
        "Authorization header is not in the form '<scheme> <account-name>:<signature>'"));
  }
  return p;
}

Status checkRequestTime(const Headers& headers, int64_t nowSeconds) {
  const std::string* msDate = headers.find("x-ms-date");
  std::string_view name = msDate != nullptr ? "x-ms-date" : "Date";
  const std::string* value = msDate != nullptr ? msDate : headers.find("date");
  if (value == nullptr) {
    return malformed(
        "Request date header not specified: a SharedKey request needs x-ms-date or Date");
  }
  std::optional<int64_t> ms = parseHttpDate(trimBlanks(*value));
  if (!ms) {
    return malformed(fmt::format("The {} header value '{}' is not an RFC 1123 date", name,
                                 printable(*value, 64)));
  }
  int64_t skew = *ms / 1000 - nowSeconds;
  if (skew > kMaxSkewSeconds || skew < -kMaxSkewSeconds) {
    return Status(Code::kRequestTimeSkewed,
                  fmt::format("Request date header too old or too far in the future: {} '{}' "
                              "differs from the server time by {} s; the limit is 15 minutes",
                              name, printable(*value, 64), skew));
  }
  return Status::ok();
}

}  // namespace

bool hasSharedKey(const Headers& headers) {
  const std::string* value = headers.find("authorization");
  if (value == nullptr) {
    return false;
  }
  std::string_view v = trimBlanks(*value);
  std::string_view scheme = v.substr(0, v.find(' '));
  return iequals(scheme, kSharedKey) || iequals(scheme, kSharedKeyLite);
}

std::string sharedKeyStringToSign(const AzureRequest& in, bool lite) {
  return buildStringToSign(in, Form{lite, false, false});
}

Result<std::string> verifySharedKey(const AzureRequest& in, const AzureAccountLookup& lookup) {
  const std::string* authorization = in.headers.find("authorization");
  if (authorization == nullptr) {
    return unexpected(Code::kUnauthenticated, "the request carries no Authorization header");
  }
  auto presented = parseAuthorization(*authorization);
  EMBER_TRY(presented);
  Status time = checkRequestTime(in.headers, in.nowSeconds);
  if (!time && time.code() == Code::kAuthMalformed) {
    return unexpected(std::move(time));
  }
  if (presented->account != in.account) {
    return unexpected(
        Code::kSignatureMismatch,
        fmt::format("The account '{}' in the Authorization header is not the account '{}' the "
                    "request addresses.",
                    printable(presented->account), printable(in.account)));
  }
  const AzureAccount* account = lookup ? lookup(presented->account) : nullptr;
  if (account == nullptr || account->keys.empty()) {
    return unexpected(Code::kSignatureMismatch,
                      fmt::format("The account '{}' in the Authorization header is not known.",
                                  printable(presented->account)));
  }
  if (!time) {
    return unexpected(std::move(time));
  }
  std::vector<std::string> candidates = candidateStringsToSign(in, presented->lite);
  bool match = false;
  for (const std::string& stringToSign : candidates) {
    for (const std::string& key : account->keys) {
      // No early exit: every candidate is computed, so timing does not tell which one matched.
      match = constantTimeEquals(signAzure(key, stringToSign), presented->signature) || match;
    }
  }
  if (!match) {
    return unexpected(
        Code::kSignatureMismatch,
        fmt::format("The MAC signature found in the HTTP request '{}' is not the same as any "
                    "computed signature. Server used following string to sign: '{}'.",
                    printable(presented->signature, 64), quoteStringToSign(candidates.front())));
  }
  return account->name;
}

std::string signAzure(std::string_view key, std::string_view stringToSign) {
  return base64Encode(hmacSha256Raw(key, stringToSign));
}

bool azureHeaderNameLess(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int wa = headerWeight(a[i]);
    int wb = headerWeight(b[i]);
    if (wa != wb) {
      return wa < wb;
    }
  }
  return a.size() < b.size();
}

}  // namespace ember::auth
