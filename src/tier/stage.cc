// Staging jobs: lifecycle, listing, workers, progress and persistence. One object's pull is in
// stage_pull.cc.
#include "tier/stage.h"

#include <algorithm>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/time_util.h"
#include "tier/stage_internal.h"

namespace ember::tier {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kRateWindow = std::chrono::seconds(5);

std::string newId() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

asio::awaitable<void> waitOn(asio::steady_timer& t) {
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
}

}  // namespace

Stager::Stager(StagerDeps deps, StagerOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

Stager::~Stager() = default;

// --- the admin side (any thread) ---

Result<StageReport> Stager::start(StageRequest req) {
  if (req.parallel < 1 || req.parallel > 256) {
    return unexpected(Code::kInvalidArgument, "parallel must be from 1 to 256");
  }
  if (req.ttlSeconds && *req.ttlSeconds < 0) {
    return unexpected(Code::kInvalidArgument, "ttl must not be negative");
  }
  const Mapping* m = nullptr;
  for (const Mapping* c : deps_.table->forBucket(req.bucket)) {
    if (req.prefix.starts_with(c->cfg.prefix)) {
      m = c;
    }
  }
  if (m == nullptr) {
    return unexpected(Code::kInvalidArgument,
                      "'" + req.bucket + "/" + req.prefix + "' is not under any cold mapping");
  }
  auto job = std::make_shared<Job>();
  job->mapping = m;
  job->r.request = std::move(req);
  job->r.state = "queued";
  job->r.createdMs = nowMillis();
  if (job->r.request.pin && job->r.request.ttlSeconds) {
    job->r.pinExpiresMs = job->r.createdMs + *job->r.request.ttlSeconds * 1000;
  }
  StageReport out;
  {
    std::lock_guard lock(mu_);
    do {
      job->r.id = newId();
    } while (jobs_.count(job->r.id));
    jobs_[job->r.id] = job;
    job->running = true;
    out = job->r;
  }
  spdlog::info("tier: staging job {} started for {}/{} (parallel {}{}{})", out.id,
               out.request.bucket, out.request.prefix, out.request.parallel,
               out.request.pin ? ", pin" : "",
               out.request.maxRate ? fmt::format(", max {} B/s", out.request.maxRate) : "");
  launch(job);
  return out;
}

Result<StageReport> Stager::status(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    return unexpected(Code::kNotFound, "no staging job '" + id + "'");
  }
  return it->second->r;
}

std::vector<StageReport> Stager::list() const {
  std::vector<StageReport> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, job] : jobs_) {
      out.push_back(job->r);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const StageReport& a, const StageReport& b) {
    return a.createdMs < b.createdMs;
  });
  return out;
}

Result<StageReport> Stager::cancel(const std::string& id) {
  std::shared_ptr<Job> job;
  StageReport out;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
      return unexpected(Code::kNotFound, "no staging job '" + id + "'");
    }
    job = it->second;
    if (!stageActive(job->r.state)) {
      return job->r;
    }
    job->cancel = true;
    out = job->r;
  }
  // The run notices the flag (its waiters are woken on the tier thread) and ends cancelled.
  asio::post(deps_.executor, [job] {
    if (auto run = job->run.lock()) {
      run->notify();
    }
  });
  return out;
}

StagerTotals Stager::totals() const {
  StagerTotals t;
  t.bytes = bytesTotal_.load();
  t.objects = objectsTotal_.load();
  std::lock_guard lock(mu_);
  for (const auto& [id, job] : jobs_) {
    t.running += stageActive(job->r.state) ? 1 : 0;
  }
  return t;
}

// --- running ---

void Stager::launch(std::shared_ptr<Job> job) {
  asio::co_spawn(deps_.executor, [this, job]() { return runJob(job); }, asio::detached);
}

asio::awaitable<void> Stager::runJob(std::shared_ptr<Job> job) {
  auto run = std::make_shared<Run>(deps_.executor);
  run->job = job;
  job->run = run;
  const Mapping& m = *job->mapping;
  run->cold = deps_.cold[m.index];
  {
    std::lock_guard lock(mu_);
    run->coldPrefix = job->r.request.prefix.substr(m.cfg.prefix.size());
    job->r.state = job->r.request.pin ? "listing" : "running";
    if (job->r.startedMs == 0) {
      job->r.startedMs = nowMillis();
    }
  }
  co_await persist(job);
  if (job->r.request.maxRate > 0) {
    job->bucket.emplace(job->r.request.maxRate, Clock::now());
  }
  Status pinned = Status::ok();
  if (job->r.request.pin && !job->cancel) {
    pinned = co_await pinPass(run);
  }
  if (pinned && !job->cancel) {
    {
      std::lock_guard lock(mu_);
      job->r.state = "running";
    }
    run->workers = job->r.request.parallel;
    asio::co_spawn(deps_.executor, [this, run]() { return lister(run); }, asio::detached);
    asio::co_spawn(deps_.executor, [this, run]() { return ticker(run); }, asio::detached);
    for (unsigned i = 0; i < job->r.request.parallel; ++i) {
      asio::co_spawn(deps_.executor, [this, run]() { return worker(run); }, asio::detached);
    }
    while (run->workers > 0 || !(run->listingDone || job->cancel)) {
      co_await waitOn(run->signal);
    }
  }
  run->over = true;
  run->notify();
  {
    std::lock_guard lock(mu_);
    StageReport& r = job->r;
    r.finishedMs = nowMillis();
    r.rateBytesPerSec = 0;
    r.etaSeconds = -1;
    if (job->cancel) {
      r.state = "cancelled";
    } else if (!pinned) {
      r.state = "failed";
      r.error = "pin refused: " + pinned.toString();
    } else if (!run->listingError) {
      r.state = "failed";
      r.error = "listing " + m.cfg.cold.location.toString() + " failed: " +
                run->listingError.toString();
    } else if (r.objectsFailed > 0 && r.objectsDone == 0 && r.objectsSkipped == 0) {
      r.state = "failed";
      r.error = "every object failed";
    } else {
      r.state = "done";
    }
    job->running = false;
    spdlog::info("tier: staging job {} {}: {} pulled ({} bytes), {} skipped, {} failed{}", r.id,
                 r.state, r.objectsDone, r.bytesDone, r.objectsSkipped, r.objectsFailed,
                 r.error.empty() ? "" : ": " + r.error);
  }
  co_await persist(job);
}

asio::awaitable<Status> Stager::pinPass(std::shared_ptr<Run> run) {
  // Lists the whole prefix once to learn how much the pin covers, then asks the pinner.
  std::shared_ptr<Job> job = run->job;
  uint64_t bytes = 0;
  std::string marker;
  for (;;) {
    if (job->cancel) {
      co_return Status::ok();
    }
    auto page = co_await run->cold->list(run->coldPrefix, marker, options_.listPage, std::nullopt);
    if (!page) {
      co_return makeError(page.error().code(),
                          "listing for the pin failed: " + page.error().message());
    }
    for (const cold::ColdObjectInfo& o : page->objects) {
      bytes += o.size;
    }
    if (page->nextMarker.empty()) {
      break;
    }
    marker = page->nextMarker;
  }
  if (!deps_.pinner) {
    co_return Status::ok();
  }
  std::optional<int64_t> expires;
  if (job->r.pinExpiresMs > 0) {
    expires = job->r.pinExpiresMs;
  }
  const StageRequest& req = job->r.request;  // immutable after creation
  std::string bucket = req.bucket;
  std::string prefix = req.prefix;
  StagePinner pinner = deps_.pinner;
  co_return co_await offload(*deps_.pool, [pinner, bucket, prefix, expires, bytes]() {
    return pinner(bucket, prefix, expires, bytes);
  });
}

asio::awaitable<void> Stager::lister(std::shared_ptr<Run> run) {
  std::shared_ptr<Job> job = run->job;
  std::string marker;
  std::string doneThrough;
  bool skipping = false;
  {
    std::lock_guard lock(mu_);
    marker = job->pageMarker;
    doneThrough = job->doneThrough;
    skipping = job->anyDone;
  }
  const size_t cap = std::max<size_t>(1, options_.queueCap);
  for (;;) {
    while (!job->cancel && (run->queue.size() >= cap || run->window.size() >= 4 * cap)) {
      co_await waitOn(run->signal);
    }
    if (job->cancel) {
      break;
    }
    auto page = co_await run->cold->list(run->coldPrefix, marker, options_.listPage, std::nullopt);
    if (!page) {
      run->listingError = page.error();
      break;
    }
    auto pm = std::make_shared<const std::string>(marker);
    uint64_t n = 0;
    uint64_t bytes = 0;
    size_t from = 0;
    if (skipping) {
      // The first page after a resume: skip through the last finished key.
      auto at = std::find_if(page->objects.begin(), page->objects.end(),
                             [&](const cold::ColdObjectInfo& o) { return o.key == doneThrough; });
      if (at != page->objects.end()) {
        from = static_cast<size_t>(at - page->objects.begin()) + 1;
      } else {
        while (from < page->objects.size() && page->objects[from].key <= doneThrough) {
          ++from;
        }
      }
    }
    for (size_t i = from; i < page->objects.size(); ++i) {
      cold::ColdObjectInfo& o = page->objects[i];
      n++;
      bytes += o.size;
      run->window.push_back(Item{std::move(o), pm, false, {}});
      run->queue.push_back(std::prev(run->window.end()));
    }
    skipping = false;
    {
      std::lock_guard lock(mu_);
      job->r.objectsListed += n;
      job->r.bytesListed += bytes;
    }
    run->notify();
    if (page->nextMarker.empty()) {
      std::lock_guard lock(mu_);
      job->r.listingComplete = true;
      break;
    }
    marker = page->nextMarker;
  }
  run->listingDone = true;
  run->notify();
}

asio::awaitable<void> Stager::worker(std::shared_ptr<Run> run) {
  std::shared_ptr<Job> job = run->job;
  for (;;) {
    if (job->cancel) {
      break;
    }
    if (run->queue.empty()) {
      if (run->listingDone) {
        break;
      }
      co_await waitOn(run->signal);
      continue;
    }
    auto it = run->queue.front();
    run->queue.pop_front();
    run->notify();  // room in the queue for the lister
    Outcome o = co_await pull(run, it->info);
    finishItem(*run, *it, o);
    run->notify();  // the window may have shrunk: the lister may go on
  }
  run->workers--;
  run->notify();
}

void Stager::finishItem(Run& run, Item& item, const Outcome& o) {
  Job& job = *run.job;
  item.finished = true;
  item.outcome = o;
  const std::string localKey = job.mapping->localKey(item.info.key);
  if (o.kind == Outcome::kDone) {
    bytesTotal_ += o.bytes;
    objectsTotal_++;
  } else if (o.kind == Outcome::kFailed) {
    spdlog::warn("tier: staging job {}: {} failed after {} attempt(s): {}", job.r.id, localKey,
                 o.attempts, o.reason);
  }
  std::lock_guard lock(mu_);
  StageReport& r = job.r;
  switch (o.kind) {
    case Outcome::kDone: r.objectsDone++; r.bytesDone += o.bytes; break;
    case Outcome::kSkipped: r.objectsSkipped++; r.bytesSkipped += item.info.size; break;
    case Outcome::kFailed:
      r.objectsFailed++;
      if (r.failures.size() < kMaxStageFailures) {
        r.failures.push_back(StageFailure{localKey, o.reason, o.attempts});
      }
      break;
  }
  // Fold the finished head of the window into the resume point.
  while (!run.window.empty() && run.window.front().finished) {
    Item& head = run.window.front();
    job.committed.listed++;
    job.committed.bytesListed += head.info.size;
    const Outcome& ho = head.outcome;
    const std::string hk = job.mapping->localKey(head.info.key);
    switch (ho.kind) {
      case Outcome::kDone: job.committed.done++; job.committed.bytesDone += ho.bytes; break;
      case Outcome::kSkipped:
        job.committed.skipped++;
        job.committed.bytesSkipped += head.info.size;
        break;
      case Outcome::kFailed:
        job.committed.failed++;
        if (job.committed.failures.size() < kMaxStageFailures) {
          job.committed.failures.push_back(StageFailure{hk, ho.reason, ho.attempts});
        }
        break;
    }
    job.pageMarker = *head.pageMarker;
    job.doneThrough = head.info.key;
    job.anyDone = true;
    run.window.pop_front();
  }
}

void Stager::refreshRate(Job& job) {
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  StageReport& r = job.r;
  job.samples.emplace_back(now, r.bytesDone);
  while (job.samples.size() > 2 && now - job.samples[1].first >= kRateWindow) {
    job.samples.pop_front();
  }
  auto [t0, b0] = job.samples.front();
  double secs = std::chrono::duration<double>(now - t0).count();
  r.rateBytesPerSec = secs > 0.2 ? static_cast<uint64_t>((r.bytesDone - b0) / secs) : 0;
  uint64_t finished = r.bytesDone + r.bytesSkipped;
  if (r.listingComplete && r.rateBytesPerSec > 0) {
    uint64_t left = r.bytesListed > finished ? r.bytesListed - finished : 0;
    r.etaSeconds = static_cast<int64_t>(left / r.rateBytesPerSec);
  } else if (r.listingComplete && r.objectsDone + r.objectsSkipped + r.objectsFailed >=
                                      r.objectsListed) {
    r.etaSeconds = 0;
  } else {
    r.etaSeconds = -1;
  }
}

asio::awaitable<void> Stager::ticker(std::shared_ptr<Run> run) {
  asio::steady_timer t(deps_.executor);
  auto lastPersist = Clock::now();
  while (!run->over) {
    t.expires_after(options_.tick);
    co_await waitOn(t);
    if (run->over) {
      break;
    }
    refreshRate(*run->job);
    if (Clock::now() - lastPersist >= options_.persistEvery) {
      lastPersist = Clock::now();
      co_await persist(run->job);
    }
  }
  run->tickerDone = true;
}

}  // namespace ember::tier
