#include "store/local/record_codec.h"

#include "store/record_util.h"

namespace ember::store::local {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr uint8_t kFlagTailExternal = 0x01;

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

void appendBigEndian32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

Status corrupt(std::string_view what) {
  return makeError(Code::kCorruption, "malformed " + std::string(what) + " record");
}

void encodeContent(Encoder& e, const ContentHeaders& c) {
  e.string(c.contentType);
  e.string(c.contentEncoding);
  e.string(c.contentDisposition);
  e.string(c.contentLanguage);
  e.string(c.cacheControl);
  e.string(c.expires);
}

void decodeContent(Decoder& d, ContentHeaders& c) {
  c.contentType = d.string();
  c.contentEncoding = d.string();
  c.contentDisposition = d.string();
  c.contentLanguage = d.string();
  c.cacheControl = d.string();
  c.expires = d.string();
}

// The variable-length end of an object record: part sizes and the extent list.
void encodeTailBody(Encoder& e, const ObjectRecord& rec) {
  e.varint(rec.partSizes.size());
  for (uint64_t s : rec.partSizes) {
    e.varint(s);
  }
  e.varint(rec.extents.size());
  for (const Extent& x : rec.extents) {
    e.u8(static_cast<uint8_t>(x.kind));
    e.varint(x.size);
    if (x.kind == Extent::Kind::kFile) {
      // encodeObject's callers validated the id; a bad one here is a programming error that
      // would corrupt the index, so it is stored as zeros and caught by decode.
      e.raw(rawFromHexId(x.id).value_or(std::string(kIdBytes, '\0')));
    }
  }
}

bool decodeTailBody(Decoder& d, ObjectRecord& rec) {
  size_t parts = d.count(1);
  rec.partSizes.reserve(parts);
  for (size_t i = 0; i < parts && d.ok(); ++i) {
    rec.partSizes.push_back(d.varint());
  }
  size_t extents = d.count(2);
  rec.extents.reserve(extents);
  for (size_t i = 0; i < extents && d.ok(); ++i) {
    Extent x;
    uint8_t kind = d.u8();
    if (kind > static_cast<uint8_t>(Extent::Kind::kFile)) {
      d.fail();
      break;
    }
    x.kind = static_cast<Extent::Kind>(kind);
    x.size = d.varint();
    if (x.kind == Extent::Kind::kFile) {
      x.id = hexFromRawId(d.raw(kIdBytes));
    }
    rec.extents.push_back(std::move(x));
  }
  return d.ok();
}

void encodeLease(Encoder& e, const LeaseRecord& l) {
  e.string(l.id);
  e.signedVarint(l.durationSec);
  e.signedVarint(l.expiresMs);
  e.signedVarint(l.breakAtMs);
  e.u8(l.released ? 1 : 0);
}

void decodeLease(Decoder& d, LeaseRecord& l) {
  l.id = d.string();
  l.durationSec = static_cast<int32_t>(d.signedVarint());
  l.expiresMs = d.signedVarint();
  l.breakAtMs = d.signedVarint();
  l.released = d.u8() != 0;
}

// Format 2 fields of an object value, after the (embedded) tail.
void encodeObjectExt(Encoder& e, const ObjectRecord& rec) {
  e.u8(static_cast<uint8_t>(rec.kind));
  e.signedVarint(rec.createdMs);
  e.string(rec.contentMd5);
  e.u8(rec.sealed ? 1 : 0);
  e.varint(rec.blockCount);
  e.varint(rec.blockIds.size());
  for (const std::string& id : rec.blockIds) {
    e.string(id);
  }
  encodeLease(e, rec.lease);
  e.pairs(rec.attrs);
}

void decodeObjectExt(Decoder& d, ObjectRecord& rec) {
  uint8_t kind = d.u8();
  if (kind > static_cast<uint8_t>(ObjectKind::kAppend)) {
    d.fail();
    return;
  }
  rec.kind = static_cast<ObjectKind>(kind);
  rec.createdMs = d.signedVarint();
  rec.contentMd5 = d.string();
  rec.sealed = d.u8() != 0;
  uint64_t blocks = d.varint();
  if (blocks > UINT32_MAX) {
    d.fail();
    return;
  }
  rec.blockCount = static_cast<uint32_t>(blocks);
  size_t ids = d.count(1);
  rec.blockIds.reserve(ids);
  for (size_t i = 0; i < ids && d.ok(); ++i) {
    rec.blockIds.push_back(d.string());
  }
  decodeLease(d, rec.lease);
  rec.attrs = d.pairs();
}

}  // namespace

// --- ids ---

std::optional<std::string> rawFromHexId(std::string_view hex) {
  if (hex.size() != 2 * kIdBytes) {
    return std::nullopt;
  }
  std::string raw(kIdBytes, '\0');
  for (size_t i = 0; i < kIdBytes; ++i) {
    int hi = hexValue(hex[2 * i]);
    int lo = hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    raw[i] = static_cast<char>((hi << 4) | lo);
  }
  return raw;
}

std::string hexFromRawId(std::string_view raw) {
  std::string hex;
  hex.reserve(raw.size() * 2);
  for (char c : raw) {
    auto b = static_cast<uint8_t>(c);
    hex.push_back(kHexDigits[b >> 4]);
    hex.push_back(kHexDigits[b & 0x0f]);
  }
  return hex;
}

std::string randomRawId() {
  // O_EXCL on data file creation makes even an id collision harmless (it fails the write).
  return *rawFromHexId(newHexId());
}

// --- keys ---

std::string objectKey(std::string_view bucket, std::string_view key) {
  std::string k;
  k.reserve(bucket.size() + 1 + key.size());
  k.append(bucket);
  k.push_back('\0');
  k.append(key);
  return k;
}

std::string bucketLowerBound(std::string_view bucket) {
  std::string k(bucket);
  k.push_back('\0');
  return k;
}

std::string bucketUpperBound(std::string_view bucket) {
  std::string k(bucket);
  k.push_back('\1');
  return k;
}

std::string uploadKey(std::string_view bucket, std::string_view key, std::string_view uploadId) {
  std::string k = objectKey(bucket, key);
  k.push_back('\0');
  k.append(uploadId);
  return k;
}

std::string partKey(std::string_view uploadId, uint32_t number) {
  std::string k = partLowerBound(uploadId);
  appendBigEndian32(k, number);
  return k;
}

std::string partLowerBound(std::string_view uploadId) {
  std::string k(uploadId);
  k.push_back('\0');
  return k;
}

std::string partUpperBound(std::string_view uploadId) {
  std::string k(uploadId);
  k.push_back('\1');
  return k;
}

std::string dataKey(std::string_view versionRaw, uint32_t index) {
  std::string k(versionRaw);
  appendBigEndian32(k, index);
  return k;
}

std::string pendingFileKey(std::string_view fileIdRaw) {
  std::string k(1, kPendingFileTag);
  k.append(fileIdRaw);
  return k;
}

std::string pendingVersionKey(std::string_view versionRaw) {
  std::string k(1, kPendingVersionTag);
  k.append(versionRaw);
  return k;
}

// --- Encoder / Decoder ---

void Encoder::varint(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<char>(v));
}

void Encoder::signedVarint(int64_t v) {
  varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Encoder::string(std::string_view s) {
  varint(s.size());
  buf_.append(s);
}

void Encoder::pairs(const StringPairs& p) {
  varint(p.size());
  for (const auto& [k, v] : p) {
    string(k);
    string(v);
  }
}

uint8_t Decoder::u8() {
  if (in_.empty()) {
    fail();
    return 0;
  }
  auto v = static_cast<uint8_t>(in_.front());
  in_.remove_prefix(1);
  return v;
}

uint64_t Decoder::varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in_.empty()) {
      break;
    }
    auto b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      return v;
    }
  }
  fail();
  return 0;
}

int64_t Decoder::signedVarint() {
  uint64_t z = varint();
  return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

std::string_view Decoder::raw(size_t n) {
  if (in_.size() < n) {
    fail();
    return {};
  }
  std::string_view v = in_.substr(0, n);
  in_.remove_prefix(n);
  return v;
}

std::string Decoder::string() {
  uint64_t n = varint();
  if (n > in_.size()) {
    fail();
    return {};
  }
  return std::string(raw(static_cast<size_t>(n)));
}

size_t Decoder::count(size_t minItemBytes) {
  uint64_t n = varint();
  if (minItemBytes > 0 && n > in_.size() / minItemBytes) {
    fail();
    return 0;
  }
  return static_cast<size_t>(n);
}

StringPairs Decoder::pairs() {
  StringPairs p;
  size_t n = count(2);
  p.reserve(n);
  for (size_t i = 0; i < n && ok_; ++i) {
    std::string k = string();
    std::string v = string();
    p.emplace_back(std::move(k), std::move(v));
  }
  return p;
}

// --- buckets ---

std::string encodeBucket(const BucketRecord& b) {
  Encoder e;
  e.u8(kFormatVersion);
  e.signedVarint(b.createdMs);
  e.string(b.owner);
  e.string(b.region);
  e.pairs(b.userMeta);
  e.string(b.etag);
  e.signedVarint(b.mtimeMs);
  encodeLease(e, b.lease);
  return e.take();
}

Result<BucketRecord> decodeBucket(std::string_view name, std::string_view value) {
  Decoder d(value);
  BucketRecord b;
  b.name = std::string(name);
  const uint8_t version = d.u8();
  if (!knownFormat(version)) {
    return unexpected(corrupt("bucket"));
  }
  b.createdMs = d.signedVarint();
  b.owner = d.string();
  b.region = d.string();
  if (version >= 2) {
    b.userMeta = d.pairs();
    b.etag = d.string();
    b.mtimeMs = d.signedVarint();
    decodeLease(d, b.lease);
  }
  if (!d.ok()) {
    return unexpected(corrupt("bucket"));
  }
  return b;
}

// --- objects ---

EncodedObject encodeObject(const ObjectRecord& rec) {
  EncodedObject out;
  bool external = rec.partSizes.size() + rec.extents.size() > kMaxEmbeddedTail;
  Encoder e;
  e.buffer().reserve(96 + rec.etag.size() + rec.owner.size() + 32 * rec.extents.size());
  e.u8(kFormatVersion);
  e.u8(external ? kFlagTailExternal : 0);
  e.raw(rawFromHexId(rec.versionId).value_or(std::string(kIdBytes, '\0')));
  // Listing fields first so that a listing decode stops early.
  e.varint(rec.size);
  e.string(rec.etag);
  e.signedVarint(rec.mtimeMs);
  e.string(rec.owner);
  e.pairs(rec.checksums);
  e.string(rec.checksumType);
  encodeContent(e, rec.content);
  e.pairs(rec.userMeta);
  if (external) {
    Encoder t;
    t.u8(kFormatVersion);
    encodeTailBody(t, rec);
    out.tail = t.take();
  } else {
    encodeTailBody(e, rec);
  }
  encodeObjectExt(e, rec);
  out.value = e.take();
  return out;
}

Result<DecodedObject> decodeObject(std::string_view bucket, std::string_view key,
                                   std::string_view value, Depth depth) {
  Decoder d(value);
  DecodedObject out;
  ObjectRecord& r = out.record;
  const uint8_t version = d.u8();
  if (!knownFormat(version)) {
    return unexpected(corrupt("object"));
  }
  uint8_t flags = d.u8();
  r.bucket = std::string(bucket);
  r.key = std::string(key);
  r.versionId = hexFromRawId(d.raw(kIdBytes));
  r.size = d.varint();
  r.etag = d.string();
  r.mtimeMs = d.signedVarint();
  r.owner = d.string();
  r.checksums = d.pairs();
  r.checksumType = d.string();
  if (depth == Depth::kFull) {
    decodeContent(d, r.content);
    r.userMeta = d.pairs();
    out.tailExternal = (flags & kFlagTailExternal) != 0;
    if (!out.tailExternal) {
      decodeTailBody(d, r);
    }
    if (version >= 2) {
      decodeObjectExt(d, r);
    }
  }
  if (!d.ok()) {
    return unexpected(corrupt("object"));
  }
  return out;
}

Status decodeTail(std::string_view tail, ObjectRecord& rec) {
  Decoder d(tail);
  if (!knownFormat(d.u8()) || !decodeTailBody(d, rec)) {
    return corrupt("object tail");
  }
  return Status::ok();
}

Result<std::string_view> peekVersionRaw(std::string_view value) {
  if (value.size() < 2 + kIdBytes || !knownFormat(static_cast<uint8_t>(value[0]))) {
    return unexpected(corrupt("object"));
  }
  return value.substr(2, kIdBytes);
}

// --- uploads ---

std::string encodeUpload(const UploadRecord& u) {
  Encoder e;
  e.u8(kFormatVersion);
  e.string(u.bucket);
  e.string(u.key);
  e.string(u.uploadId);
  e.signedVarint(u.initiatedMs);
  e.string(u.owner);
  encodeContent(e, u.content);
  e.pairs(u.userMeta);
  e.string(u.checksumAlgorithm);
  e.string(u.checksumType);
  return e.take();
}

Result<UploadRecord> decodeUpload(std::string_view value) {
  Decoder d(value);
  UploadRecord u;
  if (!knownFormat(d.u8())) {
    return unexpected(corrupt("upload"));
  }
  u.bucket = d.string();
  u.key = d.string();
  u.uploadId = d.string();
  u.initiatedMs = d.signedVarint();
  u.owner = d.string();
  decodeContent(d, u.content);
  u.userMeta = d.pairs();
  u.checksumAlgorithm = d.string();
  u.checksumType = d.string();
  if (!d.ok()) {
    return unexpected(corrupt("upload"));
  }
  return u;
}

// --- parts ---

std::string encodePart(const PartRecord& p) {
  Encoder e;
  e.u8(kFormatVersion);
  e.varint(p.number);
  e.varint(p.size);
  e.string(p.etag);
  e.signedVarint(p.mtimeMs);
  e.pairs(p.checksums);
  e.u8(static_cast<uint8_t>(p.extent.kind));
  e.varint(p.extent.size);
  if (p.extent.kind == Extent::Kind::kFile) {
    e.raw(rawFromHexId(p.extent.id).value_or(std::string(kIdBytes, '\0')));
  } else {
    e.string(p.extent.data);
  }
  e.string(p.blockId);
  return e.take();
}

Result<PartRecord> decodePart(std::string_view value) {
  Decoder d(value);
  PartRecord p;
  const uint8_t version = d.u8();
  if (!knownFormat(version)) {
    return unexpected(corrupt("part"));
  }
  uint64_t number = d.varint();
  if (number > UINT32_MAX) {
    d.fail();
  }
  p.number = static_cast<uint32_t>(number);
  p.size = d.varint();
  p.etag = d.string();
  p.mtimeMs = d.signedVarint();
  p.checksums = d.pairs();
  uint8_t kind = d.u8();
  if (kind > static_cast<uint8_t>(Extent::Kind::kFile)) {
    d.fail();
  }
  p.extent.kind = static_cast<Extent::Kind>(kind);
  p.extent.size = d.varint();
  if (p.extent.kind == Extent::Kind::kFile) {
    p.extent.id = hexFromRawId(d.raw(kIdBytes));
  } else {
    p.extent.data = d.string();
  }
  if (version >= 2) {
    p.blockId = d.string();
  }
  if (!d.ok()) {
    return unexpected(corrupt("part"));
  }
  return p;
}

// --- retired versions ---

std::string encodeRetired(const RetiredVersion& r) {
  Encoder e;
  e.u8(kFormatVersion);
  e.varint(r.fileIdsRaw.size());
  for (const std::string& id : r.fileIdsRaw) {
    e.raw(id);
  }
  e.varint(r.dataIndices.size());
  for (uint32_t i : r.dataIndices) {
    e.varint(i);
  }
  return e.take();
}

Result<RetiredVersion> decodeRetired(std::string_view versionRaw, std::string_view value) {
  Decoder d(value);
  RetiredVersion r;
  r.versionRaw = std::string(versionRaw);
  if (!knownFormat(d.u8())) {
    return unexpected(corrupt("retired version"));
  }
  size_t files = d.count(kIdBytes);
  for (size_t i = 0; i < files && d.ok(); ++i) {
    r.fileIdsRaw.emplace_back(d.raw(kIdBytes));
  }
  size_t indices = d.count(1);
  for (size_t i = 0; i < indices && d.ok(); ++i) {
    uint64_t idx = d.varint();
    if (idx > UINT32_MAX) {
      d.fail();
    }
    r.dataIndices.push_back(static_cast<uint32_t>(idx));
  }
  if (!d.ok()) {
    return unexpected(corrupt("retired version"));
  }
  return r;
}

}  // namespace ember::store::local
