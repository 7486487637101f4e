#include "resp/glob.h"

#include <cstddef>

namespace ember::resp {

namespace {

unsigned char fold(unsigned char c, bool noCase) {
  return (noCase && c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

// Matches one pattern element (not '*') at p against byte c. Sets `next` to the element's end. A '[' without
// its closing ']' is the rest of the pattern as a class, as Redis treats it.
bool matchOne(std::string_view pat, size_t p, unsigned char c, bool noCase, size_t& next) {
  unsigned char t = fold(c, noCase);
  if (pat[p] == '?') {
    next = p + 1;
    return true;
  }
  if (pat[p] == '\\' && p + 1 < pat.size()) {
    next = p + 2;
    return fold(static_cast<unsigned char>(pat[p + 1]), noCase) == t;
  }
  if (pat[p] != '[') {
    next = p + 1;
    return fold(static_cast<unsigned char>(pat[p]), noCase) == t;
  }
  size_t i = p + 1;
  bool negate = i < pat.size() && pat[i] == '^';
  if (negate) {
    ++i;
  }
  bool hit = false;
  while (i < pat.size() && pat[i] != ']') {
    if (pat[i] == '\\' && i + 1 < pat.size()) {
      hit |= fold(static_cast<unsigned char>(pat[i + 1]), noCase) == t;
      i += 2;
    } else if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      unsigned char lo = fold(static_cast<unsigned char>(pat[i]), noCase);
      unsigned char hi = fold(static_cast<unsigned char>(pat[i + 2]), noCase);
      if (lo > hi) {
        std::swap(lo, hi);
      }
      hit |= t >= lo && t <= hi;
      i += 3;
    } else {
      hit |= fold(static_cast<unsigned char>(pat[i]), noCase) == t;
      ++i;
    }
  }
  next = i < pat.size() ? i + 1 : i;
  return negate ? !hit : hit;
}

}  // namespace

bool globMatch(std::string_view pattern, std::string_view text, bool noCase) {
  size_t p = 0;
  size_t t = 0;
  size_t starP = std::string_view::npos;  // pattern position just after the last '*'
  size_t starT = 0;                       // text position that '*' is currently matched up to
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') {
        ++p;
      }
      if (p == pattern.size()) {
        return true;
      }
      starP = p;
      starT = t;
      continue;
    }
    size_t next = 0;
    if (p < pattern.size() && matchOne(pattern, p, static_cast<unsigned char>(text[t]), noCase, next)) {
      p = next;
      ++t;
      continue;
    }
    if (starP == std::string_view::npos) {
      return false;
    }
    p = starP;  // let the last '*' swallow one more byte and retry
    t = ++starT;
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

}  // namespace ember::resp
