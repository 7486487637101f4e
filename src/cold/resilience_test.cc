// Retry policy, circuit breaker, the retry loop and the token cache, without sockets or real
// time: the clock, the random source and the sleep are injected.
#include <deque>
#include <future>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "cold/azure_token.h"
#include "cold/resilience.h"

namespace ember::cold {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicy, RetryableCodes) {
  for (Code c : {Code::kUnavailable, Code::kTimeout, Code::kIncompleteBody, Code::kBusy}) {
    EXPECT_TRUE(isRetryable(makeError(c))) << codeName(c);
  }
  for (Code c : {Code::kOk, Code::kNotFound, Code::kPermissionDenied, Code::kPreconditionFailed,
                 Code::kInvalidArgument, Code::kInvalidRange, Code::kCorruption}) {
    EXPECT_FALSE(isRetryable(makeError(c))) << codeName(c);
  }
}

TEST(RetryPolicy, ExponentialCapsAndFullJitter) {
  double r = 0.0;
  RetryPolicy p(RetryOptions{5, milliseconds(100), milliseconds(1000)}, [&] { return r; });
  EXPECT_EQ(p.backoffCap(1), milliseconds(100));
  EXPECT_EQ(p.backoffCap(2), milliseconds(200));
  EXPECT_EQ(p.backoffCap(3), milliseconds(400));
  EXPECT_EQ(p.backoffCap(4), milliseconds(800));
  EXPECT_EQ(p.backoffCap(5), milliseconds(1000));
  EXPECT_EQ(p.backoffCap(60), milliseconds(1000));  // no overflow
  // Full jitter: the random fraction of [0, cap].
  r = 0.0;
  EXPECT_EQ(p.backoff(3), milliseconds(0));
  r = 0.5;
  EXPECT_EQ(p.backoff(3), milliseconds(200));
  r = 0.999999;
  EXPECT_EQ(p.backoff(3), milliseconds(400));
  // The default random source stays within the cap.
  RetryPolicy d(RetryOptions{5, milliseconds(100), milliseconds(1000)});
  for (int i = 0; i < 200; ++i) {
    EXPECT_LE(d.backoff(2), milliseconds(200));
    EXPECT_GE(d.backoff(2), milliseconds(0));
  }
}

TEST(RetryPolicy, AttemptsBound) {
  RetryPolicy p(RetryOptions{3, milliseconds(1), milliseconds(1)});
  EXPECT_TRUE(p.shouldRetry(1, makeError(Code::kUnavailable)));
  EXPECT_TRUE(p.shouldRetry(2, makeError(Code::kBusy)));
  EXPECT_FALSE(p.shouldRetry(3, makeError(Code::kUnavailable)));
  EXPECT_FALSE(p.shouldRetry(1, makeError(Code::kNotFound)));
  EXPECT_FALSE(p.shouldRetry(1, makeError(Code::kPermissionDenied)));
  RetryPolicy none(RetryOptions{0, milliseconds(1), milliseconds(1)});  // clamped to 1
  EXPECT_FALSE(none.shouldRetry(1, makeError(Code::kUnavailable)));
}

struct FakeClock {
  SteadyClock::time_point now{};
  std::function<SteadyClock::time_point()> fn() {
    return [this] { return now; };
  }
};

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresAndHalfOpensAfterCoolDown) {
  FakeClock clock;
  CircuitBreaker b(BreakerOptions{3, milliseconds(1000)}, clock.fn());
  const Status down = makeError(Code::kUnavailable, "refused");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow().isOk());
    b.record(down);
  }
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  ASSERT_TRUE(b.allow().isOk());
  b.record(down);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  Status refused = b.allow();
  EXPECT_EQ(refused.code(), Code::kUnavailable);
  EXPECT_NE(refused.message().find("circuit breaker open"), std::string::npos);

  clock.now += milliseconds(999);
  EXPECT_FALSE(b.allow().isOk());
  clock.now += milliseconds(1);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
  ASSERT_TRUE(b.allow().isOk());   // the single trial
  EXPECT_FALSE(b.allow().isOk());  // others fail fast while it is out
  b.record(down);                  // the trial fails: open for another cool-down
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  clock.now += milliseconds(500);
  EXPECT_FALSE(b.allow().isOk());
  clock.now += milliseconds(500);
  ASSERT_TRUE(b.allow().isOk());
  b.record(makeError(Code::kNotFound));  // a definite answer: the peer is back
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(b.consecutiveFailures(), 0);
  EXPECT_TRUE(b.allow().isOk());
}

TEST(CircuitBreaker, DefiniteAnswersResetTheCount) {
  FakeClock clock;
  CircuitBreaker b(BreakerOptions{2, milliseconds(1000)}, clock.fn());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(b.allow().isOk());
    b.record(makeError(Code::kUnavailable));
    ASSERT_TRUE(b.allow().isOk());
    b.record(makeError(Code::kPermissionDenied));  // 403: the peer answered
  }
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  CircuitBreaker never(BreakerOptions{0, milliseconds(1)}, clock.fn());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(never.allow().isOk());
    never.record(makeError(Code::kUnavailable));
  }
  EXPECT_EQ(never.state(), CircuitBreaker::State::kClosed);
}

// Runs withRetries over a scripted sequence of outcomes with a recording sleep.
struct Harness {
  std::deque<Status> outcomes;  // one per attempt; ok = success
  std::vector<milliseconds> slept;
  int attempts = 0, retries = 0, rejected = 0;
  FakeClock clock;

  Result<int> run(const RetryPolicy& policy, CircuitBreaker& breaker) {
    RetryHooks hooks;
    hooks.sleep = [this](milliseconds d) -> asio::awaitable<void> {
      slept.push_back(d);
      clock.now += d;
      co_return;
    };
    hooks.onAttempt = [this] { ++attempts; };
    hooks.onRetry = [this] { ++retries; };
    hooks.onRejected = [this] { ++rejected; };
    asio::io_context io;
    auto fut = asio::co_spawn(
        io,
        withRetries<int>(policy, breaker, hooks, [this]() -> asio::awaitable<Result<int>> {
          Status s = outcomes.empty() ? Status::ok() : outcomes.front();
          if (!outcomes.empty()) {
            outcomes.pop_front();
          }
          if (s.isOk()) {
            co_return 42;
          }
          co_return unexpected(s);
        }),
        asio::use_future);
    io.run();
    return fut.get();
  }
};

TEST(WithRetries, RetriesTransientFailuresWithBackoff) {
  Harness h;
  h.outcomes = {makeError(Code::kUnavailable), makeError(Code::kBusy)};
  RetryPolicy policy(RetryOptions{5, milliseconds(100), milliseconds(1000)}, [] { return 0.5; });
  CircuitBreaker breaker(BreakerOptions{10, milliseconds(1000)}, h.clock.fn());
  auto r = h.run(policy, breaker);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(h.attempts, 3);
  EXPECT_EQ(h.retries, 2);
  EXPECT_EQ(h.slept, (std::vector<milliseconds>{milliseconds(50), milliseconds(100)}));
}

TEST(WithRetries, NeverRetriesDefiniteAnswers) {
  for (Code c : {Code::kPermissionDenied, Code::kNotFound, Code::kPreconditionFailed,
                 Code::kInvalidArgument}) {
    Harness h;
    h.outcomes = {makeError(c, "no")};
    RetryPolicy policy(RetryOptions{5, milliseconds(100), milliseconds(1000)});
    CircuitBreaker breaker(BreakerOptions{1, milliseconds(1000)}, h.clock.fn());
    auto r = h.run(policy, breaker);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), c);
    EXPECT_EQ(h.attempts, 1);
    EXPECT_TRUE(h.slept.empty());
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);  // not a failure of the peer
  }
}

TEST(WithRetries, GivesUpAfterMaxAttemptsAndTheBreakerFailsFast) {
  Harness h;
  for (int i = 0; i < 10; ++i) {
    h.outcomes.push_back(makeError(Code::kUnavailable, "connection refused"));
  }
  RetryPolicy policy(RetryOptions{3, milliseconds(10), milliseconds(10)}, [] { return 0.0; });
  CircuitBreaker breaker(BreakerOptions{4, milliseconds(5000)}, h.clock.fn());
  auto r = h.run(policy, breaker);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "connection refused");
  EXPECT_EQ(h.attempts, 3);
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
  // The 4th consecutive failure opens it; the next try is refused without an attempt.
  r = h.run(policy, breaker);
  ASSERT_FALSE(r);
  EXPECT_EQ(h.attempts, 4);
  EXPECT_EQ(h.rejected, 1);
  EXPECT_NE(r.error().message().find("circuit breaker open"), std::string::npos);
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kOpen);
  r = h.run(policy, breaker);
  EXPECT_EQ(h.attempts, 4);  // still nothing sent
  EXPECT_EQ(h.rejected, 2);
  // After the cool-down one trial goes out; it succeeds and the breaker closes.
  h.clock.now += milliseconds(5000);
  h.outcomes.clear();
  r = h.run(policy, breaker);
  ASSERT_TRUE(r);
  EXPECT_EQ(h.attempts, 5);
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
}

TEST(AzureToken, ParsesTheEndpointReply) {
  auto t = parseTokenResponse(
      R"({"access_token":"eyJ0","expires_on":"1700000000","resource":"https://storage.azure.com/",
          "token_type":"Bearer"})");
  ASSERT_TRUE(t) << t.error().toString();
  EXPECT_EQ(t->accessToken, "eyJ0");
  EXPECT_EQ(t->expiresOn, 1700000000);
  t = parseTokenResponse(R"({"access_token":"x","expires_on":1700000001})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->expiresOn, 1700000001);
  for (const char* bad : {"", "[]", R"({"expires_on":1})", R"({"access_token":"x"})",
                          R"({"access_token":"x","expires_on":"soon"})",
                          R"({"access_token":"a b","expires_on":1})"}) {
    EXPECT_EQ(parseTokenResponse(bad).error().code(), Code::kCorruption) << bad;
  }
  EXPECT_EQ(tokenRequestUrl("http://169.254.169.254/metadata/identity/oauth2/token"),
            "http://169.254.169.254/metadata/identity/oauth2/token?resource=https%3A%2F%2F"
            "storage.azure.com%2F&api-version=2018-02-01");
  EXPECT_EQ(tokenRequestUrl("http://h/t?client_id=1"),
            "http://h/t?client_id=1&resource=https%3A%2F%2Fstorage.azure.com%2F"
            "&api-version=2018-02-01");
}

TEST(AzureToken, CachedUntilShortlyBeforeExpiry) {
  asio::io_context io;
  int64_t now = 1000;
  int fetched = 0;
  bool fail = false;
  AzureTokenProvider p(
      io.get_executor(),
      [&]() -> asio::awaitable<Result<AzureToken>> {
        ++fetched;
        if (fail) {
          co_return unexpected(Code::kUnavailable, "token endpoint down");
        }
        co_return AzureToken{"tok" + std::to_string(fetched), now + 3600};
      },
      std::chrono::seconds(300), [&] { return now; });
  auto get = [&]() {
    auto fut = asio::co_spawn(io, p.token(), asio::use_future);
    io.restart();
    io.run();
    return fut.get();
  };
  EXPECT_EQ(get().value(), "tok1");
  now += 3000;
  EXPECT_EQ(get().value(), "tok1");  // 600 s left > 300 s margin
  EXPECT_EQ(fetched, 1);
  now += 301;
  EXPECT_EQ(get().value(), "tok2");  // inside the margin: refreshed
  EXPECT_EQ(fetched, 2);
  EXPECT_EQ(p.fetches(), 2u);
  now += 3400;
  fail = true;
  auto r = get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
}

TEST(AzureToken, ConcurrentCallersShareOneFetch) {
  asio::io_context io;
  int fetched = 0;
  AzureTokenProvider p(
      io.get_executor(),
      [&]() -> asio::awaitable<Result<AzureToken>> {
        ++fetched;
        asio::steady_timer t(io);  // the fetch takes a while: the others arrive meanwhile
        t.expires_after(std::chrono::milliseconds(20));
        co_await t.async_wait(asio::use_awaitable);
        co_return AzureToken{"shared", 4'000'000'000};
      },
      std::chrono::seconds(300), [] { return int64_t{1000}; });
  std::vector<std::future<Result<std::string>>> futs;
  for (int i = 0; i < 5; ++i) {
    futs.push_back(asio::co_spawn(io, p.token(), asio::use_future));
  }
  io.run();
  for (auto& f : futs) {
    EXPECT_EQ(f.get().value(), "shared");
  }
  EXPECT_EQ(fetched, 1);

  // A failed fetch fails its waiters too (they do not each retry it).
  AzureTokenProvider q(
      io.get_executor(),
      [&]() -> asio::awaitable<Result<AzureToken>> {
        ++fetched;
        asio::steady_timer t(io);
        t.expires_after(std::chrono::milliseconds(20));
        co_await t.async_wait(asio::use_awaitable);
        co_return unexpected(Code::kPermissionDenied, "refused");
      },
      std::chrono::seconds(300), [] { return int64_t{1000}; });
  futs.clear();
  for (int i = 0; i < 3; ++i) {
    futs.push_back(asio::co_spawn(io, q.token(), asio::use_future));
  }
  io.restart();
  io.run();
  for (auto& f : futs) {
    auto r = f.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
  }
  EXPECT_EQ(fetched, 2);
}

}  // namespace
}  // namespace ember::cold
