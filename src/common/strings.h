#pragma once
// Small string helpers shared by the parsers (HTTP fields, SigV4, aws-chunked, ranges).

#include <string_view>

namespace ember {

inline bool isBlank(char c) { return c == ' ' || c == '\t'; }

// Strips spaces and tabs at both ends (HTTP optional whitespace).
inline std::string_view trimBlanks(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && isBlank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Value of one hex digit (either case), or -1.
inline int hexDigitValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace ember
