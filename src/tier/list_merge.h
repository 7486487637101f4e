#pragma once
// One namespace over warm and cold: merges the cold listing of a mapped bucket into the warm
// listing of the same request (S3 ListObjects V1/V2 and Blob List Blobs both come through
// core::Namespace::list, so both see the same view).

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cold/cold_store.h"
#include "core/types.h"
#include "tier/mapping.h"

namespace ember::tier {

// One page of a mapping's cold listing: (cold prefix, cold marker, maxKeys, delimiter), all
// relative to the mapping's location, as cold::ColdStore::list takes them.
using ColdLister = std::function<asio::awaitable<Result<cold::ColdListPage>>(
    std::string prefix, std::string marker, int maxKeys, std::optional<std::string> delimiter)>;

// Cold markers are continuation tokens (S3 continuation-token, Azure NextMarker), not keys, so a
// listing that starts after in.startAfter cannot hand the key to the cold store: it reads the cold
// listing from the start and skips what lies before the marker. A resumer shortens that walk: it
// returns a cold marker from which the listing of (prefix, delimiter) holds every entry after
// `after` (a cold-space key), or "" when it knows none (ListCache::resumer remembers the
// nextMarker of each page it holds, by the page's last entry).
using ColdResume = std::function<std::string(const std::string& prefix,
                                             const std::optional<std::string>& delimiter,
                                             const std::string& after)>;

struct MergeSource {
  const Mapping* mapping = nullptr;
  ColdLister list;
  ColdResume resume;  // optional
};

// Merges the cold listings of `sources` (the mappings of in.bucket) into `local`, the warm
// listing of the same request:
//   - keys and common prefixes in byte order, each once; a warm record wins over a cold one;
//   - cold keys translated to local keys (the mapping's prefix prepended) and rolled up against
//     in.prefix / in.delimiter as warm keys are; only keys after in.startAfter;
//   - keys for which `hidden(localKey)` is true (a delete waiting to be written back) left out,
//     with further cold pages read so the page still fills up;
//   - the page cut at in.maxKeys, truncated / nextMarker set as core::Namespace::list sets them.
// Cold objects come back as records with bucket, key, size, etag, mtimeMs (lastModifiedMs),
// owner = `owner`, and attrs {core::kTierStateAttr, "cold"}. Errors: the cold lister's
// (kCorruption when a cold page hands back the marker it was asked with).
// Limits: a cold common prefix is shown even when every key under it is hidden (the cold store
// rolls it up; a pending delete is written back soon). The page is the first in.maxKeys entries
// of the union of `local`'s entries (taken as they are) and the cold entries after
// in.startAfter (strictly). Every argument must outlive the returned awaitable.
asio::awaitable<Result<core::ListOutput>> mergeColdListing(
    const core::ListInput& in, core::ListOutput local, const std::vector<MergeSource>& sources,
    const std::function<bool(std::string_view localKey)>& hidden, const std::string& owner);

// Cold listing pages reused for a TTL (per mapping), so repeated listings of a big prefix do not
// cross the WAN each time. Bounded: at most maxEntries pages, least recently used dropped first.
// Thread-safe. The cache must outlive the listers and resumers it hands out (and their calls).
class ListCache {
 public:
  explicit ListCache(size_t maxEntries = 4096) : max_(maxEntries) {}
  // A lister that answers from the cache when a fresh page (younger than ttl) is there, else
  // calls `inner` and keeps its successful answer.
  // ttl <= 0 caches nothing. A page being fetched while invalidate(mapping) runs is not kept.
  ColdLister wrap(size_t mapping, std::chrono::milliseconds ttl, ColdLister inner);
  // A resumer (see ColdResume) answering from the fresh pages of `mapping` held here.
  ColdResume resumer(size_t mapping, std::chrono::milliseconds ttl);
  // Drops every page of `mapping` (a write-back or delete changed the cold listing).
  void invalidate(size_t mapping);
  size_t size() const;

 private:
  struct Entry;
  // (mapping, prefix, marker, maxKeys, delimiter or "")
  using Key = std::tuple<size_t, std::string, std::string, int, std::string>;
  // (mapping, prefix, delimiter or "", last entry of a page) -> the page that ends there
  using CursorKey = std::tuple<size_t, std::string, std::string, std::string>;

  static asio::awaitable<Result<cold::ColdListPage>> cachedList(
      ListCache* self, size_t mapping, std::chrono::milliseconds ttl, ColdLister inner,
      std::string prefix, std::string marker, int maxKeys, std::optional<std::string> delimiter);
  void eraseLocked(std::map<Key, std::shared_ptr<Entry>>::iterator it);

  mutable std::mutex mu_;
  size_t max_;
  std::map<Key, std::shared_ptr<Entry>> entries_;
  std::list<Key> lru_;  // most recently used first
  std::map<CursorKey, Key> cursors_;
  std::map<size_t, uint64_t> generation_;  // bumped by invalidate(mapping)
};

}  // namespace ember::tier
