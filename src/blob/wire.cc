#include "blob/wire.h"

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "common/digest.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "core/namespace.h"

namespace ember::blob {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Whole seconds, rounding toward minus infinity (Last-Modified has 1 s granularity).
int64_t seconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

bool parseUint(std::string_view s, uint64_t& out) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!isDigit(c)) {
      return false;
    }
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// A printable excerpt of a header value for error messages (no control bytes, bounded length).
std::string printable(std::string_view v) {
  std::string out;
  for (char c : v.substr(0, 128)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (v.size() > 128) {
    out += "...";
  }
  return out;
}

// Splits an ETag list header into its trimmed items.
std::vector<std::string_view> etagItems(std::string_view header) {
  std::vector<std::string_view> items;
  std::string_view rest = header;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = trimBlanks(rest.substr(0, comma));
    if (!item.empty()) {
      items.push_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return items;
}

bool isStar(const std::optional<std::string>& h) {
  return h && trimBlanks(*h) == "*";
}

bool matches(const std::optional<std::string>& h, std::string_view etag) {
  return h && core::etagMatches(*h, unquoteEtag(etag));
}

// The result of parsing one range header value.
enum class RangeForm { kOk, kMalformed, kInverted };

RangeForm parseRangeValue(std::string_view v, uint64_t& first, std::optional<uint64_t>& last) {
  v = trimBlanks(v);
  if (!v.starts_with("bytes=")) {
    return RangeForm::kMalformed;
  }
  v = trimBlanks(v.substr(6));
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) {
    return RangeForm::kMalformed;
  }
  std::string_view a = trimBlanks(v.substr(0, dash));
  std::string_view b = trimBlanks(v.substr(dash + 1));
  if (!parseUint(a, first)) {
    return RangeForm::kMalformed;  // also the suffix form "bytes=-n" and lists "a-b,c-d"
  }
  if (b.empty()) {
    last.reset();
    return RangeForm::kOk;
  }
  uint64_t e = 0;
  if (!parseUint(b, e)) {
    return RangeForm::kMalformed;
  }
  if (e < first) {
    return RangeForm::kInverted;
  }
  last = e;
  return RangeForm::kOk;
}

Result<std::optional<int64_t>> dateHeader(const Headers& headers, std::string_view name) {
  const std::string* v = headers.find(name);
  if (v == nullptr) {
    return std::optional<int64_t>();
  }
  std::optional<int64_t> ms = parseHttpDate(trimBlanks(*v));
  if (!ms) {
    return unexpected(Code::kInvalidHeader,
                      fmt::format("InvalidHeaderValue: {} '{}' is not an RFC 1123 date", name,
                                  printable(*v)));
  }
  return ms;
}

}  // namespace

// --- versions ---

Status checkApiVersion(std::string_view v) {
  if (v.empty()) {
    return Status::ok();
  }
  bool shape = v.size() == 10 && v[4] == '-' && v[7] == '-';
  for (size_t i = 0; shape && i < v.size(); ++i) {
    shape = i == 4 || i == 7 || isDigit(v[i]);
  }
  if (shape) {
    int month = (v[5] - '0') * 10 + (v[6] - '0');
    int day = (v[8] - '0') * 10 + (v[9] - '0');
    shape = month >= 1 && month <= 12 && day >= 1 && day <= 31;
  }
  if (!shape) {
    return makeError(Code::kInvalidHeader,
                     fmt::format("x-ms-version '{}' is not a version date (YYYY-MM-DD)",
                                 printable(v)));
  }
  if (v < kMinApiVersion) {  // same-length ISO dates compare correctly as strings
    return makeError(Code::kInvalidHeader,
                     fmt::format("x-ms-version {} is not supported; the oldest supported version "
                                 "is {}",
                                 v, kMinApiVersion));
  }
  return Status::ok();
}

// --- ranges ---

Result<std::optional<core::ByteRange>> parseBlobRange(const Headers& headers, uint64_t size) {
  const std::string* msRange = headers.find("x-ms-range");
  if (msRange != nullptr && trimBlanks(*msRange).empty()) {
    msRange = nullptr;  // an empty x-ms-range asks for nothing: fall back to Range
  }
  const std::string* range = msRange ? msRange : headers.find("range");
  if (range == nullptr) {
    return std::optional<core::ByteRange>();
  }
  uint64_t first = 0;
  std::optional<uint64_t> last;
  const RangeForm form = parseRangeValue(*range, first, last);
  if (form != RangeForm::kOk) {
    // An inverted range (end before start) is ignored in either header, as Azure(ite) does.
    if (msRange != nullptr && form == RangeForm::kMalformed) {
      return unexpected(Code::kInvalidHeader,
                        fmt::format("x-ms-range '{}' is not 'bytes=start-end' or 'bytes=start-'",
                                    printable(*msRange)));
    }
    return std::optional<core::ByteRange>();
  }
  if (first >= size) {
    return unexpected(Code::kInvalidRange,
                      "The range specified is invalid for the current size of the resource.");
  }
  uint64_t end = last ? std::min(*last, size - 1) : size - 1;
  return std::optional<core::ByteRange>(core::ByteRange{first, end - first + 1});
}

// --- metadata ---

bool validMetadataName(std::string_view name) {
  if (name.empty() || !(isAlpha(name[0]) || name[0] == '_')) {
    return false;
  }
  for (char c : name) {
    if (!(isAlpha(c) || isDigit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

Result<store::StringPairs> parseBlobMetadata(const Headers& headers) {
  constexpr std::string_view kPrefix = "x-ms-meta-";
  store::StringPairs out;
  size_t total = 0;
  for (const auto& f : headers.fields()) {
    if (f.name.size() < kPrefix.size() ||
        !iequals(std::string_view(f.name).substr(0, kPrefix.size()), kPrefix)) {
      continue;
    }
    std::string name = f.name.substr(kPrefix.size());
    if (!validMetadataName(name)) {
      return unexpected(Code::kInvalidHeader,
                        fmt::format("InvalidMetadata: metadata name '{}' is not a valid C# "
                                    "identifier",
                                    printable(name)));
    }
    for (const auto& [seen, value] : out) {
      if (iequals(seen, name)) {
        return unexpected(Code::kInvalidHeader,
                          fmt::format("InvalidMetadata: metadata name '{}' is given twice (names "
                                      "are case-insensitive)",
                                      name));
      }
    }
    total += name.size() + f.value.size();
    out.emplace_back(std::move(name), f.value);
  }
  if (total > kMaxMetadataBytes) {
    return unexpected(Code::kMetadataTooLarge,
                      fmt::format("metadata names and values total {} bytes; the limit is {}",
                                  total, kMaxMetadataBytes));
  }
  return out;
}

// --- conditions ---

Result<core::Conditions> parseBlobConditions(const Headers& headers, bool source) {
  std::string_view p = source ? "x-ms-source-" : "";
  auto name = [&](std::string_view base) { return fmt::format("{}{}", p, base); };
  core::Conditions c;
  if (const std::string* v = headers.find(name("if-match"))) {
    c.ifMatch = *v;
  }
  if (const std::string* v = headers.find(name("if-none-match"))) {
    c.ifNoneMatch = *v;
  }
  auto ims = dateHeader(headers, source ? "x-ms-source-if-modified-since" : "If-Modified-Since");
  EMBER_TRY(ims);
  c.ifModifiedSinceMs = *ims;
  auto ius =
      dateHeader(headers, source ? "x-ms-source-if-unmodified-since" : "If-Unmodified-Since");
  EMBER_TRY(ius);
  c.ifUnmodifiedSinceMs = *ius;
  return c;
}

namespace {

Status evalReadConditions(const core::Conditions& c, const store::ObjectRecord* current) {
  Status unsatisfiable(Code::kUnsupportedCondition,
                       "UnsatisfiableCondition: If-None-Match: * cannot be satisfied by a read");
  if (current == nullptr) {
    if (c.ifMatch) {
      return makeError(Code::kPreconditionFailed, "If-Match given but the blob does not exist");
    }
    if (isStar(c.ifNoneMatch)) {
      return unsatisfiable;
    }
    return Status::ok();
  }
  if (isStar(c.ifNoneMatch)) {
    return unsatisfiable;
  }
  int64_t modified = seconds(current->mtimeMs);
  if (c.ifMatch && !matches(c.ifMatch, current->etag)) {
    return makeError(Code::kPreconditionFailed, "If-Match did not match the blob's ETag");
  }
  if (c.ifUnmodifiedSinceMs && modified > seconds(*c.ifUnmodifiedSinceMs)) {
    return makeError(Code::kPreconditionFailed, "the blob was modified after If-Unmodified-Since");
  }
  // Each of the two "not modified" headers only answers 304 when the other one does not pass.
  std::optional<bool> noneMatchPass;
  if (c.ifNoneMatch) {
    noneMatchPass = !matches(c.ifNoneMatch, current->etag);
  }
  std::optional<bool> modifiedPass;
  if (c.ifModifiedSinceMs) {
    modifiedPass = modified > seconds(*c.ifModifiedSinceMs);
  }
  if (noneMatchPass == false && modifiedPass != true) {
    return makeError(Code::kNotModified, "If-None-Match matched the blob's ETag");
  }
  if (modifiedPass == false && noneMatchPass != true) {
    return makeError(Code::kNotModified, "the blob was not modified after If-Modified-Since");
  }
  return Status::ok();
}

Status evalWriteCombination(const core::Conditions& c) {
  Status multiple(Code::kUnsupportedCondition,
                  "MultipleConditionHeadersNotSupported: Multiple condition headers are not "
                  "supported.");
  if ((c.ifMatch && etagItems(*c.ifMatch).size() > 1) ||
      (c.ifNoneMatch && etagItems(*c.ifNoneMatch).size() > 1)) {
    return multiple;  // the Blob service takes one ETag per header
  }
  int count = int(c.ifMatch.has_value()) + int(c.ifNoneMatch.has_value()) +
              int(c.ifModifiedSinceMs.has_value()) + int(c.ifUnmodifiedSinceMs.has_value());
  int notModifiedKind = int(c.ifNoneMatch.has_value()) + int(c.ifModifiedSinceMs.has_value());
  if (count > 2 || (count == 2 && notModifiedKind == 1)) {
    return multiple;
  }
  return Status::ok();
}

Status evalWriteConditions(const core::Conditions& c, const store::ObjectRecord* current) {
  EMBER_TRY(evalWriteCombination(c));
  if (current == nullptr) {
    if (c.ifMatch && !c.ifNoneMatch) {
      // Also If-Match: *, which means "only if it exists" (Python's MatchConditions.IfPresent).
      return makeError(Code::kPreconditionFailed, "If-Match given but the blob does not exist");
    }
    return Status::ok();
  }
  int64_t modified = seconds(current->mtimeMs);
  if (c.ifNoneMatch) {
    if (isStar(c.ifNoneMatch)) {
      return makeError(Code::kAlreadyExists, "If-None-Match: * and the blob already exists");
    }
    if (matches(c.ifNoneMatch, current->etag)) {
      return makeError(Code::kPreconditionFailed, "If-None-Match matched the blob's ETag");
    }
    return Status::ok();
  }
  if (c.ifMatch) {
    if (!matches(c.ifMatch, current->etag)) {
      return makeError(Code::kPreconditionFailed, "If-Match did not match the blob's ETag");
    }
    return Status::ok();
  }
  if (c.ifModifiedSinceMs) {
    if (modified <= seconds(*c.ifModifiedSinceMs)) {
      return makeError(Code::kPreconditionFailed,
                       "the blob was not modified after If-Modified-Since");
    }
    return Status::ok();
  }
  if (c.ifUnmodifiedSinceMs && modified > seconds(*c.ifUnmodifiedSinceMs)) {
    return makeError(Code::kPreconditionFailed, "the blob was modified after If-Unmodified-Since");
  }
  return Status::ok();
}

}  // namespace

Status checkBlobConditions(const core::Conditions& c, const store::ObjectRecord* current,
                           bool read) {
  return read ? evalReadConditions(c, current) : evalWriteConditions(c, current);
}

Status checkContainerConditions(const core::Conditions& c, const store::BucketRecord& current) {
  if (c.ifMatch || c.ifNoneMatch) {
    return makeError(Code::kInvalidHeader,
                     fmt::format("UnsupportedHeader: {} is not supported for container operations",
                                 c.ifMatch ? "If-Match" : "If-None-Match"));
  }
  int64_t modified = seconds(containerLastModifiedMs(current));
  if (c.ifModifiedSinceMs && modified <= seconds(*c.ifModifiedSinceMs)) {
    return makeError(Code::kPreconditionFailed,
                     "the container was not modified after If-Modified-Since");
  }
  if (c.ifUnmodifiedSinceMs && modified > seconds(*c.ifUnmodifiedSinceMs)) {
    return makeError(Code::kPreconditionFailed,
                     "the container was modified after If-Unmodified-Since");
  }
  return Status::ok();
}

// --- formats ---

std::string_view unquoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

std::string quoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return std::string(etag);
  }
  return fmt::format("\"{}\"", etag);
}

std::string rfc1123(int64_t ms) { return formatHttpDate(ms); }

std::string iso8601Ticks(int64_t ms) {
  std::string s = formatIso8601(ms);  // "...SS.mmmZ"
  if (!s.empty() && s.back() == 'Z') {
    s.insert(s.size() - 1, "0000");
  }
  return s;
}

int64_t containerLastModifiedMs(const store::BucketRecord& bucket) {
  return bucket.mtimeMs != 0 ? bucket.mtimeMs : bucket.createdMs;
}

std::string containerEtag(const store::BucketRecord& bucket) {
  if (!bucket.etag.empty()) {
    return std::string(unquoteEtag(bucket.etag));
  }
  // 0x8 + 14 hex digits of the modification time in ms: stable until the next metadata write,
  // which stores a real etag.
  uint64_t t = static_cast<uint64_t>(containerLastModifiedMs(bucket)) & 0x00FFFFFFFFFFFFFFULL;
  return fmt::format("0x8{:014X}", t);
}

// --- block ids ---

Result<std::string> decodeBlockId(std::string_view b64) {
  auto raw = base64Decode(b64);
  if (!raw) {
    return unexpected(Code::kInvalidBlockId,
                      fmt::format("InvalidBlockId: block id '{}' is not valid base64",
                                  printable(b64)));
  }
  if (raw->empty() || raw->size() > kMaxBlockIdBytes) {
    return unexpected(Code::kInvalidBlockId,
                      fmt::format("InvalidBlockId: block id '{}' decodes to {} bytes; it must be "
                                  "1 to {}",
                                  printable(b64), raw->size(), kMaxBlockIdBytes));
  }
  return raw;
}

// --- include= ---

ListInclude parseListInclude(std::string_view value) {
  ListInclude inc;
  std::string_view rest = value;
  while (true) {
    size_t comma = rest.find(',');
    std::string item = toLower(trimBlanks(rest.substr(0, comma)));
    if (item == "metadata") {
      inc.metadata = true;
    } else if (item == "copy") {
      inc.copy = true;
    } else if (item == "uncommittedblobs") {
      inc.uncommittedBlobs = true;
    } else if (item == "snapshots") {
      inc.snapshots = true;
    } else if (item == "deleted") {
      inc.deleted = true;
    } else if (item == "versions") {
      inc.versions = true;
    } else if (item == "tags") {
      inc.tags = true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return inc;
}

}  // namespace ember::blob
