#include "store/local/reclaimer.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

namespace ember::store::local {

RetiredVersion retiredFor(const ObjectRecord& old, const std::string& oldVersionRaw,
                          const std::vector<std::string>& keepFileIdsRaw) {
  RetiredVersion r;
  r.versionRaw = oldVersionRaw;
  for (size_t i = 0; i < old.extents.size(); ++i) {
    const Extent& x = old.extents[i];
    if (x.kind == Extent::Kind::kInline) {
      if (x.size > 0) {
        r.dataIndices.push_back(static_cast<uint32_t>(i));
      }
      continue;
    }
    std::optional<std::string> raw = rawFromHexId(x.id);
    if (!raw || std::find(keepFileIdsRaw.begin(), keepFileIdsRaw.end(), *raw) !=
                    keepFileIdsRaw.end()) {
      continue;
    }
    if (std::find(r.fileIdsRaw.begin(), r.fileIdsRaw.end(), *raw) == r.fileIdsRaw.end()) {
      r.fileIdsRaw.push_back(std::move(*raw));
    }
  }
  if (old.partSizes.size() + old.extents.size() > kMaxEmbeddedTail) {
    r.dataIndices.push_back(kTailIndex);
  }
  return r;
}

void Reclaimer::pin(const std::string& versionRaw) {
  std::lock_guard lock(mu_);
  ++pins_[versionRaw].refs;
}

void Reclaimer::pinFiles(const std::string& versionRaw,
                         const std::vector<std::string>& fileIdsRaw) {
  std::lock_guard lock(mu_);
  auto it = pins_.find(versionRaw);
  if (it == pins_.end() || it->second.filesPinned) {
    return;
  }
  it->second.filesPinned = true;
  it->second.files = fileIdsRaw;
  for (const std::string& f : fileIdsRaw) {
    ++fileRefs_[f];
  }
}

bool Reclaimer::filesInUse(const RetiredVersion& r) const {
  return std::any_of(r.fileIdsRaw.begin(), r.fileIdsRaw.end(),
                     [this](const std::string& f) { return fileRefs_.count(f) != 0; });
}

void Reclaimer::unpin(const std::string& versionRaw) {
  std::lock_guard lock(mu_);
  auto it = pins_.find(versionRaw);
  if (it == pins_.end() || --it->second.refs > 0) {
    return;
  }
  for (const std::string& f : it->second.files) {
    auto ref = fileRefs_.find(f);
    if (ref != fileRefs_.end() && --ref->second == 0) {
      fileRefs_.erase(ref);
    }
  }
  std::optional<RetiredVersion> retired = std::move(it->second.retired);
  pins_.erase(it);
  if (retired) {
    waiting_.push_back(std::move(*retired));
  }
  // Retired versions whose files no pin reads any more become reclaimable.
  for (auto w = waiting_.begin(); w != waiting_.end();) {
    if (filesInUse(*w)) {
      ++w;
      continue;
    }
    readyVersions_.push_back(std::move(*w));
    w = waiting_.erase(w);
    hasPending_.store(true, std::memory_order_release);
  }
}

void Reclaimer::retire(RetiredVersion r) {
  {
    std::lock_guard lock(mu_);
    auto it = pins_.find(r.versionRaw);
    if (it != pins_.end() && it->second.refs > 0) {
      it->second.retired = std::move(r);
      return;
    }
    if (filesInUse(r)) {
      waiting_.push_back(std::move(r));
      return;
    }
    readyVersions_.push_back(std::move(r));
    hasPending_.store(true, std::memory_order_release);
  }
  runPending();
}

void Reclaimer::dropFiles(std::vector<std::string> fileIdsRaw, bool runNow) {
  if (fileIdsRaw.empty()) {
    return;
  }
  {
    std::lock_guard lock(mu_);
    readyFiles_.insert(readyFiles_.end(), std::make_move_iterator(fileIdsRaw.begin()),
                       std::make_move_iterator(fileIdsRaw.end()));
    hasPending_.store(true, std::memory_order_release);
  }
  if (runNow) {
    runPending();
  }
}

void Reclaimer::runPending() {
  if (!hasPending()) {
    return;
  }
  std::vector<RetiredVersion> versions;
  std::vector<std::string> files;
  {
    std::lock_guard lock(mu_);
    versions.swap(readyVersions_);
    files.swap(readyFiles_);
    hasPending_.store(false, std::memory_order_release);
  }
  // Unlink everything first, then make the removals durable with one fsync per directory,
  // and only then forget the marks: a mark must never be gone while its file may come back.
  std::set<std::string> dirs;
  auto unlinkAll = [&](const std::vector<std::string>& idsRaw) {
    bool ok = true;
    for (const std::string& raw : idsRaw) {
      std::string hex = hexFromRawId(raw);
      if (Status s = files_.remove(hex); !s) {
        spdlog::warn("local store: reclaim of {} deferred to recovery: {}", hex, s.toString());
        ok = false;
        continue;
      }
      dirs.insert(files_.dirFor(hex));
    }
    return ok;
  };
  std::vector<bool> versionOk;
  versionOk.reserve(versions.size());
  for (const RetiredVersion& v : versions) {
    versionOk.push_back(unlinkAll(v.fileIdsRaw));
  }
  std::vector<bool> fileOk;
  fileOk.reserve(files.size());
  for (const std::string& raw : files) {
    fileOk.push_back(unlinkAll({raw}));
  }
  bool dirsOk = true;
  for (const std::string& dir : dirs) {
    if (Status s = syncDirectory(dir); !s) {
      spdlog::warn("local store: reclaim fsync failed, deferred to recovery: {}", s.toString());
      dirsOk = false;
    }
  }
  if (!dirsOk) {
    return;  // marks stay; the next open repeats the reclaim
  }
  std::vector<IndexDelete> deletes;
  for (size_t i = 0; i < versions.size(); ++i) {
    if (!versionOk[i]) {
      continue;
    }
    for (uint32_t idx : versions[i].dataIndices) {
      deletes.push_back({Cf::kData, dataKey(versions[i].versionRaw, idx)});
    }
    deletes.push_back({Cf::kPending, pendingVersionKey(versions[i].versionRaw)});
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (fileOk[i]) {
      deletes.push_back({Cf::kPending, pendingFileKey(files[i])});
    }
  }
  queueDeletes(std::move(deletes));
}

void Reclaimer::queueDeletes(std::vector<IndexDelete> deletes) {
  if (deletes.empty()) {
    return;
  }
  bool flush = false;
  {
    std::lock_guard lock(mu_);
    deletes_.insert(deletes_.end(), std::make_move_iterator(deletes.begin()),
                    std::make_move_iterator(deletes.end()));
    flush = deletes_.size() >= kFlushThreshold;
  }
  if (flush) {
    if (Status s = flushDeletes(); !s) {
      spdlog::warn("local store: flushing reclaim marks failed: {}", s.toString());
    }
  }
}

std::vector<IndexDelete> Reclaimer::takeDeletes(size_t max) {
  std::lock_guard lock(mu_);
  std::vector<IndexDelete> out;
  if (deletes_.empty()) {
    return out;
  }
  if (deletes_.size() <= max) {
    out.swap(deletes_);
    return out;
  }
  auto first = deletes_.end() - static_cast<std::ptrdiff_t>(max);
  out.assign(std::make_move_iterator(first), std::make_move_iterator(deletes_.end()));
  deletes_.erase(first, deletes_.end());
  return out;
}

void Reclaimer::restoreDeletes(std::vector<IndexDelete> deletes) {
  std::lock_guard lock(mu_);
  deletes_.insert(deletes_.end(), std::make_move_iterator(deletes.begin()),
                  std::make_move_iterator(deletes.end()));
}

Status Reclaimer::flushDeletes() {
  std::vector<IndexDelete> deletes = takeDeletes(SIZE_MAX);
  if (deletes.empty()) {
    return Status::ok();
  }
  rocksdb::WriteBatch batch;
  for (const IndexDelete& d : deletes) {
    batch.Delete(index_.cf(d.cf), toSlice(d.key)).PermitUncheckedError();
  }
  Status s = index_.writeUnsynced(batch);
  if (!s) {
    restoreDeletes(std::move(deletes));
  }
  return s;
}

size_t Reclaimer::pinnedCount() {
  std::lock_guard lock(mu_);
  return pins_.size();
}

}  // namespace ember::store::local
