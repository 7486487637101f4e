#pragma once
// emberctl's staging commands (stage, stage-status, stages, stage-cancel): see docs/operations.md.
// ctl.cc parses the command line and calls these.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace ember::ctl {

struct StageOptions {
  std::string target;               // BUCKET/PREFIX
  bool pin = false;
  std::optional<int64_t> ttlSeconds;
  std::optional<unsigned> parallel;
  uint64_t maxRate = 0;             // bytes/s, 0 = unlimited
  bool detach = false;              // print the job and return at once
  std::chrono::milliseconds poll{500};
};

// Each returns the exit status (ctl.h) and prints its errors to `err`.
int stageCommand(const std::string& base, const StageOptions& o, std::ostream& out,
                 std::ostream& err, bool tty, bool json);
// stage-status ID (--wait: follow it like `stage` does).
int stageStatusCommand(const std::string& base, const std::string& id, bool wait,
                       std::chrono::milliseconds poll, std::ostream& out, std::ostream& err,
                       bool tty, bool json);
int stagesCommand(const std::string& base, std::ostream& out, std::ostream& err, bool json);
int stageCancelCommand(const std::string& base, const std::string& id, std::ostream& out,
                       std::ostream& err, bool json);

}  // namespace ember::ctl
