#include "tier/evict.h"

#include <algorithm>
#include <queue>

#include <spdlog/spdlog.h>

#include "common/time_util.h"

namespace ember::tier {

namespace {

constexpr size_t kMaxTracked = 1'000'000;
constexpr int64_t kHitWorthMs = 5 * 60 * 1000;
constexpr uint32_t kMaxCountedHits = 8;

struct Candidate {
  int64_t score = 0;
  std::string bucket;
  std::string key;
  std::string versionId;
  uint64_t size = 0;
  bool operator<(const Candidate& o) const { return score < o.score; }  // max-heap on score
};

}  // namespace

Evictor::Evictor(store::ObjectStore& inner, const MappingTable& table, WriteBack& wb,
                 const PinSet& pins, EvictOptions options,
                 std::function<Result<store::Capacity>()> capacity)
    : inner_(inner), table_(table), wb_(wb), pins_(pins), options_(options),
      capacity_(std::move(capacity)) {}

void Evictor::touch(const std::string& tk) {
  int64_t now = nowMillis();
  std::lock_guard<std::mutex> g(mu_);
  if (access_.size() >= kMaxTracked && !access_.count(tk)) {
    // Forget the longest-unread tenth (they rank by mtime again, which is older still).
    std::vector<int64_t> times;
    times.reserve(access_.size());
    for (const auto& [k, a] : access_) {
      times.push_back(a.lastMs);
    }
    auto cut = times.begin() + static_cast<long>(times.size() / 10);
    std::nth_element(times.begin(), cut, times.end());
    int64_t limit = *cut;
    std::erase_if(access_, [&](const auto& kv) { return kv.second.lastMs <= limit; });
  }
  Access& a = access_[tk];
  a.lastMs = now;
  a.hits = std::min(a.hits + 1, kMaxCountedHits + 1);
}

int64_t Evictor::score(const std::string& tk, int64_t mtimeMs) const {
  auto it = access_.find(tk);
  if (it == access_.end()) {
    return mtimeMs;
  }
  uint32_t extra = it->second.hits > 0 ? it->second.hits - 1 : 0;
  return it->second.lastMs + static_cast<int64_t>(std::min(extra, kMaxCountedHits)) * kHitWorthMs;
}

Result<uint64_t> Evictor::warmBytesUnder(const std::string& bucket, const std::string& prefix) {
  auto it = inner_.listObjects(bucket, false);
  EMBER_TRY(it);
  uint64_t total = 0;
  for ((*it)->seek(prefix); (*it)->valid() && (*it)->key().starts_with(prefix); (*it)->next()) {
    total += (*it)->record().size;
  }
  EMBER_TRY((*it)->status());
  return total;
}

Result<uint64_t> Evictor::capacityLimit() {
  uint64_t limit = UINT64_MAX;
  if (options_.highBytes) {
    limit = options_.highBytes;
  }
  if (options_.highPercent) {
    auto cap = capacity_();
    EMBER_TRY(cap);
    limit = std::min(limit, cap->totalBytes / 100 * options_.highPercent);
  }
  return limit;
}

Result<EvictPass> Evictor::runOnce() {
  EvictPass pass;
  uint64_t volumeTotal = 0;
  uint64_t volumeUsed = 0;
  if (options_.highPercent) {
    auto cap = capacity_();
    EMBER_TRY(cap);
    volumeTotal = cap->totalBytes;
    volumeUsed = cap->totalBytes - std::min(cap->freeBytes, cap->totalBytes);
    pass.volumePercent = volumeTotal ? static_cast<int>(volumeUsed * 100 / volumeTotal) : 0;
  }
  // Scan the mapped prefixes: totals, and the oldest evictable objects in a bounded max-heap.
  std::priority_queue<Candidate> heap;
  for (const Mapping& m : table_.all()) {
    auto it = inner_.listObjects(m.cfg.bucket, false);
    if (!it) {
      if (it.error().code() == Code::kNoSuchBucket) {
        continue;
      }
      return unexpected(it.error());
    }
    store::ObjectIterator& i = **it;
    for (i.seek(m.cfg.prefix); i.valid() && i.key().starts_with(m.cfg.prefix); i.next()) {
      const store::ObjectRecord& r = i.record();
      pass.warmBytes += r.size;
      pass.warmObjects++;
      std::string tk = tierKey(m.cfg.bucket, i.key());
      if (wb_.dirty(tk)) {
        pass.dirtyBytes += r.size;
        continue;
      }
      if (pins_.pinned(m.cfg.bucket, i.key())) {
        pass.pinnedBytes += r.size;
        continue;
      }
      Candidate c;
      {
        std::lock_guard<std::mutex> g(mu_);
        c.score = score(tk, r.mtimeMs);
      }
      if (heap.size() >= options_.maxCandidates && !(c < heap.top())) {
        continue;
      }
      c.bucket = m.cfg.bucket;
      c.key = std::string(i.key());
      c.versionId = r.versionId;
      c.size = r.size;
      heap.push(std::move(c));
      if (heap.size() > options_.maxCandidates) {
        heap.pop();
      }
    }
    EMBER_TRY(i.status());
  }
  bool overPercent = options_.highPercent && pass.volumePercent >= static_cast<int>(options_.highPercent);
  bool overBytes = options_.highBytes && pass.warmBytes >= options_.highBytes;
  pass.triggered = overPercent || overBytes;
  if (pass.triggered) {
    uint64_t need = 0;
    if (options_.highPercent) {
      uint64_t low = volumeTotal / 100 * options_.lowPercent;
      need = std::max(need, volumeUsed > low ? volumeUsed - low : 0);
    }
    if (options_.highBytes) {
      need = std::max(need, pass.warmBytes > options_.lowBytes ? pass.warmBytes - options_.lowBytes : 0);
    }
    std::vector<Candidate> order;
    order.reserve(heap.size());
    while (!heap.empty()) {
      order.push_back(std::move(const_cast<Candidate&>(heap.top())));
      heap.pop();
    }
    std::reverse(order.begin(), order.end());  // oldest first
    for (const Candidate& c : order) {
      if (pass.evictedBytes >= need) {
        break;
      }
      std::string tk = tierKey(c.bucket, c.key);
      auto lock = wb_.lockKey(tk);
      if (wb_.dirty(tk) || pins_.pinned(c.bucket, c.key)) {
        continue;  // written or pinned since the scan
      }
      auto r = inner_.deleteObject(c.bucket, c.key, [&](const store::ObjectRecord* cur) {
        return cur && cur->versionId == c.versionId
                   ? Status::ok()
                   : makeError(Code::kPreconditionFailed, "changed since the scan");
      });
      if (!r) {
        if (r.error().code() != Code::kPreconditionFailed) {
          spdlog::warn("tier: evicting {}/{}: {}", c.bucket, c.key, r.error().toString());
        }
        continue;
      }
      pass.evictedObjects++;
      pass.evictedBytes += c.size;
    }
    spdlog::info("tier: eviction freed {} object(s), {} bytes (warm under mappings {} bytes, data "
                 "volume {}% full; {} bytes dirty, {} bytes pinned)",
                 pass.evictedObjects, pass.evictedBytes, pass.warmBytes, pass.volumePercent,
                 pass.dirtyBytes, pass.pinnedBytes);
  }
  std::lock_guard<std::mutex> g(mu_);
  evictedObjects_ += pass.evictedObjects;
  evictedBytes_ += pass.evictedBytes;
  last_ = pass;
  return pass;
}

uint64_t Evictor::evictedObjects() const {
  std::lock_guard<std::mutex> g(mu_);
  return evictedObjects_;
}

uint64_t Evictor::evictedBytes() const {
  std::lock_guard<std::mutex> g(mu_);
  return evictedBytes_;
}

EvictPass Evictor::lastPass() const {
  std::lock_guard<std::mutex> g(mu_);
  return last_;
}

}  // namespace ember::tier
