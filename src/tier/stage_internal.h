#pragma once
// Private to stage.cc and stage_pull.cc: the state of a staging job and of one run of it.

#include <deque>
#include <list>

#include <boost/asio/steady_timer.hpp>

#include "tier/stage.h"

namespace ember::tier {

// Counters of a set of finished objects, and those objects' failures.
struct StageCounts {
  uint64_t listed = 0, done = 0, skipped = 0, failed = 0;
  uint64_t bytesListed = 0, bytesDone = 0, bytesSkipped = 0;
  std::vector<StageFailure> failures;
};

struct Stager::Job {
  // Guarded by Stager::mu_.
  StageReport r;
  // The resume point: every key up to and including doneThrough (in listing order) is finished;
  // its listing page was fetched with pageMarker; `counts` are those objects' counters.
  std::string pageMarker;
  std::string doneThrough;
  bool anyDone = false;
  StageCounts committed;
  bool running = false;  // a run coroutine exists

  const Mapping* mapping = nullptr;
  std::atomic<bool> cancel{false};

  // Persistence: records are numbered on the tier thread, written in order on the pool.
  std::mutex persistMu;
  uint64_t persistSeq = 0;      // tier thread
  uint64_t persistedSeq = 0;    // guarded by persistMu

  // Tier thread only.
  std::weak_ptr<Run> run;
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> samples;  // bytesDone
  std::optional<TokenBucket> bucket;
};

struct Stager::Outcome {
  enum Kind { kDone, kSkipped, kFailed } kind = kDone;
  uint64_t bytes = 0;  // pulled
  std::string reason;  // skipped/failed
  unsigned attempts = 1;
  bool retryable = false;  // pullOnce: worth another attempt
};

// A listed object on its way through the run (listing order).
struct Stager::Item {
  cold::ColdObjectInfo info;                     // as listed (key relative to the location)
  std::shared_ptr<const std::string> pageMarker;  // the marker its page was listed with
  bool finished = false;
  Outcome outcome;
};

struct Stager::Run {
  explicit Run(asio::any_io_executor ex)
      : signal(ex, std::chrono::steady_clock::time_point::max()) {}
  std::shared_ptr<Job> job;
  cold::ColdStore* cold = nullptr;
  std::string coldPrefix;
  std::list<Item> window;                      // listed, not yet folded into the resume point
  std::deque<std::list<Item>::iterator> queue;  // listed, not yet taken by a worker
  bool listingDone = false;
  Status listingError;
  unsigned workers = 0;
  bool tickerDone = false;
  bool over = false;                 // the run is ending: the ticker stops
  asio::steady_timer signal;         // broadcast: cancel() wakes every waiter
  void notify() { signal.cancel(); }
};

inline bool stageActive(const std::string& state) {
  return state == "queued" || state == "listing" || state == "running";
}

// The local key of a listed cold key.
inline std::string stageLocalKey(const Mapping& m, const std::string& coldKey) {
  return m.localKey(coldKey);
}

}  // namespace ember::tier
