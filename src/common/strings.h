#pragma once
// Small string helpers shared by the parsers (HTTP fields, SigV4, aws-chunked, ranges).

#include <cstddef>
#include <string>
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

// Client-supplied text quoted in an error message: at most `max` bytes, anything but printable
// ASCII replaced by '?', "..." appended when cut.
inline std::string printableExcerpt(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > max) {
    out += "...";
  }
  return out;
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
