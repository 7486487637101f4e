#pragma once
// One namespace over warm and cold: merges the cold listing of a mapped bucket into the warm
// listing of the same request (S3 ListObjects V1/V2 and Blob List Blobs both come through
// core::Namespace::list, so both see the same view).

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
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

struct MergeSource {
  const Mapping* mapping = nullptr;
  ColdLister list;
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
// owner = `owner`, and attrs {core::kTierStateAttr, "cold"}. Errors: the cold lister's.
asio::awaitable<Result<core::ListOutput>> mergeColdListing(
    const core::ListInput& in, core::ListOutput local, const std::vector<MergeSource>& sources,
    const std::function<bool(std::string_view localKey)>& hidden, const std::string& owner);

// Cold listing pages reused for a TTL (per mapping), so repeated listings of a big prefix do not
// cross the WAN each time. Bounded: at most maxEntries pages, least recently used dropped first.
// Thread-safe.
class ListCache {
 public:
  explicit ListCache(size_t maxEntries = 4096) : max_(maxEntries) {}
  // A lister that answers from the cache when a fresh page (younger than ttl) is there, else
  // calls `inner` and keeps its successful answer.
  ColdLister wrap(size_t mapping, std::chrono::milliseconds ttl, ColdLister inner);
  // Drops every page of `mapping` (a write-back or delete changed the cold listing).
  void invalidate(size_t mapping);
  size_t size() const;

 private:
  struct Entry;
  using Key = std::tuple<size_t, std::string, std::string, int, std::string>;
  mutable std::mutex mu_;
  size_t max_;
  std::map<Key, std::shared_ptr<Entry>> entries_;
  std::list<Key> lru_;
};

}  // namespace ember::tier
