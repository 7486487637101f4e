#pragma once
// Helpers shared by the Azure SharedKey and SAS verifiers: quoting client text into error
// messages (bounded, control bytes replaced) and constant-time signature comparison.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>

#include "auth/sigv4.h"
#include "common/status.h"
#include "common/strings.h"

namespace ember::auth::azure {

inline constexpr size_t kMaxQuotedStringToSign = 4096;

// Client-supplied text quoted in an error message: bounded, control characters replaced.
inline std::string printable(std::string_view s, size_t max) { return printableExcerpt(s, max); }

// The string to sign as Azure reports it: line breaks kept, other control bytes replaced, bounded.
inline std::string quoteStringToSign(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxQuotedStringToSign)) {
    out.push_back(c == '\n' || (c >= 0x20 && c < 0x7f) ? c : '?');
  }
  if (s.size() > kMaxQuotedStringToSign) {
    out += "...";
  }
  return out;
}

inline bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Query parameters as Azure reads them: '+' is a space (Go clients such as rclone send
// "prefix=sp+ace"; the Python SDK always escapes '+' as %2B), then %XX decoding.
inline std::vector<QueryParam> parseAzureQuery(std::string_view rawQuery) {
  std::string plus(rawQuery);
  for (char& ch : plus) {
    if (ch == '+') {
      ch = ' ';
    }
  }
  return parseQueryLenient(plus);
}

inline Status malformed(std::string message) {
  return Status(Code::kAuthMalformed, std::move(message));
}

}  // namespace ember::auth::azure
