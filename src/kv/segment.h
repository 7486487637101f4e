#pragma once
// The KV log's on-disk format (docs/formats/kv-segments.md): segment files of checksummed records, and the
// pieces that read and write them. Little-endian throughout (the byte order of every target Ember builds for).
//
// A segment file: a 16-byte header (magic "EKVSEG01", u32 version, u32 segment id) followed by records:
//   u32 check      low 32 bits of XXH3_64bits over the record from byte 4 to its end
//   u8  type       1 = put, 2 = tombstone
//   u8  flags      0
//   u16 keyLen
//   u32 valueLen   0 for a tombstone
//   i64 expireAt   absolute Unix ms; 0 = none
//   key bytes, value bytes

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ember::kv {

inline constexpr uint32_t kSegmentHeaderBytes = 16;
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr uint32_t kRecordHeaderBytes = 20;
// Sanity bound on a record's value when decoding (a length beyond it is corruption, whatever the options).
inline constexpr uint32_t kMaxDecodableValue = 256u << 20;

enum class RecordType : uint8_t { kPut = 1, kTombstone = 2 };

inline uint64_t recordSize(size_t keyLen, size_t valueLen) {
  return kRecordHeaderBytes + keyLen + valueLen;
}

// Appends one encoded record to `out` (copying key and value once).
void appendRecord(std::string& out, RecordType type, std::string_view key, std::string_view value,
                  int64_t expireAt);

// Writes the segment header for `id` into out[0..kSegmentHeaderBytes).
void encodeSegmentHeader(char* out, uint32_t id);
// Whether `p` (kSegmentHeaderBytes long) is a valid header; the id it names in *id.
bool decodeSegmentHeader(const char* p, uint32_t* id);

struct RecordView {
  RecordType type = RecordType::kPut;
  int64_t expireAt = 0;
  std::string_view key;
  std::string_view value;
  uint32_t size = 0;  // whole record, header included
};

enum class DecodeResult { kOk, kIncomplete, kCorrupt };

// Decodes the record at p (avail bytes readable). kIncomplete: avail is shorter than the header or than the
// lengths it states; kCorrupt: bad type, flags or checksum. Views point into p.
DecodeResult decodeRecord(const char* p, size_t avail, RecordView* out);

// An open segment file. Readers hold a shared_ptr so a compaction or FLUSHALL may unlink the file while a
// pread is still in progress; the descriptor closes with the last reference.
struct SegFile {
  SegFile(int fdIn, uint32_t idIn, std::string pathIn) : fd(fdIn), id(idIn), path(std::move(pathIn)) {}
  ~SegFile();
  SegFile(const SegFile&) = delete;
  SegFile& operator=(const SegFile&) = delete;

  const int fd;
  const uint32_t id;
  const std::string path;
};

// errno -> Status: ENOSPC/EDQUOT are kInsufficientStorage, the rest kIOError.
Status errnoStatus(std::string_view what, const std::string& path, int err);

// pwrite/pread all of it (retrying short transfers and EINTR).
Status pwriteAll(int fd, const char* p, size_t n, uint64_t off, const std::string& path);
// Reads exactly n bytes; kCorruption if the file ends first.
Status preadAll(int fd, char* p, size_t n, uint64_t off, const std::string& path);

// Reads the record at `off` whose key and value lengths are known, checks its checksum and key, and leaves
// the whole record in *buf; the value is buf->substr(kRecordHeaderBytes + key.size()).
Status readRecordAt(const SegFile& file, uint64_t off, std::string_view key, uint32_t valueLen,
                    std::string* buf);

// Walks the records of a segment file from just after its header, in order, through a reusable buffer.
class SegmentScanner {
 public:
  SegmentScanner(int fd, uint64_t fileSize, std::string path);
  // kOk: *rec (views valid until the next call) at *offset. kIncomplete at the clean end of the file
  // (offset == fileSize) or at a torn tail; kCorrupt at a bad record. An I/O error is returned in *err.
  DecodeResult next(RecordView* rec, uint64_t* offset, Status* err);
  uint64_t position() const { return pos_; }  // offset of the next record to decode

 private:
  int fd_;
  uint64_t fileSize_;
  std::string path_;
  std::string buf_;
  uint64_t bufStart_ = 0;  // file offset of buf_[0]
  uint64_t pos_ = kSegmentHeaderBytes;
};

}  // namespace ember::kv
