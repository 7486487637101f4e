// Shard: the log (appends, segment rolls, write-out and fdatasync).

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/time_util.h"
#include "kv/shard.h"

namespace ember::kv {

LogMark Shard::mark() const {
  LogMark m;
  m.chunks = tail_.size();
  m.lastSize = tail_.empty() ? 0 : tail_.back().buf.size();
  m.seq = appendSeq_;
  return m;
}

void Shard::rollback(const LogMark& m) {
  auto shrink = [&](Chunk& c, size_t by) {
    auto it = segs_.find(c.file->id);
    if (it != segs_.end()) {
      it->second.bytes -= by;
    }
    tailBytes_ -= by;
  };
  while (tail_.size() > m.chunks) {
    shrink(tail_.back(), tail_.back().buf.size());
    tail_.pop_back();
  }
  if (m.chunks > 0) {
    Chunk& c = tail_.back();
    shrink(c, c.buf.size() - m.lastSize);
    c.buf.resize(m.lastSize);
  }
  appendSeq_ = m.seq;
}

Status Shard::roll() {
  uint32_t id = nextSegId_;
  std::string path = segPath(id);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errnoStatus("create", path, errno);
  }
  auto file = std::make_shared<SegFile>(fd, id, path);
  char header[kSegmentHeaderBytes];
  encodeSegmentHeader(header, id);
  Status st = pwriteAll(fd, header, sizeof header, 0, path);
  if (!st) {
    ::unlink(path.c_str());
    return st;
  }
  ++nextSegId_;
  if (haveActive_) {
    segs_[activeId_].sealed = true;
  }
  Segment& seg = segs_[id];
  seg.file = file;
  seg.bytes = seg.written = kSegmentHeaderBytes;
  activeId_ = id;
  haveActive_ = true;
  newFiles_ = true;
  dirty_.push_back(std::move(file));
  return Status::ok();
}

Status Shard::prepareAppend(uint64_t size, std::string** buf, uint32_t* segId, uint32_t* offset) {
  if (!writeError_.isOk()) {
    return writeError_;
  }
  if (!haveActive_) {
    EMBER_TRY(roll());
  }
  Segment* seg = &segs_[activeId_];
  if (seg->bytes + size > shared_->opt.segmentBytes && seg->bytes > kSegmentHeaderBytes) {
    EMBER_TRY(roll());
    seg = &segs_[activeId_];
  }
  if (tail_.empty() || tail_.back().file->id != activeId_) {
    Chunk c;
    c.file = seg->file;
    c.base = seg->bytes;
    c.buf = std::move(spare_);
    c.buf.clear();
    spare_ = std::string();
    tail_.push_back(std::move(c));
  }
  *buf = &tail_.back().buf;
  *segId = activeId_;
  *offset = static_cast<uint32_t>(seg->bytes);
  seg->bytes += size;
  tailBytes_ += size;
  appendSeq_ += size;
  return Status::ok();
}

Status Shard::append(RecordType type, std::string_view key, std::string_view value, int64_t expireAt,
                     uint32_t* segId, uint32_t* offset) {
  std::string* buf = nullptr;
  EMBER_TRY(prepareAppend(recordSize(key.size(), value.size()), &buf, segId, offset));
  appendRecord(*buf, type, key, value, expireAt);
  return Status::ok();
}

Status Shard::appendRaw(std::string_view record, uint32_t* segId, uint32_t* offset) {
  std::string* buf = nullptr;
  EMBER_TRY(prepareAppend(record.size(), &buf, segId, offset));
  buf->append(record);
  return Status::ok();
}

void Shard::coalesce(Entry* e, uint32_t prevSeg, uint32_t prevOff) {
  if (tail_.empty() || prevSeg != e->segId || prevOff == e->offset) {
    return;
  }
  Chunk& c = tail_.back();
  uint64_t size = recordSize(e->keyLen, e->valueLen);
  if (c.file->id != e->segId || prevOff < c.base || e->offset + size != c.base + c.buf.size()) {
    return;
  }
  const char* old = c.buf.data() + (prevOff - c.base);
  RecordView prev;
  if (decodeRecord(old, c.buf.size() - (prevOff - c.base), &prev) != DecodeResult::kOk ||
      prev.size != size || prev.type != RecordType::kPut) {
    return;
  }
  std::memcpy(c.buf.data() + (prevOff - c.base), c.buf.data() + (e->offset - c.base), size);
  c.buf.resize(c.buf.size() - size);
  segs_[e->segId].bytes -= size;
  tailBytes_ -= size;
  appendSeq_ -= size;
  e->offset = prevOff;
}

Status Shard::syncDir() {
  if (::fsync(dirFd_) != 0) {
    return errnoStatus("fsync", dir_, errno);
  }
  return Status::ok();
}

Status Shard::writeOutForWriter() {
  {
    std::lock_guard lk(mu);
    const uint64_t soft = shared_->opt.tailBufferBytes;
    const uint64_t shards = std::max<uint64_t>(1, shared_->opt.shards);
    const uint64_t hard = std::max<uint64_t>(2 * soft, std::min<uint64_t>(8 * soft, (256ULL << 20) / shards));
    if (tailBytes_ <= soft || (flushing_ && tailBytes_ < hard)) {
      return Status::ok();
    }
  }
  return writeOut(false);
}

Status Shard::writeOut(bool sync) {
  std::unique_lock lk(mu);
  flushCv_.wait(lk, [&] { return !flushing_; });
  if (tail_.empty() && (!sync || (dirty_.empty() && !newFiles_))) {
    return Status::ok();
  }
  uint64_t target = appendSeq_;
  flushing_ = true;
  inflight_.swap(tail_);
  tailBytes_ = 0;
  std::vector<std::shared_ptr<SegFile>> files = dirty_;
  for (const Chunk& c : inflight_) {
    if (files.empty() || files.back() != c.file) {
      files.push_back(c.file);
    }
  }
  bool dirSync = sync && newFiles_;
  newFiles_ = newFiles_ && !dirSync;
  lk.unlock();

  Status st;
  for (const Chunk& c : inflight_) {
    st = pwriteAll(c.file->fd, c.buf.data(), c.buf.size(), c.base, c.file->path);
    if (!st) {
      break;
    }
  }
  uint64_t syncs = 0;
  if (st && sync) {
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    for (const auto& f : files) {
      if (::fdatasync(f->fd) != 0) {
        st = errnoStatus("fdatasync", f->path, errno);
        break;
      }
      ++syncs;
    }
    if (st && dirSync) {
      st = syncDir();
    }
  }

  lk.lock();
  if (st) {
    for (Chunk& c : inflight_) {
      auto it = segs_.find(c.file->id);
      if (it != segs_.end()) {
        it->second.written = std::max(it->second.written, c.base + c.buf.size());
      }
      if (c.buf.capacity() > spare_.capacity() && c.buf.capacity() <= 2 * shared_->opt.tailBufferBytes) {
        spare_.swap(c.buf);
      }
    }
    inflight_.clear();
    writtenSeq_ = std::max(writtenSeq_, target);
    // dirty_ may have gained a file meanwhile (a roll): only what this round covered changes.
    auto covered = [&](const std::shared_ptr<SegFile>& f) {
      return std::find(files.begin(), files.end(), f) != files.end();
    };
    if (sync) {
      dirty_.erase(std::remove_if(dirty_.begin(), dirty_.end(), covered), dirty_.end());
      if (durableSeq_.load(std::memory_order_relaxed) < target) {
        durableSeq_.store(target, std::memory_order_release);
      }
      shared_->fsyncs.fetch_add(syncs, std::memory_order_relaxed);
      shared_->lastFsyncUnixMs.store(static_cast<uint64_t>(nowMillis()), std::memory_order_relaxed);
    } else {
      for (auto& f : files) {
        if (std::find(dirty_.begin(), dirty_.end(), f) == dirty_.end()) {
          dirty_.push_back(std::move(f));
        }
      }
    }
    writeError_ = Status::ok();
  } else {
    // Nothing is lost: the unwritten records go back in front of the tail (those of segments removed
    // meanwhile by FLUSHALL are dropped) and the next write-out retries them at the same offsets.
    std::vector<Chunk> back;
    for (Chunk& c : inflight_) {
      if (segs_.count(c.file->id) != 0) {
        tailBytes_ += c.buf.size();
        back.push_back(std::move(c));
      }
    }
    for (Chunk& c : tail_) {
      back.push_back(std::move(c));
    }
    tail_.swap(back);
    inflight_.clear();
    newFiles_ = newFiles_ || dirSync;
    writeError_ = st;
  }
  flushing_ = false;
  flushCv_.notify_all();
  return st;
}

}  // namespace ember::kv
