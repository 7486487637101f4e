// The lease state machine (core/lease.h): every action in every state, with a fake clock.
#include <gtest/gtest.h>

#include <cctype>
#include <regex>

#include "core/lease.h"

namespace ember::core {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // ms
constexpr const char* kA = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kB = "bbbbbbbb-0000-4000-8000-000000000002";

LeaseInput acquireIn(int32_t duration, std::string proposed = "") {
  LeaseInput in;
  in.action = LeaseAction::kAcquire;
  in.durationSec = duration;
  in.proposedId = std::move(proposed);
  return in;
}
LeaseInput withId(LeaseAction a, std::string id, std::string proposed = "") {
  LeaseInput in;
  in.action = a;
  in.leaseId = std::move(id);
  in.proposedId = std::move(proposed);
  return in;
}
LeaseInput breakIn(std::optional<int32_t> period) {
  LeaseInput in;
  in.action = LeaseAction::kBreak;
  in.breakPeriodSec = period;
  return in;
}

Code codeOf(const Result<LeaseResult>& r) { return r ? Code::kOk : r.error().code(); }

// A lease in each state at kT0 (held by kA).
store::LeaseRecord leased(int32_t duration = -1) {
  store::LeaseRecord l;
  EXPECT_TRUE(applyLease(l, acquireIn(duration, kA), kT0 - 1000));
  return l;
}
store::LeaseRecord expired() { return leased(15); }  // acquired at kT0 - 1 s, expired at +15 s
store::LeaseRecord breaking() {
  store::LeaseRecord l = leased();
  EXPECT_TRUE(applyLease(l, breakIn(30), kT0 - 1000));
  return l;
}
store::LeaseRecord broken() {
  store::LeaseRecord l = leased();
  EXPECT_TRUE(applyLease(l, breakIn(0), kT0 - 1000));
  return l;
}
store::LeaseRecord released() {
  store::LeaseRecord l = leased();
  EXPECT_TRUE(applyLease(l, withId(LeaseAction::kRelease, kA), kT0 - 1000));
  return l;
}
constexpr int64_t kLater = kT0 + 20'000;  // "now" for expired()

TEST(Lease, DerivedStatesAndNames) {
  store::LeaseRecord none;
  EXPECT_EQ(leaseState(none, kT0), LeaseState::kAvailable);
  EXPECT_EQ(leaseState(leased(), kT0), LeaseState::kLeased);
  EXPECT_EQ(leaseState(leased(15), kT0), LeaseState::kLeased);
  EXPECT_EQ(leaseState(expired(), kLater), LeaseState::kExpired);
  EXPECT_EQ(leaseState(breaking(), kT0), LeaseState::kBreaking);
  EXPECT_EQ(leaseState(breaking(), kT0 + 29'000), LeaseState::kBroken);
  EXPECT_EQ(leaseState(broken(), kT0), LeaseState::kBroken);
  EXPECT_EQ(leaseState(released(), kT0), LeaseState::kAvailable);

  EXPECT_EQ(leaseStatusName(LeaseState::kLeased), "locked");
  EXPECT_EQ(leaseStatusName(LeaseState::kBreaking), "locked");
  for (LeaseState s : {LeaseState::kAvailable, LeaseState::kExpired, LeaseState::kBroken}) {
    EXPECT_EQ(leaseStatusName(s), "unlocked");
  }
  EXPECT_EQ(leaseStateName(LeaseState::kAvailable), "available");
  EXPECT_EQ(leaseStateName(LeaseState::kLeased), "leased");
  EXPECT_EQ(leaseStateName(LeaseState::kExpired), "expired");
  EXPECT_EQ(leaseStateName(LeaseState::kBreaking), "breaking");
  EXPECT_EQ(leaseStateName(LeaseState::kBroken), "broken");
  EXPECT_EQ(leaseDurationName(leased(), kT0), "infinite");
  EXPECT_EQ(leaseDurationName(leased(60), kT0), "fixed");
  EXPECT_EQ(leaseDurationName(none, kT0), "");
  EXPECT_EQ(leaseDurationName(breaking(), kT0), "");
  EXPECT_EQ(leaseDurationName(expired(), kLater), "");
}

TEST(Lease, NewLeaseIdIsLowercaseGuid) {
  std::regex guid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string a = newLeaseId();
  EXPECT_TRUE(std::regex_match(a, guid)) << a;
  EXPECT_NE(a, newLeaseId());
}

TEST(Lease, AcquireFromFreeStates) {
  store::LeaseRecord l;
  auto r = applyLease(l, acquireIn(-1), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseId.size(), 36u);
  EXPECT_EQ(l.id, r->leaseId);
  EXPECT_EQ(leaseState(l, kT0 + 1'000'000), LeaseState::kLeased);  // infinite

  l = {};
  r = applyLease(l, acquireIn(15, kA), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseId, kA);
  EXPECT_EQ(leaseState(l, kT0 + 14'999), LeaseState::kLeased);
  EXPECT_EQ(leaseState(l, kT0 + 15'000), LeaseState::kExpired);

  for (auto make : {&expired, &broken, &released}) {
    store::LeaseRecord s = make();
    int64_t now = make == &expired ? kLater : kT0;
    r = applyLease(s, acquireIn(20, kB), now);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->leaseId, kB);
    EXPECT_EQ(leaseState(s, now), LeaseState::kLeased);
    EXPECT_EQ(s.expiresMs, now + 20'000);
  }
}

TEST(Lease, AcquireWhileLeasedOrBreaking) {
  store::LeaseRecord l = leased(15);
  // The same id renews with the new duration.
  auto r = applyLease(l, acquireIn(-1, kA), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseId, kA);
  EXPECT_EQ(leaseDurationName(l, kT0), "infinite");
  // Another id, or none, is refused and changes nothing.
  store::LeaseRecord before = l;
  EXPECT_EQ(codeOf(applyLease(l, acquireIn(-1, kB), kT0)), Code::kLeaseAlreadyPresent);
  EXPECT_EQ(codeOf(applyLease(l, acquireIn(-1), kT0)), Code::kLeaseAlreadyPresent);
  EXPECT_EQ(l.id, before.id);
  EXPECT_EQ(l.durationSec, before.durationSec);

  store::LeaseRecord b = breaking();
  EXPECT_EQ(codeOf(applyLease(b, acquireIn(-1, kA), kT0)), Code::kLeaseBreakingCannotAcquire);
  EXPECT_EQ(codeOf(applyLease(b, acquireIn(-1, kB), kT0)), Code::kLeaseAlreadyPresent);
  EXPECT_EQ(leaseState(b, kT0), LeaseState::kBreaking);
}

TEST(Lease, AcquireDurationBounds) {
  for (int32_t d : {0, 14, 61, -2, 1000}) {
    store::LeaseRecord l;
    EXPECT_EQ(codeOf(applyLease(l, acquireIn(d), kT0)), Code::kInvalidHeader) << d;
    EXPECT_EQ(leaseState(l, kT0), LeaseState::kAvailable);
  }
  for (int32_t d : {-1, 15, 60}) {
    store::LeaseRecord l;
    EXPECT_TRUE(applyLease(l, acquireIn(d), kT0)) << d;
  }
}

TEST(Lease, Renew) {
  store::LeaseRecord l = leased(30);
  auto r = applyLease(l, withId(LeaseAction::kRenew, kA), kT0 + 10'000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseId, kA);
  EXPECT_EQ(l.expiresMs, kT0 + 40'000);
  // Ids compare case-insensitively (GUIDs).
  std::string upper = kA;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(applyLease(l, withId(LeaseAction::kRenew, upper), kT0));
  EXPECT_EQ(codeOf(applyLease(l, withId(LeaseAction::kRenew, kB), kT0)),
            Code::kLeaseOpIdMismatch);
  // An expired lease renews (nobody acquired it since).
  store::LeaseRecord e = expired();
  ASSERT_TRUE(applyLease(e, withId(LeaseAction::kRenew, kA), kLater));
  EXPECT_EQ(leaseState(e, kLater), LeaseState::kLeased);
  EXPECT_EQ(e.expiresMs, kLater + 15'000);
  e = expired();
  EXPECT_EQ(codeOf(applyLease(e, withId(LeaseAction::kRenew, kB), kLater)),
            Code::kLeaseOpIdMismatch);
  // Breaking and broken leases cannot be renewed.
  store::LeaseRecord b = breaking();
  EXPECT_EQ(codeOf(applyLease(b, withId(LeaseAction::kRenew, kA), kT0)),
            Code::kLeaseBrokenCannotRenew);
  EXPECT_EQ(codeOf(applyLease(b, withId(LeaseAction::kRenew, kB), kT0)),
            Code::kLeaseOpIdMismatch);
  store::LeaseRecord k = broken();
  EXPECT_EQ(codeOf(applyLease(k, withId(LeaseAction::kRenew, kA), kT0)),
            Code::kLeaseBrokenCannotRenew);
  // Nothing to renew.
  store::LeaseRecord none;
  EXPECT_EQ(codeOf(applyLease(none, withId(LeaseAction::kRenew, kA), kT0)),
            Code::kLeaseOpNotPresent);
  store::LeaseRecord rel = released();
  EXPECT_EQ(codeOf(applyLease(rel, withId(LeaseAction::kRenew, kA), kT0)),
            Code::kLeaseOpNotPresent);
  // Renewing an infinite lease keeps it infinite.
  store::LeaseRecord inf = leased();
  ASSERT_TRUE(applyLease(inf, withId(LeaseAction::kRenew, kA), kT0));
  EXPECT_EQ(leaseDurationName(inf, kT0 + 1'000'000), "infinite");
}

TEST(Lease, Change) {
  store::LeaseRecord l = leased(30);
  auto r = applyLease(l, withId(LeaseAction::kChange, kA, kB), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseId, kB);
  EXPECT_EQ(l.id, kB);
  EXPECT_EQ(l.expiresMs, kT0 - 1000 + 30'000);  // the term is not restarted
  // Retried change (B -> current B with the old id A) succeeds; A -> B again too.
  EXPECT_TRUE(applyLease(l, withId(LeaseAction::kChange, kA, kB), kT0));
  // (B) to (A) while leased as B: fine; then C-to-D fails.
  EXPECT_TRUE(applyLease(l, withId(LeaseAction::kChange, kB, kA), kT0));
  EXPECT_EQ(l.id, kA);
  EXPECT_EQ(codeOf(applyLease(l, withId(LeaseAction::kChange, "c", "d"), kT0)),
            Code::kLeaseOpIdMismatch);
  EXPECT_EQ(codeOf(applyLease(l, withId(LeaseAction::kChange, kA, ""), kT0)),
            Code::kMissingHeader);
  store::LeaseRecord b = breaking();
  auto br = applyLease(b, withId(LeaseAction::kChange, kA, kB), kT0);
  EXPECT_EQ(codeOf(br), Code::kLeaseBreakingCannotAcquire);
  EXPECT_TRUE(br.error().message().starts_with("LeaseIsBreakingAndCannotBeChanged: "));
  EXPECT_EQ(codeOf(applyLease(b, withId(LeaseAction::kChange, "x", kB), kT0)),
            Code::kLeaseOpIdMismatch);
  store::LeaseRecord none;
  EXPECT_EQ(codeOf(applyLease(none, withId(LeaseAction::kChange, kA, kB), kT0)),
            Code::kLeaseOpNotPresent);
  store::LeaseRecord k = broken();
  EXPECT_EQ(codeOf(applyLease(k, withId(LeaseAction::kChange, kA, kB), kT0)),
            Code::kLeaseOpNotPresent);
  store::LeaseRecord e = expired();
  EXPECT_EQ(codeOf(applyLease(e, withId(LeaseAction::kChange, kA, kB), kLater)),
            Code::kLeaseOpNotPresent);
}

store::LeaseRecord leasedInfinite() { return leased(); }

TEST(Lease, Release) {
  struct Case {
    store::LeaseRecord (*make)();
    int64_t now;
  };
  for (Case c : {Case{&leasedInfinite, kT0}, Case{&expired, kLater}, Case{&breaking, kT0},
                 Case{&broken, kT0}}) {
    store::LeaseRecord l = c.make();
    EXPECT_EQ(codeOf(applyLease(l, withId(LeaseAction::kRelease, kB), c.now)),
              Code::kLeaseOpIdMismatch);
    auto r = applyLease(l, withId(LeaseAction::kRelease, kA), c.now);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(leaseState(l, c.now), LeaseState::kAvailable);
    // Released: acquirable by anyone, and writes need no id.
    EXPECT_TRUE(checkLeaseForWrite(l, std::nullopt, c.now).isOk());
    EXPECT_TRUE(applyLease(l, acquireIn(-1, kB), c.now));
  }
  store::LeaseRecord none;
  EXPECT_EQ(codeOf(applyLease(none, withId(LeaseAction::kRelease, kA), kT0)),
            Code::kLeaseOpNotPresent);
  store::LeaseRecord rel = released();
  EXPECT_EQ(codeOf(applyLease(rel, withId(LeaseAction::kRelease, kA), kT0)),
            Code::kLeaseOpNotPresent);
}

TEST(Lease, BreakInfinite) {
  store::LeaseRecord l = leased();
  auto r = applyLease(l, breakIn(std::nullopt), kT0);  // absent: at once for infinite leases
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 0);
  EXPECT_EQ(leaseState(l, kT0), LeaseState::kBroken);
  EXPECT_EQ(leaseStatusName(leaseState(l, kT0)), "unlocked");

  l = leased();
  r = applyLease(l, breakIn(0), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(leaseState(l, kT0), LeaseState::kBroken);

  l = leased();
  r = applyLease(l, breakIn(10), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 10);
  EXPECT_EQ(leaseState(l, kT0 + 9'999), LeaseState::kBreaking);
  EXPECT_EQ(leaseState(l, kT0 + 10'000), LeaseState::kBroken);
}

TEST(Lease, BreakFixedUsesTheShorterOfPeriodAndTerm) {
  store::LeaseRecord l = leased(30);  // expires at kT0 + 29 s
  auto r = applyLease(l, breakIn(std::nullopt), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 29);
  EXPECT_EQ(l.breakAtMs, kT0 + 29'000);

  l = leased(30);
  r = applyLease(l, breakIn(60), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 29);

  l = leased(30);
  r = applyLease(l, breakIn(5), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 5);

  l = leased(30);
  ASSERT_TRUE(applyLease(l, breakIn(0), kT0));
  EXPECT_EQ(leaseState(l, kT0), LeaseState::kBroken);
}

TEST(Lease, BreakAgainOnlyShortens) {
  store::LeaseRecord l = breaking();  // breaks at kT0 + 29 s
  auto r = applyLease(l, breakIn(50), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 29);
  r = applyLease(l, breakIn(std::nullopt), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 29);
  r = applyLease(l, breakIn(3), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 3);
  r = applyLease(l, breakIn(0), kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 0);
  EXPECT_EQ(leaseState(l, kT0), LeaseState::kBroken);
  // Broken stays broken; an expired lease breaks at once.
  ASSERT_TRUE(applyLease(l, breakIn(30), kT0));
  EXPECT_EQ(leaseState(l, kT0), LeaseState::kBroken);
  store::LeaseRecord e = expired();
  r = applyLease(e, breakIn(30), kLater);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->leaseTimeSec, 0);
  EXPECT_EQ(leaseState(e, kLater), LeaseState::kBroken);
}

TEST(Lease, BreakErrors) {
  store::LeaseRecord none;
  EXPECT_EQ(codeOf(applyLease(none, breakIn(0), kT0)), Code::kLeaseOpNotPresent);
  store::LeaseRecord rel = released();
  EXPECT_EQ(codeOf(applyLease(rel, breakIn(std::nullopt), kT0)), Code::kLeaseOpNotPresent);
  for (int32_t p : {-1, 61}) {
    store::LeaseRecord l = leased();
    EXPECT_EQ(codeOf(applyLease(l, breakIn(p), kT0)), Code::kInvalidHeader);
    EXPECT_EQ(leaseState(l, kT0), LeaseState::kLeased);
  }
}

TEST(Lease, WriteAndReadChecks) {
  const std::optional<std::string_view> noId;
  const std::optional<std::string_view> a = std::string_view(kA);
  const std::optional<std::string_view> b = std::string_view(kB);
  store::LeaseRecord none;
  EXPECT_TRUE(checkLeaseForWrite(none, noId, kT0).isOk());
  EXPECT_EQ(checkLeaseForWrite(none, a, kT0).code(), Code::kLeaseNotPresent);
  store::LeaseRecord l = leased();
  EXPECT_EQ(checkLeaseForWrite(l, noId, kT0).code(), Code::kLeaseIdMissing);
  EXPECT_EQ(checkLeaseForWrite(l, b, kT0).code(), Code::kLeaseIdMismatch);
  EXPECT_TRUE(checkLeaseForWrite(l, a, kT0).isOk());
  store::LeaseRecord br = breaking();  // still locked while breaking
  EXPECT_EQ(checkLeaseForWrite(br, noId, kT0).code(), Code::kLeaseIdMissing);
  EXPECT_TRUE(checkLeaseForWrite(br, a, kT0).isOk());
  for (const store::LeaseRecord& free : {expired(), broken(), released()}) {
    int64_t now = kLater;  // expired() needs it; the others are free at any time after kT0
    EXPECT_TRUE(checkLeaseForWrite(free, noId, now).isOk());
    EXPECT_EQ(checkLeaseForWrite(free, a, now).code(), Code::kLeaseNotPresent);
    EXPECT_TRUE(checkLeaseForRead(free, noId, now).isOk());
    EXPECT_EQ(checkLeaseForRead(free, a, now).code(), Code::kLeaseNotPresent);
  }
  // Reads ignore a lease unless they name one.
  EXPECT_TRUE(checkLeaseForRead(l, noId, kT0).isOk());
  EXPECT_TRUE(checkLeaseForRead(l, a, kT0).isOk());
  EXPECT_EQ(checkLeaseForRead(l, b, kT0).code(), Code::kLeaseIdMismatch);
  EXPECT_EQ(checkLeaseForRead(none, a, kT0).code(), Code::kLeaseNotPresent);
}

TEST(Lease, FailedActionLeavesRecordUnchanged) {
  store::LeaseRecord l = leased(30);
  store::LeaseRecord before = l;
  EXPECT_FALSE(applyLease(l, withId(LeaseAction::kRelease, kB), kT0));
  EXPECT_FALSE(applyLease(l, withId(LeaseAction::kChange, kB, "x"), kT0));
  EXPECT_FALSE(applyLease(l, breakIn(99), kT0));
  EXPECT_EQ(l.id, before.id);
  EXPECT_EQ(l.expiresMs, before.expiresMs);
  EXPECT_EQ(l.breakAtMs, before.breakAtMs);
  EXPECT_EQ(l.released, before.released);
}

}  // namespace
}  // namespace ember::core
