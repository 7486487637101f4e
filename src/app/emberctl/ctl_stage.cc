#include "app/emberctl/ctl_stage.h"

#include <algorithm>
#include <ostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/emberctl/admin_client.h"
#include "app/emberctl/ctl.h"
#include "app/emberctl/units.h"
#include "app/emberd/tier_json.h"
#include "common/strings.h"

namespace ember::ctl {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int kBarWidth = 24;

struct Reply {
  bool reached = false;
  int status = 0;
  std::string raw;
  json body;
  std::string message;  // when not ok
  bool ok(int want) const { return reached && status == want && body.is_object(); }
  bool retryable() const { return !reached || status == 503; }
};

Reply call(const std::string& method, const std::string& base, const std::string& target,
           int want) {
  Reply a;
  auto r = adminRequest(method, base, target, std::chrono::seconds(30));
  if (!r) {
    a.message = "cannot reach emberd's admin endpoint at " + base + " (" + r.error().toString() +
                "); is emberd running?";
    return a;
  }
  a.reached = true;
  a.status = r->status;
  a.raw = std::move(r->body);
  a.body = json::parse(a.raw, nullptr, false);
  if (a.ok(want)) {
    return a;
  }
  if (auto e = app::errorFromJson(a.body); e && a.status != want) {
    a.message = e->message.empty() ? e->error : e->message + " (" + e->error + ")";
  } else {
    a.message = method + " " + base + target.substr(0, target.find('?')) + " answered HTTP " +
                std::to_string(a.status) + ": " +
                printableExcerpt(a.raw.substr(0, a.raw.find('\n')), 200);
  }
  return a;
}

bool finished(const tier::StageReport& r) {
  return r.state == "done" || r.state == "failed" || r.state == "cancelled";
}

uint64_t objectsFinished(const tier::StageReport& r) {
  return r.objectsDone + r.objectsSkipped + r.objectsFailed;
}

std::string progressLine(const tier::StageReport& r, milliseconds elapsed) {
  uint64_t fin = objectsFinished(r);
  std::string bar(kBarWidth, '-');
  if (r.listingComplete && r.objectsListed > 0) {
    size_t fill = static_cast<size_t>(kBarWidth * std::min<uint64_t>(fin, r.objectsListed) /
                                      r.objectsListed);
    std::fill(bar.begin(), bar.begin() + static_cast<long>(fill), '#');
  }
  std::string total = r.listingComplete ? std::to_string(r.objectsListed)
                                        : std::to_string(r.objectsListed) + "+";
  std::string line = "[" + bar + "] " + r.state + " " + std::to_string(fin) + "/" + total +
                     " objects, " + formatBytes(r.bytesDone) + " pulled";
  if (r.objectsFailed) {
    line += ", " + std::to_string(r.objectsFailed) + " failed";
  }
  line += ", " + formatBytes(r.rateBytesPerSec) + "/s";
  line += r.etaSeconds >= 0 ? ", ETA " + formatDuration(std::chrono::seconds(r.etaSeconds))
                            : std::string(", ETA ?");
  line += ", " + formatDuration(elapsed);
  return line;
}

void printSummary(const tier::StageReport& r, std::ostream& out) {
  int64_t ms = r.finishedMs > r.startedMs && r.startedMs > 0 ? r.finishedMs - r.startedMs : 0;
  out << "stage " << r.id << " " << r.state << ": " << r.request.bucket << "/" << r.request.prefix
      << "\n";
  out << "  " << r.objectsDone << " pulled, " << r.objectsSkipped << " skipped (already warm), "
      << r.objectsFailed << " failed, of " << r.objectsListed << " listed\n";
  out << "  " << formatBytes(r.bytesDone) << " pulled";
  if (ms > 0) {
    out << " in " << formatDuration(milliseconds(ms)) << " ("
        << formatBytes(static_cast<uint64_t>(static_cast<double>(r.bytesDone) * 1000.0 /
                                             static_cast<double>(ms)))
        << "/s)";
  }
  out << "\n";
  if (r.resumes) {
    out << "  resumed " << r.resumes << " time(s) after an emberd restart\n";
  }
  if (!r.error.empty()) {
    out << "  error: " << r.error << "\n";
  }
  if (!r.failures.empty()) {
    out << "failed objects:\n";
    for (const tier::StageFailure& f : r.failures) {
      out << "  " << r.request.bucket << "/" << f.key << ": " << f.reason << " (" << f.attempts
          << (f.attempts == 1 ? " attempt" : " attempts") << ")\n";
    }
    if (r.failures.size() < r.objectsFailed) {
      out << "  ... and " << r.objectsFailed - r.failures.size() << " more\n";
    }
  }
}

int exitFor(const tier::StageReport& r) {
  if (r.state == "done") {
    return r.objectsFailed ? kExitPartial : kExitOk;
  }
  return kExitError;
}

// Polls the job until it ends, with a progress line on a terminal.
int follow(const std::string& base, tier::StageReport r, milliseconds poll, std::ostream& out,
           std::ostream& err, bool tty, bool jsonOut) {
  const Clock::time_point start = Clock::now();
  bool shown = false;
  std::string lastNote;
  std::string raw;
  while (!finished(r)) {
    std::this_thread::sleep_for(poll);
    Reply a = call("GET", base, "/tier/stage/" + encodeQueryValue(r.id), 200);
    if (!a.ok(200)) {
      if (!a.retryable()) {
        if (shown) {
          out << "\r\033[K" << std::flush;
        }
        err << "emberctl: " << a.message << "\n";
        return kExitError;
      }
      if (a.message != lastNote) {
        if (shown) {
          out << "\r\033[K" << std::flush;
          shown = false;
        }
        err << "emberctl: " << a.message << "; retrying\n";
        lastNote = a.message;
      }
      continue;
    }
    lastNote.clear();
    auto next = app::stageReportFromJson(a.body);
    if (!next) {
      err << "emberctl: unexpected reply: " << next.error().message() << "\n";
      return kExitError;
    }
    r = std::move(*next);
    raw = std::move(a.raw);
    if (tty && !jsonOut && !finished(r)) {
      auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      out << "\r\033[K" << progressLine(r, ms) << std::flush;
      shown = true;
    }
  }
  if (shown) {
    out << "\r\033[K" << std::flush;
  }
  if (jsonOut) {
    out << (raw.empty() ? app::toJson(r).dump() + "\n" : raw);
  } else {
    printSummary(r, out);
  }
  return exitFor(r);
}

}  // namespace

int stageCommand(const std::string& base, const StageOptions& o, std::ostream& out,
                 std::ostream& err, bool tty, bool jsonOut) {
  size_t slash = o.target.find('/');
  std::string bucket = o.target.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : o.target.substr(slash + 1);
  if (bucket.empty()) {
    err << "emberctl: stage needs BUCKET/PREFIX, not \"" << o.target << "\"\n";
    return kExitUsage;
  }
  std::string target = "/tier/stage?bucket=" + encodeQueryValue(bucket) +
                       "&prefix=" + encodeQueryValue(prefix);
  if (o.pin) {
    target += "&pin=true";
  }
  if (o.ttlSeconds) {
    target += "&ttl=" + std::to_string(*o.ttlSeconds);
  }
  if (o.parallel) {
    target += "&parallel=" + std::to_string(*o.parallel);
  }
  if (o.maxRate) {
    target += "&max_rate=" + std::to_string(o.maxRate);
  }
  Reply a = call("POST", base, target, 201);
  if (!a.ok(201)) {
    err << "emberctl: " << a.message << "\n";
    return kExitError;
  }
  auto r = app::stageReportFromJson(a.body);
  if (!r) {
    err << "emberctl: unexpected reply: " << r.error().message() << "\n";
    return kExitError;
  }
  if (o.detach) {
    out << (jsonOut ? a.raw : "stage " + r->id + " started for " + o.target + "\n");
    return kExitOk;
  }
  if (!jsonOut) {
    out << "stage " << r->id << " started for " << o.target
        << " (emberctl stage-cancel " << r->id << " stops it)\n";
  }
  return follow(base, std::move(*r), o.poll, out, err, tty, jsonOut);
}

int stageStatusCommand(const std::string& base, const std::string& id, bool wait,
                       milliseconds poll, std::ostream& out, std::ostream& err, bool tty,
                       bool jsonOut) {
  Reply a = call("GET", base, "/tier/stage/" + encodeQueryValue(id), 200);
  if (!a.ok(200)) {
    err << "emberctl: " << a.message << "\n";
    return kExitError;
  }
  auto r = app::stageReportFromJson(a.body);
  if (!r) {
    err << "emberctl: unexpected reply: " << r.error().message() << "\n";
    return kExitError;
  }
  if (wait) {
    return follow(base, std::move(*r), poll, out, err, tty, jsonOut);
  }
  if (jsonOut) {
    out << a.raw;
  } else if (finished(*r)) {
    printSummary(*r, out);
  } else {
    out << r->id << " " << r->request.bucket << "/" << r->request.prefix << "\n  "
        << progressLine(*r, milliseconds(0)) << "\n";
  }
  return finished(*r) ? exitFor(*r) : kExitOk;
}

int stagesCommand(const std::string& base, std::ostream& out, std::ostream& err, bool jsonOut) {
  Reply a = call("GET", base, "/tier/stage", 200);
  if (!a.ok(200)) {
    err << "emberctl: " << a.message << "\n";
    return kExitError;
  }
  if (jsonOut) {
    out << a.raw;
    return kExitOk;
  }
  auto jobs = app::stagesFromJson(a.body);
  if (!jobs) {
    err << "emberctl: unexpected reply: " << jobs.error().message() << "\n";
    return kExitError;
  }
  if (jobs->empty()) {
    out << "no staging jobs\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "STATE", "TARGET", "OBJECTS", "PULLED", "SKIPPED", "FAILED", "BYTES"}};
  for (const tier::StageReport& r : *jobs) {
    rows.push_back({r.id, r.state, r.request.bucket + "/" + r.request.prefix,
                    std::to_string(objectsFinished(r)) + "/" + std::to_string(r.objectsListed) +
                        (r.listingComplete ? "" : "+"),
                    std::to_string(r.objectsDone), std::to_string(r.objectsSkipped),
                    std::to_string(r.objectsFailed), formatBytes(r.bytesDone)});
  }
  printTable(out, rows);
  return kExitOk;
}

int stageCancelCommand(const std::string& base, const std::string& id, std::ostream& out,
                       std::ostream& err, bool jsonOut) {
  Reply a = call("DELETE", base, "/tier/stage/" + encodeQueryValue(id), 200);
  if (!a.ok(200)) {
    err << "emberctl: " << a.message << "\n";
    return kExitError;
  }
  if (jsonOut) {
    out << a.raw;
    return kExitOk;
  }
  auto r = app::stageReportFromJson(a.body);
  if (!r) {
    err << "emberctl: unexpected reply: " << r.error().message() << "\n";
    return kExitError;
  }
  out << "stage " << r->id << ": " << (r->state == "cancelled" || !finished(*r)
                                           ? "cancel requested"
                                           : "already " + r->state)
      << "\n";
  return kExitOk;
}

}  // namespace ember::ctl
