// Retry policy and circuit breaker (resilience.h).
#include "cold/resilience.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace ember::cold {

bool isRetryable(const Status& s) {
  switch (s.code()) {
    case Code::kUnavailable:
    case Code::kTimeout:
    case Code::kIncompleteBody:
    case Code::kBusy:
      return true;
    default:
      return false;
  }
}

namespace {
double defaultRandom() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}
}  // namespace

RetryPolicy::RetryPolicy(RetryOptions options, std::function<double()> random)
    : options_(options),
      random_(random ? std::move(random) : std::function<double()>(defaultRandom)) {
  options_.maxAttempts = std::max(1, options_.maxAttempts);
}

std::chrono::milliseconds RetryPolicy::backoffCap(int retry) const {
  const int64_t base = std::max<int64_t>(0, options_.baseDelay.count());
  const int64_t cap = std::max<int64_t>(0, options_.maxDelay.count());
  int64_t d = base;
  for (int i = 1; i < retry && d < cap; ++i) {
    d *= 2;
  }
  return std::chrono::milliseconds(std::min(d, cap));
}

std::chrono::milliseconds RetryPolicy::backoff(int retry) const {
  const double r = std::clamp(random_(), 0.0, 1.0);
  const auto cap = backoffCap(retry).count();
  // Full jitter: uniform in [0, cap].
  const auto v = static_cast<int64_t>(r * static_cast<double>(cap + 1));
  return std::chrono::milliseconds(std::min<int64_t>(v, cap));
}

CircuitBreaker::CircuitBreaker(BreakerOptions options,
                               std::function<SteadyClock::time_point()> clock)
    : options_(options),
      clock_(clock ? std::move(clock)
                   : std::function<SteadyClock::time_point()>([] { return SteadyClock::now(); })) {}

void CircuitBreaker::refreshLocked(SteadyClock::time_point now) const {
  if (state_ == State::kOpen && now - openedAt_ >= options_.coolDown) {
    state_ = State::kHalfOpen;
  }
}

Status CircuitBreaker::allow() {
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyClock::time_point now = clock_();
  refreshLocked(now);
  switch (state_) {
    case State::kClosed:
      return Status::ok();
    case State::kHalfOpen:
      if (!trialInFlight_) {
        trialInFlight_ = true;
        return Status::ok();
      }
      return makeError(Code::kUnavailable,
                       "circuit breaker half-open: a trial request is in flight; failing fast");
    case State::kOpen:
      break;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      options_.coolDown - (now - openedAt_));
  return makeError(Code::kUnavailable,
                   fmt::format("circuit breaker open after {} consecutive failures; failing fast "
                               "(next trial in {} ms)",
                               failures_, std::max<int64_t>(0, left.count())));
}

void CircuitBreaker::record(const Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyClock::time_point now = clock_();
  const bool wasTrial = state_ == State::kHalfOpen && trialInFlight_;
  if (wasTrial) {
    trialInFlight_ = false;
  }
  if (!countsAsFailure(s)) {
    failures_ = 0;
    if (wasTrial || state_ == State::kHalfOpen) {
      state_ = State::kClosed;
    }
    return;
  }
  ++failures_;
  if (wasTrial) {
    state_ = State::kOpen;  // the trial failed: another full cool-down
    openedAt_ = now;
    return;
  }
  if (state_ == State::kClosed && options_.failureThreshold > 0 &&
      failures_ >= options_.failureThreshold) {
    state_ = State::kOpen;
    openedAt_ = now;
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  refreshLocked(clock_());
  return state_;
}

int CircuitBreaker::consecutiveFailures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

std::string_view breakerStateName(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed: return "closed";
    case CircuitBreaker::State::kOpen: return "open";
    case CircuitBreaker::State::kHalfOpen: return "half-open";
  }
  return "?";
}

}  // namespace ember::cold
