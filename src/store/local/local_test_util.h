#pragma once
// Helpers for the local store's tests: temporary data directories and on-disk inspection.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "store/local/local_store.h"
#include "store/store_test_util.h"

namespace ember::store::testing {

inline LocalStoreOptions testOptions(const std::string& dir) {
  LocalStoreOptions o;
  o.dataDir = dir;
  o.reserveBytes = 0;
  o.blockCacheBytes = 8u << 20;
  return o;
}

// Names of the files under <dataDir>/data/*/.
inline std::set<std::string> dataFiles(const std::string& dataDir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dataDir + "/data", ec)) {
    if (entry.is_regular_file()) {
      names.insert(entry.path().filename().string());
    }
  }
  return names;
}

// Ids of every file extent referenced by a committed object or an in-progress upload's part.
inline std::set<std::string> referencedFiles(ObjectStore& store) {
  std::set<std::string> ids;
  auto buckets = store.listBuckets();
  EXPECT_TRUE(static_cast<bool>(buckets));
  if (!buckets) {
    return ids;
  }
  for (const BucketRecord& b : *buckets) {
    auto it = store.listObjects(b.name);
    for (; it && (*it)->valid(); (*it)->next()) {
      auto rec = store.getObject(b.name, (*it)->key());
      EXPECT_TRUE(static_cast<bool>(rec)) << describe(rec);
      for (const Extent& x : rec->extents) {
        if (x.kind == Extent::Kind::kFile) {
          ids.insert(x.id);
        }
      }
    }
    auto ups = store.listUploads(b.name);
    for (; ups && (*ups)->valid(); (*ups)->next()) {
      auto parts = store.listParts((*ups)->record().uploadId, 0, 10000);
      EXPECT_TRUE(static_cast<bool>(parts)) << describe(parts);
      for (const PartRecord& p : *parts) {
        if (p.extent.kind == Extent::Kind::kFile) {
          ids.insert(p.extent.id);
        }
      }
    }
  }
  return ids;
}

}  // namespace ember::store::testing
