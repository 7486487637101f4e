// Pure rules of the namespace: names, preconditions, ranges, ETag matching.
#include <charconv>
#include <cstring>
#include <random>

#include "common/strings.h"
#include "common/time_util.h"
#include "core/lease.h"
#include "core/namespace.h"

namespace ember::core {

bool validBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return false;
  }
  int dots = 0;
  bool allDigitsAndDots = true;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!alnum(c) && c != '-' && c != '.') {
      return false;
    }
    if (c == '.') {
      ++dots;
      if (name[i - 1] == '.' || name[i - 1] == '-' || name[i + 1] == '-') {
        return false;  // "..", "-." and ".-" are not allowed
      }
    } else if (!(c >= '0' && c <= '9')) {
      allDigitsAndDots = false;
    }
  }
  if (dots == 3 && allDigitsAndDots) {
    return false;  // formatted like an IPv4 address
  }
  if (name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") ||
      name.ends_with("--ol-s3")) {
    return false;
  }
  return true;
}

Status validateKey(std::string_view key) {
  if (key.empty()) {
    return makeError(Code::kInvalidArgument, "object key must not be empty");
  }
  if (key.size() > 1024) {
    return makeError(Code::kKeyTooLong, "object key is longer than 1024 bytes");
  }
  // UTF-8 validation (no overlongs, no surrogates, max U+10FFFF).
  const auto* s = reinterpret_cast<const unsigned char*>(key.data());
  size_t n = key.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return makeError(Code::kInvalidKey, "object key is not valid UTF-8");
    }
    if (i + len > n) {
      return makeError(Code::kInvalidKey, "object key is not valid UTF-8");
    }
    for (size_t j = 1; j < len; ++j) {
      if ((s[i + j] & 0xC0) != 0x80) {
        return makeError(Code::kInvalidKey, "object key is not valid UTF-8");
      }
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return makeError(Code::kInvalidKey, "object key is not valid UTF-8");
    }
    i += len;
  }
  return Status::ok();
}

namespace {

int64_t seconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

}  // namespace

bool etagMatches(std::string_view headerValue, std::string_view etag) {
  std::string_view rest = headerValue;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = trimBlanks(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item == "*") {
      return true;
    }
    if (item.starts_with("W/")) {
      item.remove_prefix(2);
    }
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    }
    if (item == etag) {
      return true;
    }
  }
  return false;
}

Status checkReadConditions(const Conditions& c, const ObjectRecord& rec) {
  int64_t modified = seconds(rec.mtimeMs);
  if (c.ifMatch) {
    if (!etagMatches(*c.ifMatch, rec.etag)) {
      return makeError(Code::kPreconditionFailed, "If-Match did not match");
    }
  } else if (c.ifUnmodifiedSinceMs && modified > seconds(*c.ifUnmodifiedSinceMs)) {
    return makeError(Code::kPreconditionFailed, "object modified since If-Unmodified-Since");
  }
  if (c.ifNoneMatch) {
    if (etagMatches(*c.ifNoneMatch, rec.etag)) {
      return makeError(Code::kNotModified, "If-None-Match matched");
    }
  } else if (c.ifModifiedSinceMs && modified <= seconds(*c.ifModifiedSinceMs)) {
    return makeError(Code::kNotModified, "object not modified since If-Modified-Since");
  }
  return Status::ok();
}

Status checkWriteConditions(const Conditions& c, const ObjectRecord* current) {
  if (c.ifNoneMatch) {
    if (current && etagMatches(*c.ifNoneMatch, current->etag)) {
      return makeError(Code::kPreconditionFailed, "If-None-Match: the object already exists");
    }
  }
  if (c.ifMatch) {
    if (!current) {
      return makeError(Code::kNoSuchKey, "If-Match given but the object does not exist");
    }
    if (!etagMatches(*c.ifMatch, current->etag)) {
      return makeError(Code::kPreconditionFailed, "If-Match did not match");
    }
  }
  if (current && c.ifUnmodifiedSinceMs &&
      seconds(current->mtimeMs) > seconds(*c.ifUnmodifiedSinceMs)) {
    return makeError(Code::kPreconditionFailed, "object modified since If-Unmodified-Since");
  }
  // A Blob lease guards the object against every writer; S3 requests cannot name a lease.
  if (current && leaseActive(leaseState(current->lease, nowMillis()))) {
    return makeError(Code::kLeaseIdMissing,
                     "The object is leased through the Blob API; release the lease first.");
  }
  return Status::ok();
}

Result<std::optional<ByteRange>> parseRange(std::string_view header, uint64_t size) {
  std::string_view h = trimBlanks(header);
  if (!h.starts_with("bytes=")) {
    return std::optional<ByteRange>();
  }
  h.remove_prefix(6);
  h = trimBlanks(h);
  if (h.find(',') != std::string_view::npos) {
    return std::optional<ByteRange>();  // multiple ranges: S3 serves the whole object
  }
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) {
    return std::optional<ByteRange>();
  }
  std::string_view a = trimBlanks(h.substr(0, dash));
  std::string_view b = trimBlanks(h.substr(dash + 1));
  auto parseNum = [](std::string_view s, uint64_t& out) {
    if (s.empty()) {
      return false;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  uint64_t first = 0;
  uint64_t last = 0;
  if (a.empty()) {
    uint64_t suffix = 0;
    if (!parseNum(b, suffix)) {
      return std::optional<ByteRange>();
    }
    if (suffix == 0 || size == 0) {
      return unexpected(Code::kInvalidRange, "The requested range is not satisfiable");
    }
    suffix = std::min(suffix, size);
    return std::optional<ByteRange>(ByteRange{size - suffix, suffix});
  }
  if (!parseNum(a, first)) {
    return std::optional<ByteRange>();
  }
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!parseNum(b, last) || last < first) {
    return std::optional<ByteRange>();  // syntactically invalid: ignored (RFC 7233)
  }
  if (first >= size) {
    return unexpected(Code::kInvalidRange, "The requested range is not satisfiable");
  }
  last = std::min(last, size - 1);
  return std::optional<ByteRange>(ByteRange{first, last - first + 1});
}

Result<ByteRange> parseCopyRange(std::string_view header, uint64_t size) {
  auto bad = [&] {
    return unexpected(Code::kInvalidArgument,
                      "The x-amz-copy-source-range value must be of the form bytes=first-last "
                      "where first and last are the zero-based offsets of the first and last "
                      "bytes to copy, within the source object of size " +
                          std::to_string(size));
  };
  std::string_view h = trimBlanks(header);
  if (!h.starts_with("bytes=")) {
    return bad();
  }
  h.remove_prefix(6);
  size_t dash = h.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == h.size()) {
    return bad();
  }
  uint64_t first = 0;
  uint64_t last = 0;
  std::string_view a = h.substr(0, dash);
  std::string_view b = h.substr(dash + 1);
  auto [pa, ea] = std::from_chars(a.data(), a.data() + a.size(), first);
  auto [pb, eb] = std::from_chars(b.data(), b.data() + b.size(), last);
  if (ea != std::errc() || eb != std::errc() || pa != a.data() + a.size() ||
      pb != b.data() + b.size() || last < first || last >= size) {
    return bad();
  }
  return ByteRange{first, last - first + 1};
}

std::string newId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  uint64_t a = rng();
  uint64_t b = rng();
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (i * 4)) & 0xF];
    out[16 + i] = kHex[(b >> (i * 4)) & 0xF];
  }
  return out;
}

std::string newBucketEtag() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "0x";
  uint64_t v = rng();
  for (int i = 0; i < 16; ++i) {
    out += kHex[(v >> (i * 4)) & 0xF];
  }
  return out;
}

}  // namespace ember::core
