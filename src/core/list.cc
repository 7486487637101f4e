// Listing: prefix/delimiter/marker paging over the store's ordered iterators. A page costs what
// the page holds: a common prefix is returned once and the iterator seeks past all its keys.
#include "core/namespace.h"

namespace ember::core {

std::string prefixSuccessor(std::string s) {
  while (!s.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(s.back());
    if (c != 0xFF) {
      ++c;
      return s;
    }
    s.pop_back();
  }
  return s;
}

std::string_view rollUp(std::string_view key, std::string_view prefix,
                        std::string_view delimiter) {
  if (delimiter.empty()) {
    return {};
  }
  size_t pos = key.find(delimiter, prefix.size());
  if (pos == std::string_view::npos) {
    return {};
  }
  return key.substr(0, pos + delimiter.size());
}

asio::awaitable<Result<ListOutput>> Namespace::list(ListInput in) {
  auto local = co_await listWarm(in);
  if (!local || !tier_ || in.maxKeys == 0 || !tier_->bucketMapped(in.bucket)) {
    co_return local;
  }
  co_return co_await tier_->mergeList(in, std::move(*local));
}

asio::awaitable<Result<ListOutput>> Namespace::listWarm(const ListInput& in) {
  co_return co_await offload(pool_, [this, &in]() -> Result<ListOutput> {
    auto itr = store_->listObjects(in.bucket, in.fullRecords);
    EMBER_TRY(itr);
    auto& it = **itr;
    ListOutput out;
    if (in.maxKeys == 0) {
      return out;
    }
    std::string_view markerCp = rollUp(in.startAfter, in.prefix, in.delimiter);
    if (!markerCp.empty() && in.startAfter.starts_with(in.prefix)) {
      // The marker is (inside) a common prefix that was already returned: skip all of it.
      std::string next = prefixSuccessor(std::string(markerCp));
      if (next.empty()) {
        return out;
      }
      it.seek(next);
    } else if (in.startAfter >= in.prefix && !in.startAfter.empty()) {
      it.seek(in.startAfter);
      if (it.valid() && it.key() == in.startAfter) {
        it.next();
      }
    } else {
      it.seek(in.prefix);
    }
    uint32_t count = 0;
    while (it.valid()) {
      std::string_view key = it.key();
      if (!key.starts_with(in.prefix)) {
        break;
      }
      if (count == in.maxKeys) {
        out.truncated = true;
        break;
      }
      std::string_view cp = rollUp(key, in.prefix, in.delimiter);
      if (!cp.empty()) {
        out.commonPrefixes.emplace_back(cp);
        out.nextMarker = std::string(cp);
        ++count;
        std::string next = prefixSuccessor(std::string(cp));
        if (next.empty()) {
          break;
        }
        it.seek(next);
        continue;
      }
      ObjectRecord rec = it.record();
      rec.extents.clear();
      out.nextMarker = rec.key;
      out.objects.push_back(std::move(rec));
      ++count;
      it.next();
    }
    EMBER_TRY(it.status());
    if (!out.truncated) {
      out.nextMarker.clear();
    }
    return out;
  });
}

asio::awaitable<Result<ListUploadsOutput>> Namespace::listUploads(ListUploadsInput in) {
  co_return co_await offload(pool_, [this, &in]() -> Result<ListUploadsOutput> {
    auto itr = store_->listUploads(in.bucket);
    EMBER_TRY(itr);
    auto& it = **itr;
    ListUploadsOutput out;
    if (in.maxUploads == 0) {
      return out;
    }
    std::string_view markerCp = rollUp(in.keyMarker, in.prefix, in.delimiter);
    if (!markerCp.empty() && in.keyMarker.starts_with(in.prefix)) {
      it.seek(prefixSuccessor(std::string(markerCp)), "");
    } else if (!in.keyMarker.empty()) {
      // Uploads of keyMarker after uploadIdMarker, then later keys.
      it.seek(in.keyMarker, in.uploadIdMarker);
      while (it.valid() && it.record().key == in.keyMarker &&
             (in.uploadIdMarker.empty() || it.record().uploadId <= in.uploadIdMarker)) {
        it.next();
      }
    } else {
      it.seek(in.prefix, "");
    }
    uint32_t count = 0;
    while (it.valid()) {
      const UploadRecord& rec = it.record();
      if (!rec.key.starts_with(in.prefix)) {
        if (rec.key > in.prefix) {
          break;
        }
        it.next();
        continue;
      }
      if (count == in.maxUploads) {
        out.truncated = true;
        break;
      }
      std::string_view cp = rollUp(rec.key, in.prefix, in.delimiter);
      if (!cp.empty()) {
        out.commonPrefixes.emplace_back(cp);
        out.nextKeyMarker = std::string(cp);
        out.nextUploadIdMarker.clear();
        ++count;
        it.seek(prefixSuccessor(std::string(cp)), "");
        continue;
      }
      out.nextKeyMarker = rec.key;
      out.nextUploadIdMarker = rec.uploadId;
      out.uploads.push_back(rec);
      ++count;
      it.next();
    }
    EMBER_TRY(it.status());
    return out;
  });
}

}  // namespace ember::core
