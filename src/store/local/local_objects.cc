// LocalStore objects: commit, lookup, readers (with version pins) and listing.

#include <unistd.h>

#include <algorithm>
#include <list>
#include <mutex>
#include <utility>

#include "store/local/data_files.h"
#include "store/local/index.h"
#include "store/local/local_internal.h"
#include "store/local/reclaimer.h"
#include "store/local/record_codec.h"
#include "store/record_util.h"

namespace ember::store {

using local::Cf;
using local::toSlice;
using local::toView;

namespace local {

// Holds a version pin until released or destroyed.
class PinGuard {
 public:
  PinGuard(Reclaimer& reclaimer, std::string versionRaw)
      : reclaimer_(&reclaimer), versionRaw_(std::move(versionRaw)) {
    reclaimer_->pin(versionRaw_);
  }
  ~PinGuard() {
    if (reclaimer_ != nullptr) {
      reclaimer_->unpin(versionRaw_);
    }
  }
  PinGuard(PinGuard&& o) noexcept
      : reclaimer_(std::exchange(o.reclaimer_, nullptr)), versionRaw_(std::move(o.versionRaw_)) {}
  PinGuard(const PinGuard&) = delete;
  PinGuard& operator=(const PinGuard&) = delete;
  PinGuard& operator=(PinGuard&&) = delete;

 private:
  Reclaimer* reclaimer_;
  std::string versionRaw_;
};

// A pinned view of one version. Data files are opened on first use and kept open for the
// reader's life (at most kMaxOpenFiles at a time: a multipart object may have thousands of
// extents); the pin keeps them and the inline bytes from being reclaimed meanwhile. readAt may be
// called from several threads at once.
class LocalReader final : public ObjectReader {
 public:
  static constexpr size_t kMaxOpenFiles = 16;

  LocalReader(std::shared_ptr<LocalStore> store, ObjectRecord record, PinGuard pin)
      : store_(std::move(store)), record_(std::move(record)), pin_(std::move(pin)) {}
  ~LocalReader() override {
    for (const OpenFile& f : open_) {
      ::close(f.fd);
    }
  }
  LocalReader(const LocalReader&) = delete;
  LocalReader& operator=(const LocalReader&) = delete;

  const ObjectRecord& record() const override { return record_; }

  Result<size_t> readAt(uint64_t offset, std::span<char> buf) override {
    return readExtents(record_, offset, buf,
                       [this](const Extent& x, uint64_t within, std::span<char> out)
                           -> Result<size_t> {
                         auto fd = acquire(x.id);
                         if (!fd) {
                           return unexpected(fd.error());
                         }
                         Status s = preadAll((*fd)->fd, within, out);
                         release(*fd);
                         EMBER_TRY(s);
                         return out.size();
                       });
  }

 private:
  struct OpenFile {
    std::string id;
    int fd = -1;
    uint32_t users = 0;  // concurrent readAt calls using it; closed only when 0
  };

  Result<OpenFile*> acquire(const std::string& idHex) {
    std::lock_guard lock(mu_);
    for (OpenFile& f : open_) {
      if (f.id == idHex) {
        ++f.users;
        return &f;
      }
    }
    auto fd = store_->files_->openForRead(idHex);
    if (!fd) {
      return unexpected(fd.error());
    }
    // Sequential reads move forward through the extents: evict the oldest idle file.
    if (open_.size() >= kMaxOpenFiles) {
      for (auto it = open_.begin(); it != open_.end(); ++it) {
        if (it->users == 0) {
          ::close(it->fd);
          open_.erase(it);
          break;
        }
      }
    }
    open_.push_back(OpenFile{idHex, *fd, 1});
    return &open_.back();
  }

  void release(OpenFile* f) {
    std::lock_guard lock(mu_);
    --f->users;
  }

  // Declaration order matters: the pin is released before the store reference goes away.
  std::shared_ptr<LocalStore> store_;
  const ObjectRecord record_;
  PinGuard pin_;
  std::mutex mu_;
  std::list<OpenFile> open_;  // oldest first; list nodes stay put while in use
};

namespace {

class LocalObjectIterator final : public ObjectIterator {
 public:
  LocalObjectIterator(std::shared_ptr<LocalStore> owner, rocksdb::DB& db,
                      rocksdb::ColumnFamilyHandle* cf, std::string_view bucket, bool full)
      : owner_(std::move(owner)),
        bucket_(bucket),
        depth_(full ? Depth::kFull : Depth::kListing),
        scan_(db, cf, bucketLowerBound(bucket), bucketUpperBound(bucket)) {
    scan_.it().SeekToFirst();
  }

  void seek(std::string_view key) override {
    cached_ = false;
    scan_.it().Seek(toSlice(objectKey(bucket_, key)));
  }
  bool valid() const override { return status_.isOk() && scan_.it().Valid(); }
  void next() override {
    cached_ = false;
    scan_.it().Next();
  }
  std::string_view key() const override {
    return toView(scan_.it().key()).substr(bucket_.size() + 1);
  }
  const ObjectRecord& record() override {
    if (!cached_) {
      cached_ = true;
      auto d = decodeObject(bucket_, key(), toView(scan_.it().value()), depth_);
      if (d) {
        record_ = std::move(d->record);
      } else {
        status_ = d.error();
        record_ = ObjectRecord();
      }
    }
    return record_;
  }
  Status status() const override {
    if (!status_) {
      return status_;
    }
    return fromRocks(scan_.it().status());
  }

 private:
  std::shared_ptr<LocalStore> owner_;  // outlives scan_: the DB must outlive its iterators
  const std::string bucket_;
  const Depth depth_;
  RangeScan scan_;
  ObjectRecord record_;
  bool cached_ = false;
  Status status_;
};

}  // namespace
}  // namespace local

// --- helpers ---

Result<std::optional<ObjectRecord>> LocalStore::loadObject(std::string_view bucket,
                                                           std::string_view key) {
  auto value = index_->get(Cf::kObjects, local::objectKey(bucket, key));
  if (!value) {
    return unexpected(value.error());
  }
  if (!*value) {
    return std::optional<ObjectRecord>();
  }
  auto d = local::decodeObject(bucket, key, **value, local::Depth::kFull);
  if (!d) {
    return unexpected(d.error());
  }
  if (d->tailExternal) {
    std::string raw = *local::rawFromHexId(d->record.versionId);
    auto tail = index_->get(Cf::kData, local::dataKey(raw, local::kTailIndex));
    if (!tail) {
      return unexpected(tail.error());
    }
    if (!*tail) {
      return unexpected(Code::kCorruption, "object " + std::string(key) + ": tail missing");
    }
    EMBER_TRY(local::decodeTail(**tail, d->record));
  }
  return std::optional<ObjectRecord>(std::move(d->record));
}

Status LocalStore::loadInlineData(ObjectRecord& rec, std::string_view versionRaw) {
  std::vector<std::string> keys;
  std::vector<Extent*> targets;
  for (size_t i = 0; i < rec.extents.size(); ++i) {
    Extent& x = rec.extents[i];
    if (x.kind == Extent::Kind::kInline && x.size > 0) {
      keys.push_back(local::dataKey(versionRaw, static_cast<uint32_t>(i)));
      targets.push_back(&x);
    }
  }
  if (keys.empty()) {
    return Status::ok();
  }
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), index_->cf(Cf::kData));
  std::vector<std::string> values;
  std::vector<rocksdb::Status> st =
      index_->db().MultiGet(local::Index::readOptions(), cfs, slices, &values);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (st[i].IsIncomplete()) {
      return makeError(Code::kBusy, "not in memory");
    }
    if (st[i].IsNotFound() || (st[i].ok() && values[i].size() != targets[i]->size)) {
      return makeError(Code::kCorruption, "object " + rec.key + ": inline data missing");
    }
    if (!st[i].ok()) {
      return local::fromRocks(st[i]);
    }
    targets[i]->data = std::move(values[i]);
  }
  return Status::ok();
}

Result<bool> LocalStore::isFreshFile(const std::string& idRaw) {
  auto mark = index_->get(Cf::kPending, local::pendingFileKey(idRaw));
  if (!mark) {
    return unexpected(mark.error());
  }
  return mark->has_value() && **mark == std::string_view(&local::kFileWriting, 1);
}

void LocalStore::discardFresh(const std::vector<Extent>& extents) {
  std::vector<std::string> fresh;
  for (const Extent& x : extents) {
    if (x.kind != Extent::Kind::kFile) {
      continue;
    }
    std::optional<std::string> raw = local::rawFromHexId(x.id);
    if (!raw) {
      continue;
    }
    auto isFresh = isFreshFile(*raw);
    if (isFresh && *isFresh) {
      fresh.push_back(std::move(*raw));
    }
  }
  reclaimer_->dropFiles(std::move(fresh));
}

// The commit protocol for a new object version (putObject and completeUpload):
//   under the key lock: load the current version, run the check, verify that every new file
//   extent is owned by this commit, then write ONE synced batch holding the record, its inline
//   bytes, the removal of the new files' writer marks, an 'R' mark for the replaced version and
//   the caller's extras. After the batch: reclaim the replaced version (now or on last unpin).
// REQUIRES: bucketLock(record.bucket) held shared and the bucket exists; for completes, the
// upload's lock held.
Status LocalStore::commitObject(ObjectRecord& record, const CommitCheck& check, CommitPlan& plan) {
  std::unique_lock keyGuard(keyLock(record.bucket, record.key));
  auto current = loadObject(record.bucket, record.key);
  if (!current) {
    return current.error();
  }
  if (check) {
    if (Status s = check(*current ? &**current : nullptr); !s) {
      return s;
    }
  }
  // File extents: reused from the version being replaced, or owned by this commit.
  std::vector<std::string> newFilesRaw;
  std::vector<std::string> freshMarks;
  for (const Extent& x : record.extents) {
    if (x.kind != Extent::Kind::kFile) {
      continue;
    }
    std::string raw = *local::rawFromHexId(x.id);
    newFilesRaw.push_back(raw);
    bool reused = *current && std::any_of((*current)->extents.begin(), (*current)->extents.end(),
                                          [&](const Extent& c) { return c.id == x.id; });
    if (reused) {
      continue;
    }
    if (plan.partFiles != nullptr) {
      if (plan.partFiles->count(raw) == 0) {
        return makeError(Code::kInvalidPart, "extent " + x.id + " is not a part of the upload");
      }
      continue;
    }
    auto fresh = isFreshFile(raw);
    if (!fresh) {
      return fresh.error();
    }
    if (!*fresh) {
      return makeError(Code::kInvalidArgument,
                       "extent " + x.id + " is not uncommitted output of this store's writers");
    }
    freshMarks.push_back(std::move(raw));
  }
  // A lease belongs to the key, not to one version: a replacement that names none keeps it.
  if (*current && record.lease.id.empty()) {
    record.lease = (*current)->lease;
  }
  // Pins, reclaim marks and inline-data keys are keyed by version id alone, so ids must be
  // unique: committers pass fresh random ids (or none, and the store makes one).
  if (record.versionId.empty()) {
    record.versionId = newHexId();
  }
  if (*current && (*current)->versionId == record.versionId) {
    return makeError(Code::kInvalidArgument, "versionId equals the current version's");
  }
  std::string versionRaw = *local::rawFromHexId(record.versionId);

  rocksdb::WriteBatch& batch = plan.batch;
  local::EncodedObject enc = local::encodeObject(record);
  batch.Put(index_->cf(Cf::kObjects), toSlice(local::objectKey(record.bucket, record.key)),
            toSlice(enc.value))
      .PermitUncheckedError();
  if (!enc.tail.empty()) {
    batch.Put(index_->cf(Cf::kData), toSlice(local::dataKey(versionRaw, local::kTailIndex)),
              toSlice(enc.tail))
        .PermitUncheckedError();
  }
  for (size_t i = 0; i < record.extents.size(); ++i) {
    const Extent& x = record.extents[i];
    if (x.kind == Extent::Kind::kInline && x.size > 0) {
      std::string key = local::dataKey(versionRaw, static_cast<uint32_t>(i));
      batch.Put(index_->cf(Cf::kData), toSlice(key), toSlice(x.data))
          .PermitUncheckedError();
    }
  }
  for (const std::string& raw : freshMarks) {
    batch.Delete(index_->cf(Cf::kPending), toSlice(local::pendingFileKey(raw)))
        .PermitUncheckedError();
  }
  std::optional<local::RetiredVersion> retired;
  if (*current) {
    retired = local::retiredFor(**current, *local::rawFromHexId((*current)->versionId),
                                newFilesRaw);
    batch.Put(index_->cf(Cf::kPending), toSlice(local::pendingVersionKey(retired->versionRaw)),
              toSlice(local::encodeRetired(*retired)))
        .PermitUncheckedError();
  }
  std::vector<local::IndexDelete> piggyback = reclaimer_->takeDeletes(256);
  for (const local::IndexDelete& d : piggyback) {
    batch.Delete(index_->cf(d.cf), toSlice(d.key)).PermitUncheckedError();
  }
  plan.attempted = true;
  if (Status s = index_->commit(batch); !s) {
    reclaimer_->restoreDeletes(std::move(piggyback));
    return s;
  }
  keyGuard.unlock();
  if (retired) {
    reclaimer_->retire(std::move(*retired));
  }
  return Status::ok();
}

// --- objects ---

Result<std::unique_ptr<DataWriter>> LocalStore::newWriter() {
  maybeReclaim();
  return local::makeWriter(shared_from_this());
}

Status LocalStore::putObject(ObjectRecord record, const CommitCheck& check) {
  maybeReclaim();
  CommitPlan plan;
  Status s = validateObjectRecord(record);
  if (s) {
    // Inline bytes land in the index (and a record of a few hundred bytes in any case).
    s = files_->space().reserve(inlineBytes(record) + 512);
  }
  if (s) {
    std::shared_lock bucketGuard(bucketLock(record.bucket));
    s = requireBucket(record.bucket);
    if (s) {
      s = commitObject(record, check, plan);
    }
  }
  if (!s && !plan.attempted) {
    discardFresh(record.extents);  // the failed call leaves no trace
  }
  return s;
}

Result<ObjectRecord> LocalStore::getObject(std::string_view bucket, std::string_view key) {
  maybeReclaim();
  auto rec = loadObject(bucket, key);
  if (!rec) {
    return unexpected(rec.error());
  }
  if (!*rec) {
    EMBER_TRY(requireBucket(bucket));
    return unexpected(Code::kNoSuchKey, "no such key: " + std::string(key));
  }
  return std::move(**rec);
}

Result<std::unique_ptr<ObjectReader>> LocalStore::openObject(std::string_view bucket,
                                                             std::string_view key) {
  maybeReclaim();
  return openVersion(bucket, key);
}

Result<std::unique_ptr<ObjectReader>> LocalStore::tryOpenObjectCached(std::string_view bucket,
                                                                      std::string_view key) {
  // No reclaim work here: it unlinks files. Any index read that would touch the disk fails the
  // whole call with kBusy and the caller retries openObject on the blocking pool.
  local::Index::CacheOnlyScope cacheOnly;
  return openVersion(bucket, key);
}

Result<std::unique_ptr<ObjectReader>> LocalStore::openVersion(std::string_view bucket,
                                                              std::string_view key) {
  std::string okey = local::objectKey(bucket, key);
  // Pin, then confirm the pinned version is still current: a commit writes its batch before it
  // looks at the pins, so either it sees our pin (and defers the reclaim) or we see its record
  // (and retry with the new version).
  while (true) {
    auto first = index_->get(Cf::kObjects, okey);
    if (!first) {
      return unexpected(first.error());
    }
    if (!*first) {
      EMBER_TRY(requireBucket(bucket));
      return unexpected(Code::kNoSuchKey, "no such key: " + std::string(key));
    }
    auto raw = local::peekVersionRaw(**first);
    if (!raw) {
      return unexpected(raw.error());
    }
    std::string versionRaw(*raw);
    local::PinGuard pin(*reclaimer_, versionRaw);
    auto rec = loadObject(bucket, key);
    if (!rec) {
      return unexpected(rec.error());
    }
    if (!*rec || *local::rawFromHexId((*rec)->versionId) != versionRaw) {
      continue;  // replaced or deleted in between; the pin is dropped
    }
    EMBER_TRY(loadInlineData(**rec, versionRaw));
    std::vector<std::string> filesRaw;
    for (const Extent& x : (*rec)->extents) {
      if (x.kind == Extent::Kind::kFile) {
        filesRaw.push_back(*local::rawFromHexId(x.id));
      }
    }
    if (!filesRaw.empty()) {
      reclaimer_->pinFiles(versionRaw, filesRaw);
    }
    return std::make_unique<local::LocalReader>(shared_from_this(), std::move(**rec),
                                                std::move(pin));
  }
}

Result<std::optional<ObjectRecord>> LocalStore::deleteObject(std::string_view bucket,
                                                             std::string_view key,
                                                             const CommitCheck& check) {
  maybeReclaim();
  EMBER_TRY(requireBucket(bucket));
  std::unique_lock keyGuard(keyLock(bucket, key));
  auto current = loadObject(bucket, key);
  if (!current) {
    return unexpected(current.error());
  }
  if (check) {
    if (Status s = check(*current ? &**current : nullptr); !s) {
      return unexpected(std::move(s));
    }
  }
  if (!*current) {
    return std::optional<ObjectRecord>();
  }
  local::RetiredVersion retired =
      local::retiredFor(**current, *local::rawFromHexId((*current)->versionId), {});
  rocksdb::WriteBatch batch;
  batch.Delete(index_->cf(Cf::kObjects), toSlice(local::objectKey(bucket, key)))
      .PermitUncheckedError();
  batch.Put(index_->cf(Cf::kPending), toSlice(local::pendingVersionKey(retired.versionRaw)),
            toSlice(local::encodeRetired(retired)))
      .PermitUncheckedError();
  std::vector<local::IndexDelete> piggyback = reclaimer_->takeDeletes(256);
  for (const local::IndexDelete& d : piggyback) {
    batch.Delete(index_->cf(d.cf), toSlice(d.key)).PermitUncheckedError();
  }
  if (Status s = index_->commit(batch); !s) {
    reclaimer_->restoreDeletes(std::move(piggyback));
    return unexpected(std::move(s));
  }
  keyGuard.unlock();
  reclaimer_->retire(std::move(retired));
  return std::move(*current);
}

Result<std::unique_ptr<ObjectIterator>> LocalStore::listObjects(std::string_view bucket,
                                                                 bool fullRecords) {
  maybeReclaim();
  EMBER_TRY(requireBucket(bucket));
  return std::make_unique<local::LocalObjectIterator>(shared_from_this(), index_->db(),
                                                      index_->cf(Cf::kObjects), bucket,
                                                      fullRecords);
}

}  // namespace ember::store
