#pragma once
// The ObjectStore decorator that puts writes under a mapping on the write-back queue. Every
// commit path of the namespace core (PUT, complete-multipart, Put Block List, append, metadata
// rewrites, deletes, from S3 or Blob) ends in putObject / completeUpload / appendObject /
// deleteObject, so this one place sees them all. Keys outside every mapping go straight through.
//
// For a mapped key each write runs the protocol of writeback.h under the key's stripe lock:
// admit (read-only mappings refuse with kPermissionDenied, a full dirty budget with kBusy), the
// synced queue entry, the store commit, then commit/abort of the entry. Under a write-through
// mapping the call then waits for the upload (up to writeThroughTimeout); when the upload fails
// or takes longer the write is still durable here and queued, and the error (kUnavailable) says so.

#include <chrono>
#include <memory>

#include "store/object_store.h"
#include "tier/mapping.h"
#include "tier/writeback.h"

namespace ember::tier {

class TierStore : public store::ObjectStore {
 public:
  TierStore(store::ObjectStorePtr inner, const MappingTable& table, WriteBack& wb,
            std::chrono::milliseconds writeThroughTimeout);

  store::ObjectStore& inner() { return *inner_; }

  Status createBucket(const store::BucketRecord& bucket) override;
  Result<store::BucketRecord> getBucket(std::string_view name) override;
  Status deleteBucket(std::string_view name) override;
  Result<std::vector<store::BucketRecord>> listBuckets() override;
  Result<std::unique_ptr<store::DataWriter>> newWriter() override;
  Result<store::ObjectRecord> getObject(std::string_view bucket, std::string_view key) override;
  Result<std::unique_ptr<store::ObjectReader>> openObject(std::string_view bucket,
                                                          std::string_view key) override;
  Result<std::unique_ptr<store::ObjectReader>> tryOpenObjectCached(std::string_view bucket,
                                                                   std::string_view key) override;
  Status putObject(store::ObjectRecord record, const store::CommitCheck& check) override;
  Result<std::optional<store::ObjectRecord>> deleteObject(std::string_view bucket,
                                                          std::string_view key,
                                                          const store::CommitCheck& check) override;
  Result<std::unique_ptr<store::ObjectIterator>> listObjects(std::string_view bucket,
                                                             bool fullRecords) override;
  Result<store::ObjectRecord> appendObject(std::string_view bucket, std::string_view key,
                                           std::span<const char> data,
                                           const store::AppendCheck& check) override;
  Status updateBucket(std::string_view name, const store::BucketUpdate& mutate) override;
  Status createUpload(const store::UploadRecord& upload) override;
  Result<store::UploadRecord> getUpload(std::string_view bucket, std::string_view key,
                                        std::string_view uploadId) override;
  Status putPart(std::string_view uploadId, store::PartRecord part) override;
  Result<std::vector<store::PartRecord>> listParts(std::string_view uploadId, uint32_t afterPart,
                                                   uint32_t max) override;
  Status completeUpload(std::string_view uploadId, store::ObjectRecord record,
                        const store::CommitCheck& check) override;
  Status abortUpload(std::string_view uploadId) override;
  Result<std::unique_ptr<store::UploadIterator>> listUploads(std::string_view bucket) override;
  Result<store::Capacity> capacity() override;

 private:
  // Runs `commit` (the inner store call) inside the write-back protocol for a mapped key.
  Status guarded(const Mapping& m, const std::string& bucket, const std::string& key, Op op,
                 uint64_t size, const std::function<Result<uint64_t>()>& commit);
  // A rewrite that changes nothing the cold copy holds (a lease, a Blob copy attribute): same
  // bytes, content headers and user metadata as the current version.
  bool coldInvisible(const store::ObjectRecord& next);

  store::ObjectStorePtr inner_;
  const MappingTable& table_;
  WriteBack& wb_;
  std::chrono::milliseconds writeThroughTimeout_;
};

}  // namespace ember::tier
