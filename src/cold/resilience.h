#pragma once
// Retries and the circuit breaker of the cold connectors, as plain classes with an injected clock,
// random source and sleep, so that they are unit-tested without sockets or real time
// (resilience_test.cc).
//
// What is retryable (isRetryable): kUnavailable (connection refused/reset, DNS, TLS, 5xx),
// kTimeout, kIncompleteBody (the peer closed mid-reply) and kBusy (429, 503 throttling).
// Everything else is a definite answer (kNotFound, kPermissionDenied, kPreconditionFailed,
// kInvalidArgument, ...) and is returned at once.
//
// What the breaker counts (countsAsFailure): the same retryable failures, per attempt. A definite
// answer, even an error, proves the peer is up and resets the count.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"

namespace ember::cold {

namespace asio = boost::asio;

using SteadyClock = std::chrono::steady_clock;

bool isRetryable(const Status& s);
inline bool countsAsFailure(const Status& s) { return isRetryable(s); }

struct RetryOptions {
  int maxAttempts = 5;                         // including the first; 1 = no retries
  std::chrono::milliseconds baseDelay{100};    // cap of the first backoff
  std::chrono::milliseconds maxDelay{10'000};  // cap of any backoff
};

// Exponential backoff with full jitter: before retry n (n = 1 for the first retry) it waits a
// uniformly random time in [0, min(maxDelay, baseDelay * 2^(n-1))].
class RetryPolicy {
 public:
  // `random` returns a number uniformly in [0, 1); the default is a thread-local generator.
  explicit RetryPolicy(RetryOptions options, std::function<double()> random = {});

  // Whether a call that failed with `s` on attempt `attempt` (1-based) should be tried again.
  bool shouldRetry(int attempt, const Status& s) const {
    return attempt < options_.maxAttempts && isRetryable(s);
  }
  // The upper bound of the wait before retry `retry` (1-based), and the jittered wait itself.
  std::chrono::milliseconds backoffCap(int retry) const;
  std::chrono::milliseconds backoff(int retry) const;
  const RetryOptions& options() const { return options_; }

 private:
  RetryOptions options_;
  std::function<double()> random_;
};

struct BreakerOptions {
  int failureThreshold = 5;              // consecutive failed attempts that open it; 0 = never
  std::chrono::milliseconds coolDown{30'000};  // open -> half-open after this long
};

// Per-ColdStore circuit breaker. Closed: everything passes; failureThreshold consecutive failures
// open it. Open: everything fails fast (allow() = kUnavailable) until coolDown has passed, then it
// is half-open. Half-open: one trial request passes (others fail fast); its success closes the
// breaker, its failure opens it again for another coolDown. Thread-safe.
class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  explicit CircuitBreaker(BreakerOptions options,
                          std::function<SteadyClock::time_point()> clock = {});

  // OK when a request may be sent now (in half-open, claims the single trial); kUnavailable
  // ("circuit breaker open ...") when not. Every OK must be followed by one record().
  Status allow();
  // The outcome of an allowed request: countsAsFailure(s) is a failure, anything else a success.
  void record(const Status& s);
  State state() const;
  int consecutiveFailures() const;

 private:
  void refreshLocked(SteadyClock::time_point now) const;

  BreakerOptions options_;
  std::function<SteadyClock::time_point()> clock_;
  mutable std::mutex mu_;
  mutable State state_ = State::kClosed;
  int failures_ = 0;
  SteadyClock::time_point openedAt_{};
  bool trialInFlight_ = false;
};

std::string_view breakerStateName(CircuitBreaker::State s);

// The retry loop every connector call goes through. `attempt` performs one try (it must be
// repeatable: re-sign, rebuild, resend). Each try first asks the breaker; a breaker refusal ends
// the loop at once with kUnavailable (not retried: the breaker is the fail-fast path). `sleep`
// waits the backoff (an asio timer in production, a recorder in tests). `onAttempt` (optional)
// is told about every try sent and `onRetry` about every retry, for the stats.
struct RetryHooks {
  std::function<asio::awaitable<void>(std::chrono::milliseconds)> sleep;
  std::function<void()> onAttempt;
  std::function<void()> onRetry;
  std::function<void()> onRejected;
};

template <typename T>
asio::awaitable<Result<T>> withRetries(const RetryPolicy& policy, CircuitBreaker& breaker,
                                       const RetryHooks& hooks,
                                       std::function<asio::awaitable<Result<T>>()> attempt) {
  for (int n = 1;; ++n) {
    Status allowed = breaker.allow();
    if (!allowed.isOk()) {
      if (hooks.onRejected) {
        hooks.onRejected();
      }
      co_return unexpected(std::move(allowed));
    }
    if (hooks.onAttempt) {
      hooks.onAttempt();
    }
    Result<T> r = co_await attempt();
    Status s = r ? Status::ok() : r.error();
    breaker.record(s);
    if (r || !policy.shouldRetry(n, s)) {
      co_return r;
    }
    if (hooks.onRetry) {
      hooks.onRetry();
    }
    co_await hooks.sleep(policy.backoff(n));
  }
}

}  // namespace ember::cold
