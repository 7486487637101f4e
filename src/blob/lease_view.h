#pragma once
// The wire view of a lease (x-ms-lease-status/-state/-duration and the listing elements).

#include <cstdint>

#include "blob/xml.h"
#include "core/lease.h"
#include "store/object_store.h"

namespace ember::blob {

inline LeaseView leaseView(const store::LeaseRecord& lease, int64_t nowMs) {
  LeaseView v;
  core::LeaseState st = core::leaseState(lease, nowMs);
  v.status = std::string(core::leaseStatusName(st));
  v.state = std::string(core::leaseStateName(st));
  v.duration = std::string(core::leaseDurationName(lease, nowMs));
  return v;
}

}  // namespace ember::blob
