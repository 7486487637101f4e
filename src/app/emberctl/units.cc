#include "app/emberctl/units.h"

#include <algorithm>
#include <ostream>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <system_error>

namespace ember::ctl {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Reads "123", "1.5" or ".5" at the front of `s` (no sign, no exponent) and advances past it.
bool readNumber(std::string_view& s, double& out) {
  size_t i = 0;
  size_t digits = 0;
  while (i < s.size() && isDigit(s[i])) {
    ++i;
    ++digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isDigit(s[i])) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) {
    return false;
  }
  out = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  s.remove_prefix(i);
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  const std::string_view whole = text;
  if (text.empty()) {
    return unexpected(Code::kInvalidArgument, "empty duration");
  }
  if (text == "0") {
    return std::chrono::milliseconds(0);
  }
  if (text.front() == '-') {
    return unexpected(Code::kInvalidArgument, "negative duration " + quoted(whole));
  }
  constexpr double kMaxMs = 100.0 * 365 * 24 * 3600 * 1000;
  double totalMs = 0;
  while (!text.empty()) {
    double n = 0;
    if (!readNumber(text, n)) {
      return unexpected(Code::kInvalidArgument,
                        "bad duration " + quoted(whole) + ": expected a number like 90s, 30m, "
                                                          "72h or 1h30m");
    }
    size_t len = 0;
    while (len < text.size() && isAlpha(text[len])) {
      ++len;
    }
    std::string unit = lower(text.substr(0, len));
    text.remove_prefix(len);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else {
      return unexpected(Code::kInvalidArgument,
                        "bad duration " + quoted(whole) +
                            (unit.empty() ? std::string(": a number needs a unit")
                                          : ": unknown unit " + quoted(unit)) +
                            " (ms, s, m, h, d)");
    }
    totalMs += n * scale;
    if (totalMs > kMaxMs) {
      return unexpected(Code::kInvalidArgument, "duration " + quoted(whole) + " is too long");
    }
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(totalMs)));
}

Result<uint64_t> parseBytes(std::string_view text) {
  const std::string_view whole = text;
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  if (!text.empty() && text.front() == '-') {
    return unexpected(Code::kInvalidArgument, "negative size " + quoted(whole));
  }
  const std::string_view number = text;
  double n = 0;
  if (!readNumber(text, n)) {
    return unexpected(Code::kInvalidArgument,
                      "bad size " + quoted(whole) + ": expected a number like 512MiB or 2GB");
  }
  const std::string_view digits = number.substr(0, number.size() - text.size());
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  std::string unit = lower(text);
  uint64_t scale = 0;
  static constexpr struct {
    const char* name;
    uint64_t scale;
  } kUnits[] = {
      {"", 1},
      {"b", 1},
      {"k", 1'000},
      {"kb", 1'000},
      {"kib", 1ULL << 10},
      {"m", 1'000'000},
      {"mb", 1'000'000},
      {"mib", 1ULL << 20},
      {"g", 1'000'000'000},
      {"gb", 1'000'000'000},
      {"gib", 1ULL << 30},
      {"t", 1'000'000'000'000},
      {"tb", 1'000'000'000'000},
      {"tib", 1ULL << 40},
      {"p", 1'000'000'000'000'000},
      {"pb", 1'000'000'000'000'000},
      {"pib", 1ULL << 50},
  };
  for (const auto& u : kUnits) {
    if (unit == u.name) {
      scale = u.scale;
      break;
    }
  }
  if (scale == 0) {
    return unexpected(Code::kInvalidArgument,
                      "bad size " + quoted(whole) + ": unknown unit " + quoted(text) +
                          " (B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB)");
  }
  const std::string tooLarge = "size " + quoted(whole) + " is too large";
  if (digits.find('.') == std::string_view::npos) {
    // A whole number: exact, whatever its size.
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || v > UINT64_MAX / scale) {
      return unexpected(Code::kInvalidArgument, tooLarge);
    }
    return v * scale;
  }
  double bytes = std::round(n * static_cast<double>(scale));
  if (bytes >= 18446744073709551616.0) {  // 2^64
    return unexpected(Code::kInvalidArgument, tooLarge);
  }
  return static_cast<uint64_t>(bytes);
}

Result<uint64_t> parseByteRate(std::string_view text) {
  std::string_view size = text;
  while (!size.empty() && size.back() == ' ') {
    size.remove_suffix(1);
  }
  if (size.size() < 2 || (size.substr(size.size() - 2) != "/s" &&
                          size.substr(size.size() - 2) != "/S")) {
    return unexpected(Code::kInvalidArgument,
                      "bad rate " + quoted(text) + ": expected bytes per second, like 2GB/s");
  }
  size.remove_suffix(2);
  auto bytes = parseBytes(size);
  if (!bytes) {
    return unexpected(Code::kInvalidArgument,
                      "bad rate " + quoted(text) + ": " + bytes.error().message());
  }
  if (*bytes == 0) {
    return unexpected(Code::kInvalidArgument, "rate " + quoted(text) + " is zero");
  }
  return *bytes;
}

std::string formatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  double v = static_cast<double>(bytes) / 1024;
  size_t i = 0;
  while (v >= 1023.95 && i + 1 < std::size(kUnits)) {
    v /= 1024;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[i]);
  return buf;
}

std::string formatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms < 0) {
    ms = 0;
  }
  if (ms < 1000) {
    return ms == 0 ? "0s" : std::to_string(ms) + "ms";
  }
  int64_t s = ms / 1000;
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

void printTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) {
    return;
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size() && i < width.size()) {
        line.append(width[i] - r[i].size() + 2, ' ');
      }
    }
    out << line << "\n";
  }
}

}  // namespace ember::ctl
