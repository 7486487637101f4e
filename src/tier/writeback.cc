#include "tier/writeback.h"

#include <random>

#include <spdlog/spdlog.h>

#include "common/time_util.h"

namespace ember::tier {

namespace {

size_t stripeOf(const std::string& tk) { return std::hash<std::string>()(tk) % 256; }

}  // namespace

WriteBack::WriteBack(store::ObjectStore& inner, StateDb& db, const MappingTable& table,
                     WriteBackOptions options)
    : inner_(inner), db_(db), table_(table), options_(options), counters_(table.all().size()) {}

std::mutex& WriteBack::stripe(const std::string& tk) { return stripes_[stripeOf(tk)]; }

std::unique_lock<std::mutex> WriteBack::lockKey(const std::string& tk) {
  return std::unique_lock<std::mutex>(stripe(tk));
}

Status WriteBack::recover() {
  std::vector<std::pair<std::string, DirtyEntry>> loaded;
  EMBER_TRY(db_.forEachDirty([&](std::string_view tk, const DirtyEntry& e) {
    loaded.emplace_back(std::string(tk), e);
  }));
  uint64_t maxSeq = db_.seqHighWater();
  for (auto& [tk, e] : loaded) {
    maxSeq = std::max(maxSeq, e.seq);
    auto [bucket, key] = splitTierKey(tk);
    const Mapping* m = table_.find(bucket, key);
    if (!m) {
      spdlog::warn("tier: {}/{} waits for write-back but no mapping covers it any more; it stays "
                   "queued until one does", bucket, key);
      continue;
    }
    if (e.op == Op::kPut) {
      if (auto rec = inner_.getObject(bucket, key); rec) {
        e.size = rec->size;
      }
    }
    KeyState ks;
    ks.e = e;
    ks.e.uploadedSeq = 0;  // not persisted: conservative for flush barriers
    ks.mapping = m;
    std::lock_guard<std::mutex> g(mu_);
    dirtyBytes_ += e.size;
    auto& slot = keys_[tk] = std::move(ks);
    enqueueLocked(tk, slot);
  }
  std::lock_guard<std::mutex> g(mu_);
  seq_ = maxSeq;
  if (!keys_.empty()) {
    spdlog::info("tier: {} key(s), {} bytes waiting for write-back after restart", keys_.size(),
                 dirtyBytes_);
  }
  return Status::ok();
}

Status WriteBack::admit(const Mapping& m, uint64_t addBytes) const {
  if (m.cfg.mode == Mode::kReadOnly) {
    return makeError(Code::kPermissionDenied,
                     "bucket '" + m.cfg.bucket + "' prefix '" + m.cfg.prefix +
                         "' is a read-only cache of " + m.cfg.cold.location.toString());
  }
  if (options_.maxDirtyBytes == 0) {
    return Status::ok();
  }
  std::lock_guard<std::mutex> g(mu_);
  if (dirtyBytes_ + addBytes > options_.maxDirtyBytes) {
    return makeError(Code::kBusy,
                     "the cold store is behind: " + std::to_string(dirtyBytes_) + " of " +
                         std::to_string(options_.maxDirtyBytes) +
                         " bytes of dirty data wait for write-back; retry later");
  }
  return Status::ok();
}

Result<WriteBack::Intent> WriteBack::begin(const Mapping& m, std::string tk, Op op, uint64_t size) {
  Intent in;
  DirtyEntry e;
  {
    std::lock_guard<std::mutex> g(mu_);
    in.seq = ++seq_;
    auto it = keys_.find(tk);
    if (it != keys_.end()) {
      in.previous = it->second.e;
    }
    e.op = op;
    e.seq = in.seq;
    e.uploadedSeq = in.previous ? in.previous->uploadedSeq : 0;
    e.size = op == Op::kPut ? size : 0;
    e.dirtySinceMs = in.previous ? in.previous->dirtySinceMs : nowMillis();
  }
  EMBER_TRY(db_.putDirty(tk, e, in.seq));
  std::lock_guard<std::mutex> g(mu_);
  KeyState& ks = keys_[tk];
  if (ks.mapping) {
    dirtyBytes_ -= std::min(dirtyBytes_, ks.e.size);
  } else {
    ks.firstSeq = in.seq;
  }
  ks.e = e;
  ks.mapping = &m;
  ks.removeAfterFlight = false;
  dirtyBytes_ += e.size;
  in.tk = std::move(tk);
  return in;
}

void WriteBack::commit(const Intent& in, uint64_t size) {
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = keys_.find(in.tk);
    if (it == keys_.end() || it->second.e.seq != in.seq) {
      return;
    }
    KeyState& ks = it->second;
    dirtyBytes_ -= std::min(dirtyBytes_, ks.e.size);
    ks.e.size = ks.e.op == Op::kPut ? size : 0;
    dirtyBytes_ += ks.e.size;
    ks.failures = 0;  // a new version: try it at once
    enqueueLocked(in.tk, ks);
  }
  if (notify_) {
    notify_();
  }
}

Status WriteBack::abort(const Intent& in) {
  if (in.previous) {
    EMBER_TRY(db_.putDirty(in.tk, *in.previous, 0));
  } else {
    EMBER_TRY(db_.eraseDirty(in.tk));
  }
  std::lock_guard<std::mutex> g(mu_);
  auto it = keys_.find(in.tk);
  if (it == keys_.end()) {
    return Status::ok();
  }
  dirtyBytes_ -= std::min(dirtyBytes_, it->second.e.size);
  if (in.previous) {
    it->second.e = *in.previous;
    dirtyBytes_ += in.previous->size;
  } else if (!it->second.inFlight) {
    keys_.erase(it);
  } else {
    it->second.e.size = 0;
    it->second.removeAfterFlight = true;
  }
  uploaded_.notify_all();
  return Status::ok();
}

bool WriteBack::waitUploaded(const std::string& tk, uint64_t seq,
                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> g(mu_);
  return uploaded_.wait_for(g, timeout, [&] {
    auto it = keys_.find(tk);
    return it == keys_.end() || it->second.e.uploadedSeq >= seq;
  });
}

void WriteBack::enqueueLocked(const std::string& tk, KeyState& ks) {
  if (!ks.inFlight && !ks.queued && ks.mapping) {
    ks.queued = true;
    ready_.push_back(tk);
  }
}

std::optional<std::string> WriteBack::nextReady(std::chrono::steady_clock::time_point* wakeAt) {
  std::lock_guard<std::mutex> g(mu_);
  auto now = std::chrono::steady_clock::now();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    ready_.push_back(std::move(delayed_.begin()->second));
    delayed_.erase(delayed_.begin());
  }
  while (!ready_.empty()) {
    std::string tk = std::move(ready_.front());
    ready_.pop_front();
    auto it = keys_.find(tk);
    if (it == keys_.end() || it->second.inFlight || !it->second.mapping) {
      continue;
    }
    it->second.queued = false;
    it->second.inFlight = true;
    return tk;
  }
  if (wakeAt) {
    *wakeAt = delayed_.empty() ? std::chrono::steady_clock::time_point::max()
                               : delayed_.begin()->first;
  }
  return std::nullopt;
}

Result<UploadTask> WriteBack::snapshot(const std::string& tk) {
  auto lock = lockKey(tk);
  UploadTask t;
  t.tk = tk;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = keys_.find(tk);
    if (it == keys_.end() || it->second.removeAfterFlight) {
      t.nothingToDo = true;
      return t;
    }
    t.mapping = it->second.mapping;
    t.op = it->second.e.op;
    t.seq = it->second.e.seq;
  }
  auto [bucket, key] = splitTierKey(tk);
  if (t.op == Op::kPut) {
    auto r = inner_.openObject(bucket, key);
    if (!r) {
      if (r.error().code() != Code::kNoSuchKey && r.error().code() != Code::kNoSuchBucket) {
        return unexpected(r.error());
      }
      t.nothingToDo = true;  // a write whose commit never happened (crash after the intent)
    } else {
      t.reader = std::move(*r);
    }
  } else {
    auto r = inner_.getObject(bucket, key);
    if (r) {
      t.nothingToDo = true;  // a delete whose commit never happened: the object is still here
    } else if (r.error().code() != Code::kNoSuchKey && r.error().code() != Code::kNoSuchBucket) {
      return unexpected(r.error());
    }
  }
  return t;
}

void WriteBack::finish(const UploadTask& task, const Result<std::string>& coldEtag,
                       uint64_t bytes) {
  auto lock = lockKey(task.tk);
  bool remove = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = keys_.find(task.tk);
    if (it == keys_.end()) {
      return;
    }
    KeyState& ks = it->second;
    ks.inFlight = false;
    if (ks.removeAfterFlight) {
      keys_.erase(it);
      uploaded_.notify_all();
      return;
    }
    if (!coldEtag) {
      ks.failures++;
      ks.lastError = coldEtag.error().toString();
      if (ks.mapping) {
        MappingCounters& c = counters_[ks.mapping->index];
        c.failedUploads++;
        c.lastError = ks.lastError;
      }
      auto base = options_.retryBase.count() << std::min(ks.failures - 1, 16);
      auto delay = std::min<int64_t>(base, options_.retryMax.count());
      static thread_local std::mt19937_64 rng{std::random_device{}()};
      delay = delay / 2 + static_cast<int64_t>(rng() % static_cast<uint64_t>(delay / 2 + 1));
      ks.queued = true;
      delayed_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay),
                       task.tk);
      return;
    }
    if (ks.mapping && !task.nothingToDo) {
      MappingCounters& c = counters_[ks.mapping->index];
      if (task.op == Op::kPut) {
        c.uploadedObjects++;
        c.uploadedBytes += bytes;
      } else {
        c.deletedObjects++;
      }
    }
    ks.failures = 0;
    ks.lastError.clear();
    if (ks.e.seq == task.seq) {
      remove = true;
    } else {
      ks.e.uploadedSeq = std::max(ks.e.uploadedSeq, task.seq);
      enqueueLocked(task.tk, ks);
    }
  }
  if (remove) {
    // Still under the stripe, so no write of this key slips in between the check and the erase.
    Status s;
    if (task.op == Op::kPut && !task.nothingToDo && task.reader) {
      s = db_.markClean(task.tk, CleanEntry{task.reader->record().versionId, *coldEtag,
                                            nowMillis()});
    } else {
      s = db_.eraseDirty(task.tk);
      if (s) {
        (void)db_.eraseClean(task.tk);
      }
    }
    std::lock_guard<std::mutex> g(mu_);
    auto it = keys_.find(task.tk);
    if (!s) {
      spdlog::error("tier: cannot record the write-back of {}: {}", task.tk, s.toString());
      if (it != keys_.end()) {
        it->second.queued = true;
        delayed_.emplace(std::chrono::steady_clock::now() + options_.retryMax, task.tk);
      }
      return;
    }
    if (it != keys_.end()) {
      dirtyBytes_ -= std::min(dirtyBytes_, it->second.e.size);
      keys_.erase(it);
    }
    uploaded_.notify_all();
  } else if (notify_) {
    notify_();
  }
}

bool WriteBack::idle() const {
  std::lock_guard<std::mutex> g(mu_);
  return keys_.empty();
}

std::optional<DirtyEntry> WriteBack::dirty(const std::string& tk) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = keys_.find(tk);
  if (it == keys_.end() || it->second.removeAfterFlight) {
    return std::nullopt;
  }
  return it->second.e;
}

bool WriteBack::inFlight(const std::string& tk) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = keys_.find(tk);
  return it != keys_.end() && it->second.inFlight;
}

std::string WriteBack::lastError(const std::string& tk) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = keys_.find(tk);
  return it == keys_.end() ? std::string() : it->second.lastError;
}

bool WriteBack::pendingDelete(const std::string& tk) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = keys_.find(tk);
  return it != keys_.end() && !it->second.removeAfterFlight && it->second.e.op == Op::kDelete;
}

uint64_t WriteBack::currentSeq() const {
  std::lock_guard<std::mutex> g(mu_);
  return seq_;
}

FlushReport WriteBack::flushReport(const std::string& bucket, const std::string& prefix,
                                   uint64_t barrier) const {
  FlushReport r;
  r.barrier = barrier;
  std::string start = tierKey(bucket, prefix);
  int64_t oldest = 0;
  std::lock_guard<std::mutex> g(mu_);
  for (auto it = keys_.lower_bound(start); it != keys_.end() && it->first.starts_with(start);
       ++it) {
    const KeyState& ks = it->second;
    // Pending for this barrier: the key had a write at or before the barrier that no finished
    // upload covers. (A key that became dirty only after the barrier is not pending.)
    if (ks.removeAfterFlight || ks.firstSeq > barrier || ks.e.uploadedSeq >= barrier) {
      continue;
    }
    r.pendingObjects++;
    r.pendingBytes += ks.e.size;
    if (oldest == 0 || ks.e.dirtySinceMs < oldest) {
      oldest = ks.e.dirtySinceMs;
    }
    if (!ks.lastError.empty()) {
      r.lastError = ks.lastError;
    }
  }
  r.oldestPendingMs = oldest ? std::max<int64_t>(0, nowMillis() - oldest) : 0;
  r.done = r.pendingObjects == 0;
  return r;
}

void WriteBack::mappingTotals(const Mapping& m, uint64_t& objects, uint64_t& bytes,
                              int64_t& oldestMs) const {
  objects = 0;
  bytes = 0;
  int64_t oldest = 0;
  std::string start = tierKey(m.cfg.bucket, m.cfg.prefix);
  std::lock_guard<std::mutex> g(mu_);
  for (auto it = keys_.lower_bound(start); it != keys_.end() && it->first.starts_with(start);
       ++it) {
    if (it->second.removeAfterFlight) {
      continue;
    }
    objects++;
    bytes += it->second.e.size;
    if (oldest == 0 || it->second.e.dirtySinceMs < oldest) {
      oldest = it->second.e.dirtySinceMs;
    }
  }
  oldestMs = oldest ? std::max<int64_t>(0, nowMillis() - oldest) : 0;
}

MappingCounters WriteBack::counters(size_t mapping) const {
  std::lock_guard<std::mutex> g(mu_);
  return mapping < counters_.size() ? counters_[mapping] : MappingCounters{};
}

uint64_t WriteBack::dirtyBytes() const {
  std::lock_guard<std::mutex> g(mu_);
  return dirtyBytes_;
}

size_t WriteBack::dirtyCount() const {
  std::lock_guard<std::mutex> g(mu_);
  return keys_.size();
}

}  // namespace ember::tier
