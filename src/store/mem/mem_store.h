#pragma once
// In-memory twin of the local store, for unit tests of the layers above the store. It follows the
// ObjectStore contract exactly like store/local does, and both pass the same conformance suite
// (store/store_conformance.h): the same errors, inline/file extent split at the same threshold,
// the same listing order, version pins that keep a replaced version's file extents alive while a
// reader holds them, reclaim of writer output when a commit fails, and a simulated volume size
// that produces kInsufficientStorage.
//
// Nothing survives the process. One mutex guards all state; CommitChecks run under it and must
// not call back into the store. Listings iterate a snapshot taken when the iterator is created
// (O(bucket size) memory, which is fine at unit-test scale).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/status.h"
#include "store/object_store.h"

namespace ember::store {

namespace mem {
class MemWriter;
class MemReader;
}  // namespace mem

struct MemStoreOptions {
  uint64_t inlineThreshold = 64 * 1024;
  // Simulated free space: bytes held by writers, data "files" and inline extents count against
  // it, and writes that would exceed it fail with kInsufficientStorage.
  uint64_t capacityBytes = 1ull << 40;
};

class MemStore final : public ObjectStore, public std::enable_shared_from_this<MemStore> {
  struct Passkey {};

 public:
  static std::shared_ptr<MemStore> create(MemStoreOptions options = {});

  MemStore(Passkey, MemStoreOptions options) : options_(options) {}

  Status createBucket(const BucketRecord& bucket) override;
  Result<BucketRecord> getBucket(std::string_view name) override;
  Status deleteBucket(std::string_view name) override;
  Result<std::vector<BucketRecord>> listBuckets() override;

  Result<std::unique_ptr<DataWriter>> newWriter() override;
  Result<ObjectRecord> getObject(std::string_view bucket, std::string_view key) override;
  Result<std::unique_ptr<ObjectReader>> openObject(std::string_view bucket,
                                                   std::string_view key) override;
  Status putObject(ObjectRecord record, const CommitCheck& check) override;
  Result<std::optional<ObjectRecord>> deleteObject(std::string_view bucket, std::string_view key,
                                                   const CommitCheck& check) override;
  Result<std::unique_ptr<ObjectIterator>> listObjects(std::string_view bucket,
                                                      bool fullRecords = false) override;
  Result<ObjectRecord> appendObject(std::string_view bucket, std::string_view key,
                                    std::span<const char> data,
                                    const AppendCheck& check) override;
  Status updateBucket(std::string_view name, const BucketUpdate& mutate) override;

  Status createUpload(const UploadRecord& upload) override;
  Result<UploadRecord> getUpload(std::string_view bucket, std::string_view key,
                                 std::string_view uploadId) override;
  Status putPart(std::string_view uploadId, PartRecord part) override;
  Result<std::vector<PartRecord>> listParts(std::string_view uploadId, uint32_t afterPart,
                                            uint32_t max) override;
  Status completeUpload(std::string_view uploadId, ObjectRecord record,
                        const CommitCheck& check) override;
  Status abortUpload(std::string_view uploadId) override;
  Result<std::unique_ptr<UploadIterator>> listUploads(std::string_view bucket) override;

  Result<Capacity> capacity() override;

  // File extents currently stored: uncommitted writer output, committed, or pinned by readers.
  size_t fileExtentCountForTest();
  // Versions pinned by live readers.
  size_t pinnedVersionCountForTest();

 private:
  friend class mem::MemWriter;
  friend class mem::MemReader;

  using RecordPtr = std::shared_ptr<const ObjectRecord>;
  struct Pin {
    uint32_t refs = 0;
    bool retired = false;
    std::vector<std::string> files;  // to free when the last reader goes
    uint64_t inlineBytes = 0;
  };

  // All REQUIRE mu_ held.
  Status reserveLocked(uint64_t bytes, uint64_t overhead);
  Status requireBucketLocked(std::string_view bucket) const;
  Status commitLocked(ObjectRecord& record, const CommitCheck& check,
                      const std::unordered_set<std::string>* partFiles);
  void retireLocked(const ObjectRecord& old, const std::vector<std::string>& keepFiles);
  void freeFileLocked(const std::string& id);
  void discardFreshLocked(const std::vector<Extent>& extents);
  void unpin(const std::string& versionId);
  // Writer accounting (takes mu_).
  Status reserveForWriter(uint64_t bytes);
  void releaseForWriter(uint64_t bytes);
  std::string registerFile(std::string bytes);

  const MemStoreOptions options_;
  std::mutex mu_;
  std::map<std::string, BucketRecord, std::less<>> buckets_;
  std::map<std::string, RecordPtr, std::less<>> objects_;  // bucket '\0' key
  std::map<std::string, UploadRecord, std::less<>> uploads_;  // bucket '\0' key '\0' uploadId
  std::unordered_map<std::string, std::string> uploadKeys_;  // uploadId -> uploads_ key
  std::unordered_map<std::string, std::map<uint32_t, PartRecord>> parts_;  // by uploadId
  std::unordered_map<std::string, std::shared_ptr<const std::string>> files_;  // by extent id
  std::unordered_set<std::string> fresh_;  // finished writer files not yet committed
  std::unordered_map<std::string, Pin> pins_;  // by versionId
  uint64_t usedBytes_ = 0;
};

}  // namespace ember::store
