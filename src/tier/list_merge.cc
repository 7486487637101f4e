// Merged warm + cold listings and the cold listing page cache (list_merge.h).
//
// The page is the first in.maxKeys entries (keys and common prefixes) after in.startAfter of the
// union of the warm entries and every mapping's cold entries. `local` holds the first maxKeys warm
// entries, so only cold entries are still needed: per mapping, the cold listing is read (from the
// start, or from a resumer's marker) until it has given maxKeys + 1 distinct entries, or one past
// local's last entry when local is full, or it ends. Whatever was not read sorts after maxKeys
// entries already known, so it can neither be on the page nor change whether the page is
// truncated.
#include "tier/list_merge.h"

#include <algorithm>
#include <limits>

#include "core/namespace.h"
#include "core/tier_hooks.h"

namespace ember::tier {

namespace {

constexpr uint64_t kMaxColdPage = 5000;
constexpr uint64_t kPageSlack = 16;  // cold entries asked beyond maxKeys (hidden keys, duplicates)
constexpr int kProbeKeys = 32;       // page size when one visible key is all that is needed

// How one mapping's cold listing answers the request.
struct Plan {
  bool skip = false;  // nothing of the mapping can be on the page
  std::string coldPrefix;
  std::optional<std::string> coldDelimiter;
  // Set when the mapping's prefix itself holds the delimiter after in.prefix: the whole mapping
  // is this one common prefix (shown when the mapping has a visible object).
  std::optional<std::string> wholePrefix;
  std::string after;  // in.startAfter in cold space ("" = from the start)
};

Plan planFor(const core::ListInput& in, const std::string& p) {
  Plan plan;
  const std::string& q = in.prefix;
  const std::string& d = in.delimiter;
  const std::string& s = in.startAfter;
  if (s > p && !s.starts_with(p)) {
    plan.skip = true;  // every key of the mapping sorts before the marker
    return plan;
  }
  if (s.starts_with(p)) {
    plan.after = s.substr(p.size());
  }
  if (q.starts_with(p)) {
    plan.coldPrefix = q.substr(p.size());
  } else if (!p.starts_with(q)) {
    plan.skip = true;  // disjoint from the listed prefix
    return plan;
  } else if (size_t pos = d.empty() ? std::string::npos : p.find(d, q.size());
             pos != std::string::npos) {
    plan.wholePrefix = p.substr(0, pos + d.size());
    return plan;
  }
  // The cold store rolls up at the first delimiter after coldPrefix, which is never before the
  // first one after in.prefix in the local key (a delimiter of several characters may begin in p
  // and end in the cold key): each cold entry is rolled up again here, so it comes out right.
  if (!d.empty()) {
    plan.coldDelimiter = d;
  }
  return plan;
}

core::ObjectRecord coldRecord(const core::ListInput& in, std::string key,
                              const cold::ColdObjectInfo& o, const std::string& owner) {
  core::ObjectRecord r;
  r.bucket = in.bucket;
  r.key = std::move(key);
  r.size = o.size;
  r.etag = o.etag;
  r.mtimeMs = o.lastModifiedMs;
  r.owner = owner;
  r.content.contentType = o.contentType;
  r.attrs = {{std::string(core::kTierStateAttr), "cold"}};
  return r;
}

Status noProgress() {
  return makeError(Code::kCorruption, "cold listing returned the marker it was given");
}

}  // namespace

asio::awaitable<Result<core::ListOutput>> mergeColdListing(
    const core::ListInput& in, core::ListOutput local, const std::vector<MergeSource>& sources,
    const std::function<bool(std::string_view localKey)>& hidden, const std::string& owner) {
  if (in.maxKeys == 0 || sources.empty()) {
    co_return std::move(local);
  }
  const size_t maxKeys = in.maxKeys;
  // Every entry known so far, by name: a record, or nullopt for a common prefix. Warm ones first,
  // so emplace keeps them over cold ones.
  std::map<std::string, std::optional<core::ObjectRecord>> merged;
  for (core::ObjectRecord& o : local.objects) {
    std::string key = o.key;
    merged.emplace(std::move(key), std::move(o));
  }
  for (const std::string& cp : local.commonPrefixes) {
    merged.emplace(cp, std::nullopt);
  }
  const bool full = merged.size() >= maxKeys;
  const std::string horizon = merged.empty() ? std::string() : merged.rbegin()->first;
  const int pageSize = static_cast<int>(std::min<uint64_t>(kMaxColdPage, maxKeys + kPageSlack));
  auto visible = [&hidden](std::string_view key) { return !hidden || !hidden(key); };

  for (const MergeSource& src : sources) {
    if (src.mapping == nullptr || !src.list) {
      continue;
    }
    const std::string& p = src.mapping->cfg.prefix;
    Plan plan = planFor(in, p);
    if (plan.skip) {
      continue;
    }

    if (plan.wholePrefix) {
      const std::string& cp = *plan.wholePrefix;
      if (cp <= in.startAfter || merged.contains(cp) ||
          (full && local.truncated && cp > horizon)) {
        continue;  // not after the marker, already there, or past a page that is cut anyway
      }
      // The prefix shows when the mapping holds a visible object: find one.
      std::string marker;
      bool found = false;
      for (;;) {
        auto op = src.list(std::string(), marker, kProbeKeys, std::nullopt);
        auto page = co_await std::move(op);
        EMBER_CO_TRY(page);
        for (const cold::ColdObjectInfo& o : page->objects) {
          if (visible(p + o.key)) {
            found = true;
            break;
          }
        }
        if (found || page->nextMarker.empty()) {
          break;
        }
        if (page->nextMarker == marker) {
          co_return unexpected(noProgress());
        }
        marker = page->nextMarker;
      }
      if (found) {
        merged.emplace(cp, std::nullopt);
      }
      continue;
    }

    std::string marker;
    if (src.resume && !plan.after.empty()) {
      marker = src.resume(plan.coldPrefix, plan.coldDelimiter, plan.after);
    }
    std::string last;  // the mapping's last entry (cold entries come in order; a prefix repeats)
    size_t count = 0;  // the mapping's distinct entries after the marker
    bool done = false;
    while (!done) {
      auto op = src.list(plan.coldPrefix, marker, pageSize, plan.coldDelimiter);
      auto page = co_await std::move(op);
      EMBER_CO_TRY(page);
      const auto& objects = page->objects;
      const auto& prefixes = page->prefixes;
      size_t i = 0;
      size_t j = 0;
      while (!done && (i < objects.size() || j < prefixes.size())) {
        const bool isObject =
            j == prefixes.size() || (i < objects.size() && objects[i].key < prefixes[j]);
        const cold::ColdObjectInfo* obj = isObject ? &objects[i++] : nullptr;
        std::string localKey = p + (isObject ? obj->key : prefixes[j++]);
        if (!localKey.starts_with(in.prefix) || (obj != nullptr && !visible(localKey))) {
          continue;
        }
        std::string_view cp = core::rollUp(localKey, in.prefix, in.delimiter);
        const bool isPrefix = obj == nullptr || !cp.empty();
        std::string entry = cp.empty() ? localKey : std::string(cp);
        if (entry <= in.startAfter || entry == last) {
          continue;
        }
        last = entry;
        ++count;
        if (isPrefix) {
          merged.emplace(std::move(entry), std::nullopt);
        } else {
          merged.emplace(std::move(entry), coldRecord(in, std::move(localKey), *obj, owner));
        }
        done = count > maxKeys || (full && last > horizon);
      }
      if (done || page->nextMarker.empty()) {
        break;
      }
      if (page->nextMarker == marker) {
        co_return unexpected(noProgress());
      }
      marker = page->nextMarker;
    }
  }

  core::ListOutput out;
  size_t n = 0;
  for (auto it = merged.begin(); it != merged.end() && n < maxKeys; ++it, ++n) {
    if (it->second) {
      out.objects.push_back(std::move(*it->second));
    } else {
      out.commonPrefixes.push_back(it->first);
    }
    out.nextMarker = it->first;
  }
  out.truncated = merged.size() > maxKeys || local.truncated;
  if (!out.truncated) {
    out.nextMarker.clear();
  }
  co_return out;
}

// --- ListCache ---

struct ListCache::Entry {
  cold::ColdListPage page;
  std::chrono::steady_clock::time_point storedAt;
  std::list<Key>::iterator lru;
  std::optional<CursorKey> cursor;
};

ColdLister ListCache::wrap(size_t mapping, std::chrono::milliseconds ttl, ColdLister inner) {
  // Not a coroutine itself: the coroutine gets copies, so it does not outlive this closure's
  // captures when the std::function is destroyed mid-call.
  return [this, mapping, ttl, inner = std::move(inner)](std::string prefix, std::string marker,
                                                        int maxKeys,
                                                        std::optional<std::string> delimiter) {
    return cachedList(this, mapping, ttl, inner, std::move(prefix), std::move(marker), maxKeys,
                      std::move(delimiter));
  };
}

asio::awaitable<Result<cold::ColdListPage>> ListCache::cachedList(
    ListCache* self, size_t mapping, std::chrono::milliseconds ttl, ColdLister inner,
    std::string prefix, std::string marker, int maxKeys, std::optional<std::string> delimiter) {
  using Clock = std::chrono::steady_clock;
  Key key{mapping, prefix, marker, maxKeys, delimiter.value_or(std::string())};
  uint64_t generation = 0;
  std::optional<cold::ColdListPage> hit;
  {
    std::lock_guard lock(self->mu_);
    auto it = self->entries_.find(key);
    if (it != self->entries_.end()) {
      Entry& e = *it->second;
      if (Clock::now() - e.storedAt < ttl) {
        self->lru_.splice(self->lru_.begin(), self->lru_, e.lru);
        hit = e.page;
      } else {
        self->eraseLocked(it);
      }
    }
    generation = self->generation_[mapping];
  }
  if (hit) {
    co_return std::move(*hit);
  }
  auto op = inner(prefix, marker, maxKeys, delimiter);
  Result<cold::ColdListPage> r = co_await std::move(op);
  if (!r || ttl <= std::chrono::milliseconds::zero() || self->max_ == 0) {
    co_return std::move(r);
  }
  {
    std::lock_guard lock(self->mu_);
    // Invalidated while it was read: the page may predate the change, so it is not kept.
    if (self->generation_[mapping] == generation) {
      auto it = self->entries_.find(key);
      if (it != self->entries_.end()) {
        self->eraseLocked(it);
      }
      auto e = std::make_shared<Entry>();
      e->page = *r;
      e->storedAt = Clock::now();
      self->lru_.push_front(key);
      e->lru = self->lru_.begin();
      std::string lastEntry;
      if (!r->objects.empty()) {
        lastEntry = r->objects.back().key;
      }
      if (!r->prefixes.empty()) {
        lastEntry = std::max(lastEntry, r->prefixes.back());
      }
      if (!r->nextMarker.empty() && !lastEntry.empty()) {
        CursorKey ck{mapping, prefix, std::get<4>(key), std::move(lastEntry)};
        self->cursors_[ck] = key;
        e->cursor = std::move(ck);
      }
      self->entries_.emplace(std::move(key), std::move(e));
      while (self->entries_.size() > self->max_) {
        self->eraseLocked(self->entries_.find(self->lru_.back()));
      }
    }
  }
  co_return std::move(r);
}

void ListCache::eraseLocked(std::map<Key, std::shared_ptr<Entry>>::iterator it) {
  Entry& e = *it->second;
  lru_.erase(e.lru);
  if (e.cursor) {
    auto c = cursors_.find(*e.cursor);
    if (c != cursors_.end() && c->second == it->first) {
      cursors_.erase(c);
    }
  }
  entries_.erase(it);
}

ColdResume ListCache::resumer(size_t mapping, std::chrono::milliseconds ttl) {
  return [this, mapping, ttl](const std::string& prefix,
                              const std::optional<std::string>& delimiter,
                              const std::string& after) -> std::string {
    const std::string delim = delimiter.value_or(std::string());
    std::lock_guard lock(mu_);
    for (;;) {
      // The fresh page that ends last at or before `after`: its continuation holds every entry
      // after `after`.
      auto c = cursors_.upper_bound(CursorKey{mapping, prefix, delim, after});
      if (c == cursors_.begin()) {
        return {};
      }
      --c;
      const auto& [m, p, d, lastEntry] = c->first;
      if (m != mapping || p != prefix || d != delim) {
        return {};
      }
      auto it = entries_.find(c->second);
      if (it == entries_.end()) {
        cursors_.erase(c);  // not expected: entries drop their cursors
        continue;
      }
      if (std::chrono::steady_clock::now() - it->second->storedAt < ttl) {
        lru_.splice(lru_.begin(), lru_, it->second->lru);
        return it->second->page.nextMarker;
      }
      eraseLocked(it);  // stale; drops the cursor too
    }
  };
}

void ListCache::invalidate(size_t mapping) {
  std::lock_guard lock(mu_);
  ++generation_[mapping];
  auto it = entries_.lower_bound(
      Key{mapping, std::string(), std::string(), std::numeric_limits<int>::min(), std::string()});
  while (it != entries_.end() && std::get<0>(it->first) == mapping) {
    auto next = std::next(it);
    eraseLocked(it);
    it = next;
  }
}

size_t ListCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace ember::tier
