// ObjectStore::updateObject: a metadata-only rewrite built on the contract's own calls. The
// current version is opened (which pins it), its inline bytes are read back so the new version
// can carry them, and putObject commits the edited record with a check that the key still holds
// the version that was read; a concurrent writer makes it retry.

#include "store/object_store.h"
#include "store/record_util.h"

namespace ember::store {

namespace {

constexpr int kAttempts = 16;

bool sameLayout(const ObjectRecord& a, const ObjectRecord& b) {
  if (a.size != b.size || a.partSizes != b.partSizes || a.blockIds != b.blockIds ||
      a.extents.size() != b.extents.size()) {
    return false;
  }
  for (size_t i = 0; i < a.extents.size(); ++i) {
    if (a.extents[i].kind != b.extents[i].kind || a.extents[i].id != b.extents[i].id ||
        a.extents[i].size != b.extents[i].size) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<ObjectRecord> ObjectStore::updateObject(std::string_view bucket, std::string_view key,
                                               const RecordUpdate& mutate) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto reader = openObject(bucket, key);
    if (!reader) {
      return unexpected(reader.error());
    }
    ObjectRecord rec = (*reader)->record();
    const std::string readVersion = rec.versionId;
    uint64_t offset = 0;
    for (Extent& x : rec.extents) {
      if (x.kind == Extent::Kind::kInline && x.size > 0 && x.data.size() != x.size) {
        x.data.resize(x.size);
        size_t done = 0;
        while (done < x.size) {
          auto n = (*reader)->readAt(offset + done, std::span<char>(x.data).subspan(done));
          if (!n) {
            return unexpected(n.error());
          }
          if (*n == 0) {
            return unexpected(Code::kCorruption, "object shorter than its record");
          }
          done += *n;
        }
      }
      offset += x.size;
    }
    const ObjectRecord before = rec;
    EMBER_TRY(mutate(rec));
    if (!sameLayout(before, rec) || rec.bucket != before.bucket || rec.key != before.key) {
      return unexpected(Code::kInvalidArgument, "updateObject may not change the object's bytes");
    }
    rec.versionId = newHexId();
    bool raced = false;
    Status s = putObject(rec, [&](const ObjectRecord* current) -> Status {
      if (current == nullptr || current->versionId != readVersion) {
        raced = true;
        return makeError(Code::kBusy, "the object changed during the update");
      }
      return Status::ok();
    });
    if (s) {
      stripInlineData(rec);
      return rec;
    }
    if (!raced) {
      return unexpected(s);
    }
  }
  return unexpected(Code::kBusy, "the object kept changing; update not applied");
}

}  // namespace ember::store
