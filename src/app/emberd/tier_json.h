#pragma once
// The JSON shapes of the /tier admin API (docs/tiering.md, "Admin API"), in one place for both
// ends: emberd's routes (admin_tier.cc) write them, emberctl reads them. Field names are
// snake_case; every field is always written.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "tier/admin.h"

namespace ember::app {

nlohmann::ordered_json toJson(const tier::FlushReport& r);
nlohmann::ordered_json toJson(const tier::ObjectTierStatus& s);
nlohmann::ordered_json toJson(const tier::MappingReport& m);
// {"mappings": [...]}
nlohmann::ordered_json mappingsJson(const std::vector<tier::MappingReport>& mappings);
nlohmann::ordered_json toJson(const tier::PinReport& p);
// {"pins": [...]}
nlohmann::ordered_json pinsJson(const std::vector<tier::PinReport>& pins);
// A staging job (docs/tiering.md, "Staging").
nlohmann::ordered_json toJson(const tier::StageReport& r);
// {"jobs": [...]}
nlohmann::ordered_json stagesJson(const std::vector<tier::StageReport>& jobs);
// {"error": "<codeName>", "message": "..."}
nlohmann::ordered_json errorJson(const Status& s);

// The readers accept what the writers write; a missing field keeps its default (so an older or
// newer emberd still reads). Errors: kInvalidArgument when the value is not an object or a field
// has the wrong type (the message names the field).
Result<tier::FlushReport> flushReportFromJson(const nlohmann::json& j);
Result<tier::ObjectTierStatus> objectStatusFromJson(const nlohmann::json& j);
Result<std::vector<tier::MappingReport>> mappingsFromJson(const nlohmann::json& j);
Result<tier::PinReport> pinFromJson(const nlohmann::json& j);
Result<std::vector<tier::PinReport>> pinsFromJson(const nlohmann::json& j);
Result<tier::StageReport> stageReportFromJson(const nlohmann::json& j);
Result<std::vector<tier::StageReport>> stagesFromJson(const nlohmann::json& j);
// An error body: the code name (codeName()) and the message.
struct ErrorBody {
  std::string error;
  std::string message;
};
Result<ErrorBody> errorFromJson(const nlohmann::json& j);

}  // namespace ember::app
