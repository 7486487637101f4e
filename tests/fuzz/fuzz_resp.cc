// libFuzzer target for the RESP request parser and reply writer (src/resp/protocol.h).
//
// Input: a selector byte (bit 0: tiny Limits so every limit is reachable; bits 1-3: how many split points
// follow), one byte per split point, then the byte stream a client sends. Checks:
//  - memory safety and bounded state on any stream;
//  - the stream parsed in one piece and parsed in pieces (as a socket delivers it) yields the same commands
//    and ends the same way (incomplete, or the same error);
//  - every command re-encoded with ReplyWriter (an array of bulks is a request) parses back to itself;
//  - formatDouble round-trips the stream's first 8 bytes read as a double.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "resp/protocol.h"
#include "resp/protocol_test_util.h"

namespace ember::resp {
namespace {

using State = RequestParser::State;
using testing::Outcome;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// feed() with the parser's contract checked after every parse() call.
Outcome feed(std::string_view input, const std::vector<size_t>& cuts, const Limits& limits) {
  return testing::feed(input, cuts, limits, [&limits](RequestParser& parser, State s, std::string_view buf) {
    if (s == State::kComplete) {
      check(parser.consumed() > 0 && parser.consumed() <= buf.size());
      // maxArgs bounds "*<n>"; an inline command's words are bounded by its line's length.
      check(!parser.args().empty() && parser.args().size() <= std::max(limits.maxArgs, limits.maxInlineBytes));
      for (std::string_view a : parser.args()) {
        check(a.size() <= limits.maxBulkBytes || a.size() <= limits.maxInlineBytes);
      }
    } else if (s == State::kError) {
      check(!parser.error().empty() && parser.error().substr(0, 20) == "ERR Protocol error: ");
      check(parser.parse(buf) == State::kError);  // stays failed
    } else {
      check(parser.needed() == 0 || parser.needed() > buf.size());
    }
  });
}

void roundTrip(const std::vector<std::string>& cmd) {
  std::string wire;
  ReplyWriter w(wire);
  w.array(cmd.size());
  for (const std::string& a : cmd) {
    w.bulk(a);
  }
  RequestParser parser;
  check(parser.parse(wire) == State::kComplete);
  check(parser.consumed() == wire.size() && parser.args().size() == cmd.size());
  for (size_t i = 0; i < cmd.size(); ++i) {
    check(parser.args()[i] == cmd[i]);
  }
}

}  // namespace
}  // namespace ember::resp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ember::resp;
  if (size == 0) {
    return 0;
  }
  uint8_t selector = data[0];
  size_t pos = 1;
  Limits limits;
  if (selector & 1) {
    limits.maxBulkBytes = 40;
    limits.maxArgs = 6;
    limits.maxInlineBytes = 24;
    limits.maxCommandBytes = 160;
  }
  size_t cutCount = (selector >> 1) & 7;
  std::vector<uint8_t> steps;
  for (size_t i = 0; i < cutCount && pos < size; ++i) {
    steps.push_back(data[pos++]);
  }
  std::string_view stream(reinterpret_cast<const char*>(data + pos), size - pos);
  std::vector<size_t> cuts;
  size_t at = 0;
  for (uint8_t step : steps) {
    at += step;
    cuts.push_back(std::min(at, stream.size()));
  }

  Outcome whole = feed(stream, {}, limits);
  std::vector<size_t> everyByte;
  if (stream.size() <= 512) {
    for (size_t i = 1; i < stream.size(); ++i) {
      everyByte.push_back(i);
    }
  }
  check(feed(stream, cuts, limits) == whole);
  check(feed(stream, everyByte, limits) == whole);
  for (const auto& cmd : whole.commands) {
    roundTrip(cmd);
  }

  if (stream.size() >= 8) {
    double v;
    std::memcpy(&v, stream.data(), sizeof v);
    std::string s = formatDouble(v);
    if (std::isnan(v)) {
      check(s == "nan");
    } else {
      double back = std::strtod(s.c_str(), nullptr);
      check(back == v);
    }
    std::string out;
    ReplyWriter w(out, 3);
    w.dbl(v);
    check(out == "," + s + "\r\n");
  }
  return 0;
}
