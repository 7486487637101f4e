// Engine: open (options, layout file, parallel recovery), reads, durability waits and the background threads.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/time_util.h"
#include "kv/engine_impl.h"

namespace ember::kv {
namespace {

constexpr size_t kSweepBudgetPerShard = 2048;  // index entries examined per shard per sweep tick
constexpr auto kCompactPeriod = std::chrono::milliseconds(100);
constexpr unsigned kMaxShards = 4096;

// <dir>/kv.layout records the shard count: keys are placed by it, so it may never change for a directory.
Status loadOrWriteLayout(Options* opt) {
  std::string path = opt->dir + "/kv.layout";
  std::ifstream in(path);
  if (in) {
    std::string word;
    unsigned version = 0;
    unsigned shards = 0;
    in >> word >> version;
    std::string key;
    in >> key >> shards;
    if (word != "ember-kv" || version != 1 || key != "shards" || shards == 0 ||
        !std::has_single_bit(shards)) {
      return makeError(Code::kCorruption, path + " is not a valid layout file");
    }
    if (opt->shards != 0 && opt->shards != shards) {
      return makeError(Code::kInvalidArgument, "kv: " + opt->dir + " was created with " +
                                                   std::to_string(shards) + " shards, not " +
                                                   std::to_string(opt->shards));
    }
    opt->shards = shards;
    return Status::ok();
  }
  if (opt->shards == 0) {
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    // 4 per hardware thread (at least 8): enough that threads rarely meet on a shard mutex, few enough
    // that a batch-mode group commit (one fdatasync per shard with new records) stays cheap. On 2 cores
    // 8 shards beat 32 by 1.2-2x on SET throughput in batch mode (docs/benchmarks.md).
    opt->shards = std::min(kMaxShards, std::bit_ceil(std::max(8u, 4 * hw)));
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "ember-kv 1\nshards " << opt->shards << "\n";
    out.flush();
    if (!out) {
      return makeError(Code::kIOError, "write " + tmp);
    }
  }
  int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return errnoStatus("rename", tmp, errno);
  }
  int dfd = ::open(opt->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::ok();
}

Status validate(Options* opt) {
  if (opt->dir.empty()) {
    return makeError(Code::kInvalidArgument, "kv: dir is empty");
  }
  if (opt->shards != 0 && (!std::has_single_bit(opt->shards) || opt->shards > kMaxShards)) {
    return makeError(Code::kInvalidArgument, "kv: shards must be a power of two up to 4096");
  }
  if (opt->maxKeyBytes == 0 || opt->maxKeyBytes > 65535) {
    return makeError(Code::kInvalidArgument, "kv: maxKeyBytes must be 1..65535");
  }
  if (opt->maxValueBytes > kMaxDecodableValue) {
    return makeError(Code::kInvalidArgument, "kv: maxValueBytes is over 256 MiB");
  }
  if (opt->segmentBytes < 4096 || opt->segmentBytes > (2ULL << 30)) {
    return makeError(Code::kInvalidArgument, "kv: segmentBytes must be 4 KiB..2 GiB");
  }
  if (!(opt->compactionGarbageRatio > 0.0 && opt->compactionGarbageRatio <= 1.0)) {
    return makeError(Code::kInvalidArgument, "kv: compactionGarbageRatio must be in (0, 1]");
  }
  opt->batchIntervalMs = std::max<uint32_t>(1, opt->batchIntervalMs);
  opt->expireSweepIntervalMs = std::max<uint32_t>(1, opt->expireSweepIntervalMs);
  return Status::ok();
}

uint64_t nextRandom() {
  thread_local uint64_t s = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) |
                            1;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

}  // namespace

void WriteSet::add(uint32_t shard, uint64_t seq) {
  for (Mark& m : marks_) {
    if (m.shard == shard) {
      m.seq = std::max(m.seq, seq);
      return;
    }
  }
  marks_.push_back({shard, seq});
}

Result<std::unique_ptr<Engine>> Engine::open(const Options& options) {
  Options opt = options;
  EMBER_TRY(validate(&opt));
  std::error_code ec;
  std::filesystem::create_directories(opt.dir, ec);
  if (ec) {
    return unexpected(Code::kIOError, "create " + opt.dir + ": " + ec.message());
  }
  EMBER_TRY(loadOrWriteLayout(&opt));
  auto engine = std::make_unique<EngineImpl>(opt, static_cast<unsigned>(std::countr_zero(opt.shards)));
  EMBER_TRY(engine->start());
  return std::unique_ptr<Engine>(std::move(engine));
}

EngineImpl::EngineImpl(const Options& opt, unsigned shardBits) {
  shared_.opt = opt;
  shared_.shardBits = shardBits;
}

Status EngineImpl::start() {
  unsigned n = shared_.opt.shards;
  for (unsigned i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>(&shared_, i));
  }
  // Recovery: shards replay in parallel.
  std::atomic<unsigned> next{0};
  std::vector<Status> results(n);
  auto work = [&] {
    for (unsigned i = next++; i < n; i = next++) {
      results[i] = shards_[i]->open();
    }
  };
  unsigned threads = std::min(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) {
    pool.emplace_back(work);
  }
  work();
  for (auto& t : pool) {
    t.join();
  }
  for (Status& s : results) {
    EMBER_TRY(s);
  }
  size_t flushers = std::min<size_t>(n, 4);
  for (size_t t = 0; t < flushers; ++t) {
    flushers_.push_back(std::make_unique<Flusher>());
  }
  for (size_t t = 0; t < flushers; ++t) {
    flushers_[t]->thread = std::thread([this, t] { flusherLoop(t); });
  }
  sweeper_ = std::thread([this] { sweepLoop(); });
  compactor_ = std::thread([this] { compactLoop(); });
  return Status::ok();
}

EngineImpl::~EngineImpl() {
  {
    std::lock_guard l(stopMu_);
    stop_ = true;
  }
  stopCv_.notify_all();
  for (auto& f : flushers_) {
    {
      std::lock_guard l(f->mu);
    }
    f->cv.notify_all();
  }
  for (auto* t : {&sweeper_, &compactor_}) {
    if (t->joinable()) {
      t->join();
    }
  }
  for (auto& f : flushers_) {
    if (f->thread.joinable()) {
      f->thread.join();
    }
  }
  // Clean shutdown: everything written and fdatasync'ed, then the waiters that are now covered.
  for (auto& s : shards_) {
    Status st = s->writeOut(true);
    if (!st) {
      spdlog::error("kv: shard {} shutdown write-out failed: {}", s->index(), st.toString());
    }
  }
  for (auto& f : flushers_) {
    for (Waiter& w : f->waiters) {
      if (std::all_of(w.marks.begin(), w.marks.end(), [&](const auto& m) { return durable(m); })) {
        w.done();
      }
    }
  }
}

void EngineImpl::enqueue(size_t t, Waiter w) {
  Flusher& f = *flushers_[t];
  {
    std::lock_guard l(f.mu);
    f.waiters.push_back(std::move(w));
  }
  f.cv.notify_one();
}

void EngineImpl::flusherLoop(size_t t) {
  Flusher& f = *flushers_[t];
  bool syncOnTick = shared_.opt.durability != Durability::kNone;
  auto interval = std::chrono::milliseconds(shared_.opt.batchIntervalMs);
  auto next = std::chrono::steady_clock::now() + interval;
  std::vector<Waiter> batch;
  std::vector<Waiter> stalled;
  auto stopping = [&] {
    std::lock_guard l(stopMu_);
    return stop_;
  };
  std::unique_lock l(f.mu);
  for (;;) {
    f.cv.wait_until(l, next, [&] { return !f.waiters.empty() || stopping(); });
    batch.swap(f.waiters);
    l.unlock();
    bool stop = stopping();
    auto now = std::chrono::steady_clock::now();
    if (now >= next || stop) {
      for (size_t s = t; s < shards_.size(); s += flushers_.size()) {
        Status st = shards_[s]->writeOut(syncOnTick);
        if (!st) {
          spdlog::warn("kv: shard {} write-out failed (will retry): {}", s, st.toString());
        }
      }
      next = now + interval;
      for (Waiter& w : stalled) {
        batch.push_back(std::move(w));
      }
      stalled.clear();
    } else {
      // Group commit: one write-out + fdatasync per shard covers every waiter that arrived before it.
      for (const Waiter& w : batch) {
        for (const auto& m : w.marks) {
          if (flusherOf(m.shard) == t && !durable(m)) {
            shards_[m.shard]->writeOut(true).ignoreError();  // logged on the tick; waiters retry
          }
        }
      }
    }
    for (Waiter& w : batch) {
      auto pending = std::find_if(w.marks.begin(), w.marks.end(), [&](const auto& m) { return !durable(m); });
      if (pending == w.marks.end()) {
        w.done();
      } else if (flusherOf(pending->shard) != t) {
        enqueue(flusherOf(pending->shard), std::move(w));
      } else {
        stalled.push_back(std::move(w));  // the write-out failed: retried on the next tick
      }
    }
    batch.clear();
    l.lock();
    if (stop) {
      for (Waiter& w : stalled) {
        f.waiters.push_back(std::move(w));
      }
      return;
    }
  }
}

void EngineImpl::sweepLoop() {
  auto interval = std::chrono::milliseconds(shared_.opt.expireSweepIntervalMs);
  std::unique_lock l(stopMu_);
  while (!stopCv_.wait_for(l, interval, [&] { return stop_; })) {
    l.unlock();
    int64_t now = nowMillis();
    for (auto& s : shards_) {
      s->sweepExpired(kSweepBudgetPerShard, now);
    }
    l.lock();
  }
}

void EngineImpl::compactLoop() {
  bool busy = false;  // the last pass found work: go again at once
  std::unique_lock l(stopMu_);
  while (!stopCv_.wait_for(l, busy ? std::chrono::milliseconds(0) : kCompactPeriod, [&] { return stop_; })) {
    l.unlock();
    busy = false;
    for (auto& s : shards_) {
      bool did = false;
      Status st = s->compactOnce(&did);
      if (!st) {
        spdlog::warn("kv: shard {} compaction failed: {}", s->index(), st.toString());
      }
      busy = busy || (did && st.isOk());
      {
        std::lock_guard g(stopMu_);
        if (stop_) {
          break;
        }
      }
    }
    l.lock();
  }
}

Status EngineImpl::read(std::string_view key,
                        const std::function<void(std::string_view value, int64_t expireAtMs)>& fn) {
  if (key.size() > shared_.opt.maxKeyBytes) {
    return makeError(Code::kNotFound);
  }
  uint64_t h = hashKey(key);
  Shard& s = shardOf(h);
  thread_local std::string buf;
  std::unique_lock lk(s.mu);
  for (int attempt = 0;; ++attempt) {
    Entry* e = s.find(h, key);
    if (e == nullptr) {
      return makeError(Code::kNotFound);
    }
    if (e->expireAt != 0 && Shard::expired(e, nowMillis())) {
      s.removeEntry(e, true);
      return makeError(Code::kNotFound);
    }
    std::string_view v;
    if (s.valueInMemory(e, &v)) {
      fn(v, e->expireAt);
      return Status::ok();
    }
    std::shared_ptr<SegFile> file = s.fileOf(e->segId);
    if (!file) {
      return makeError(Code::kInternal, "kv: index points at a missing segment");
    }
    uint32_t segId = e->segId;
    uint32_t offset = e->offset;
    uint32_t len = e->valueLen;
    Status st;
    if (attempt < 2) {  // read without the lock; recheck that the key still points there
      lk.unlock();
      st = readRecordAt(*file, offset, key, len, &buf);
      lk.lock();
      e = s.find(h, key);
      if (e == nullptr || e->segId != segId || e->offset != offset) {
        continue;
      }
    } else {
      st = readRecordAt(*file, offset, key, len, &buf);
    }
    EMBER_TRY(st);
    v = std::string_view(buf).substr(kRecordHeaderBytes + key.size());
    s.noteDiskRead(e, v);
    fn(v, e->expireAt);
    return Status::ok();
  }
}

Result<int64_t> EngineImpl::expiry(std::string_view key) {
  if (key.size() > shared_.opt.maxKeyBytes) {
    return unexpected(Code::kNotFound);
  }
  uint64_t h = hashKey(key);
  Shard& s = shardOf(h);
  std::lock_guard lk(s.mu);
  Entry* e = s.find(h, key);
  if (e == nullptr) {
    return unexpected(Code::kNotFound);
  }
  if (e->expireAt != 0 && Shard::expired(e, nowMillis())) {
    s.removeEntry(e, true);
    return unexpected(Code::kNotFound);
  }
  return e->expireAt;
}

void EngineImpl::whenDurable(const WriteSet& ws, std::function<void()> done) {
  if (shared_.opt.durability != Durability::kSync || ws.empty()) {
    done();
    return;
  }
  for (const auto& m : ws.marks()) {
    if (!durable(m)) {
      Waiter w;
      w.marks.assign(ws.marks().begin(), ws.marks().end());
      w.done = std::move(done);
      enqueue(flusherOf(m.shard), std::move(w));
      return;
    }
  }
  done();  // already covered by an earlier fdatasync
}

Status EngineImpl::sync() {
  Status first;
  for (auto& s : shards_) {
    Status st = s->writeOut(true);
    if (!st && first.isOk()) {
      first = std::move(st);
    }
  }
  return first;
}

uint64_t EngineImpl::size() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    n += s->keyCount();
  }
  return n;
}

Status EngineImpl::clear(WriteSet* ws) {
  (void)ws;  // durable before returning: the segment files are unlinked and the directories fsync'ed
  Status first;
  for (auto& s : shards_) {
    s->mu.lock();
  }
  for (auto& s : shards_) {
    Status st = s->clearLocked();
    if (!st && first.isOk()) {
      first = std::move(st);
    }
  }
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) {
    (*it)->mu.unlock();
  }
  for (auto& s : shards_) {
    Status st = s->syncDir();
    if (!st && first.isOk()) {
      first = std::move(st);
    }
  }
  return first;
}

uint64_t EngineImpl::scan(
    uint64_t cursor, size_t count,
    const std::function<void(std::string_view key, uint32_t valueLen, int64_t expireAtMs)>& fn) {
  count = std::max<size_t>(count, 1);
  unsigned sb = shared_.shardBits;
  size_t s = sb == 0 ? 0 : static_cast<size_t>(cursor >> (64 - sb));
  size_t visited = 0;
  for (;;) {
    if (!shards_[s]->scan(&cursor, count, &visited, fn)) {
      return cursor;
    }
    if (++s == shards_.size()) {
      return 0;
    }
    cursor = uint64_t{s} << (64 - sb);  // sb > 0 here: one shard ends the loop above
    if (visited >= count) {
      return cursor;
    }
  }
}

Result<std::string> EngineImpl::randomKey() {
  int64_t now = nowMillis();
  std::string out;
  size_t n = shards_.size();
  for (size_t tries = 0; tries < 4 * n; ++tries) {
    uint64_t r = nextRandom();
    Shard& s = *shards_[r % n];
    if (s.keyCount() != 0 && s.randomKey(nextRandom(), now, &out)) {
      return out;
    }
  }
  for (auto& s : shards_) {
    if (s->randomKey(nextRandom(), now, &out)) {
      return out;
    }
  }
  return unexpected(Code::kNotFound);
}

Stats EngineImpl::stats() const {
  Stats st;
  for (const auto& s : shards_) {
    s->addStats(&st);
  }
  st.compactions = shared_.compactions.load(std::memory_order_relaxed);
  st.expiredKeys = shared_.expiredKeys.load(std::memory_order_relaxed);
  st.fsyncs = shared_.fsyncs.load(std::memory_order_relaxed);
  st.lastFsyncUnixMs = shared_.lastFsyncUnixMs.load(std::memory_order_relaxed);
  st.recoveredKeys = shared_.recoveredKeys.load(std::memory_order_relaxed);
  st.truncatedBytes = shared_.truncatedBytes.load(std::memory_order_relaxed);
  return st;
}

}  // namespace ember::kv
