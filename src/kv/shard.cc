// Shard: open and recovery, index updates, the value cache.

#include "kv/shard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/time_util.h"

namespace ember::kv {

Shard::Shard(Shared* shared, uint32_t index)
    : shared_(shared), index_id_(index), index_(shared->shardBits) {
  char name[32];
  std::snprintf(name, sizeof name, "/shard-%03u", index);
  dir_ = shared->opt.dir + name;
  cacheBudget_ = shared->opt.cacheBytes >> shared->shardBits;
}

Shard::~Shard() {
  for (Entry* e : ring_) {
    std::free(e->cached);
    e->cached = nullptr;
  }
  shared_->indexBytes.fetch_sub(charged_, std::memory_order_relaxed);
  if (dirFd_ >= 0) {
    ::close(dirFd_);
  }
}

std::string Shard::segPath(uint32_t id) const {
  char name[32];
  std::snprintf(name, sizeof name, "/%08u.seg", id);
  return dir_ + name;
}

Status Shard::open() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return makeError(Code::kIOError, "create " + dir_ + ": " + ec.message());
  }
  dirFd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd_ < 0) {
    return errnoStatus("open", dir_, errno);
  }
  std::vector<uint32_t> ids;
  for (const auto& de : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = de.path().filename().string();
    if (name.size() == 12 && name.ends_with(".seg") &&
        std::all_of(name.begin(), name.begin() + 8, [](char c) { return c >= '0' && c <= '9'; })) {
      ids.push_back(static_cast<uint32_t>(std::strtoul(name.substr(0, 8).c_str(), nullptr, 10)));
    }
  }
  if (ec) {
    return makeError(Code::kIOError, "list " + dir_ + ": " + ec.message());
  }
  std::sort(ids.begin(), ids.end());
  int64_t now = nowMillis();
  for (uint32_t id : ids) {
    EMBER_TRY(replaySegment(id, now));
  }
  nextSegId_ = ids.empty() ? 1 : ids.back() + 1;
  if (!segs_.empty()) {
    auto& [id, last] = *segs_.rbegin();
    if (last.bytes < shared_->opt.segmentBytes) {
      last.sealed = false;
      activeId_ = id;
      haveActive_ = true;
    }
  }
  if (!haveActive_) {
    EMBER_TRY(roll());
  }
  shared_->recoveredKeys.fetch_add(index_.size(), std::memory_order_relaxed);
  return Status::ok();
}

Status Shard::replaySegment(uint32_t id, int64_t now) {
  std::string path = segPath(id);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return errnoStatus("open", path, errno);
  }
  auto file = std::make_shared<SegFile>(fd, id, path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return errnoStatus("stat", path, errno);
  }
  auto size = static_cast<uint64_t>(st.st_size);
  if (size < kSegmentHeaderBytes) {
    // Torn at creation: the header never made it. Nothing can follow it.
    shared_->truncatedBytes.fetch_add(size, std::memory_order_relaxed);
    ::unlink(path.c_str());
    newFiles_ = true;
    return Status::ok();
  }
  char header[kSegmentHeaderBytes];
  EMBER_TRY(preadAll(fd, header, sizeof header, 0, path));
  uint32_t headerId = 0;
  if (!decodeSegmentHeader(header, &headerId) || headerId != id) {
    return makeError(Code::kCorruption, path + " is not a KV segment (bad header)");
  }
  Segment& seg = segs_[id];
  seg.file = file;
  seg.bytes = seg.written = kSegmentHeaderBytes;
  seg.sealed = true;

  SegmentScanner scanner(fd, size, path);
  RecordView rec;
  uint64_t off = 0;
  Status err;
  unsigned sb = shared_->shardBits;
  while (scanner.next(&rec, &off, &err) == DecodeResult::kOk) {
    uint64_t h = hashKey(rec.key);
    if (sb > 0 && (h >> (64 - sb)) != index_id_) {
      return makeError(Code::kCorruption, path + " holds a key of another shard (shard count changed?)");
    }
    Entry* e = find(h, rec.key);
    seg.bytes = off + rec.size;  // accounting below looks the segment up
    if (rec.type == RecordType::kPut && !(rec.expireAt != 0 && rec.expireAt <= now)) {
      applyPut(e, h, rec.key, id, static_cast<uint32_t>(off), static_cast<uint32_t>(rec.value.size()),
               rec.expireAt, nullptr);
    } else {
      if (e != nullptr) {
        removeEntry(e, false);
      }
      if (rec.type == RecordType::kTombstone) {
        seg.tomb += rec.size;
      }
    }
  }
  EMBER_TRY(err);
  uint64_t end = scanner.position();
  if (end < size) {
    // A torn or corrupt record: it and everything after it in this segment are dropped.
    if (::ftruncate(fd, static_cast<off_t>(end)) != 0 || ::fdatasync(fd) != 0) {
      return errnoStatus("truncate", path, errno);
    }
    shared_->truncatedBytes.fetch_add(size - end, std::memory_order_relaxed);
  }
  seg.bytes = seg.written = end;
  return Status::ok();
}

void Shard::addLive(uint32_t segId, int64_t delta) {
  auto it = segs_.find(segId);
  if (it != segs_.end()) {
    it->second.live = static_cast<uint64_t>(static_cast<int64_t>(it->second.live) + delta);
  }
}

Entry* Shard::insertEntry(uint64_t hash, std::string_view key) {
  Entry* e = index_.insert(hash, key);
  uint64_t cost = Index::entryCost(key.size());
  charged_ += cost;
  shared_->indexBytes.fetch_add(cost, std::memory_order_relaxed);
  keys_.fetch_add(1, std::memory_order_relaxed);
  return e;
}

void Shard::removeEntry(Entry* e, bool byExpiry) {
  addLive(e->segId, -static_cast<int64_t>(recordSize(e->keyLen, e->valueLen)));
  if (e->cached != nullptr) {
    cacheDrop(e);
  }
  if (e->expireAt != 0) {
    --keysWithExpiry_;
  }
  uint64_t cost = Index::entryCost(e->keyLen);
  charged_ -= cost;
  shared_->indexBytes.fetch_sub(cost, std::memory_order_relaxed);
  index_.remove(e);
  keys_.fetch_sub(1, std::memory_order_relaxed);
  if (byExpiry) {
    shared_->expiredKeys.fetch_add(1, std::memory_order_relaxed);
  }
}

Entry* Shard::applyPut(Entry* e, uint64_t hash, std::string_view key, uint32_t segId, uint32_t offset,
                       uint32_t valueLen, int64_t expireAt, const char* value) {
  if (e == nullptr) {
    e = insertEntry(hash, key);
  } else {
    addLive(e->segId, -static_cast<int64_t>(recordSize(e->keyLen, e->valueLen)));
    if (e->cached != nullptr && (e->valueLen != valueLen || value == nullptr)) {
      cacheDrop(e);
    }
    if (e->expireAt != 0) {
      --keysWithExpiry_;
    }
  }
  e->segId = segId;
  e->offset = offset;
  e->valueLen = valueLen;
  e->expireAt = expireAt;
  if (expireAt != 0) {
    ++keysWithExpiry_;
  }
  addLive(segId, static_cast<int64_t>(recordSize(e->keyLen, valueLen)));
  if (value != nullptr) {
    cacheStore(e, std::string_view(value, valueLen));
  }
  return e;
}

void Shard::applyTombstone(Entry* e, uint32_t segId, size_t keyLen) {
  auto it = segs_.find(segId);
  if (it != segs_.end()) {
    it->second.tomb += recordSize(keyLen, 0);
  }
  if (e != nullptr) {
    removeEntry(e, false);
  }
}

const char* Shard::memoryRecord(uint32_t segId, uint32_t offset) const {
  for (const std::vector<Chunk>* list : {&tail_, &inflight_}) {
    for (const Chunk& c : *list) {
      if (c.file->id == segId && offset >= c.base && offset - c.base < c.buf.size()) {
        return c.buf.data() + (offset - c.base);
      }
    }
  }
  return nullptr;
}

bool Shard::valueInMemory(Entry* e, std::string_view* out) {
  if (e->cached != nullptr) {
    e->ref = 1;
    *out = std::string_view(e->cached, e->valueLen);
    ++hits_;
    return true;
  }
  if (e->valueLen == 0) {
    *out = {};
    ++hits_;
    return true;
  }
  if (const char* rec = memoryRecord(e->segId, e->offset)) {
    *out = std::string_view(rec + kRecordHeaderBytes + e->keyLen, e->valueLen);
    ++hits_;
    return true;
  }
  return false;
}

std::shared_ptr<SegFile> Shard::fileOf(uint32_t segId) const {
  auto it = segs_.find(segId);
  return it == segs_.end() ? nullptr : it->second.file;
}

Status Shard::loadValue(Entry* e, std::string* out) {
  std::string_view v;
  if (valueInMemory(e, &v)) {
    out->assign(v);
    return Status::ok();
  }
  std::shared_ptr<SegFile> file = fileOf(e->segId);
  if (!file) {
    return makeError(Code::kInternal, "kv: index points at a missing segment");
  }
  thread_local std::string buf;
  EMBER_TRY(readRecordAt(*file, e->offset, e->key(), e->valueLen, &buf));
  v = std::string_view(buf).substr(kRecordHeaderBytes + e->keyLen);
  noteDiskRead(e, v);
  out->assign(v);
  return Status::ok();
}

void Shard::noteDiskRead(Entry* e, std::string_view value) {
  ++misses_;
  cacheStore(e, value);
}

void Shard::cacheStore(Entry* e, std::string_view value) {
  if (value.empty() || value.size() > cacheBudget_) {
    if (e->cached != nullptr) {
      cacheDrop(e);
    }
    return;
  }
  if (e->cached != nullptr) {  // same length: reuse the buffer
    std::memcpy(e->cached, value.data(), value.size());
    e->ref = 1;
    return;
  }
  while (cacheUsed_ + value.size() > cacheBudget_ && !ring_.empty()) {
    Entry* c = ring_[hand_];
    if (c->ref != 0) {
      c->ref = 0;
      if (++hand_ == ring_.size()) {
        hand_ = 0;
      }
    } else {
      cacheDrop(c);
    }
  }
  e->cached = static_cast<char*>(std::malloc(value.size()));
  if (e->cached == nullptr) {
    return;
  }
  std::memcpy(e->cached, value.data(), value.size());
  e->cacheSlot = static_cast<uint32_t>(ring_.size());
  e->ref = 0;
  ring_.push_back(e);
  cacheUsed_ += value.size();
}

void Shard::cacheDrop(Entry* e) {
  uint32_t slot = e->cacheSlot;
  Entry* last = ring_.back();
  ring_[slot] = last;
  last->cacheSlot = slot;
  ring_.pop_back();
  if (hand_ >= ring_.size()) {
    hand_ = 0;
  }
  std::free(e->cached);
  e->cached = nullptr;
  cacheUsed_ -= e->valueLen;
}

}  // namespace ember::kv
