#pragma once
// emberctl's command line: parsing, the subcommands (flush, status, tier) and their output. main.cc
// only calls runEmberctl(); the tests call it too, with string streams.

#include <iosfwd>

namespace ember::ctl {

// Exit statuses (also in `emberctl --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // the server answered an error, or cannot be reached
inline constexpr int kExitUsage = 2;     // bad command line
inline constexpr int kExitTimeout = 3;   // flush --wait: the timeout passed first
inline constexpr int kExitPending = 4;   // flush without --wait: writes still pending
inline constexpr int kExitPartial = 5;   // stage: the job finished with failed objects

// Runs one emberctl command line. `tty`: `out` is a terminal (flush --wait then redraws one
// progress line in place). Reads EMBER_ADMIN from the environment.
int runEmberctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err, bool tty);

}  // namespace ember::ctl
