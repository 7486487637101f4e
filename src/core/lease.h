#pragma once
// Blob leases on objects and buckets: the state derived from a store::LeaseRecord and the clock,
// the checks a write or read makes against it, and the lease state machine of Lease Blob /
// Lease Container (acquire, renew, change, release, break). Pure functions, no I/O.
//
// A LeaseRecord keeps only what the state machine needs; the state is derived:
//   never leased (id "") or released        -> available
//   breakAtMs set and now <  breakAtMs       -> breaking
//   breakAtMs set and now >= breakAtMs       -> broken
//   fixed duration and now >= expiresMs      -> expired
//   otherwise                                -> leased
// Times have 1-second granularity like Azure's: terms and break periods are whole seconds.

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "core/types.h"
#include "store/object_store.h"

namespace ember::core {

enum class LeaseState { kAvailable, kLeased, kExpired, kBreaking, kBroken };

LeaseState leaseState(const store::LeaseRecord& lease, int64_t nowMs);
// Leased or breaking: writes must name the lease.
inline bool leaseActive(LeaseState s) { return s == LeaseState::kLeased || s == LeaseState::kBreaking; }

// Wire names: x-ms-lease-status ("locked"/"unlocked"), x-ms-lease-state ("available", "leased",
// "expired", "breaking", "broken") and x-ms-lease-duration ("infinite"/"fixed" while leased, ""
// otherwise: Azure sends the header only for a leased resource).
std::string_view leaseStatusName(LeaseState state);
std::string_view leaseStateName(LeaseState state);
std::string_view leaseDurationName(const store::LeaseRecord& lease, int64_t nowMs);

// A write or delete against a possibly leased resource (Azure's rules):
//   active lease, no id given            -> kLeaseIdMissing
//   active lease, a different id given   -> kLeaseIdMismatch
//   an id given, no active lease         -> kLeaseNotPresent
// Lease ids compare case-insensitively (they are GUIDs).
Status checkLeaseForWrite(const store::LeaseRecord& lease,
                          std::optional<std::string_view> requestLeaseId, int64_t nowMs);
// A read: leases are ignored unless the request names one, which must then be the active lease
// (kLeaseIdMismatch, or kLeaseNotPresent when none is active).
Status checkLeaseForRead(const store::LeaseRecord& lease,
                         std::optional<std::string_view> requestLeaseId, int64_t nowMs);

// Applies a lease action to `lease` (unchanged on error). Errors:
//   kInvalidHeader                 duration not -1 or 15..60; break period not 0..60
//   kMissingHeader                 change without a proposed id
//   kLeaseAlreadyPresent           acquire of a resource leased (or breaking) under another id
//   kLeaseBreakingCannotAcquire    acquire with the breaking lease's own id
//   kLeaseOpIdMismatch             renew/change/release naming another lease
//   kLeaseOpNotPresent             renew/change/release/break with no lease to act on
//   kLeaseBrokenCannotRenew        renew of a breaking or broken lease
// Change of a breaking lease (its own id) fails with kLeaseBreakingCannotAcquire and a message
// prefixed "LeaseIsBreakingAndCannotBeChanged: " (Azure's code for it; core has none of its own).
// The result carries the active lease id (acquire, renew, change) or, for break, the whole seconds
// until the break completes (0 when broken). etag/mtimeMs are left for the caller.
Result<LeaseResult> applyLease(store::LeaseRecord& lease, const LeaseInput& in, int64_t nowMs);

// A new lease id: a random GUID, lowercase 8-4-4-4-12.
std::string newLeaseId();

}  // namespace ember::core
