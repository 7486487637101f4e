#include "store/mem/mem_store.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "store/record_util.h"

namespace ember::store {

namespace {

std::string compositeKey(std::string_view bucket, std::string_view key) {
  std::string k;
  k.reserve(bucket.size() + 1 + key.size());
  k.append(bucket);
  k.push_back('\0');
  k.append(key);
  return k;
}

std::string uploadMapKey(std::string_view bucket, std::string_view key, std::string_view id) {
  std::string k = compositeKey(bucket, key);
  k.push_back('\0');
  k.append(id);
  return k;
}

ObjectRecord stripped(const ObjectRecord& rec) {
  ObjectRecord copy = rec;
  stripInlineData(copy);
  return copy;
}

Status noSuchUpload(std::string_view id) {
  return makeError(Code::kNoSuchUpload, "no such upload: " + std::string(id));
}

}  // namespace

namespace mem {

class MemWriter final : public DataWriter {
 public:
  explicit MemWriter(std::shared_ptr<MemStore> store) : store_(std::move(store)) {}
  ~MemWriter() override {
    if (!finished_ && reserved_ > 0) {
      store_->releaseForWriter(reserved_);
    }
  }
  MemWriter(const MemWriter&) = delete;
  MemWriter& operator=(const MemWriter&) = delete;

  Status append(std::span<const char> data) override {
    if (!failed_) {
      return failed_;
    }
    if (finished_) {
      return makeError(Code::kInternal, "append after finish");
    }
    uint64_t after = bytes_.size() + data.size();
    if (after > store_->options_.inlineThreshold) {
      // Mirrors the local store: bytes count against the volume once the run spills to a file.
      uint64_t need = after - reserved_;
      if (Status s = store_->reserveForWriter(need); !s) {
        return fail(std::move(s));
      }
      reserved_ += need;
    }
    bytes_.append(data.data(), data.size());
    return Status::ok();
  }

  Result<Extent> finish() override {
    if (!failed_) {
      return unexpected(failed_);
    }
    if (finished_) {
      return unexpected(Code::kInternal, "finish called twice");
    }
    finished_ = true;
    Extent x;
    x.size = bytes_.size();
    if (bytes_.size() <= store_->options_.inlineThreshold) {
      x.kind = Extent::Kind::kInline;
      x.data = std::move(bytes_);
      return x;
    }
    x.kind = Extent::Kind::kFile;
    x.id = store_->registerFile(std::move(bytes_));
    return x;
  }

  uint64_t size() const override { return bytes_.size(); }

 private:
  Status fail(Status s) {
    if (reserved_ > 0) {
      store_->releaseForWriter(reserved_);
      reserved_ = 0;
    }
    bytes_.clear();
    failed_ = s;
    return s;
  }

  std::shared_ptr<MemStore> store_;
  std::string bytes_;
  uint64_t reserved_ = 0;
  bool finished_ = false;
  Status failed_;
};

class MemReader final : public ObjectReader {
 public:
  using Files = std::unordered_map<std::string, std::shared_ptr<const std::string>>;
  // `files`: the version's file bytes, taken when the reader was opened. Versions of one key can
  // share a file (appends grow it, metadata rewrites keep it), so the reader holds the bytes
  // itself rather than looking them up later.
  MemReader(std::shared_ptr<MemStore> store, std::shared_ptr<const ObjectRecord> record,
            Files files)
      : store_(std::move(store)), record_(std::move(record)), files_(std::move(files)) {}
  ~MemReader() override { store_->unpin(record_->versionId); }
  MemReader(const MemReader&) = delete;
  MemReader& operator=(const MemReader&) = delete;

  const ObjectRecord& record() const override { return *record_; }

  Result<size_t> readAt(uint64_t offset, std::span<char> buf) override {
    return readExtents(*record_, offset, buf,
                       [this](const Extent& x, uint64_t within, std::span<char> out)
                           -> Result<size_t> {
                         auto it = files_.find(x.id);
                         if (it == files_.end() || it->second->size() < x.size) {
                           return unexpected(Code::kCorruption, "data file " + x.id + " missing");
                         }
                         std::memcpy(out.data(), it->second->data() + within, out.size());
                         return out.size();
                       });
  }

 private:
  std::shared_ptr<MemStore> store_;
  std::shared_ptr<const ObjectRecord> record_;
  Files files_;
};

namespace {

class MemObjectIterator final : public ObjectIterator {
 public:
  using Entry = std::pair<std::string, std::shared_ptr<const ObjectRecord>>;
  explicit MemObjectIterator(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  void seek(std::string_view key) override {
    pos_ = static_cast<size_t>(
        std::lower_bound(entries_.begin(), entries_.end(), key,
                         [](const Entry& e, std::string_view k) { return e.first < k; }) -
        entries_.begin());
    cached_ = false;
  }
  bool valid() const override { return pos_ < entries_.size(); }
  void next() override {
    ++pos_;
    cached_ = false;
  }
  std::string_view key() const override { return entries_[pos_].first; }
  const ObjectRecord& record() override {
    if (!cached_) {
      record_ = stripped(*entries_[pos_].second);
      cached_ = true;
    }
    return record_;
  }
  Status status() const override { return Status::ok(); }

 private:
  std::vector<Entry> entries_;
  size_t pos_ = 0;
  ObjectRecord record_;
  bool cached_ = false;
};

class MemUploadIterator final : public UploadIterator {
 public:
  MemUploadIterator(std::vector<std::pair<std::string, UploadRecord>> entries)
      : entries_(std::move(entries)) {}

  void seek(std::string_view key, std::string_view uploadId) override {
    std::string target = std::string(key) + '\0' + std::string(uploadId);
    pos_ = static_cast<size_t>(
        std::lower_bound(entries_.begin(), entries_.end(), target,
                         [](const auto& e, const std::string& t) { return e.first < t; }) -
        entries_.begin());
  }
  bool valid() const override { return pos_ < entries_.size(); }
  void next() override { ++pos_; }
  const UploadRecord& record() override { return entries_[pos_].second; }
  Status status() const override { return Status::ok(); }

 private:
  std::vector<std::pair<std::string, UploadRecord>> entries_;  // key '\0' uploadId -> record
  size_t pos_ = 0;
};

}  // namespace
}  // namespace mem

std::shared_ptr<MemStore> MemStore::create(MemStoreOptions options) {
  return std::make_shared<MemStore>(Passkey{}, options);
}

// --- accounting and reclaim (mu_ held unless noted) ---

Status MemStore::reserveLocked(uint64_t bytes, uint64_t overhead) {
  if (usedBytes_ + bytes + overhead > options_.capacityBytes) {
    return makeError(Code::kInsufficientStorage, "simulated volume is full");
  }
  usedBytes_ += bytes;
  return Status::ok();
}

Status MemStore::reserveForWriter(uint64_t bytes) {
  std::lock_guard lock(mu_);
  return reserveLocked(bytes, 0);
}

void MemStore::releaseForWriter(uint64_t bytes) {
  std::lock_guard lock(mu_);
  usedBytes_ -= std::min(usedBytes_, bytes);
}

std::string MemStore::registerFile(std::string bytes) {
  std::lock_guard lock(mu_);
  std::string id = newHexId();
  files_.emplace(id, std::make_shared<const std::string>(std::move(bytes)));
  fresh_.insert(id);
  return id;
}

void MemStore::freeFileLocked(const std::string& id) {
  auto it = files_.find(id);
  if (it == files_.end()) {
    return;
  }
  usedBytes_ -= std::min<uint64_t>(usedBytes_, it->second->size());
  files_.erase(it);
  fresh_.erase(id);
}

void MemStore::discardFreshLocked(const std::vector<Extent>& extents) {
  for (const Extent& x : extents) {
    if (x.kind == Extent::Kind::kFile && fresh_.count(x.id) != 0) {
      freeFileLocked(x.id);
    }
  }
}

void MemStore::retireLocked(const ObjectRecord& old, const std::vector<std::string>& keepFiles) {
  std::vector<std::string> files;
  uint64_t inlineTotal = 0;
  for (const Extent& x : old.extents) {
    if (x.kind == Extent::Kind::kInline) {
      inlineTotal += x.size;
    } else if (std::find(keepFiles.begin(), keepFiles.end(), x.id) == keepFiles.end()) {
      files.push_back(x.id);
    }
  }
  auto it = pins_.find(old.versionId);
  if (it != pins_.end() && it->second.refs > 0) {
    it->second.retired = true;
    it->second.files = std::move(files);
    it->second.inlineBytes = inlineTotal;
    return;
  }
  for (const std::string& id : files) {
    freeFileLocked(id);
  }
  usedBytes_ -= std::min(usedBytes_, inlineTotal);
}

void MemStore::unpin(const std::string& versionId) {
  std::lock_guard lock(mu_);
  auto it = pins_.find(versionId);
  if (it == pins_.end() || --it->second.refs > 0) {
    return;
  }
  if (it->second.retired) {
    for (const std::string& id : it->second.files) {
      freeFileLocked(id);
    }
    usedBytes_ -= std::min(usedBytes_, it->second.inlineBytes);
  }
  pins_.erase(it);
}

Status MemStore::requireBucketLocked(std::string_view bucket) const {
  if (buckets_.find(bucket) == buckets_.end()) {
    return makeError(Code::kNoSuchBucket, "no such bucket: " + std::string(bucket));
  }
  return Status::ok();
}

// --- buckets ---

Status MemStore::createBucket(const BucketRecord& bucket) {
  if (bucket.name.empty() || bucket.name.find('\0') != std::string::npos) {
    return makeError(Code::kInvalidBucketName, "invalid bucket name");
  }
  std::lock_guard lock(mu_);
  if (!buckets_.emplace(bucket.name, bucket).second) {
    return makeError(Code::kAlreadyExists, "bucket exists: " + bucket.name);
  }
  return Status::ok();
}

Result<BucketRecord> MemStore::getBucket(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) {
    return unexpected(Code::kNoSuchBucket, "no such bucket: " + std::string(name));
  }
  return it->second;
}

Status MemStore::deleteBucket(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) {
    return makeError(Code::kNoSuchBucket, "no such bucket: " + std::string(name));
  }
  std::string prefix = compositeKey(name, "");
  auto hasPrefix = [&](const auto& map) {
    auto pos = map.lower_bound(prefix);
    return pos != map.end() && pos->first.compare(0, prefix.size(), prefix) == 0;
  };
  if (hasPrefix(objects_) || hasPrefix(uploads_)) {
    return makeError(Code::kBucketNotEmpty, "bucket not empty: " + std::string(name));
  }
  buckets_.erase(it);
  return Status::ok();
}

Result<std::vector<BucketRecord>> MemStore::listBuckets() {
  std::lock_guard lock(mu_);
  std::vector<BucketRecord> out;
  out.reserve(buckets_.size());
  for (const auto& [name, b] : buckets_) {
    out.push_back(b);
  }
  return out;
}

// --- objects ---

Result<std::unique_ptr<DataWriter>> MemStore::newWriter() {
  return std::make_unique<mem::MemWriter>(shared_from_this());
}

Result<ObjectRecord> MemStore::getObject(std::string_view bucket, std::string_view key) {
  std::lock_guard lock(mu_);
  EMBER_TRY(requireBucketLocked(bucket));
  auto it = objects_.find(compositeKey(bucket, key));
  if (it == objects_.end()) {
    return unexpected(Code::kNoSuchKey, "no such key: " + std::string(key));
  }
  return stripped(*it->second);
}

Result<std::unique_ptr<ObjectReader>> MemStore::openObject(std::string_view bucket,
                                                           std::string_view key) {
  RecordPtr rec;
  mem::MemReader::Files files;
  {
    std::lock_guard lock(mu_);
    EMBER_TRY(requireBucketLocked(bucket));
    auto it = objects_.find(compositeKey(bucket, key));
    if (it == objects_.end()) {
      return unexpected(Code::kNoSuchKey, "no such key: " + std::string(key));
    }
    rec = it->second;
    ++pins_[rec->versionId].refs;
    for (const Extent& x : rec->extents) {
      if (x.kind == Extent::Kind::kFile) {
        auto f = files_.find(x.id);
        if (f != files_.end()) {
          files.emplace(x.id, f->second);
        }
      }
    }
  }
  return std::make_unique<mem::MemReader>(shared_from_this(), std::move(rec), std::move(files));
}

Status MemStore::commitLocked(ObjectRecord& record, const CommitCheck& check,
                              const std::unordered_set<std::string>* partFiles) {
  std::string okey = compositeKey(record.bucket, record.key);
  auto it = objects_.find(okey);
  const ObjectRecord* current = it == objects_.end() ? nullptr : it->second.get();
  if (check) {
    std::optional<ObjectRecord> view;
    if (current != nullptr) {
      view = stripped(*current);
    }
    if (Status s = check(view ? &*view : nullptr); !s) {
      return s;
    }
  }
  std::vector<std::string> newFiles;
  std::vector<std::string> freshUsed;
  for (const Extent& x : record.extents) {
    if (x.kind != Extent::Kind::kFile) {
      continue;
    }
    newFiles.push_back(x.id);
    bool reused = current != nullptr &&
                  std::any_of(current->extents.begin(), current->extents.end(),
                              [&](const Extent& c) { return c.id == x.id; });
    if (reused) {
      continue;
    }
    if (partFiles != nullptr) {
      if (partFiles->count(x.id) == 0) {
        return makeError(Code::kInvalidPart, "extent " + x.id + " is not a part of the upload");
      }
      continue;
    }
    if (fresh_.count(x.id) == 0) {
      return makeError(Code::kInvalidArgument,
                       "extent " + x.id + " is not uncommitted output of this store's writers");
    }
    freshUsed.push_back(x.id);
  }
  // A lease belongs to the key, not to one version: a replacement that names none keeps it.
  if (current != nullptr && record.lease.id.empty()) {
    record.lease = current->lease;
  }
  if (record.versionId.empty()) {
    record.versionId = newHexId();
  }
  if (current != nullptr && current->versionId == record.versionId) {
    return makeError(Code::kInvalidArgument, "versionId equals the current version's");
  }
  usedBytes_ += inlineBytes(record);
  for (const std::string& id : freshUsed) {
    fresh_.erase(id);
  }
  RecordPtr next = std::make_shared<const ObjectRecord>(std::move(record));
  if (current != nullptr) {
    RecordPtr old = std::move(it->second);
    it->second = std::move(next);
    retireLocked(*old, newFiles);
  } else {
    objects_.emplace(std::move(okey), std::move(next));
  }
  return Status::ok();
}

Status MemStore::putObject(ObjectRecord record, const CommitCheck& check) {
  std::lock_guard lock(mu_);
  Status s = validateObjectRecord(record);
  if (s) {
    s = reserveLocked(0, inlineBytes(record) + 512);
  }
  if (s) {
    s = requireBucketLocked(record.bucket);
  }
  if (s) {
    s = commitLocked(record, check, nullptr);
  }
  if (!s) {
    discardFreshLocked(record.extents);
  }
  return s;
}

Result<ObjectRecord> MemStore::appendObject(std::string_view bucket, std::string_view key,
                                            std::span<const char> data,
                                            const AppendCheck& check) {
  std::lock_guard lock(mu_);
  EMBER_TRY(requireBucketLocked(bucket));
  auto it = objects_.find(compositeKey(bucket, key));
  if (it == objects_.end()) {
    return unexpected(Code::kNoSuchKey, "no such key: " + std::string(key));
  }
  const RecordPtr current = it->second;
  ObjectRecord next = *current;
  EMBER_TRY(reserveLocked(data.size(), 0));
  // Undo for a refused append: the grown file goes back to its old bytes, a new one is freed.
  std::shared_ptr<const std::string> grownFrom;
  std::string newFile;
  if (!data.empty()) {
    if (!next.extents.empty() && next.extents.back().kind == Extent::Kind::kFile) {
      Extent& tail = next.extents.back();
      auto file = files_.find(tail.id);
      if (file == files_.end()) {
        return unexpected(Code::kCorruption, "missing file extent " + tail.id);
      }
      grownFrom = file->second;
      auto grown = std::make_shared<std::string>(grownFrom->substr(0, tail.size));
      grown->append(data.data(), data.size());
      file->second = std::move(grown);
      tail.size += data.size();
    } else {
      newFile = newHexId();
      files_.emplace(newFile, std::make_shared<const std::string>(data.data(), data.size()));
      fresh_.insert(newFile);
      Extent x;
      x.kind = Extent::Kind::kFile;
      x.id = newFile;
      x.size = data.size();
      next.extents.push_back(std::move(x));
    }
    next.size += data.size();
  }
  next.versionId = newHexId();
  Status s = check(stripped(*current), next);
  ObjectRecord committed;
  if (s) {
    committed = stripped(next);  // commitLocked consumes `next`
    s = commitLocked(next, nullptr, nullptr);
  }
  if (!s) {
    if (grownFrom) {
      files_[current->extents.back().id] = grownFrom;
    }
    if (!newFile.empty()) {
      freeFileLocked(newFile);
    }
    usedBytes_ -= std::min<uint64_t>(usedBytes_, data.size());
    return unexpected(s);
  }
  return committed;
}

Status MemStore::updateBucket(std::string_view name, const BucketUpdate& mutate) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) {
    return makeError(Code::kNoSuchBucket, "no such bucket: " + std::string(name));
  }
  BucketRecord rec = it->second;
  EMBER_TRY(mutate(rec));
  if (rec.name != it->second.name) {
    return makeError(Code::kInvalidArgument, "updateBucket may not rename a bucket");
  }
  it->second = std::move(rec);
  return Status::ok();
}

Result<std::optional<ObjectRecord>> MemStore::deleteObject(std::string_view bucket,
                                                           std::string_view key,
                                                           const CommitCheck& check) {
  std::lock_guard lock(mu_);
  EMBER_TRY(requireBucketLocked(bucket));
  auto it = objects_.find(compositeKey(bucket, key));
  std::optional<ObjectRecord> view;
  if (it != objects_.end()) {
    view = stripped(*it->second);
  }
  if (check) {
    if (Status s = check(view ? &*view : nullptr); !s) {
      return unexpected(std::move(s));
    }
  }
  if (it != objects_.end()) {
    RecordPtr old = std::move(it->second);
    objects_.erase(it);
    retireLocked(*old, {});
  }
  return view;
}

Result<std::unique_ptr<ObjectIterator>> MemStore::listObjects(std::string_view bucket,
                                                               bool /*fullRecords: always*/) {
  std::lock_guard lock(mu_);
  EMBER_TRY(requireBucketLocked(bucket));
  std::string prefix = compositeKey(bucket, "");
  std::vector<mem::MemObjectIterator::Entry> entries;
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    entries.emplace_back(it->first.substr(prefix.size()), it->second);
  }
  return std::make_unique<mem::MemObjectIterator>(std::move(entries));
}

// --- multipart ---

Status MemStore::createUpload(const UploadRecord& upload) {
  if (upload.uploadId.empty() || upload.uploadId.find('\0') != std::string::npos) {
    return makeError(Code::kInvalidArgument, "malformed upload id");
  }
  std::lock_guard lock(mu_);
  EMBER_TRY(reserveLocked(0, 512));
  EMBER_TRY(requireBucketLocked(upload.bucket));
  if (uploadKeys_.count(upload.uploadId) != 0) {
    return makeError(Code::kAlreadyExists, "upload id in use: " + upload.uploadId);
  }
  std::string k = uploadMapKey(upload.bucket, upload.key, upload.uploadId);
  uploadKeys_.emplace(upload.uploadId, k);
  uploads_.emplace(std::move(k), upload);
  parts_[upload.uploadId];
  return Status::ok();
}

Result<UploadRecord> MemStore::getUpload(std::string_view bucket, std::string_view key,
                                         std::string_view uploadId) {
  std::lock_guard lock(mu_);
  auto it = uploadKeys_.find(std::string(uploadId));
  if (it == uploadKeys_.end()) {
    return unexpected(noSuchUpload(uploadId));
  }
  const UploadRecord& u = uploads_.at(it->second);
  if (u.bucket != bucket || u.key != key) {
    return unexpected(noSuchUpload(uploadId));
  }
  return u;
}

Status MemStore::putPart(std::string_view uploadId, PartRecord part) {
  std::lock_guard lock(mu_);
  std::vector<Extent> mine{part.extent};
  Status s = validatePart(part);
  if (s) {
    s = reserveLocked(0, part.extent.data.size() + 256);
  }
  auto parts = parts_.find(std::string(uploadId));
  if (s && parts == parts_.end()) {
    s = noSuchUpload(uploadId);
  }
  if (s && part.extent.kind == Extent::Kind::kFile && fresh_.count(part.extent.id) == 0) {
    s = makeError(Code::kInvalidArgument,
                  "part extent " + part.extent.id + " is not uncommitted writer output");
  }
  if (!s) {
    discardFreshLocked(mine);
    return s;
  }
  fresh_.erase(part.extent.id);
  usedBytes_ += part.extent.data.size();
  auto [pos, inserted] = parts->second.try_emplace(part.number);
  if (!inserted) {
    const Extent& old = pos->second.extent;
    if (old.kind == Extent::Kind::kFile) {
      freeFileLocked(old.id);
    } else {
      usedBytes_ -= std::min<uint64_t>(usedBytes_, old.size);
    }
  }
  pos->second = std::move(part);
  return Status::ok();
}

Result<std::vector<PartRecord>> MemStore::listParts(std::string_view uploadId, uint32_t afterPart,
                                                    uint32_t max) {
  std::lock_guard lock(mu_);
  auto parts = parts_.find(std::string(uploadId));
  if (parts == parts_.end()) {
    return unexpected(noSuchUpload(uploadId));
  }
  std::vector<PartRecord> out;
  for (auto it = parts->second.upper_bound(afterPart);
       it != parts->second.end() && out.size() < max; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status MemStore::completeUpload(std::string_view uploadId, ObjectRecord record,
                                const CommitCheck& check) {
  EMBER_TRY(validateObjectRecord(record));
  std::lock_guard lock(mu_);
  auto keyIt = uploadKeys_.find(std::string(uploadId));
  if (keyIt == uploadKeys_.end()) {
    return noSuchUpload(uploadId);
  }
  std::string mapKey = keyIt->second;
  const UploadRecord& upload = uploads_.at(mapKey);
  if (upload.bucket != record.bucket || upload.key != record.key) {
    return noSuchUpload(uploadId);
  }
  auto& parts = parts_.at(std::string(uploadId));
  std::unordered_set<std::string> partFiles;
  uint64_t partInline = 0;
  for (const auto& [n, p] : parts) {
    if (p.extent.kind == Extent::Kind::kFile) {
      partFiles.insert(p.extent.id);
    } else {
      partInline += p.extent.size;
    }
  }
  std::unordered_set<std::string> chosen;
  for (const Extent& x : record.extents) {
    if (x.kind == Extent::Kind::kFile) {
      chosen.insert(x.id);
    }
  }
  EMBER_TRY(commitLocked(record, check, &partFiles));
  usedBytes_ -= std::min(usedBytes_, partInline);
  for (const std::string& id : partFiles) {
    if (chosen.count(id) == 0) {
      freeFileLocked(id);
    }
  }
  parts_.erase(std::string(uploadId));
  uploads_.erase(mapKey);
  uploadKeys_.erase(keyIt);
  return Status::ok();
}

Status MemStore::abortUpload(std::string_view uploadId) {
  std::lock_guard lock(mu_);
  auto keyIt = uploadKeys_.find(std::string(uploadId));
  if (keyIt == uploadKeys_.end()) {
    return noSuchUpload(uploadId);
  }
  auto parts = parts_.find(std::string(uploadId));
  for (const auto& [n, p] : parts->second) {
    if (p.extent.kind == Extent::Kind::kFile) {
      freeFileLocked(p.extent.id);
    } else {
      usedBytes_ -= std::min<uint64_t>(usedBytes_, p.extent.size);
    }
  }
  parts_.erase(parts);
  uploads_.erase(keyIt->second);
  uploadKeys_.erase(keyIt);
  return Status::ok();
}

Result<std::unique_ptr<UploadIterator>> MemStore::listUploads(std::string_view bucket) {
  std::lock_guard lock(mu_);
  EMBER_TRY(requireBucketLocked(bucket));
  std::string prefix = compositeKey(bucket, "");
  std::vector<std::pair<std::string, UploadRecord>> entries;
  for (auto it = uploads_.lower_bound(prefix);
       it != uploads_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    entries.emplace_back(it->first.substr(prefix.size()), it->second);
  }
  return std::make_unique<mem::MemUploadIterator>(std::move(entries));
}

Result<Capacity> MemStore::capacity() {
  std::lock_guard lock(mu_);
  Capacity c;
  c.totalBytes = options_.capacityBytes;
  c.freeBytes = options_.capacityBytes - std::min(options_.capacityBytes, usedBytes_);
  c.objectCount = objects_.size();
  return c;
}

size_t MemStore::fileExtentCountForTest() {
  std::lock_guard lock(mu_);
  return files_.size();
}

size_t MemStore::pinnedVersionCountForTest() {
  std::lock_guard lock(mu_);
  return pins_.size();
}

}  // namespace ember::store
