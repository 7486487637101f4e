#pragma once
// Pieces of LocalStore shared by its .cc files; not part of the public interface.

#include <string>
#include <unordered_set>
#include <vector>

#include <rocksdb/write_batch.h>

#include "store/local/local_store.h"

namespace ember::store {

// How a commit of an object version is put together (LocalStore::commitObject).
struct LocalStore::CommitPlan {
  // Mutations committed in the same batch as the record: completeUpload adds the removal of
  // the upload and its parts, and 'F' marks for the parts it leaves out.
  rocksdb::WriteBatch batch;
  // completeUpload: raw ids of the upload's part files, the only new file extents the record may
  // name. nullptr for putObject, whose new file extents must be fresh writer output.
  const std::unordered_set<std::string>* partFiles = nullptr;
  // Set once the batch was handed to RocksDB: after that a failure is ambiguous (the write may
  // have reached the WAL), so the caller must not discard the record's files.
  bool attempted = false;
};

namespace local {

// Creates the writer returned by LocalStore::newWriter (local_writer.cc). `forceFile` writes even
// a small run to a data file (appends need a file they can grow).
std::unique_ptr<DataWriter> makeWriter(std::shared_ptr<LocalStore> store, bool forceFile = false);

}  // namespace local
}  // namespace ember::store
