// Shard: maintenance (expiry sweep, compaction, FLUSHALL) and iteration (SCAN, RANDOMKEY, stats).

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/time_util.h"
#include "kv/shard.h"

namespace ember::kv {

size_t Shard::sweepExpired(size_t budget, int64_t now) {
  std::lock_guard lk(mu);
  if (keysWithExpiry_ == 0) {
    return 0;
  }
  size_t removed = 0;
  size_t work = 0;
  size_t n = index_.bucketCount();
  if (sweepBucket_ >= n) {
    sweepBucket_ = 0;
  }
  for (size_t visited = 0; visited < n && work < budget; ++visited) {
    Entry* e = index_.bucketHead(sweepBucket_);
    while (e != nullptr) {
      Entry* next = e->next;
      ++work;
      if (expired(e, now)) {
        removeEntry(e, true);
        ++removed;
      }
      e = next;
    }
    ++work;
    if (++sweepBucket_ == n) {
      sweepBucket_ = 0;
    }
  }
  return removed;
}

uint64_t Shard::garbageOf(uint32_t id, const Segment& s) const {
  uint64_t payload = s.bytes - kSegmentHeaderBytes;
  uint64_t kept = s.live + (olderSegmentExists(id) ? s.tomb : 0);
  return payload > kept ? payload - kept : 0;
}

Status Shard::compactOnce(bool* did) {
  *did = false;
  uint32_t id = 0;
  std::shared_ptr<SegFile> file;
  uint64_t size = 0;
  {
    std::lock_guard lk(mu);
    double best = shared_->opt.compactionGarbageRatio;
    for (const auto& [sid, s] : segs_) {
      if (!s.sealed || sid == activeId_ || s.written != s.bytes) {
        continue;
      }
      uint64_t payload = s.bytes - kSegmentHeaderBytes;
      double ratio = payload == 0 ? 1.0 : static_cast<double>(garbageOf(sid, s)) / static_cast<double>(payload);
      if (ratio > best || (payload == 0 && !file)) {
        best = ratio;
        id = sid;
        file = s.file;
        size = s.bytes;
      }
    }
  }
  if (!file) {
    return Status::ok();
  }
  *did = true;
  EMBER_TRY(copyLiveRecords(id, file, size));
  EMBER_TRY(writeOut(true));  // the copies are durable before the original goes
  {
    std::lock_guard lk(mu);
    auto it = segs_.find(id);
    if (it == segs_.end()) {
      return Status::ok();  // FLUSHALL removed it meanwhile
    }
    segs_.erase(it);
    ::unlink(file->path.c_str());
    newFiles_ = true;
  }
  EMBER_TRY(syncDir());
  shared_->compactions.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

// Reads the segment in batches without the lock and processes each batch with it: live puts are copied to
// the active segment (the index follows them), live-but-expired puts and expired dead puts become
// tombstones, and tombstones are carried forward, each only while an older segment could hold a put they
// must keep shadowing.
Status Shard::copyLiveRecords(uint32_t id, const std::shared_ptr<SegFile>& file, uint64_t size) {
  constexpr size_t kBatch = 512 << 10;
  SegmentScanner scanner(file->fd, size, file->path);
  std::string batch;
  std::vector<std::pair<uint64_t, uint32_t>> offsets;  // (segment offset, position in batch)
  bool end = false;
  while (!end) {
    batch.clear();
    offsets.clear();
    RecordView rec;
    uint64_t off = 0;
    Status err;
    while (batch.size() < kBatch) {
      DecodeResult r = scanner.next(&rec, &off, &err);
      if (r != DecodeResult::kOk) {
        EMBER_TRY(err);
        end = true;
        break;
      }
      offsets.emplace_back(off, static_cast<uint32_t>(batch.size()));
      batch.append(rec.key.data() - kRecordHeaderBytes, rec.size);
    }
    std::lock_guard lk(mu);
    if (segs_.count(id) == 0) {
      return Status::ok();
    }
    int64_t now = nowMillis();
    for (auto [segOff, at] : offsets) {
      RecordView r;
      decodeRecord(batch.data() + at, batch.size() - at, &r);
      std::string_view raw(batch.data() + at, r.size);
      uint64_t h = hashKey(r.key);
      Entry* e = find(h, r.key);
      bool older = olderSegmentExists(id);
      uint32_t newSeg = 0;
      uint32_t newOff = 0;
      if (r.type == RecordType::kPut) {
        bool live = e != nullptr && e->segId == id && e->offset == segOff;
        if (live && !expired(e, now)) {
          EMBER_TRY(appendRaw(raw, &newSeg, &newOff));
          addLive(id, -static_cast<int64_t>(r.size));
          addLive(newSeg, static_cast<int64_t>(r.size));
          e->segId = newSeg;
          e->offset = newOff;
        } else if (live || (e == nullptr && r.expireAt != 0 && r.expireAt <= now)) {
          if (older) {
            EMBER_TRY(append(RecordType::kTombstone, r.key, {}, 0, &newSeg, &newOff));
            applyTombstone(nullptr, newSeg, r.key.size());
          }
          if (live) {
            removeEntry(e, true);
          }
        }
      } else if (e == nullptr && older) {
        EMBER_TRY(appendRaw(raw, &newSeg, &newOff));
        applyTombstone(nullptr, newSeg, r.key.size());
      }
    }
  }
  return Status::ok();
}

uint64_t Shard::bucketStart(size_t bucket) const {
  unsigned sb = shared_->shardBits;
  uint64_t shardPart = sb == 0 ? 0 : uint64_t{index_id_} << (64 - sb);
  return shardPart | (uint64_t{bucket} << (64 - sb - index_.bucketBits()));
}

bool Shard::scan(uint64_t* cursor, size_t count, size_t* visited, const ScanFn& fn) {
  thread_local std::vector<Entry*> run;
  std::lock_guard lk(mu);
  int64_t now = nowMillis();
  size_t n = index_.bucketCount();
  size_t b = index_.bucketOf(*cursor);
  for (; b < n; ++b) {
    run.clear();
    for (Entry* e = index_.bucketHead(b); e != nullptr; e = e->next) {
      if (e->hash >= *cursor) {
        run.push_back(e);
      }
    }
    std::sort(run.begin(), run.end(), [](const Entry* x, const Entry* y) { return x->hash < y->hash; });
    for (Entry* e : run) {
      ++*visited;
      if (!expired(e, now)) {
        fn(e->key(), e->valueLen, e->expireAt);
      }
    }
    if (*visited >= count) {
      ++b;
      break;
    }
  }
  if (b >= n) {
    return true;
  }
  *cursor = bucketStart(b);
  return false;
}

bool Shard::randomKey(uint64_t rnd, int64_t now, std::string* out) {
  std::lock_guard lk(mu);
  if (index_.size() == 0) {
    return false;
  }
  size_t n = index_.bucketCount();
  size_t b = static_cast<size_t>(rnd % n);
  for (size_t tries = 0; tries < n; ++tries, b = (b + 1 == n ? 0 : b + 1)) {
    size_t len = 0;
    for (Entry* e = index_.bucketHead(b); e != nullptr; e = e->next) {
      len += expired(e, now) ? 0 : 1;
    }
    if (len == 0) {
      continue;
    }
    size_t pick = static_cast<size_t>((rnd >> 32) % len);
    for (Entry* e = index_.bucketHead(b); e != nullptr; e = e->next) {
      if (!expired(e, now) && pick-- == 0) {
        out->assign(e->key());
        return true;
      }
    }
  }
  return false;
}

Status Shard::clearLocked() {
  for (Entry* e : ring_) {
    std::free(e->cached);
    e->cached = nullptr;
  }
  ring_.clear();
  hand_ = 0;
  cacheUsed_ = 0;
  index_.clear();
  shared_->indexBytes.fetch_sub(charged_, std::memory_order_relaxed);
  charged_ = 0;
  keys_.store(0, std::memory_order_relaxed);
  keysWithExpiry_ = 0;
  tail_.clear();
  tailBytes_ = 0;
  dirty_.clear();
  for (const auto& [id, s] : segs_) {
    ::unlink(s.file->path.c_str());
  }
  segs_.clear();
  haveActive_ = false;
  newFiles_ = true;
  writtenSeq_ = std::max(writtenSeq_, appendSeq_);
  durableSeq_.store(std::max(durableSeq_.load(std::memory_order_relaxed), appendSeq_),
                    std::memory_order_release);
  writeError_ = Status::ok();
  return roll();
}

void Shard::addStats(Stats* st) {
  std::lock_guard lk(mu);
  st->keys += index_.size();
  st->keysWithExpiry += keysWithExpiry_;
  st->indexBytes += index_.memoryBytes();
  st->cacheBytes += cacheUsed_;
  st->cacheHits += hits_;
  st->cacheMisses += misses_;
  for (const auto& [id, s] : segs_) {
    st->diskBytes += s.bytes;
    st->liveBytes += s.live;
    ++st->segments;
  }
}

}  // namespace ember::kv
