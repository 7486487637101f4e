#pragma once
// Record checks and helpers shared by the ObjectStore implementations (local and mem), so that
// both accept and refuse exactly the same inputs.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/object_store.h"

namespace ember::store {

inline constexpr uint32_t kMaxPartNumber = 10000;

// 32 lowercase hex chars: the form of extent ids and version ids.
bool isHexId(std::string_view id);
// A fresh random 32-hex id (per-thread generator seeded from getrandom(2)).
std::string newHexId();

// What putObject/completeUpload require of a record: a bucket, extents that are well formed
// (inline ones carry exactly `size` bytes, file ones a hex id), extent sizes summing to
// record.size, and a versionId that is empty or a hex id. Errors: kInvalidArgument.
Status validateObjectRecord(const ObjectRecord& rec);
// Part number in 1..kMaxPartNumber (any >= 1 for staged blocks), part.size == extent size, a well-formed extent.
// Errors: kInvalidArgument.
Status validatePart(const PartRecord& part);
// Inline bytes carried by `rec`'s extents.
uint64_t inlineBytes(const ObjectRecord& rec);
// Drops the bytes of inline extents (sizes stay): the form of records returned by metadata
// calls (getObject, CommitCheck's `current`, deleteObject, listings).
void stripInlineData(ObjectRecord& rec);

}  // namespace ember::store
