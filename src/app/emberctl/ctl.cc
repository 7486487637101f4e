#include "app/emberctl/ctl.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/emberctl/admin_client.h"
#include "app/emberctl/ctl_stage.h"
#include "app/emberctl/units.h"
#include "app/emberd/tier_json.h"
#include "common/strings.h"

namespace ember::ctl {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kDefaultAdmin = "http://127.0.0.1:9001";
constexpr int kMaxPollSeconds = 30;  // the wait= of each long-poll (the server allows 300)
constexpr milliseconds kRetryPause{1000};
constexpr size_t kTableErrorMax = 60;

constexpr const char* kFooter =
    "Exit status:\n"
    "  0  success (flush: everything acknowledged under the prefix before the barrier is in cold storage)\n"
    "  1  emberd answered an error (its message is printed), or cannot be reached\n"
    "  2  usage error\n"
    "  3  flush --wait: the --timeout passed with writes still pending\n"
    "  4  flush without --wait: writes still pending\n"
    "  5  stage: the job finished but some objects failed (they are listed)\n"
    "  (stage, stage-status: 1 also when the job failed or was cancelled)\n"
    "\n"
    "The admin endpoint is --admin, else $EMBER_ADMIN, else http://127.0.0.1:9001; --port-file\n"
    "takes the port from emberd's --port-file.";

// "bucket/prefix" split at the first '/'.
struct Target {
  std::string bucket;
  std::string rest;

  std::string show() const { return bucket + "/" + rest; }
};

Target splitTarget(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return {text, ""};
  }
  return {text.substr(0, slash), text.substr(slash + 1)};
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string orDash(const std::string& s) { return s.empty() ? "-" : s; }

// One reply from the admin endpoint, or why there is none.
struct Answer {
  bool reached = false;  // the server answered (any status)
  int status = 0;
  std::string raw;       // the body as sent
  json body;             // the body parsed (discarded when it is not JSON)
  std::string message;   // when not ok(): what to tell the user

  bool ok() const { return reached && status >= 200 && status < 300 && body.is_object(); }
  // Worth asking again while waiting: no connection (emberd restarting) or 503.
  bool retryable() const { return !reached || status == 503; }
};

class Ctl {
 public:
  Ctl(std::ostream& out, std::ostream& err, bool tty, bool jsonOut)
      : out_(out), err_(err), tty_(tty), json_(jsonOut) {}

  // Picks the admin endpoint. Errors are printed; returns kExitOk, kExitUsage (a bad URL) or
  // kExitError (the port file cannot be read).
  int resolveAdmin(const std::string& flag, const std::string& portFile) {
    std::string url = flag;
    if (url.empty()) {
      const char* env = std::getenv("EMBER_ADMIN");
      url = env != nullptr && *env != '\0' ? env : kDefaultAdmin;
    }
    std::optional<uint16_t> port;
    if (!portFile.empty()) {
      auto p = portFromPortFile(portFile);
      if (!p) {
        err_ << "emberctl: " << p.error().message() << "\n";
        return kExitError;
      }
      port = *p;
    }
    auto base = adminBaseUrl(url, port);
    if (!base) {
      err_ << "emberctl: " << base.error().message() << "\n";
      return kExitUsage;
    }
    base_ = *base;
    return kExitOk;
  }

  const std::string& base() const { return base_; }

  int flush(const std::string& targetText, bool wait, std::optional<milliseconds> timeout) {
    Target t = splitTarget(targetText);
    if (t.bucket.empty()) {
      err_ << "emberctl: flush needs BUCKET/PREFIX (or BUCKET), not \"" << targetText << "\"\n";
      return kExitUsage;
    }
    std::string query = "bucket=" + encodeQueryValue(t.bucket) + "&prefix=" +
                        encodeQueryValue(t.rest);
    Answer a = call("POST", "/tier/flush?" + query, seconds(30));
    if (!a.ok()) {
      return fail(a);
    }
    auto first = app::flushReportFromJson(a.body);
    if (!first) {
      return badReply("/tier/flush", first.error());
    }
    if (!json_) {
      out_ << "flush barrier " << first->barrier << ": "
           << plural(first->pendingObjects, "object", "objects") << " ("
           << formatBytes(first->pendingBytes) << ") pending\n";
      showLastError(t, first->lastError);
    }
    if (first->done || !wait) {
      return finish(t, *first, a.raw, first->done ? kExitOk : kExitPending);
    }
    return waitFor(t, query, *first, timeout);
  }

  int status(const std::string& targetText) {
    Target t = splitTarget(targetText);
    if (t.bucket.empty() || t.rest.empty()) {
      err_ << "emberctl: status needs BUCKET/KEY, not \"" << targetText << "\"\n";
      return kExitUsage;
    }
    Answer a = call("GET",
                    "/tier/object?bucket=" + encodeQueryValue(t.bucket) +
                        "&key=" + encodeQueryValue(t.rest),
                    seconds(30));
    if (!a.ok()) {
      return fail(a);
    }
    if (json_) {
      out_ << a.raw;
      return kExitOk;
    }
    auto s = app::objectStatusFromJson(a.body);
    if (!s) {
      return badReply("/tier/object", s.error());
    }
    std::string state = s->state;
    if (s->dirtySinceMs > 0) {
      int64_t nowMs = std::chrono::duration_cast<milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      state += " (since " + utcTime(s->dirtySinceMs) + ", " +
               formatDuration(milliseconds(nowMs - s->dirtySinceMs)) + " ago)";
    }
    out_ << t.show() << "\n";
    row("state", state);
    row("pinned", s->pinned ? "yes" : "no");
    row("size", formatBytes(s->size) + " (" + std::to_string(s->size) + " bytes)");
    row("warm etag", orDash(s->warmEtag));
    row("cold etag", orDash(s->coldEtag));
    row("last error", orDash(s->lastError));
    return kExitOk;
  }

  int tier() {
    Answer a = call("GET", "/tier", seconds(30));
    if (!a.ok()) {
      return fail(a);
    }
    if (json_) {
      out_ << a.raw;
      return kExitOk;
    }
    auto mappings = app::mappingsFromJson(a.body);
    if (!mappings) {
      return badReply("/tier", mappings.error());
    }
    if (mappings->empty()) {
      out_ << "no cold mappings\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"MAPPING", "LOCATION", "MODE", "BREAKER", "DIRTY", "DIRTY BYTES",
                    "OLDEST DIRTY", "UPLOADED", "FAILED", "LAST ERROR"});
    for (const tier::MappingReport& m : *mappings) {
      rows.push_back({m.bucket + "/" + m.prefix, m.location, m.mode, m.breaker,
                      std::to_string(m.dirtyObjects), formatBytes(m.dirtyBytes),
                      m.oldestDirtyMs > 0 ? formatDuration(milliseconds(m.oldestDirtyMs)) : "-",
                      std::to_string(m.uploadedObjects) + " (" + formatBytes(m.uploadedBytes) + ")",
                      std::to_string(m.failedUploads),
                      m.lastError.empty() ? "-" : printableExcerpt(m.lastError, kTableErrorMax)});
    }
    printTable(rows);
    return kExitOk;
  }

  // pin BUCKET/PREFIX [--ttl D] | unpin BUCKET/PREFIX | pins
  int pin(const std::string& targetText, std::optional<milliseconds> ttl, bool remove) {
    Target t = splitTarget(targetText);
    if (t.bucket.empty()) {
      err_ << "emberctl: " << (remove ? "unpin" : "pin") << " needs BUCKET/PREFIX, not \""
           << targetText << "\"\n";
      return kExitUsage;
    }
    std::string query = "bucket=" + encodeQueryValue(t.bucket) + "&prefix=" +
                        encodeQueryValue(t.rest);
    if (ttl) {
      query += "&ttl=" + std::to_string(std::max<int64_t>(1, ttl->count() / 1000));
    }
    Answer a = call(remove ? "DELETE" : "POST", "/tier/pins?" + query, seconds(60));
    if (!a.ok()) {
      return fail(a);
    }
    if (json_) {
      out_ << a.raw;
    } else if (remove) {
      out_ << "unpinned " << t.show() << "\n";
    } else {
      auto p = app::pinFromJson(a.body);
      if (!p) {
        return badReply("/tier/pins", p.error());
      }
      out_ << "pinned " << t.show() << " (" << formatBytes(p->warmBytes) << " warm now)"
           << (p->expiresMs ? ", until " + utcTime(p->expiresMs) : std::string()) << "\n";
    }
    return kExitOk;
  }

  int pins() {
    Answer a = call("GET", "/tier/pins", seconds(60));
    if (!a.ok()) {
      return fail(a);
    }
    if (json_) {
      out_ << a.raw;
      return kExitOk;
    }
    auto pins = app::pinsFromJson(a.body);
    if (!pins) {
      return badReply("/tier/pins", pins.error());
    }
    if (pins->empty()) {
      out_ << "no pins\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows{{"PIN", "WARM", "EXPIRES"}};
    for (const tier::PinReport& p : *pins) {
      rows.push_back({p.bucket + "/" + p.prefix, formatBytes(p.warmBytes),
                      p.expiresMs ? utcTime(p.expiresMs) : "never"});
    }
    printTable(rows);
    return kExitOk;
  }

 private:
  Answer call(const std::string& method, const std::string& target, milliseconds readTimeout) {
    Answer a;
    auto r = adminRequest(method, base_, target, readTimeout);
    if (!r) {
      a.message = r.error().code() == Code::kTimeout
                      ? "no answer from emberd's admin endpoint at " + base_ + " (" +
                            r.error().toString() + ")"
                      : "cannot reach emberd's admin endpoint at " + base_ + " (" +
                            r.error().toString() +
                            "); is emberd running? --admin URL, EMBER_ADMIN or --port-file "
                            "name the endpoint";
      return a;
    }
    a.reached = true;
    a.status = r->status;
    a.raw = std::move(r->body);
    a.body = json::parse(a.raw, nullptr, /*allow_exceptions=*/false);
    if (a.ok()) {
      return a;
    }
    std::string path = target.substr(0, target.find('?'));
    if (auto e = app::errorFromJson(a.body); e && a.status != 200) {
      a.message = e->message.empty() ? e->error : e->message + " (" + e->error + ")";
    } else {
      std::string firstLine = a.raw.substr(0, a.raw.find('\n'));
      a.message = method + " " + base_ + path + " answered HTTP " + std::to_string(a.status) +
                  (a.status == 200 ? " with something that is not a JSON object"
                                   : ": " + printableExcerpt(firstLine, 200));
      if (a.status == 404 || a.status == 405) {
        a.message += " (an emberd without the /tier admin API?)";
      }
    }
    return a;
  }

  int fail(const Answer& a) {
    clearProgress();
    err_ << "emberctl: " << a.message << "\n";
    return kExitError;
  }

  int badReply(const std::string& path, const Status& why) {
    clearProgress();
    err_ << "emberctl: unexpected reply from " << base_ << path << ": " << why.message() << "\n";
    return kExitError;
  }

  // Long-polls the barrier until it is done or the timeout passes.
  int waitFor(const Target& t, const std::string& query, const tier::FlushReport& first,
              std::optional<milliseconds> timeout) {
    const Clock::time_point start = Clock::now();
    std::optional<Clock::time_point> deadline;
    if (timeout) {
      deadline = start + *timeout;
    }
    tier::FlushReport last = first;
    std::string lastRaw;
    std::string lastRetryNote;
    for (;;) {
      int waitSeconds = kMaxPollSeconds;
      if (deadline) {
        auto left = *deadline - Clock::now();
        if (left <= Clock::duration::zero()) {
          break;
        }
        auto leftS = std::chrono::ceil<seconds>(left).count();
        waitSeconds = static_cast<int>(std::clamp<int64_t>(leftS, 1, kMaxPollSeconds));
      }
      std::string target = "/tier/flush?" + query + "&barrier=" + std::to_string(first.barrier) +
                           "&wait=" + std::to_string(waitSeconds);
      Answer a = call("GET", target, seconds(waitSeconds) + seconds(30));
      if (!a.ok()) {
        if (!a.retryable()) {
          return fail(a);
        }
        if (a.message != lastRetryNote) {
          clearProgress();
          err_ << "emberctl: " << a.message << "; retrying\n";
          lastRetryNote = a.message;
        }
        milliseconds pause = kRetryPause;
        if (deadline) {
          auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now());
          pause = std::clamp(left, milliseconds(0), kRetryPause);
        }
        std::this_thread::sleep_for(pause);
        continue;
      }
      lastRetryNote.clear();
      auto r = app::flushReportFromJson(a.body);
      if (!r) {
        return badReply("/tier/flush", r.error());
      }
      if (!json_ && r->lastError != last.lastError) {
        clearProgress();
        showLastError(t, r->lastError);
      }
      last = *r;
      lastRaw = std::move(a.raw);
      if (last.done) {
        return finish(t, last, lastRaw, kExitOk);
      }
      showProgress(first, last, Clock::now() - start);
    }
    clearProgress();
    if (json_) {
      out_ << (lastRaw.empty() ? app::toJson(last).dump() + "\n" : lastRaw);
    }
    err_ << "emberctl: timed out after " << formatDuration(*timeout) << ": barrier "
         << last.barrier << " still has " << plural(last.pendingObjects, "object", "objects")
         << " (" << formatBytes(last.pendingBytes) << ") pending under " << t.show() << "\n";
    return kExitTimeout;
  }

  int finish(const Target& t, const tier::FlushReport& r, const std::string& raw, int code) {
    clearProgress();
    if (json_) {
      out_ << raw;
    } else if (r.done) {
      out_ << "flushed: everything under " << t.show()
           << " acknowledged before the barrier is in cold storage\n";
    }
    return code;
  }

  void showLastError(const Target& t, const std::string& error) {
    if (!error.empty()) {
      err_ << "emberctl: last upload error under " << t.show() << ": " << error << "\n";
    }
  }

  void showProgress(const tier::FlushReport& first, const tier::FlushReport& now,
                    Clock::duration elapsed) {
    if (json_) {
      return;
    }
    uint64_t drainedObjects =
        first.pendingObjects > now.pendingObjects ? first.pendingObjects - now.pendingObjects : 0;
    uint64_t drainedBytes =
        first.pendingBytes > now.pendingBytes ? first.pendingBytes - now.pendingBytes : 0;
    auto ms = std::chrono::duration_cast<milliseconds>(elapsed);
    std::string line = "barrier " + std::to_string(now.barrier) + ": " +
                       plural(now.pendingObjects, "object", "objects") + " (" +
                       formatBytes(now.pendingBytes) + ") pending, " +
                       plural(drainedObjects, "object", "objects") + " (" +
                       formatBytes(drainedBytes) + ") drained";
    if (ms >= seconds(1)) {
      double rate = static_cast<double>(drainedBytes) * 1000.0 / static_cast<double>(ms.count());
      line += ", " + formatBytes(static_cast<uint64_t>(rate)) + "/s";
    }
    if (now.oldestPendingMs > 0) {
      line += ", oldest " + formatDuration(milliseconds(now.oldestPendingMs));
    }
    line += ", " + formatDuration(ms) + " elapsed";
    if (tty_) {
      out_ << "\r\033[K" << line << std::flush;
      progressShown_ = true;
    } else {
      out_ << line << "\n" << std::flush;
    }
  }

  void clearProgress() {
    if (progressShown_) {
      out_ << "\r\033[K" << std::flush;
      progressShown_ = false;
    }
  }

  void row(const char* name, const std::string& value) {
    std::string label = name;
    label.resize(12, ' ');
    out_ << "  " << label << value << "\n";
  }

  void printTable(const std::vector<std::vector<std::string>>& rows) { ctl::printTable(out_, rows); }

  static std::string utcTime(int64_t unixMs) {
    std::time_t secs = static_cast<std::time_t>(unixMs / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
  }

  std::ostream& out_;
  std::ostream& err_;
  bool tty_;
  bool json_;
  bool progressShown_ = false;
  std::string base_;
};

}  // namespace

int runEmberctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                bool tty) {
  CLI::App app{"emberctl: asks a running emberd about its cold tier (flush barriers, object "
               "status, mappings) through the admin endpoint",
               "emberctl"};
  app.footer(kFooter);
  app.fallthrough();  // global options may also follow the subcommand
  app.require_subcommand(1);
  std::string admin;
  std::string portFile;
  bool jsonOut = false;
  app.add_option("--admin", admin,
                 "emberd's admin endpoint URL (default: $EMBER_ADMIN, else http://127.0.0.1:9001)")
      ->type_name("URL");
  app.add_option("--port-file", portFile,
                 "emberd's --port-file: connect to the admin port it names")
      ->type_name("FILE");
  app.add_flag("--json", jsonOut, "print the server's JSON reply instead of text");

  CLI::App* flushCmd = app.add_subcommand(
      "flush", "take a flush barrier on BUCKET/PREFIX: has everything acknowledged under it "
               "reached cold storage?");
  std::string flushTarget;
  bool wait = false;
  std::string timeoutText;
  flushCmd->add_option("target", flushTarget, "BUCKET/PREFIX (BUCKET alone: the whole bucket)")
      ->type_name("BUCKET/PREFIX")
      ->required();
  CLI::Option* waitOpt = flushCmd->add_flag(
      "--wait", wait, "wait until the barrier is done, showing progress (exit 3 on --timeout)");
  flushCmd
      ->add_option("--timeout", timeoutText,
                   "with --wait: give up after this long (90s, 30m, 1h30m; default: no limit)")
      ->type_name("DURATION")
      ->needs(waitOpt);

  CLI::App* statusCmd = app.add_subcommand("status", "show one object's tier status");
  std::string statusTarget;
  statusCmd->add_option("target", statusTarget, "the object")->type_name("BUCKET/KEY")->required();

  CLI::App* tierCmd =
      app.add_subcommand("tier", "list the cold mappings: mode, breaker, dirty data, uploads");

  CLI::App* pinCmd = app.add_subcommand(
      "pin", "pin BUCKET/PREFIX: eviction never takes its warm objects (exit 1 when it would pin "
             "more than the warm tier may hold)");
  std::string pinTarget;
  std::string pinTtlText;
  pinCmd->add_option("target", pinTarget, "BUCKET/PREFIX")->type_name("BUCKET/PREFIX")->required();
  pinCmd->add_option("--ttl", pinTtlText, "drop the pin after this long (72h, 90m; default: never)")
      ->type_name("DURATION");
  CLI::App* unpinCmd = app.add_subcommand("unpin", "remove the pin on exactly BUCKET/PREFIX");
  std::string unpinTarget;
  unpinCmd->add_option("target", unpinTarget, "BUCKET/PREFIX")->type_name("BUCKET/PREFIX")->required();
  CLI::App* pinsCmd = app.add_subcommand("pins", "list the pins and the warm bytes under each");

  CLI::App* stageCmd = app.add_subcommand(
      "stage", "pull every cold object under BUCKET/PREFIX into the warm tier, showing progress");
  StageOptions stage;
  std::string ttlText;
  std::string rateText;
  unsigned parallel = 0;
  stageCmd->add_option("target", stage.target, "what to stage")
      ->type_name("BUCKET/PREFIX")
      ->required();
  CLI::Option* pinOpt =
      stageCmd->add_flag("--pin", stage.pin, "pin the prefix in the warm tier (not evicted)");
  stageCmd->add_option("--ttl", ttlText, "with --pin: how long the pin lasts (72h, 30m)")
      ->type_name("DURATION")
      ->needs(pinOpt);
  stageCmd->add_option("--parallel", parallel, "objects pulled at a time (1..256, default 16)")
      ->type_name("N")
      ->check(CLI::Range(1, 256));
  stageCmd->add_option("--max-rate", rateText, "cap the cold read rate (2GB/s, 500MiB/s)")
      ->type_name("RATE");
  stageCmd->add_flag("--detach", stage.detach, "start the job and return (no progress)");

  CLI::App* stageStatusCmd =
      app.add_subcommand("stage-status", "show a staging job (--wait: follow it to the end)");
  std::string stageId;
  bool stageWait = false;
  stageStatusCmd->add_option("id", stageId, "the job id")->required();
  stageStatusCmd->add_flag("--wait", stageWait, "follow the job like `stage` does");
  CLI::App* stagesCmd = app.add_subcommand("stages", "list the staging jobs");
  CLI::App* stageCancelCmd = app.add_subcommand("stage-cancel", "cancel a staging job");
  stageCancelCmd->add_option("id", stageId, "the job id")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }

  std::optional<milliseconds> timeout;
  if (!timeoutText.empty()) {
    auto d = parseDuration(timeoutText);
    if (!d) {
      err << "emberctl: --timeout: " << d.error().message() << "\n";
      return kExitUsage;
    }
    timeout = *d;
  }

  if (!ttlText.empty()) {
    auto d = parseDuration(ttlText);
    if (!d) {
      err << "emberctl: --ttl: " << d.error().message() << "\n";
      return kExitUsage;
    }
    stage.ttlSeconds = std::chrono::duration_cast<seconds>(*d).count();
  }
  if (!rateText.empty()) {
    auto r = parseByteRate(rateText);
    if (!r) {
      err << "emberctl: --max-rate: " << r.error().message() << "\n";
      return kExitUsage;
    }
    stage.maxRate = *r;
  }
  if (parallel) {
    stage.parallel = parallel;
  }
  if (const char* p = std::getenv("EMBERCTL_POLL_MS"); p != nullptr && *p != '\0') {
    stage.poll = milliseconds(std::max(10, std::atoi(p)));  // tests: poll faster
  }

  std::optional<milliseconds> pinTtl;
  if (!pinTtlText.empty()) {
    auto d = parseDuration(pinTtlText);
    if (!d) {
      err << "emberctl: --ttl: " << d.error().message() << "\n";
      return kExitUsage;
    }
    pinTtl = *d;
  }

  Ctl ctl(out, err, tty, jsonOut);
  if (int code = ctl.resolveAdmin(admin, portFile); code != kExitOk) {
    return code;
  }
  if (flushCmd->parsed()) {
    return ctl.flush(flushTarget, wait, timeout);
  }
  if (statusCmd->parsed()) {
    return ctl.status(statusTarget);
  }
  if (tierCmd->parsed()) {
    return ctl.tier();
  }
  if (pinCmd->parsed()) {
    return ctl.pin(pinTarget, pinTtl, false);
  }
  if (unpinCmd->parsed()) {
    return ctl.pin(unpinTarget, std::nullopt, true);
  }
  if (pinsCmd->parsed()) {
    return ctl.pins();
  }
  if (stageCmd->parsed()) {
    return stageCommand(ctl.base(), stage, out, err, tty, jsonOut);
  }
  if (stageStatusCmd->parsed()) {
    return stageStatusCommand(ctl.base(), stageId, stageWait, stage.poll, out, err, tty, jsonOut);
  }
  if (stagesCmd->parsed()) {
    return stagesCommand(ctl.base(), out, err, jsonOut);
  }
  if (stageCancelCmd->parsed()) {
    return stageCancelCommand(ctl.base(), stageId, out, err, jsonOut);
  }
  return kExitUsage;
}

}  // namespace ember::ctl
