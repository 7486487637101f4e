#pragma once
// Feeding a byte stream to RequestParser the way a connection does, shared by the parser's unit tests
// (protocol_test.cc) and its fuzz target (tests/fuzz/fuzz_resp.cc). No gtest here: the fuzz target has none.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resp/protocol.h"

namespace ember::resp::testing {

using Command = std::vector<std::string>;

// What a connection sees after feeding a stream: the commands, then how the last parse() ended.
struct Outcome {
  std::vector<Command> commands;
  RequestParser::State last = RequestParser::State::kIncomplete;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

// The default for feed()'s inspect: looks at nothing.
struct NoInspection {
  void operator()(RequestParser&, RequestParser::State, std::string_view) const {}
};

// Feeds `input` in pieces ending at each offset of `cuts` (then the rest), as a server loop does: append,
// parse until kIncomplete or kError, drop consumed() bytes after each command. Cuts must not go down (one
// below the previous is taken as the previous). After every parse() call, inspect(parser, state, buffer)
// sees the parser, what the call returned and the buffer it parsed, before anything is dropped from it; it
// may call parse() again on that buffer only once the state is kError (a failed parser stays failed).
template <typename Inspect = NoInspection>
Outcome feed(std::string_view input, const std::vector<size_t>& cuts = {}, const Limits& limits = {},
             Inspect inspect = {}) {
  using State = RequestParser::State;
  RequestParser parser(limits);
  Outcome out;
  std::string buf;
  size_t given = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    if (end < given) {
      end = given;
    }
    buf.append(input.substr(given, end - given));
    given = end;
    for (;;) {
      State s = parser.parse(buf);
      out.last = s;
      inspect(parser, s, std::string_view(buf));
      if (s == State::kComplete) {
        Command cmd;
        for (std::string_view a : parser.args()) {
          cmd.emplace_back(a);
        }
        out.commands.push_back(std::move(cmd));
        buf.erase(0, parser.consumed());
        continue;
      }
      if (s == State::kError) {
        out.error = std::string(parser.error());
        return out;
      }
      break;
    }
  }
  return out;
}

}  // namespace ember::resp::testing
