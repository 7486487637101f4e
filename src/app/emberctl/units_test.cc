// emberctl's quantity parsers and formatters.

#include <gtest/gtest.h>

#include "app/emberctl/units.h"

namespace ember::ctl {
namespace {

using std::chrono::milliseconds;

milliseconds dur(const char* s) {
  auto r = parseDuration(s);
  EXPECT_TRUE(r.has_value()) << s << ": " << (r ? "" : r.error().toString());
  return r.value_or(milliseconds(-1));
}

std::string durError(const char* s) {
  auto r = parseDuration(s);
  EXPECT_FALSE(r.has_value()) << s;
  return r ? std::string() : r.error().message();
}

TEST(ParseDuration, UnitsAndCombinations) {
  EXPECT_EQ(dur("0"), milliseconds(0));
  EXPECT_EQ(dur("90s"), milliseconds(90'000));
  EXPECT_EQ(dur("30m"), milliseconds(1'800'000));
  EXPECT_EQ(dur("72h"), milliseconds(259'200'000));
  EXPECT_EQ(dur("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(dur("1h30m15s"), milliseconds(5'415'000));
  EXPECT_EQ(dur("250ms"), milliseconds(250));
  EXPECT_EQ(dur("2d"), milliseconds(172'800'000));
  EXPECT_EQ(dur("1.5h"), milliseconds(5'400'000));
  EXPECT_EQ(dur(".5s"), milliseconds(500));
  EXPECT_EQ(dur("0s"), milliseconds(0));
  EXPECT_EQ(dur("1H"), milliseconds(3'600'000));
  EXPECT_EQ(dur("30s1m"), milliseconds(90'000));  // order is not enforced
}

TEST(ParseDuration, Refusals) {
  EXPECT_NE(durError("").find("empty"), std::string::npos);
  EXPECT_NE(durError("90").find("needs a unit"), std::string::npos);
  EXPECT_NE(durError("10y").find("unknown unit \"y\""), std::string::npos);
  EXPECT_NE(durError("-5s").find("negative"), std::string::npos);
  EXPECT_NE(durError("1h 30m").find("bad duration"), std::string::npos);
  EXPECT_NE(durError("h").find("bad duration"), std::string::npos);
  EXPECT_NE(durError("1.s2").find("needs a unit"), std::string::npos);
  EXPECT_NE(durError("999999d").find("too long"), std::string::npos);
  durError("1e3s");
  durError("s5");
}

TEST(ParseBytes, UnitsAreDecimalOrBinary) {
  EXPECT_EQ(parseBytes("0").value(), 0u);
  EXPECT_EQ(parseBytes("123").value(), 123u);
  EXPECT_EQ(parseBytes("123B").value(), 123u);
  EXPECT_EQ(parseBytes("2GB").value(), 2'000'000'000u);
  EXPECT_EQ(parseBytes("2gb").value(), 2'000'000'000u);
  EXPECT_EQ(parseBytes("2G").value(), 2'000'000'000u);
  EXPECT_EQ(parseBytes("512MiB").value(), 512u << 20);
  EXPECT_EQ(parseBytes("1.5KiB").value(), 1536u);
  EXPECT_EQ(parseBytes("1 TiB").value(), 1ULL << 40);
  EXPECT_EQ(parseBytes("3kB").value(), 3000u);
  EXPECT_EQ(parseBytes("1PB").value(), 1'000'000'000'000'000u);
  EXPECT_EQ(parseBytes("16383PiB").value(), 16383ULL << 50);
  EXPECT_EQ(parseBytes("18446744073709551615").value(), UINT64_MAX);  // exact, not via double
  EXPECT_EQ(parseBytes("9007199254740993 B").value(), 9007199254740993ULL);
}

TEST(ParseBytes, Refusals) {
  EXPECT_FALSE(parseBytes("").has_value());
  EXPECT_FALSE(parseBytes("GB").has_value());
  EXPECT_FALSE(parseBytes("-1GB").has_value());
  EXPECT_FALSE(parseBytes("2XB").has_value());
  EXPECT_FALSE(parseBytes("2 G B").has_value());
  EXPECT_FALSE(parseBytes("16384PiB").has_value());  // 2^64
  EXPECT_FALSE(parseBytes("18446744073709551616").has_value());
  EXPECT_FALSE(parseBytes("18446744073709551615.5").has_value());
  EXPECT_NE(parseBytes("2XB").error().message().find("unknown unit"), std::string::npos);
}

TEST(ParseByteRate, BytesPerSecond) {
  EXPECT_EQ(parseByteRate("2GB/s").value(), 2'000'000'000u);
  EXPECT_EQ(parseByteRate("500 MiB/s").value(), 500u << 20);
  EXPECT_EQ(parseByteRate("100MB/S").value(), 100'000'000u);
  EXPECT_EQ(parseByteRate("1024/s").value(), 1024u);
  EXPECT_FALSE(parseByteRate("2GB").has_value());
  EXPECT_FALSE(parseByteRate("/s").has_value());
  EXPECT_FALSE(parseByteRate("0GB/s").has_value());
  EXPECT_FALSE(parseByteRate("2GB/m").has_value());
  EXPECT_NE(parseByteRate("2GB").error().message().find("like 2GB/s"), std::string::npos);
}

TEST(FormatBytes, IecWithOneDecimal) {
  EXPECT_EQ(formatBytes(0), "0 B");
  EXPECT_EQ(formatBytes(1023), "1023 B");
  EXPECT_EQ(formatBytes(1024), "1.0 KiB");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes((1ULL << 20) - 1), "1.0 MiB");
  EXPECT_EQ(formatBytes(3ULL << 30), "3.0 GiB");
  EXPECT_EQ(formatBytes(UINT64_MAX), "16.0 EiB");
}

TEST(FormatDuration, LargestTwoUnits) {
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(formatDuration(milliseconds(-5)), "0s");
  EXPECT_EQ(formatDuration(milliseconds(850)), "850ms");
  EXPECT_EQ(formatDuration(milliseconds(42'900)), "42s");
  EXPECT_EQ(formatDuration(milliseconds(192'000)), "3m12s");
  EXPECT_EQ(formatDuration(milliseconds(3'900'000)), "1h05m");
  EXPECT_EQ(formatDuration(milliseconds(183'600'000)), "2d03h");
}

}  // namespace
}  // namespace ember::ctl
