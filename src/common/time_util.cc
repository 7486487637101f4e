#include "common/time_util.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace ember {

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t nowSeconds() { return nowMillis() / 1000; }

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::tm utc(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

int monthIndex(std::string_view m) {
  for (int i = 0; i < 12; ++i) {
    if (m == kMonths[i]) {
      return i;
    }
  }
  return -1;
}

}  // namespace

std::string formatHttpDate(int64_t ms) {
  std::tm tm = utc(ms);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday],
                     tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

std::string formatIso8601(int64_t ms) {
  std::tm tm = utc(ms);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(ms % 1000));
}

std::optional<int64_t> parseHttpDate(std::string_view s) {
  std::string str(s);
  char wday[16] = {};
  char mon[4] = {};
  int day = 0;
  int year = 0;
  int hh = 0;
  int mm = 0;
  int ss = 0;
  std::tm tm{};
  bool ok = false;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (std::sscanf(str.c_str(), "%3s, %d %3s %d %d:%d:%d GMT", wday, &day, mon, &year, &hh, &mm,
                  &ss) == 7) {
    ok = true;
  } else if (std::sscanf(str.c_str(), "%15[A-Za-z], %d-%3s-%d %d:%d:%d GMT", wday, &day, mon,
                         &year, &hh, &mm, &ss) == 7) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    year += year < 70 ? 2000 : (year < 100 ? 1900 : 0);
    ok = true;
  } else if (std::sscanf(str.c_str(), "%3s %3s %d %d:%d:%d %d", wday, mon, &day, &hh, &mm, &ss,
                         &year) == 7) {
    // asctime: "Sun Nov  6 08:49:37 1994"
    ok = true;
  }
  if (!ok) {
    return std::nullopt;
  }
  int m = monthIndex(mon);
  if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = m;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace ember
