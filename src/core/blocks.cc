// Block objects (Blob block blobs). Blocks are staged as parts of an implicit upload per key,
// "blk" + hex(SHA-256(bucket '\0' key)), created by the first staged block. A block's part number
// is found by linear probing from a slot hashed from its id, so re-staging an id replaces its
// part; parts are never removed one by one (only with the whole upload), so a probe sequence
// has no holes before the part it looks for. Commit builds the object from staged parts and the
// current object's committed blocks (sharing their extents) and completes the staging upload,
// which drops the blocks it does not name.
#include <algorithm>
#include <chrono>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "common/time_util.h"
#include "core/namespace.h"
#include "core/range_source.h"

namespace ember::core {

namespace {

constexpr uint32_t kProbeBatch = 8;     // parts per listParts call while probing
constexpr uint32_t kListBatch = 1000;   // parts per listParts call while listing
constexpr int kCommitAttempts = 8;      // commits retried when the object changed meanwhile
constexpr std::string_view kEmptyMd5Hex = "d41d8cd98f00b204e9800998ecf8427e";

Status invalidBlockList() {
  return makeError(Code::kInvalidBlockList, "The specified block list is invalid.");
}

std::string stagingUploadId(std::string_view bucket, std::string_view key) {
  std::string material;
  material.reserve(bucket.size() + 1 + key.size());
  material.append(bucket);
  material.push_back('\0');
  material.append(key);
  return "blk" + sha256Hex(material);
}

// FNV-1a: stable across builds and runs (part numbers are persisted), unlike std::hash.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

uint32_t homeSlot(std::string_view blockId) {
  return 1 + static_cast<uint32_t>(fnv1a(blockId) % (uint64_t{1} << 31));
}

// Hands a finished extent that will not be committed back to the store: putPart consumes its
// extent and reclaims it on failure, and part number 0 always fails.
void discardExtent(store::ObjectStore& store, const std::string& uploadId, store::Extent extent) {
  if (extent.kind != store::Extent::Kind::kFile) {
    return;
  }
  PartRecord p;
  p.number = 0;
  p.size = extent.size;
  p.extent = std::move(extent);
  store.putPart(uploadId, std::move(p)).ignoreError();
}

// The staging upload records the length of its blobs' block ids: all ids of a blob must have the
// same length (Azure: 400 InvalidBlobOrBlock otherwise).
constexpr std::string_view kIdLengthMeta = "block-id-length";

Status idLengthMismatch() {
  return makeError(Code::kInvalidBlockId,
                   "The specified blob or block content is invalid: all block ids of a blob "
                   "must have the same length.");
}

Status ensureStaging(store::ObjectStore& store, const StageBlockInput& in,
                     const std::string& uploadId) {
  const std::string length = std::to_string(in.blockId.size());
  auto existing = store.getUpload(in.bucket, in.key, uploadId);
  if (existing) {
    for (const auto& [k, v] : existing->userMeta) {
      if (k == kIdLengthMeta && v != length) {
        return idLengthMismatch();
      }
    }
    return Status::ok();
  }
  if (existing.error().code() != Code::kNoSuchUpload) {
    return existing.error();
  }
  // A first staged block must match the committed blocks' id length too.
  if (auto obj = store.getObject(in.bucket, in.key); obj && !obj->blockIds.empty() &&
                                                      obj->blockIds[0].size() != in.blockId.size()) {
    return idLengthMismatch();
  }
  UploadRecord up;
  up.bucket = in.bucket;
  up.key = in.key;
  up.uploadId = uploadId;
  up.initiatedMs = nowMillis();
  up.owner = in.owner;
  up.userMeta = {{std::string(kIdLengthMeta), length}};
  Status s = store.createUpload(up);
  return s.code() == Code::kAlreadyExists ? Status::ok() : s;
}

// The part number for `blockId`: the part already holding it, or the first free number of its
// probe sequence.
Result<uint32_t> probeSlot(store::ObjectStore& store, const std::string& uploadId,
                           const std::string& blockId) {
  uint32_t n = homeSlot(blockId);
  for (;;) {
    auto parts = store.listParts(uploadId, n - 1, kProbeBatch);
    EMBER_TRY(parts);
    for (const PartRecord& p : *parts) {
      if (p.number != n || p.blockId == blockId) {
        return n;  // a free number, or the block's own part (replaced)
      }
      if (n == UINT32_MAX) {
        return unexpected(Code::kBlockCountExceeded, "no free block slot");
      }
      ++n;
    }
    if (parts->size() < kProbeBatch) {
      return n;
    }
  }
}

// Pages through the staged parts; `fn` sees each one. A missing upload has none.
Status forEachStaged(store::ObjectStore& store, const std::string& uploadId, bool& exists,
                     const std::function<void(PartRecord&)>& fn) {
  exists = true;
  uint32_t after = 0;
  for (;;) {
    auto parts = store.listParts(uploadId, after, kListBatch);
    if (!parts && parts.error().code() == Code::kNoSuchUpload) {
      exists = false;
      return Status::ok();
    }
    EMBER_TRY(parts);
    for (PartRecord& p : *parts) {
      fn(p);
    }
    if (parts->size() < kListBatch) {
      return Status::ok();
    }
    after = parts->back().number;
  }
}

// One committed block of the current object: its extent index (-1 for an empty block), size and
// offset in the object.
struct CommittedBlock {
  int64_t extent = -1;
  uint64_t size = 0;
  uint64_t offset = 0;
};

// The committed blocks of `rec` by id (first occurrence), when its layout is one extent per
// non-empty block as commits build it; empty otherwise.
std::unordered_map<std::string, CommittedBlock> committedBlocks(const ObjectRecord& rec) {
  std::unordered_map<std::string, CommittedBlock> out;
  if (rec.blockIds.size() != rec.partSizes.size()) {
    return out;
  }
  size_t x = 0;
  uint64_t offset = 0;
  for (size_t i = 0; i < rec.partSizes.size(); ++i) {
    CommittedBlock b;
    b.size = rec.partSizes[i];
    b.offset = offset;
    if (b.size > 0) {
      if (x >= rec.extents.size() || rec.extents[x].size != b.size) {
        return {};
      }
      b.extent = static_cast<int64_t>(x++);
    }
    offset += b.size;
    out.emplace(rec.blockIds[i], b);
  }
  if (x != rec.extents.size()) {
    return {};
  }
  return out;
}

Result<std::string> readRange(store::ObjectReader& reader, uint64_t offset, uint64_t size) {
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    auto n = reader.readAt(offset + done, std::span<char>(data).subspan(done));
    EMBER_TRY(n);
    if (*n == 0) {
      return unexpected(Code::kCorruption, "object shorter than its record");
    }
    done += *n;
  }
  return data;
}

// One attempt at committing a block list. `raced` is set when the current object changed
// between reading its committed blocks and the commit (the caller retries).
Result<ObjectRecord> commitOnce(store::ObjectStore& store, const CommitBlocksInput& in,
                                const std::string& uploadId, bool& raced) {
  // Staged blocks that the list may name, by id (inline bytes kept only for those).
  std::unordered_set<std::string_view> wantStaged;
  for (const BlockRefInput& b : in.blocks) {
    if (b.source != BlockSource::kCommitted) {
      wantStaged.insert(b.id);
    }
  }
  std::unordered_map<std::string, PartRecord> staged;
  bool hasUpload = false;
  EMBER_TRY(forEachStaged(store, uploadId, hasUpload, [&](PartRecord& p) {
    if (wantStaged.contains(p.blockId)) {
      staged.insert_or_assign(p.blockId, std::move(p));
    }
  }));
  // The current version: its committed blocks, and its lease, which the new version keeps.
  std::unique_ptr<store::ObjectReader> reader;
  std::unordered_map<std::string, CommittedBlock> committed;
  auto opened = store.openObject(in.bucket, in.key);
  if (opened) {
    reader = std::move(*opened);
    committed = committedBlocks(reader->record());
  } else if (opened.error().code() != Code::kNoSuchKey) {
    return unexpected(opened.error());
  }

  ObjectRecord rec;
  rec.bucket = in.bucket;
  rec.key = in.key;
  std::unordered_map<int64_t, std::string> inlineBytes;  // committed inline extents read so far
  for (const BlockRefInput& b : in.blocks) {
    const PartRecord* part = nullptr;
    const CommittedBlock* old = nullptr;
    if (b.source != BlockSource::kCommitted) {
      auto it = staged.find(b.id);
      part = it == staged.end() ? nullptr : &it->second;
    }
    if (part == nullptr && b.source != BlockSource::kUncommitted) {
      auto it = committed.find(b.id);
      old = it == committed.end() ? nullptr : &it->second;
    }
    if (part != nullptr) {
      if (part->size > 0) {
        rec.extents.push_back(part->extent);
      }
      rec.partSizes.push_back(part->size);
    } else if (old != nullptr) {
      if (old->extent >= 0) {
        store::Extent x = reader->record().extents[static_cast<size_t>(old->extent)];
        if (x.kind == store::Extent::Kind::kInline && x.data.size() != x.size) {
          auto cached = inlineBytes.find(old->extent);
          if (cached == inlineBytes.end()) {
            auto bytes = readRange(*reader, old->offset, old->size);
            EMBER_TRY(bytes);
            cached = inlineBytes.emplace(old->extent, std::move(*bytes)).first;
          }
          x.data = cached->second;
        }
        rec.extents.push_back(std::move(x));
      }
      rec.partSizes.push_back(old->size);
    } else {
      return unexpected(invalidBlockList());
    }
    rec.blockIds.push_back(b.id);
    rec.size += rec.partSizes.back();
  }
  const size_t n = in.blocks.size();
  rec.kind = store::ObjectKind::kBlock;
  rec.mtimeMs = nowMillis();
  rec.createdMs = rec.mtimeMs;
  rec.etag = n == 0 ? std::string(kEmptyMd5Hex)
                    : hexEncode(md5Raw(newId())) + "-" + std::to_string(n);
  rec.contentMd5 = in.contentMd5;
  rec.content = in.content;
  rec.userMeta = in.userMeta;
  rec.owner = in.owner;
  rec.versionId = newId();

  if (reader) {
    rec.lease = reader->record().lease;
  }
  std::string readVersion = reader ? reader->record().versionId : std::string();
  store::CommitCheck check = [&](const ObjectRecord* cur) -> Status {
    // Committed blocks share the extents of the version read above, and the lease is carried
    // over from it: it must still be current.
    std::string_view curVersion = cur != nullptr ? std::string_view(cur->versionId) : "";
    if (curVersion != readVersion) {
      raced = true;
      return makeError(Code::kBusy, "the object changed during the commit");
    }
    return in.check ? in.check(cur) : Status::ok();
  };
  ObjectRecord copy = rec;
  for (store::Extent& x : copy.extents) {
    x.data.clear();
  }
  Status s = hasUpload ? store.completeUpload(uploadId, std::move(rec), check)
                       : store.putObject(std::move(rec), check);
  EMBER_TRY(s);
  return copy;
}

}  // namespace

std::mutex& Namespace::blockStripe(const std::string& bucket, const std::string& key) {
  size_t h = std::hash<std::string>{}(bucket) * 31 + std::hash<std::string>{}(key);
  return blockStripes_[h % blockStripes_.size()];
}

asio::awaitable<Result<PartRecord>> Namespace::stageBlock(StageBlockInput in, ByteSource& body) {
  if (in.blockId.empty() || in.blockId.size() > 64) {
    co_return unexpected(Code::kInvalidBlockId, "InvalidBlockId: the block id must be 1 to 64 "
                                                "bytes before base64 encoding");
  }
  EMBER_CO_TRY(validateKey(in.key));
  EMBER_CO_TRY(co_await requireBucket(in.bucket));
  auto written = co_await writeBody(body, in.verifyOnly, in.expectedSize, options_.maxPartSize);
  EMBER_CO_TRY(written);
  std::string uploadId = stagingUploadId(in.bucket, in.key);
  Status verified = in.verify ? in.verify(written->digests) : Status::ok();
  PartRecord part;
  part.blockId = in.blockId;
  part.size = written->digests.size;
  part.etag = hexEncode(written->digests.md5);
  part.mtimeMs = nowMillis();
  part.extent = std::move(written->extent);
  auto work = [this, in = std::move(in), uploadId, part = std::move(part),
               verified]() mutable -> Result<PartRecord> {
    if (!verified) {
      discardExtent(*store_, uploadId, std::move(part.extent));
      return unexpected(verified);
    }
    std::lock_guard lock(blockStripe(in.bucket, in.key));
    Status ready = ensureStaging(*store_, in, uploadId);
    Result<uint32_t> number = ready ? probeSlot(*store_, uploadId, in.blockId)
                                    : Result<uint32_t>(unexpected(ready));
    if (!number) {
      discardExtent(*store_, uploadId, std::move(part.extent));
      return unexpected(number.error());
    }
    part.number = *number;
    PartRecord copy = part;
    copy.extent.data.clear();
    EMBER_TRY(store_->putPart(uploadId, std::move(part)));
    return copy;
  };
  co_return co_await offload(pool_, std::move(work));
}

asio::awaitable<Result<PartRecord>> Namespace::stageBlockFromObject(
    StageBlockInput in, std::string srcBucket, std::string srcKey,
    std::optional<ByteRange> range) {
  ReadInput rin;
  rin.bucket = std::move(srcBucket);
  rin.key = std::move(srcKey);
  auto src = co_await openRead(std::move(rin));
  EMBER_CO_TRY(src);
  if (range) {
    uint64_t size = src->record().size;
    if (range->length == 0 || range->first >= size || range->length > size - range->first) {
      co_return unexpected(Code::kInvalidRange,
                           "The range specified is invalid for the current size of the resource.");
    }
    src->offset = range->first;
    src->length = range->length;
  }
  RangeSource source(*src, pool_);
  in.expectedSize = src->length;
  co_return co_await stageBlock(std::move(in), source);
}

asio::awaitable<Result<BlockListView>> Namespace::getBlockList(std::string bucket, std::string key,
                                                               bool committed, bool uncommitted) {
  EMBER_CO_TRY(co_await requireBucket(bucket));
  auto work = [this, bucket, key, committed, uncommitted]() -> Result<BlockListView> {
    BlockListView view;
    auto obj = store_->getObject(bucket, key);
    if (obj) {
      view.object = std::move(*obj);
    } else if (obj.error().code() != Code::kNoSuchKey) {
      return unexpected(obj.error());
    }
    if (committed && view.object && view.object->blockIds.size() == view.object->partSizes.size()) {
      for (size_t i = 0; i < view.object->blockIds.size(); ++i) {
        view.committed.push_back(BlockInfo{view.object->blockIds[i], view.object->partSizes[i]});
      }
    }
    if (uncommitted) {
      struct Staged {
        int64_t mtimeMs;
        uint32_t number;
        BlockInfo info;
      };
      std::vector<Staged> staged;
      bool exists = false;
      EMBER_TRY(forEachStaged(*store_, stagingUploadId(bucket, key), exists, [&](PartRecord& p) {
        staged.push_back(Staged{p.mtimeMs, p.number, BlockInfo{std::move(p.blockId), p.size}});
      }));
      // Part numbers are hashed; the staging time approximates the order of the stages.
      std::sort(staged.begin(), staged.end(), [](const Staged& a, const Staged& b) {
        return a.mtimeMs != b.mtimeMs ? a.mtimeMs < b.mtimeMs : a.number < b.number;
      });
      for (Staged& s : staged) {
        view.uncommitted.push_back(std::move(s.info));
      }
    }
    return view;
  };
  co_return co_await offload(pool_, std::move(work));
}

asio::awaitable<Result<ObjectRecord>> Namespace::commitBlockList(CommitBlocksInput in) {
  EMBER_CO_TRY(validateKey(in.key));
  if (in.blocks.size() > options_.maxBlocks) {
    co_return unexpected(Code::kBlockCountExceeded,
                         "The committed block count cannot exceed the maximum limit of " +
                             std::to_string(options_.maxBlocks) + " blocks.");
  }
  EMBER_CO_TRY(co_await requireBucket(in.bucket));
  auto work = [this, in = std::move(in)]() -> Result<ObjectRecord> {
    std::string uploadId = stagingUploadId(in.bucket, in.key);
    std::lock_guard lock(blockStripe(in.bucket, in.key));
    for (int attempt = 0; attempt < kCommitAttempts; ++attempt) {
      bool raced = false;
      auto r = commitOnce(*store_, in, uploadId, raced);
      if (r || !raced) {
        return r;
      }
    }
    return unexpected(Code::kBusy, "the object kept changing; block list not committed");
  };
  co_return co_await offload(pool_, std::move(work));
}

asio::awaitable<Status> Namespace::dropStagedBlocks(std::string bucket, std::string key) {
  auto work = [this, bucket, key]() -> Status {
    std::lock_guard lock(blockStripe(bucket, key));
    Status s = store_->abortUpload(stagingUploadId(bucket, key));
    return s.code() == Code::kNoSuchUpload ? Status::ok() : s;
  };
  co_return co_await offload(pool_, std::move(work));
}

asio::awaitable<Result<size_t>> Namespace::reapStagedBlocks(int64_t olderThanMs) {
  auto work = [this, olderThanMs]() -> Result<size_t> {
    auto buckets = store_->listBuckets();
    EMBER_TRY(buckets);
    size_t reaped = 0;
    for (const BucketRecord& b : *buckets) {
      auto it = store_->listUploads(b.name);
      if (!it) {
        continue;  // deleted meanwhile
      }
      std::vector<UploadRecord> stale;
      for (; (*it)->valid(); (*it)->next()) {
        const UploadRecord& u = (*it)->record();
        if (u.uploadId.starts_with("blk") && u.initiatedMs < olderThanMs) {
          stale.push_back(u);
        }
      }
      for (const UploadRecord& u : stale) {
        std::lock_guard lock(blockStripe(u.bucket, u.key));
        Status s = store_->abortUpload(u.uploadId);
        if (s) {
          ++reaped;
        }
      }
    }
    return reaped;
  };
  co_return co_await offload(pool_, std::move(work));
}

}  // namespace ember::core
