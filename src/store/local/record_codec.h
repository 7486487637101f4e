#pragma once
// Compact binary encoding of the local store's index keys and values. The byte layout is the
// on-disk format, specified in docs/formats/local-store.md: change both together, and bump
// kFormatVersion for any change an older reader could misread.
//
// Every value starts with a format version byte. Integers are LEB128 varints (signed ones
// zig-zag encoded), strings are a varint length followed by the bytes, ids are stored as their
// 16 raw bytes. Decoders never trust their input: a truncated or unknown value is kCorruption.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/object_store.h"

namespace ember::store::local {

inline constexpr uint8_t kFormatVersion = 2;
// Oldest format decoders accept. Version 2 appended fields (bucket metadata/lease, object kind,
// blocks, lease and attributes, part block ids); version 1 values decode with them empty.
inline constexpr uint8_t kMinFormatVersion = 1;
inline bool knownFormat(uint8_t v) { return v >= kMinFormatVersion && v <= kFormatVersion; }
inline constexpr size_t kIdBytes = 16;  // raw size of a 32-hex-char extent or version id
// Data CF index under which an object's external tail (part sizes + extent list) is stored.
inline constexpr uint32_t kTailIndex = 0xffffffffu;
// Objects with more part sizes + extents than this keep them out of the listing value.
inline constexpr size_t kMaxEmbeddedTail = 32;

// --- ids ---
// 32 lowercase hex chars -> 16 raw bytes; nullopt when `hex` is not such a string.
std::optional<std::string> rawFromHexId(std::string_view hex);
std::string hexFromRawId(std::string_view raw);
// A fresh random id (16 raw bytes), see newHexId().
std::string randomRawId();

// --- keys ---
// bucket '\0' key: a bucket's keys are contiguous and sort byte-wise by object key.
std::string objectKey(std::string_view bucket, std::string_view key);
// Iteration bounds [bucket '\0', bucket '\1') covering exactly one bucket's entries.
std::string bucketLowerBound(std::string_view bucket);
std::string bucketUpperBound(std::string_view bucket);
std::string uploadKey(std::string_view bucket, std::string_view key, std::string_view uploadId);
// uploadId '\0' BE32(number): parts sort by number within an upload.
std::string partKey(std::string_view uploadId, uint32_t number);
std::string partLowerBound(std::string_view uploadId);
std::string partUpperBound(std::string_view uploadId);
// versionRaw BE32(index): inline bytes of extent `index`, or the tail at kTailIndex.
std::string dataKey(std::string_view versionRaw, uint32_t index);
// Pending marks: 'F' fileIdRaw (an unreferenced data file) and 'R' versionRaw (a retired
// version whose files and data entries are waiting to be reclaimed).
std::string pendingFileKey(std::string_view fileIdRaw);
std::string pendingVersionKey(std::string_view versionRaw);
inline constexpr char kPendingFileTag = 'F';
inline constexpr char kPendingVersionTag = 'R';
// State byte stored in a pending file mark (informational: recovery treats both alike).
inline constexpr char kFileWriting = 'w';
inline constexpr char kFileReclaim = 'r';

// --- primitive encoder / decoder ---
class Encoder {
 public:
  void u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void varint(uint64_t v);
  void signedVarint(int64_t v);
  void string(std::string_view s);
  void raw(std::string_view s) { buf_.append(s); }
  void pairs(const StringPairs& p);
  std::string take() { return std::move(buf_); }
  std::string& buffer() { return buf_; }

 private:
  std::string buf_;
};

// Sticky-failure decoder: after the first malformed read every read returns a zero value and
// ok() is false, so callers check once at the end.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  uint8_t u8();
  uint64_t varint();
  int64_t signedVarint();
  std::string string();
  std::string_view raw(size_t n);
  StringPairs pairs();
  // A count of items about to be read, each at least `minItemBytes` long: rejects counts the
  // remaining input cannot hold, so corrupt input never triggers a huge allocation.
  size_t count(size_t minItemBytes);
  bool ok() const { return ok_; }
  bool atEnd() const { return in_.empty(); }
  void fail() { ok_ = false; in_ = {}; }

 private:
  std::string_view in_;
  bool ok_ = true;
};

// --- records ---
std::string encodeBucket(const BucketRecord& b);
Result<BucketRecord> decodeBucket(std::string_view name, std::string_view value);

struct EncodedObject {
  std::string value;  // the objects CF value
  std::string tail;   // the external tail for the data CF; empty when embedded in `value`
};
// REQUIRES: rec.versionId is 32 hex chars. Inline extents' bytes are not part of the encoding:
// they live in the data CF under dataKey(version, index).
EncodedObject encodeObject(const ObjectRecord& rec);

enum class Depth {
  kListing,  // bucket, key, size, etag, mtime, owner, checksums, checksumType, versionId
  kFull,     // everything; inline extents come without bytes; see `tailExternal`
};
struct DecodedObject {
  ObjectRecord record;
  bool tailExternal = false;  // kFull only: partSizes/extents must be read with decodeTail
};
Result<DecodedObject> decodeObject(std::string_view bucket, std::string_view key,
                                   std::string_view value, Depth depth);
// Fills rec.partSizes and rec.extents from an external tail.
Status decodeTail(std::string_view tail, ObjectRecord& rec);
// The raw version id of an encoded object value, without decoding the rest.
Result<std::string_view> peekVersionRaw(std::string_view value);

std::string encodeUpload(const UploadRecord& u);
Result<UploadRecord> decodeUpload(std::string_view value);

// Parts carry their inline bytes in the value (parts are few and read together).
std::string encodePart(const PartRecord& p);
Result<PartRecord> decodePart(std::string_view value);

// What reclaiming a retired version involves: its data files and its data CF entries.
struct RetiredVersion {
  std::string versionRaw;
  std::vector<std::string> fileIdsRaw;  // files of the version that no newer version reuses
  std::vector<uint32_t> dataIndices;    // data CF indices (inline extents, kTailIndex)
};
std::string encodeRetired(const RetiredVersion& r);
Result<RetiredVersion> decodeRetired(std::string_view versionRaw, std::string_view value);

}  // namespace ember::store::local
