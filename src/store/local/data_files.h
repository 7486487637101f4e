#pragma once
// Data files of the local store: <dataDir>/data/<first 2 hex chars of id>/<32-hex id>, one file
// per file extent. A file is written once and never modified below the size its committed
// extents record; only append objects grow their last file past that size (appendAt). This layer does paths, POSIX calls and their
// error mapping, and the free-space floor; the durability protocol that orders these calls
// against index commits lives in local_store.cc and docs/durability.md.

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/object_store.h"

namespace ember::store::local {

// errno -> Status: ENOSPC/EDQUOT -> kInsufficientStorage, ENOENT -> kNotFound, else kIOError.
Status errnoStatus(int err, std::string_view what);

// fsync(2) of a directory, so that entries created or removed in it survive a power loss.
Status syncDirectory(const std::string& path);

// Refuses writes that would take the volume's free space below a floor. statvfs(2) is consulted
// every kRecheckBytes of accepted writes, and on every call once free space is within
// kRecheckBytes of the floor (so space freed by deletes is noticed promptly).
class SpaceGuard {
 public:
  static constexpr uint64_t kRecheckBytes = 8u << 20;

  SpaceGuard(std::string path, uint64_t floorBytes)
      : path_(std::move(path)), floor_(floorBytes) {}
  // Accounts `bytes` about to be written. Errors: kInsufficientStorage, kIOError (statvfs).
  Status reserve(uint64_t bytes);

 private:
  Status refresh();  // REQUIRES: mu_ held

  const std::string path_;
  const uint64_t floor_;
  std::mutex mu_;
  bool known_ = false;
  uint64_t free_ = 0;      // free bytes at the last statvfs
  uint64_t consumed_ = 0;  // bytes accepted since then
};

class DataFiles {
 public:
  DataFiles(std::string dataDir, uint64_t reserveBytes);

  // Creates <dataDir>/data and its 256 fan-out directories (durably). Idempotent.
  Status prepare();
  std::string pathFor(std::string_view idHex) const;
  std::string dirFor(std::string_view idHex) const;
  // Opens a new file for writing: O_CREAT | O_EXCL, so an existing file is never truncated.
  Result<int> create(std::string_view idHex);
  Result<int> openForRead(std::string_view idHex);
  // Writes `data` at `offset` of an existing file and fdatasync()s it (append objects: the bytes
  // land past every committed extent's end, so no reader can see them before the commit).
  Status appendAt(std::string_view idHex, uint64_t offset, std::span<const char> data);
  // unlink(2); a file that is already gone is not an error (reclaim is idempotent).
  Status remove(std::string_view idHex);
  SpaceGuard& space() { return space_; }
  Result<Capacity> capacity();
  const std::string& root() const { return root_; }

 private:
  const std::string dataDir_;
  const std::string root_;  // <dataDir>/data
  SpaceGuard space_;
};

// write(2) / pread(2) loops that retry EINTR and short transfers.
Status writeAll(int fd, std::span<const char> data);
// Fills `buf` from `offset`; a file shorter than that is kCorruption (extents record their size).
Status preadAll(int fd, uint64_t offset, std::span<char> buf);

}  // namespace ember::store::local
