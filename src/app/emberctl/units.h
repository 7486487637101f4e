#pragma once
// The quantities emberctl reads and prints: durations ("90s", "1h30m"), byte sizes ("2GB",
// "512MiB") and byte rates ("2GB/s"). Plain functions, no I/O.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>
#include <string_view>

#include "common/status.h"

namespace ember::ctl {

// A duration as one or more <number><unit> parts, largest unit first or not ("1h30m", "90s",
// "1.5h", "250ms"). Units: ms, s, m, h, d. Numbers may have a decimal fraction. "0" alone is
// zero; any other number needs a unit. Errors: kInvalidArgument saying what is wrong (an empty
// string, a missing or unknown unit, a negative value, more than 100 years).
Result<std::chrono::milliseconds> parseDuration(std::string_view text);

// A byte count: a number (decimal fraction allowed) and an optional unit, case-insensitive, with
// or without a space: B; kB, MB, GB, TB, PB (powers of 1000); KiB, MiB, GiB, TiB, PiB (powers of
// 1024); K, M, G, T, P alone are the decimal units. Errors: kInvalidArgument (unknown unit, a
// negative value, more than 2^64-1 bytes).
Result<uint64_t> parseBytes(std::string_view text);

// A byte rate in bytes per second: a size as parseBytes() reads it followed by "/s" ("2GB/s",
// "500 MiB/s"). Errors: kInvalidArgument (no "/s", or parseBytes()'s, or zero).
Result<uint64_t> parseByteRate(std::string_view text);

// "0 B", "999 B", "1.0 KiB", "12.3 MiB", "1.5 GiB" (powers of 1024, one decimal).
std::string formatBytes(uint64_t bytes);
// Writes `rows` (the first is the header) as left-aligned columns two spaces apart.
void printTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// A duration as the largest two units: "0s", "850ms", "42s", "3m12s", "1h05m", "2d03h".
std::string formatDuration(std::chrono::milliseconds d);

}  // namespace ember::ctl
