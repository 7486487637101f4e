// Staging jobs: the persisted record (JSON in the state db, key space 'j') and resuming.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/time_util.h"
#include "tier/stage_internal.h"

namespace ember::tier {

namespace {

using json = nlohmann::json;

json countsJson(const StageCounts& c) {
  json f = json::array();
  for (const StageFailure& x : c.failures) {
    f.push_back(json::array({x.key, x.reason, x.attempts}));
  }
  return json{{"listed", c.listed},         {"done", c.done},
              {"skipped", c.skipped},       {"failed", c.failed},
              {"bytes_listed", c.bytesListed}, {"bytes_done", c.bytesDone},
              {"bytes_skipped", c.bytesSkipped}, {"failures", std::move(f)}};
}

StageCounts countsFromJson(const json& j) {
  StageCounts c;
  c.listed = j.value("listed", uint64_t{0});
  c.done = j.value("done", uint64_t{0});
  c.skipped = j.value("skipped", uint64_t{0});
  c.failed = j.value("failed", uint64_t{0});
  c.bytesListed = j.value("bytes_listed", uint64_t{0});
  c.bytesDone = j.value("bytes_done", uint64_t{0});
  c.bytesSkipped = j.value("bytes_skipped", uint64_t{0});
  if (j.contains("failures")) {
    for (const json& f : j.at("failures")) {
      c.failures.push_back(StageFailure{f.at(0).get<std::string>(), f.at(1).get<std::string>(),
                                        f.at(2).get<unsigned>()});
    }
  }
  return c;
}

StageCounts liveCounts(const StageReport& r) {
  return StageCounts{r.objectsListed, r.objectsDone,  r.objectsSkipped, r.objectsFailed,
                     r.bytesListed,   r.bytesDone,    r.bytesSkipped,   r.failures};
}

void setLive(StageReport& r, const StageCounts& c) {
  r.objectsListed = c.listed;
  r.objectsDone = c.done;
  r.objectsSkipped = c.skipped;
  r.objectsFailed = c.failed;
  r.bytesListed = c.bytesListed;
  r.bytesDone = c.bytesDone;
  r.bytesSkipped = c.bytesSkipped;
  r.failures = c.failures;
}

}  // namespace

// --- persistence ---

asio::awaitable<void> Stager::persist(std::shared_ptr<Job> job) {
  std::string text;
  {
    std::lock_guard lock(mu_);
    const StageReport& r = job->r;
    json j{{"v", 1},
           {"id", r.id},
           {"bucket", r.request.bucket},
           {"prefix", r.request.prefix},
           {"pin", r.request.pin},
           {"ttl", r.request.ttlSeconds ? json(*r.request.ttlSeconds) : json(nullptr)},
           {"parallel", r.request.parallel},
           {"max_rate", r.request.maxRate},
           {"pin_expires_ms", r.pinExpiresMs},
           {"state", r.state},
           {"error", r.error},
           {"listing_complete", r.listingComplete},
           {"created_ms", r.createdMs},
           {"started_ms", r.startedMs},
           {"finished_ms", r.finishedMs},
           {"resumes", r.resumes},
           {"live", countsJson(liveCounts(r))},
           {"resume",
            {{"page_marker", job->pageMarker},
             {"done_through", job->doneThrough},
             {"any", job->anyDone},
             {"counts", countsJson(job->committed)}}}};
    text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  uint64_t seq = ++job->persistSeq;
  StateDb* db = deps_.db;
  Status s = co_await offload(*deps_.pool, [db, job, seq, text = std::move(text)]() -> Status {
    std::lock_guard lock(job->persistMu);
    if (seq <= job->persistedSeq) {
      return Status::ok();  // a newer record is already written
    }
    job->persistedSeq = seq;
    return db->putJob(job->r.id, text);  // the id never changes: safe to read unlocked
  });
  if (!s) {
    spdlog::warn("tier: staging job {}: cannot save its state: {}", job->r.id, s.toString());
  }
}

Status Stager::resume() {
  std::vector<std::shared_ptr<Job>> toRun;
  Status bad;
  Status scanned = deps_.db->forEachJob([&](std::string_view id, std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) {
      spdlog::warn("tier: staging job {}: unreadable record ignored", std::string(id));
      return;
    }
    try {
      auto job = std::make_shared<Job>();
      StageReport& r = job->r;
      r.id = j.at("id").get<std::string>();
      r.request.bucket = j.at("bucket").get<std::string>();
      r.request.prefix = j.at("prefix").get<std::string>();
      r.request.pin = j.value("pin", false);
      if (j.contains("ttl") && !j.at("ttl").is_null()) {
        r.request.ttlSeconds = j.at("ttl").get<int64_t>();
      }
      r.request.parallel = j.value("parallel", 8u);
      r.request.maxRate = j.value("max_rate", uint64_t{0});
      r.pinExpiresMs = j.value("pin_expires_ms", int64_t{0});
      r.state = j.value("state", std::string("failed"));
      r.error = j.value("error", std::string());
      r.listingComplete = j.value("listing_complete", false);
      r.createdMs = j.value("created_ms", int64_t{0});
      r.startedMs = j.value("started_ms", int64_t{0});
      r.finishedMs = j.value("finished_ms", int64_t{0});
      r.resumes = j.value("resumes", uint64_t{0});
      const json& res = j.at("resume");
      job->pageMarker = res.value("page_marker", std::string());
      job->doneThrough = res.value("done_through", std::string());
      job->anyDone = res.value("any", false);
      job->committed = countsFromJson(res.at("counts"));
      for (const Mapping* c : deps_.table->forBucket(r.request.bucket)) {
        if (r.request.prefix.starts_with(c->cfg.prefix)) {
          job->mapping = c;
        }
      }
      if (stageActive(r.state)) {
        // Counters continue from the resume point; what was done after it is found warm.
        setLive(r, job->committed);
        r.listingComplete = false;
        r.resumes++;
        if (job->mapping == nullptr) {
          r.state = "failed";
          r.error = "the mapping of " + r.request.bucket + "/" + r.request.prefix +
                    " is gone";
          r.finishedMs = nowMillis();
        } else {
          job->running = true;
          toRun.push_back(job);
        }
      } else {
        setLive(r, countsFromJson(j.at("live")));
      }
      std::lock_guard lock(mu_);
      jobs_[r.id] = job;
    } catch (const std::exception& e) {
      spdlog::warn("tier: staging job {}: bad record ignored: {}", std::string(id), e.what());
    }
  });
  EMBER_TRY(scanned);
  for (auto& job : toRun) {
    spdlog::info("tier: staging job {} ({}/{}) resumes after {} finished object(s)", job->r.id,
                 job->r.request.bucket, job->r.request.prefix,
                 job->committed.done + job->committed.skipped + job->committed.failed);
    launch(job);
  }
  return Status::ok();
}

}  // namespace ember::tier
