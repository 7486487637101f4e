#include "kv/segment.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <xxhash.h>

namespace ember::kv {
namespace {

constexpr char kMagic[8] = {'E', 'K', 'V', 'S', 'E', 'G', '0', '1'};
constexpr size_t kScanChunk = 1 << 20;

template <typename T>
void put(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t checkOf(const char* record, size_t size) {
  return static_cast<uint32_t>(XXH3_64bits(record + 4, size - 4));
}

}  // namespace

void appendRecord(std::string& out, RecordType type, std::string_view key, std::string_view value,
                  int64_t expireAt) {
  char h[kRecordHeaderBytes];
  put<uint32_t>(h, 0);
  h[4] = static_cast<char>(type);
  h[5] = 0;
  put<uint16_t>(h + 6, static_cast<uint16_t>(key.size()));
  put<uint32_t>(h + 8, static_cast<uint32_t>(value.size()));
  put<int64_t>(h + 12, expireAt);
  size_t start = out.size();
  out.append(h, sizeof h);
  out.append(key);
  out.append(value);
  put<uint32_t>(out.data() + start, checkOf(out.data() + start, out.size() - start));
}

void encodeSegmentHeader(char* out, uint32_t id) {
  std::memcpy(out, kMagic, sizeof kMagic);
  put<uint32_t>(out + 8, kSegmentVersion);
  put<uint32_t>(out + 12, id);
}

bool decodeSegmentHeader(const char* p, uint32_t* id) {
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0 || get<uint32_t>(p + 8) != kSegmentVersion) {
    return false;
  }
  *id = get<uint32_t>(p + 12);
  return true;
}

DecodeResult decodeRecord(const char* p, size_t avail, RecordView* out) {
  if (avail < kRecordHeaderBytes) {
    return DecodeResult::kIncomplete;
  }
  auto type = static_cast<uint8_t>(p[4]);
  if ((type != 1 && type != 2) || p[5] != 0) {
    return DecodeResult::kCorrupt;
  }
  uint16_t keyLen = get<uint16_t>(p + 6);
  uint32_t valueLen = get<uint32_t>(p + 8);
  if (valueLen > kMaxDecodableValue || (type == 2 && valueLen != 0)) {
    return DecodeResult::kCorrupt;
  }
  uint64_t size = recordSize(keyLen, valueLen);
  if (avail < size) {
    return DecodeResult::kIncomplete;
  }
  if (get<uint32_t>(p) != checkOf(p, size)) {
    return DecodeResult::kCorrupt;
  }
  out->type = static_cast<RecordType>(type);
  out->expireAt = get<int64_t>(p + 12);
  out->key = std::string_view(p + kRecordHeaderBytes, keyLen);
  out->value = std::string_view(p + kRecordHeaderBytes + keyLen, valueLen);
  out->size = static_cast<uint32_t>(size);
  return DecodeResult::kOk;
}

SegFile::~SegFile() { ::close(fd); }

Status errnoStatus(std::string_view what, const std::string& path, int err) {
  Code code = (err == ENOSPC || err == EDQUOT) ? Code::kInsufficientStorage : Code::kIOError;
  return makeError(code, std::string(what) + " " + path + ": " + std::strerror(err));
}

Status pwriteAll(int fd, const char* p, size_t n, uint64_t off, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errnoStatus("write", path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return Status::ok();
}

Status preadAll(int fd, char* p, size_t n, uint64_t off, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errnoStatus("read", path, errno);
    }
    if (r == 0) {
      return makeError(Code::kCorruption, "short read in " + path);
    }
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return Status::ok();
}

Status readRecordAt(const SegFile& file, uint64_t off, std::string_view key, uint32_t valueLen,
                    std::string* buf) {
  size_t size = recordSize(key.size(), valueLen);
  buf->resize(size);
  EMBER_TRY(preadAll(file.fd, buf->data(), size, off, file.path));
  RecordView rec;
  if (decodeRecord(buf->data(), size, &rec) != DecodeResult::kOk || rec.type != RecordType::kPut ||
      rec.key != key || rec.value.size() != valueLen) {
    return makeError(Code::kCorruption,
                     "bad record at offset " + std::to_string(off) + " of " + file.path);
  }
  return Status::ok();
}

SegmentScanner::SegmentScanner(int fd, uint64_t fileSize, std::string path)
    : fd_(fd), fileSize_(fileSize), path_(std::move(path)), bufStart_(kSegmentHeaderBytes) {}

DecodeResult SegmentScanner::next(RecordView* rec, uint64_t* offset, Status* err) {
  for (;;) {
    size_t at = pos_ - bufStart_;
    size_t avail = buf_.size() - at;
    DecodeResult r = decodeRecord(buf_.data() + at, avail, rec);
    if (r == DecodeResult::kOk) {
      *offset = pos_;
      pos_ += rec->size;
      return r;
    }
    if (r == DecodeResult::kCorrupt) {
      return r;
    }
    // Incomplete in the buffer: refill unless the file has nothing more.
    uint64_t fileLeft = fileSize_ - (bufStart_ + buf_.size());
    if (fileLeft == 0) {
      return DecodeResult::kIncomplete;
    }
    buf_.erase(0, at);
    bufStart_ = pos_;
    size_t want = static_cast<size_t>(std::min<uint64_t>(fileLeft, kScanChunk));
    if (avail >= kRecordHeaderBytes) {  // make sure a large record fits in one refill
      uint32_t valueLen;
      std::memcpy(&valueLen, buf_.data() + 8, 4);
      uint16_t keyLen;
      std::memcpy(&keyLen, buf_.data() + 6, 2);
      uint64_t need = recordSize(keyLen, valueLen);
      if (need > avail + want) {
        want = static_cast<size_t>(std::min<uint64_t>(fileLeft, need - avail));
      }
    }
    size_t old = buf_.size();
    buf_.resize(old + want);
    Status s = preadAll(fd_, buf_.data() + old, want, bufStart_ + old, path_);
    if (!s) {
      buf_.resize(old);
      *err = std::move(s);
      return DecodeResult::kIncomplete;
    }
  }
}

}  // namespace ember::kv
