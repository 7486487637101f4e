#pragma once
// Test support (header-only, included by *_test.cc only): a fake TierAdmin for the admin API tests
// here and emberctl's tests.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tier/admin.h"

namespace ember::app::testing {

// Records what the routes asked; answers from the fields below. Called from the server's two
// threads, hence the mutex.
class FakeTierAdmin : public tier::TierAdmin {
 public:
  struct FlushCall {
    std::string bucket;
    std::string prefix;
    std::optional<uint64_t> barrier;
  };

  asio::awaitable<Result<tier::FlushReport>> flush(std::string bucket, std::string prefix,
                                                   std::optional<uint64_t> barrier) override {
    std::lock_guard<std::mutex> lock(mu);
    flushCalls.push_back({bucket, prefix, barrier});
    if (!flushError.isOk()) {
      co_return unexpected(flushError);
    }
    if (barrier && failReports > 0) {
      --failReports;
      co_return unexpected(Code::kUnavailable, "tier manager restarting");
    }
    tier::FlushReport r;
    r.barrier = barrier.value_or(nextBarrier);
    // Pending objects drop by one per report on an existing barrier, down to zero after
    // `reportsUntilDone` reports (never when it is negative).
    int64_t reports = barrier ? static_cast<int64_t>(reportsOnBarrier++) + 1 : 0;
    int64_t left = reportsUntilDone < 0 ? 3 : std::max<int64_t>(0, reportsUntilDone - reports);
    r.pendingObjects = static_cast<uint64_t>(left);
    r.pendingBytes = r.pendingObjects * 1000;
    r.oldestPendingMs = left > 0 ? 1500 : 0;
    r.done = left == 0;
    r.lastError = lastError;
    co_return r;
  }

  asio::awaitable<Result<tier::ObjectTierStatus>> objectStatus(std::string bucket,
                                                               std::string key) override {
    std::lock_guard<std::mutex> lock(mu);
    statusCalls.emplace_back(bucket, key);
    if (!statusError.isOk()) {
      co_return unexpected(statusError);
    }
    tier::ObjectTierStatus s;
    s.bucket = bucket;
    s.key = key;
    s.state = "dirty";
    s.pinned = true;
    s.size = 1234;
    s.warmEtag = "w-etag";
    s.coldEtag = "c-etag";
    s.dirtySinceMs = 1700000000000;
    s.lastError = "Unavailable: cold store down";
    co_return s;
  }

  std::vector<tier::MappingReport> mappings() override {
    tier::MappingReport m;
    m.bucket = "data";
    m.prefix = "ckpt/";
    m.location = "az://acct/cont/ckpt";
    m.mode = "write-back";
    m.breaker = "closed";
    m.dirtyObjects = 2;
    m.dirtyBytes = 3 << 20;
    m.oldestDirtyMs = 65000;
    m.uploadedObjects = 10;
    m.uploadedBytes = 1 << 30;
    m.deletedObjects = 1;
    m.failedUploads = 4;
    m.coldReads = 5;
    m.coldBytesRead = 6;
    m.lastError = "Busy: 503";
    return {m, tier::MappingReport{}};
  }

  asio::awaitable<Result<tier::PinReport>> pin(std::string bucket, std::string prefix,
                                                std::optional<int64_t> ttlMs) override {
    std::lock_guard<std::mutex> lock(mu);
    if (bucket == "full") {
      co_return unexpected(Code::kInsufficientStorage, "pinning more than fits");
    }
    tier::PinReport p{bucket, prefix, 1700000000000, ttlMs ? 1700000000000 + *ttlMs : 0, 77};
    pinned.push_back(p);
    co_return p;
  }
  asio::awaitable<Status> unpin(std::string bucket, std::string prefix) override {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = pinned.begin(); it != pinned.end(); ++it) {
      if (it->bucket == bucket && it->prefix == prefix) {
        pinned.erase(it);
        co_return Status::ok();
      }
    }
    co_return makeError(Code::kNotFound, "no pin on '" + bucket + "/" + prefix + "'");
  }
  asio::awaitable<std::vector<tier::PinReport>> pins() override {
    std::lock_guard<std::mutex> lock(mu);
    co_return pinned;
  }

  // Staging: startStage records the request and answers a job "j1"; the job reports are
  // `stages` (by id), editable by the tests.
  asio::awaitable<Result<tier::StageReport>> startStage(tier::StageRequest request) override {
    std::lock_guard<std::mutex> lock(mu);
    stageRequests.push_back(request);
    if (!stageError.isOk()) {
      co_return unexpected(stageError);
    }
    tier::StageReport r;
    r.id = "j" + std::to_string(stageRequests.size());
    r.request = request;
    r.state = "running";
    r.createdMs = 1700000000000;
    stages[r.id] = r;
    co_return r;
  }
  asio::awaitable<Result<tier::StageReport>> stageStatus(std::string id) override {
    std::lock_guard<std::mutex> lock(mu);
    statusPolls++;
    auto it = stages.find(id);
    if (it == stages.end()) {
      co_return unexpected(Code::kNotFound, "no staging job '" + id + "'");
    }
    if (onPoll) {
      onPoll(it->second, statusPolls);
    }
    co_return it->second;
  }
  asio::awaitable<std::vector<tier::StageReport>> listStages() override {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<tier::StageReport> out;
    for (auto& [id, r] : stages) {
      out.push_back(r);
    }
    co_return out;
  }
  asio::awaitable<Result<tier::StageReport>> cancelStage(std::string id) override {
    std::lock_guard<std::mutex> lock(mu);
    auto it = stages.find(id);
    if (it == stages.end()) {
      co_return unexpected(Code::kNotFound, "no staging job '" + id + "'");
    }
    it->second.state = "cancelled";
    co_return it->second;
  }

  std::mutex mu;
  std::vector<tier::PinReport> pinned;
  std::vector<tier::StageRequest> stageRequests;
  std::map<std::string, tier::StageReport> stages;
  Status stageError;
  int statusPolls = 0;
  // Called on each stageStatus with the job (editable) and the poll count.
  std::function<void(tier::StageReport&, int)> onPoll;
  std::vector<FlushCall> flushCalls;
  std::vector<std::pair<std::string, std::string>> statusCalls;
  Status flushError;
  Status statusError;
  uint64_t nextBarrier = 42;
  int64_t reportsUntilDone = 1;
  int failReports = 0;  // this many reports on a barrier fail with kUnavailable first
  uint64_t reportsOnBarrier = 0;
  std::string lastError;
};

}  // namespace ember::app::testing
