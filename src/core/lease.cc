// The Blob lease state machine (Lease Blob / Lease Container), following Azure's table of
// outcomes per state and action; where the documentation leaves the error code open, Azurite's.
#include "core/lease.h"

#include <algorithm>

#include "common/headers.h"
#include "common/strings.h"
#include "core/namespace.h"

namespace ember::core {

namespace {

bool sameId(std::string_view a, std::string_view b) { return !a.empty() && iequals(a, b); }

// Seconds until `atMs`, rounded up (Azure reports whole seconds).
int32_t secondsUntil(int64_t atMs, int64_t nowMs) {
  if (atMs <= nowMs) {
    return 0;
  }
  return static_cast<int32_t>((atMs - nowMs + 999) / 1000);
}

void grant(store::LeaseRecord& lease, std::string id, int32_t durationSec, int64_t nowMs) {
  lease.id = std::move(id);
  lease.durationSec = durationSec;
  lease.expiresMs = durationSec < 0 ? 0 : nowMs + int64_t{durationSec} * 1000;
  lease.breakAtMs = 0;
  lease.released = false;
}

// Marks the lease breaking until `atMs` (broken at once when atMs <= now).
void breakAt(store::LeaseRecord& lease, int64_t atMs, int64_t nowMs) {
  lease.breakAtMs = std::max<int64_t>({atMs, nowMs, 1});
}

LeaseResult withId(const store::LeaseRecord& lease) {
  LeaseResult r;
  r.leaseId = lease.id;
  return r;
}

Result<LeaseResult> acquire(store::LeaseRecord& lease, const LeaseInput& in, LeaseState st,
                            int64_t nowMs) {
  if (in.durationSec != -1 && (in.durationSec < 15 || in.durationSec > 60)) {
    return unexpected(Code::kInvalidHeader,
                      "InvalidHeaderValue: x-ms-lease-duration must be -1 or 15..60 seconds");
  }
  switch (st) {
    case LeaseState::kLeased:
      // Acquiring with the active id renews it with the new duration; any other id fails.
      if (!sameId(in.proposedId, lease.id)) {
        return unexpected(Code::kLeaseAlreadyPresent, "There is already a lease present.");
      }
      grant(lease, lease.id, in.durationSec, nowMs);
      return withId(lease);
    case LeaseState::kBreaking:
      if (sameId(in.proposedId, lease.id)) {
        return unexpected(Code::kLeaseBreakingCannotAcquire,
                          "The lease is breaking and cannot be acquired until it is broken.");
      }
      return unexpected(Code::kLeaseAlreadyPresent, "There is already a lease present.");
    case LeaseState::kAvailable:
    case LeaseState::kExpired:
    case LeaseState::kBroken:
      break;
  }
  std::string id = in.proposedId.empty() ? newLeaseId() : in.proposedId;
  grant(lease, std::move(id), in.durationSec, nowMs);
  return withId(lease);
}

Result<LeaseResult> renew(store::LeaseRecord& lease, const LeaseInput& in, LeaseState st,
                          int64_t nowMs) {
  if (st == LeaseState::kAvailable) {
    return unexpected(Code::kLeaseOpNotPresent, "There is currently no lease.");
  }
  if (!sameId(in.leaseId, lease.id)) {
    return unexpected(Code::kLeaseOpIdMismatch, "The lease ID specified did not match.");
  }
  if (st == LeaseState::kBreaking || st == LeaseState::kBroken) {
    return unexpected(Code::kLeaseBrokenCannotRenew,
                      "The lease has been broken explicitly and cannot be renewed.");
  }
  // Leased or expired (nobody acquired it since): a new term of the same length.
  grant(lease, lease.id, lease.durationSec, nowMs);
  return withId(lease);
}

Result<LeaseResult> change(store::LeaseRecord& lease, const LeaseInput& in, LeaseState st) {
  if (in.proposedId.empty()) {
    return unexpected(Code::kMissingHeader, "x-ms-proposed-lease-id is required");
  }
  if (st != LeaseState::kLeased && st != LeaseState::kBreaking) {
    return unexpected(Code::kLeaseOpNotPresent, "There is currently no lease.");
  }
  // The request names the active lease, or asks for the id the lease already has (a retried
  // change): both succeed.
  if (!sameId(in.leaseId, lease.id) && !sameId(in.proposedId, lease.id)) {
    return unexpected(Code::kLeaseOpIdMismatch, "The lease ID specified did not match.");
  }
  if (st == LeaseState::kBreaking) {
    return unexpected(Code::kLeaseBreakingCannotAcquire,
                      "LeaseIsBreakingAndCannotBeChanged: The lease ID matched, but the lease is "
                      "currently in breaking state and cannot be changed.");
  }
  lease.id = in.proposedId;
  return withId(lease);
}

Result<LeaseResult> release(store::LeaseRecord& lease, const LeaseInput& in, LeaseState st) {
  if (st == LeaseState::kAvailable) {
    return unexpected(Code::kLeaseOpNotPresent, "There is currently no lease.");
  }
  if (!sameId(in.leaseId, lease.id)) {
    return unexpected(Code::kLeaseOpIdMismatch, "The lease ID specified did not match.");
  }
  lease.released = true;
  lease.breakAtMs = 0;
  lease.expiresMs = 0;
  return LeaseResult{};
}

Result<LeaseResult> breakLease(store::LeaseRecord& lease, const LeaseInput& in, LeaseState st,
                               int64_t nowMs) {
  std::optional<int32_t> period = in.breakPeriodSec;
  if (period && (*period < 0 || *period > 60)) {
    return unexpected(Code::kInvalidHeader,
                      "InvalidHeaderValue: x-ms-lease-break-period must be 0..60 seconds");
  }
  switch (st) {
    case LeaseState::kAvailable:
      return unexpected(Code::kLeaseOpNotPresent, "There is currently no lease.");
    case LeaseState::kExpired:
      breakAt(lease, nowMs, nowMs);
      break;
    case LeaseState::kBroken:
      break;
    case LeaseState::kLeased:
      if (period) {
        int64_t at = nowMs + int64_t{*period} * 1000;
        // A fixed lease breaks no later than the end of its term.
        breakAt(lease, lease.durationSec < 0 ? at : std::min(at, lease.expiresMs), nowMs);
      } else {
        // Absent: the rest of a fixed term; an infinite lease breaks at once.
        breakAt(lease, lease.durationSec < 0 ? nowMs : lease.expiresMs, nowMs);
      }
      break;
    case LeaseState::kBreaking:
      // A second break can only shorten the break period.
      if (period) {
        breakAt(lease, std::min(lease.breakAtMs, nowMs + int64_t{*period} * 1000), nowMs);
      }
      break;
  }
  LeaseResult r;
  r.leaseTimeSec = secondsUntil(lease.breakAtMs, nowMs);
  return r;
}

}  // namespace

LeaseState leaseState(const store::LeaseRecord& lease, int64_t nowMs) {
  if (lease.id.empty() || lease.released) {
    return LeaseState::kAvailable;
  }
  if (lease.breakAtMs != 0) {
    return nowMs < lease.breakAtMs ? LeaseState::kBreaking : LeaseState::kBroken;
  }
  if (lease.durationSec >= 0 && nowMs >= lease.expiresMs) {
    return LeaseState::kExpired;
  }
  return LeaseState::kLeased;
}

std::string_view leaseStatusName(LeaseState state) {
  return leaseActive(state) ? "locked" : "unlocked";
}

std::string_view leaseStateName(LeaseState state) {
  switch (state) {
    case LeaseState::kAvailable:
      return "available";
    case LeaseState::kLeased:
      return "leased";
    case LeaseState::kExpired:
      return "expired";
    case LeaseState::kBreaking:
      return "breaking";
    case LeaseState::kBroken:
      return "broken";
  }
  return "available";
}

std::string_view leaseDurationName(const store::LeaseRecord& lease, int64_t nowMs) {
  if (leaseState(lease, nowMs) != LeaseState::kLeased) {
    return "";
  }
  return lease.durationSec < 0 ? "infinite" : "fixed";
}

Status checkLeaseForWrite(const store::LeaseRecord& lease,
                          std::optional<std::string_view> requestLeaseId, int64_t nowMs) {
  bool active = leaseActive(leaseState(lease, nowMs));
  if (!requestLeaseId) {
    return active ? makeError(Code::kLeaseIdMissing,
                              "There is currently a lease and no lease ID was specified.")
                  : Status::ok();
  }
  if (!active) {
    return makeError(Code::kLeaseNotPresent, "There is currently no lease.");
  }
  if (!sameId(*requestLeaseId, lease.id)) {
    return makeError(Code::kLeaseIdMismatch, "The lease ID specified did not match.");
  }
  return Status::ok();
}

Status checkLeaseForRead(const store::LeaseRecord& lease,
                         std::optional<std::string_view> requestLeaseId, int64_t nowMs) {
  if (!requestLeaseId) {
    return Status::ok();
  }
  return checkLeaseForWrite(lease, requestLeaseId, nowMs);
}

Result<LeaseResult> applyLease(store::LeaseRecord& lease, const LeaseInput& in, int64_t nowMs) {
  store::LeaseRecord next = lease;
  LeaseState st = leaseState(next, nowMs);
  Result<LeaseResult> r;
  switch (in.action) {
    case LeaseAction::kAcquire:
      r = acquire(next, in, st, nowMs);
      break;
    case LeaseAction::kRenew:
      r = renew(next, in, st, nowMs);
      break;
    case LeaseAction::kChange:
      r = change(next, in, st);
      break;
    case LeaseAction::kRelease:
      r = release(next, in, st);
      break;
    case LeaseAction::kBreak:
      r = breakLease(next, in, st, nowMs);
      break;
  }
  if (r) {
    lease = std::move(next);
  }
  return r;
}

std::string newLeaseId() {
  std::string hex = newId();
  hex[12] = '4';                                   // version 4 (random)
  hex[16] = "89ab"[hexDigitValue(hex[16]) & 3];      // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < hex.size(); ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) {
      out += '-';
    }
    out += hex[i];
  }
  return out;
}

}  // namespace ember::core
