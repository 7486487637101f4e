#include "app/emberd/tier_json.h"

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ember::app {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json toJson(const tier::FlushReport& r) {
  return ordered_json{{"barrier", r.barrier},
              {"pending_objects", r.pendingObjects},
              {"pending_bytes", r.pendingBytes},
              {"oldest_pending_ms", r.oldestPendingMs},
              {"done", r.done},
              {"last_error", r.lastError}};
}

ordered_json toJson(const tier::ObjectTierStatus& s) {
  return ordered_json{{"bucket", s.bucket},
              {"key", s.key},
              {"state", s.state},
              {"pinned", s.pinned},
              {"size", s.size},
              {"warm_etag", s.warmEtag},
              {"cold_etag", s.coldEtag},
              {"dirty_since_ms", s.dirtySinceMs},
              {"last_error", s.lastError}};
}

ordered_json toJson(const tier::MappingReport& m) {
  return ordered_json{{"bucket", m.bucket},
              {"prefix", m.prefix},
              {"location", m.location},
              {"mode", m.mode},
              {"breaker", m.breaker},
              {"dirty_objects", m.dirtyObjects},
              {"dirty_bytes", m.dirtyBytes},
              {"oldest_dirty_ms", m.oldestDirtyMs},
              {"uploaded_objects", m.uploadedObjects},
              {"uploaded_bytes", m.uploadedBytes},
              {"deleted_objects", m.deletedObjects},
              {"failed_uploads", m.failedUploads},
              {"cold_reads", m.coldReads},
              {"cold_bytes_read", m.coldBytesRead},
              {"last_error", m.lastError}};
}

ordered_json mappingsJson(const std::vector<tier::MappingReport>& mappings) {
  ordered_json list = ordered_json::array();
  for (const tier::MappingReport& m : mappings) {
    list.push_back(toJson(m));
  }
  return ordered_json{{"mappings", std::move(list)}};
}

ordered_json toJson(const tier::PinReport& p) {
  return ordered_json{{"bucket", p.bucket},
                      {"prefix", p.prefix},
                      {"created_ms", p.createdMs},
                      {"expires_ms", p.expiresMs},
                      {"warm_bytes", p.warmBytes}};
}

ordered_json pinsJson(const std::vector<tier::PinReport>& pins) {
  ordered_json list = ordered_json::array();
  for (const tier::PinReport& p : pins) {
    list.push_back(toJson(p));
  }
  return ordered_json{{"pins", std::move(list)}};
}

ordered_json toJson(const tier::StageReport& r) {
  ordered_json failures = ordered_json::array();
  for (const tier::StageFailure& f : r.failures) {
    failures.push_back(ordered_json{{"key", f.key}, {"reason", f.reason}, {"attempts", f.attempts}});
  }
  return ordered_json{
      {"id", r.id},
      {"bucket", r.request.bucket},
      {"prefix", r.request.prefix},
      {"pin", r.request.pin},
      {"ttl_seconds", r.request.ttlSeconds ? ordered_json(*r.request.ttlSeconds) : ordered_json()},
      {"parallel", r.request.parallel},
      {"max_rate", r.request.maxRate},
      {"pin_expires_ms", r.pinExpiresMs},
      {"state", r.state},
      {"error", r.error},
      {"listing_complete", r.listingComplete},
      {"objects_listed", r.objectsListed},
      {"objects_done", r.objectsDone},
      {"objects_skipped", r.objectsSkipped},
      {"objects_failed", r.objectsFailed},
      {"bytes_listed", r.bytesListed},
      {"bytes_done", r.bytesDone},
      {"bytes_skipped", r.bytesSkipped},
      {"rate_bytes_per_sec", r.rateBytesPerSec},
      {"eta_seconds", r.etaSeconds},
      {"created_ms", r.createdMs},
      {"started_ms", r.startedMs},
      {"finished_ms", r.finishedMs},
      {"resumes", r.resumes},
      {"failures", std::move(failures)}};
}

ordered_json stagesJson(const std::vector<tier::StageReport>& jobs) {
  ordered_json list = ordered_json::array();
  for (const tier::StageReport& r : jobs) {
    list.push_back(toJson(r));
  }
  return ordered_json{{"jobs", std::move(list)}};
}

ordered_json errorJson(const Status& s) {
  return ordered_json{{"error", std::string(codeName(s.code()))}, {"message", s.message()}};
}

namespace {

// Reads the fields of one JSON object; the first type mismatch is kept as the error.
class FieldReader {
 public:
  explicit FieldReader(const json& j, std::string_view what) : j_(j) {
    if (!j.is_object()) {
      error_ = makeError(Code::kInvalidArgument, std::string(what) + " is not a JSON object");
    }
  }

  template <typename T>
  FieldReader& field(const char* name, T& out) {
    if (!error_.isOk()) {
      return *this;
    }
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) {
      return *this;
    }
    bool ok = false;
    if constexpr (std::is_same_v<T, bool>) {
      ok = it->is_boolean();
    } else if constexpr (std::is_same_v<T, std::string>) {
      ok = it->is_string();
    } else if constexpr (std::is_unsigned_v<T>) {
      ok = it->is_number_unsigned();
    } else {
      ok = it->is_number_integer();
    }
    if (!ok) {
      error_ = makeError(Code::kInvalidArgument,
                         std::string("field \"") + name + "\" has the wrong type");
      return *this;
    }
    out = it->template get<T>();
    return *this;
  }

  const Status& status() const { return error_; }

 private:
  const json& j_;
  Status error_;
};

}  // namespace

Result<tier::FlushReport> flushReportFromJson(const json& j) {
  tier::FlushReport r;
  FieldReader f(j, "the flush report");
  f.field("barrier", r.barrier)
      .field("pending_objects", r.pendingObjects)
      .field("pending_bytes", r.pendingBytes)
      .field("oldest_pending_ms", r.oldestPendingMs)
      .field("done", r.done)
      .field("last_error", r.lastError);
  if (!f.status()) {
    return unexpected(f.status());
  }
  return r;
}

Result<tier::ObjectTierStatus> objectStatusFromJson(const json& j) {
  tier::ObjectTierStatus s;
  FieldReader f(j, "the object status");
  f.field("bucket", s.bucket)
      .field("key", s.key)
      .field("state", s.state)
      .field("pinned", s.pinned)
      .field("size", s.size)
      .field("warm_etag", s.warmEtag)
      .field("cold_etag", s.coldEtag)
      .field("dirty_since_ms", s.dirtySinceMs)
      .field("last_error", s.lastError);
  if (!f.status()) {
    return unexpected(f.status());
  }
  return s;
}

Result<std::vector<tier::MappingReport>> mappingsFromJson(const json& j) {
  if (!j.is_object() || !j.contains("mappings") || !j["mappings"].is_array()) {
    return unexpected(Code::kInvalidArgument, "the reply has no \"mappings\" array");
  }
  std::vector<tier::MappingReport> out;
  for (const json& item : j["mappings"]) {
    tier::MappingReport m;
    FieldReader f(item, "a mapping");
    f.field("bucket", m.bucket)
        .field("prefix", m.prefix)
        .field("location", m.location)
        .field("mode", m.mode)
        .field("breaker", m.breaker)
        .field("dirty_objects", m.dirtyObjects)
        .field("dirty_bytes", m.dirtyBytes)
        .field("oldest_dirty_ms", m.oldestDirtyMs)
        .field("uploaded_objects", m.uploadedObjects)
        .field("uploaded_bytes", m.uploadedBytes)
        .field("deleted_objects", m.deletedObjects)
        .field("failed_uploads", m.failedUploads)
        .field("cold_reads", m.coldReads)
        .field("cold_bytes_read", m.coldBytesRead)
        .field("last_error", m.lastError);
    if (!f.status()) {
      return unexpected(f.status());
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<tier::StageReport> stageReportFromJson(const json& j) {
  tier::StageReport r;
  int64_t ttl = -1;
  FieldReader f(j, "the staging job");
  f.field("id", r.id)
      .field("bucket", r.request.bucket)
      .field("prefix", r.request.prefix)
      .field("pin", r.request.pin)
      .field("ttl_seconds", ttl)
      .field("parallel", r.request.parallel)
      .field("max_rate", r.request.maxRate)
      .field("pin_expires_ms", r.pinExpiresMs)
      .field("state", r.state)
      .field("error", r.error)
      .field("listing_complete", r.listingComplete)
      .field("objects_listed", r.objectsListed)
      .field("objects_done", r.objectsDone)
      .field("objects_skipped", r.objectsSkipped)
      .field("objects_failed", r.objectsFailed)
      .field("bytes_listed", r.bytesListed)
      .field("bytes_done", r.bytesDone)
      .field("bytes_skipped", r.bytesSkipped)
      .field("rate_bytes_per_sec", r.rateBytesPerSec)
      .field("eta_seconds", r.etaSeconds)
      .field("created_ms", r.createdMs)
      .field("started_ms", r.startedMs)
      .field("finished_ms", r.finishedMs)
      .field("resumes", r.resumes);
  if (!f.status()) {
    return unexpected(f.status());
  }
  if (ttl >= 0) {
    r.request.ttlSeconds = ttl;
  }
  if (j.contains("failures")) {
    if (!j["failures"].is_array()) {
      return unexpected(Code::kInvalidArgument, "field \"failures\" has the wrong type");
    }
    for (const json& item : j["failures"]) {
      tier::StageFailure x;
      FieldReader g(item, "a failure");
      g.field("key", x.key).field("reason", x.reason).field("attempts", x.attempts);
      if (!g.status()) {
        return unexpected(g.status());
      }
      r.failures.push_back(std::move(x));
    }
  }
  return r;
}

Result<std::vector<tier::StageReport>> stagesFromJson(const json& j) {
  if (!j.is_object() || !j.contains("jobs") || !j["jobs"].is_array()) {
    return unexpected(Code::kInvalidArgument, "the reply has no \"jobs\" array");
  }
  std::vector<tier::StageReport> out;
  for (const json& item : j["jobs"]) {
    auto r = stageReportFromJson(item);
    if (!r) {
      return unexpected(r.error());
    }
    out.push_back(std::move(*r));
  }
  return out;
}

Result<ErrorBody> errorFromJson(const json& j) {
  ErrorBody e;
  FieldReader f(j, "the error reply");
  f.field("error", e.error).field("message", e.message);
  if (!f.status()) {
    return unexpected(f.status());
  }
  if (e.error.empty()) {
    return unexpected(Code::kInvalidArgument, "the reply has no \"error\" field");
  }
  return e;
}

}  // namespace ember::app

namespace ember::app {

Result<tier::PinReport> pinFromJson(const json& j) {
  tier::PinReport p;
  FieldReader f(j, "a pin");
  f.field("bucket", p.bucket)
      .field("prefix", p.prefix)
      .field("created_ms", p.createdMs)
      .field("expires_ms", p.expiresMs)
      .field("warm_bytes", p.warmBytes);
  if (!f.status()) {
    return unexpected(f.status());
  }
  return p;
}

Result<std::vector<tier::PinReport>> pinsFromJson(const json& j) {
  if (!j.is_object() || !j.contains("pins") || !j["pins"].is_array()) {
    return unexpected(Code::kInvalidArgument, "the reply has no \"pins\" array");
  }
  std::vector<tier::PinReport> out;
  for (const json& item : j["pins"]) {
    auto p = pinFromJson(item);
    if (!p) {
      return unexpected(p.error());
    }
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace ember::app
