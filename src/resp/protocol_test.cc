#include "resp/protocol.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "resp/protocol_test_util.h"

namespace ember::resp {

struct RequestParserProbe {
  static uint64_t scanned(const RequestParser& p) { return p.bytesScanned_; }
};

namespace {

using State = RequestParser::State;
using testing::Command;
using testing::feed;
using testing::Outcome;

std::string multibulk(const Command& cmd) {
  std::string s = "*" + std::to_string(cmd.size()) + "\r\n";
  for (const std::string& a : cmd) {
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  }
  return s;
}

// The error a whole input ends with, parsed in one piece.
std::string errorOf(std::string_view input, Limits limits = {}) {
  Outcome o = feed(input, {}, limits);
  EXPECT_EQ(o.last, State::kError) << input.substr(0, 80);
  return o.error;
}

TEST(RequestParser, ParsesOneMultibulkCommand) {
  RequestParser p;
  std::string in = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
  ASSERT_EQ(p.parse(in), State::kComplete);
  ASSERT_EQ(p.args().size(), 3u);
  EXPECT_EQ(p.args()[0], "SET");
  EXPECT_EQ(p.args()[1], "k");
  EXPECT_EQ(p.args()[2], "hello");
  EXPECT_EQ(p.consumed(), in.size());
  // Arguments are views into the caller's buffer, not copies.
  EXPECT_EQ(p.args()[2].data(), in.data() + in.size() - 7);
}

TEST(RequestParser, PipelinedCommandsInOneBuffer) {
  std::string in = multibulk({"SET", "a", "1"}) + multibulk({"GET", "a"}) + "PING\r\n" + multibulk({"DEL", "a"});
  RequestParser p;
  std::string_view rest = in;
  std::vector<Command> got;
  while (p.parse(rest) == State::kComplete) {
    got.emplace_back(p.args().begin(), p.args().end());
    rest.remove_prefix(p.consumed());
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(got, (std::vector<Command>{{"SET", "a", "1"}, {"GET", "a"}, {"PING"}, {"DEL", "a"}}));
}

TEST(RequestParser, EmptyLinesAndEmptyArraysAreSkipped) {
  RequestParser p;
  std::string in = "\r\n\n   \r\n*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n";
  ASSERT_EQ(p.parse(in), State::kComplete);
  EXPECT_EQ(p.args().size(), 1u);
  EXPECT_EQ(p.args()[0], "PING");
  EXPECT_EQ(p.consumed(), in.size());

  RequestParser q;
  EXPECT_EQ(q.parse("*0\r\n\r\n"), State::kIncomplete);
  EXPECT_EQ(q.parse("*0\r\n\r\nECHO x\r\n"), State::kComplete);
  EXPECT_EQ(q.consumed(), 14u);
  EXPECT_EQ(std::vector<std::string_view>(q.args().begin(), q.args().end()),
            (std::vector<std::string_view>{"ECHO", "x"}));
}

TEST(RequestParser, SplitAtEveryBytePositionGivesTheSameCommands) {
  std::string in = multibulk({"SET", "key:1", std::string("a\r\nb\0c", 6)}) + "\r\n" + "*0\r\n" +
                   "GET 'quoted key' \"x\\ty\"\r\n" + multibulk({"MGET", "a", "", "ccc"}) + "*-1\r\n" +
                   "PING\n" + multibulk({std::string(300, 'v')});
  Outcome whole = feed(in);
  ASSERT_EQ(whole.last, State::kIncomplete);
  ASSERT_EQ(whole.commands.size(), 5u);
  EXPECT_EQ(whole.commands[0][2], std::string("a\r\nb\0c", 6));
  EXPECT_EQ(whole.commands[1], (Command{"GET", "quoted key", "x\ty"}));
  EXPECT_EQ(whole.commands[2], (Command{"MGET", "a", "", "ccc"}));
  EXPECT_EQ(whole.commands[3], (Command{"PING"}));
  EXPECT_EQ(whole.commands[4], (Command{std::string(300, 'v')}));
  for (size_t i = 0; i <= in.size(); ++i) {
    ASSERT_EQ(feed(in, {i}), whole) << "cut at " << i;
  }
  // Two cuts, and one byte at a time.
  for (size_t i = 0; i <= in.size(); i += 3) {
    for (size_t j = i; j <= in.size(); j += 5) {
      ASSERT_EQ(feed(in, {i, j}), whole) << "cuts at " << i << ", " << j;
    }
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < in.size(); ++i) {
    every.push_back(i);
  }
  EXPECT_EQ(feed(in, every), whole);
}

TEST(RequestParser, RandomCommandsWithRandomSplits) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<Command> cmds;
    std::string in;
    int n = 1 + static_cast<int>(rng() % 6);
    for (int c = 0; c < n; ++c) {
      Command cmd;
      int argc = 1 + static_cast<int>(rng() % 4);
      for (int a = 0; a < argc; ++a) {
        std::string arg(rng() % 40, '\0');
        for (char& ch : arg) {
          ch = static_cast<char>(rng() % 256);
        }
        cmd.push_back(arg);
      }
      in += multibulk(cmd);
      cmds.push_back(cmd);
    }
    std::vector<size_t> cuts;
    for (size_t at = rng() % 8; at < in.size(); at += 1 + rng() % 16) {
      cuts.push_back(at);
    }
    Outcome o = feed(in, cuts);
    ASSERT_EQ(o.last, State::kIncomplete);
    ASSERT_EQ(o.commands, cmds) << "round " << round;
  }
}

TEST(RequestParser, BinarySafeBulks) {
  std::string value = std::string("\r\n\0$3\r\n*1\r\n", 12);
  std::string in = multibulk({"SET", "k", value});
  RequestParser p;
  ASSERT_EQ(p.parse(in), State::kComplete);
  EXPECT_EQ(p.args()[2], value);
  EXPECT_EQ(feed(in, {5, 20}).commands[0][2], value);
  // A zero-length bulk.
  EXPECT_EQ(feed("*2\r\n$0\r\n\r\n$0\r\n\r\n").commands, (std::vector<Command>{{"", ""}}));
}

TEST(RequestParser, NeededCoversAPartialBulk) {
  RequestParser p;
  std::string head = "*2\r\n$3\r\nGET\r\n$100000\r\n";
  std::string in = head + std::string(10, 'x');
  ASSERT_EQ(p.parse(in), State::kIncomplete);
  EXPECT_EQ(p.needed(), head.size() + 100000 + 2);
  in += std::string(100000 - 10, 'y');
  ASSERT_EQ(p.parse(in), State::kIncomplete);
  EXPECT_EQ(p.needed(), head.size() + 100002);
  in += "\r\n";
  ASSERT_EQ(p.parse(in), State::kComplete);
  EXPECT_EQ(p.needed(), 0u);
  EXPECT_EQ(p.args()[1].size(), 100000u);

  // Unknown while a length line is still arriving.
  RequestParser q;
  EXPECT_EQ(q.parse("*2\r\n$3\r\nGET\r\n$10"), State::kIncomplete);
  EXPECT_EQ(q.needed(), 0u);
  RequestParser r;
  EXPECT_EQ(r.parse("PIN"), State::kIncomplete);
  EXPECT_EQ(r.needed(), 0u);
}

TEST(RequestParser, ResumesAfterTheBufferMoves) {
  RequestParser p;
  std::string in = "*2\r\n$3\r\nGET\r\n$5\r\nab";
  ASSERT_EQ(p.parse(in), State::kIncomplete);
  std::string moved = in + "cde\r\n";  // another allocation holding the same bytes and more
  in.assign(in.size(), '#');            // the old bytes are gone
  ASSERT_EQ(p.parse(moved), State::kComplete);
  EXPECT_EQ(p.args()[0], "GET");
  EXPECT_EQ(p.args()[1], "abcde");
}

TEST(RequestParser, LargeValueOneByteAtATimeIsLinear) {
  std::string value(64 * 1024, 'z');
  std::string in = multibulk({"SET", "key", value});
  RequestParser p;
  std::string buf;
  size_t completes = 0;
  for (char c : in) {
    buf.push_back(c);
    State s = p.parse(buf);
    ASSERT_NE(s, State::kError);
    completes += s == State::kComplete;
  }
  ASSERT_EQ(completes, 1u);
  EXPECT_EQ(p.args()[2], value);
  // Every byte is looked at a bounded number of times (quadratic rescanning would be ~2^31).
  EXPECT_LE(RequestParserProbe::scanned(p), 4 * in.size());

  // A long inline line too.
  std::string line = "SET k " + std::string(60 * 1024, 'w') + "\r\n";
  RequestParser q;
  buf.clear();
  completes = 0;
  for (char c : line) {
    buf.push_back(c);
    completes += q.parse(buf) == State::kComplete;
  }
  ASSERT_EQ(completes, 1u);
  EXPECT_EQ(q.args()[2].size(), 60 * 1024u);
  EXPECT_LE(RequestParserProbe::scanned(q), 4 * line.size());
}

TEST(RequestParser, MultibulkLengthErrors) {
  const std::string msg = "ERR Protocol error: invalid multibulk length";
  EXPECT_EQ(errorOf("*abc\r\n"), msg);
  EXPECT_EQ(errorOf("*\r\n"), msg);
  EXPECT_EQ(errorOf("*+1\r\n"), msg);
  EXPECT_EQ(errorOf("*01\r\n"), msg);
  EXPECT_EQ(errorOf("*-0\r\n"), msg);
  EXPECT_EQ(errorOf("*1 \r\n"), msg);
  EXPECT_EQ(errorOf("*2147483648\r\n"), msg);
  EXPECT_EQ(errorOf("*99999999999999999999\r\n"), msg);
  EXPECT_EQ(errorOf("*1\rX"), msg);  // CR not followed by LF
  Limits small;
  small.maxArgs = 2;
  EXPECT_EQ(errorOf("*3\r\n", small), msg);
  EXPECT_EQ(feed(multibulk({"a", "b"}), {}, small).commands.size(), 1u);
}

TEST(RequestParser, BulkLengthErrors) {
  const std::string msg = "ERR Protocol error: invalid bulk length";
  EXPECT_EQ(errorOf("*1\r\n$-1\r\n"), msg);
  EXPECT_EQ(errorOf("*1\r\n$abc\r\n"), msg);
  EXPECT_EQ(errorOf("*1\r\n$\r\n"), msg);
  EXPECT_EQ(errorOf("*1\r\n$03\r\nabc\r\n"), msg);
  EXPECT_EQ(errorOf("*1\r\n$3\rXabc\r\n"), msg);
  EXPECT_EQ(errorOf("*1\r\n$9223372036854775808\r\n"), msg);
  EXPECT_EQ(errorOf("*1\r\n$8388609\r\n"), msg);  // over the default 8 MiB
  EXPECT_EQ(errorOf("*1\r\n$999999999999999999\r\n"), msg);   // 18 digits
  EXPECT_EQ(errorOf("*1\r\n$1000000000000000000\r\n"), msg);  // 19 digits
  EXPECT_EQ(errorOf("*1\r\n$9223372036854775807\r\n"), msg);  // INT64_MAX
  Limits small;
  small.maxBulkBytes = 4;
  EXPECT_EQ(errorOf("*1\r\n$5\r\n", small), msg);
  EXPECT_EQ(feed("*1\r\n$4\r\nabcd\r\n", {}, small).commands.size(), 1u);
}

TEST(RequestParser, ExpectedDollar) {
  EXPECT_EQ(errorOf("*1\r\nx3\r\nabc\r\n"), "ERR Protocol error: expected '$', got 'x'");
  EXPECT_EQ(errorOf("*2\r\n$1\r\na\r\n:1\r\n"), "ERR Protocol error: expected '$', got ':'");
  // A line break where the '$' should be is quoted as a space, as Redis sanitizes error replies.
  EXPECT_EQ(errorOf("*1\r\n\r\n"), "ERR Protocol error: expected '$', got ' '");
}

TEST(RequestParser, BulkMustEndWithCrlf) {
  const std::string msg = "ERR Protocol error: bulk not followed by CRLF";
  EXPECT_EQ(errorOf("*1\r\n$3\r\nabcXY"), msg);
  EXPECT_EQ(errorOf("*1\r\n$3\r\nabc\rX"), msg);
  EXPECT_EQ(errorOf("*1\r\n$3\r\nabc\n\r"), msg);
  // Not decided before both bytes arrived.
  RequestParser p;
  EXPECT_EQ(p.parse("*1\r\n$3\r\nabc\r"), State::kIncomplete);
}

TEST(RequestParser, TooBigLengthLines) {
  EXPECT_EQ(errorOf("*" + std::string(70000, '1')), "ERR Protocol error: too big mbulk count string");
  EXPECT_EQ(errorOf("*1\r\n$" + std::string(70000, '1')), "ERR Protocol error: too big bulk count string");
  // Decided by the line's length whether or not its CR has arrived.
  EXPECT_EQ(errorOf("*" + std::string(70000, '1') + "\r\n"), "ERR Protocol error: too big mbulk count string");
  Limits small;
  small.maxInlineBytes = 8;
  EXPECT_EQ(errorOf("*1\r\n$000000000", small), "ERR Protocol error: too big bulk count string");
  RequestParser p(small);
  EXPECT_EQ(p.parse("*1\r\n$0000000"), State::kIncomplete);  // 8 bytes: could still end
  // Whole well-formed lines over the limit are refused too, however they arrived.
  EXPECT_EQ(errorOf("*1\r\n$12345678\r\n", small), "ERR Protocol error: too big bulk count string");
  EXPECT_EQ(errorOf("*12345678\r\n", small), "ERR Protocol error: too big mbulk count string");
  EXPECT_EQ(feed("*1\r\n$1234567\r\n", {}, small).last, State::kIncomplete);
}

TEST(RequestParser, TooBigInlineRequest) {
  const std::string msg = "ERR Protocol error: too big inline request";
  EXPECT_EQ(errorOf(std::string(64 * 1024 + 2, 'a')), msg);
  EXPECT_EQ(errorOf(std::string(64 * 1024 + 1, 'a') + "\r\n"), msg);
  Outcome atLimit = feed(std::string(64 * 1024, 'a') + "\r\n");
  EXPECT_EQ(atLimit.commands.size(), 1u);
  Limits small;
  small.maxInlineBytes = 4;
  EXPECT_EQ(feed("ab c\r\n", {}, small).commands, (std::vector<Command>{{"ab", "c"}}));
  // Four bytes and a CR may still be a line that fits; any other fifth byte may not.
  EXPECT_EQ(feed("ab c\r", {}, small).last, State::kIncomplete);
  EXPECT_EQ(errorOf("ab cd", small), msg);
  EXPECT_EQ(errorOf("ab cd\n", small), msg);
}

TEST(RequestParser, TooBigRequest) {
  Limits small;
  small.maxCommandBytes = 100;
  const std::string msg = "ERR Protocol error: too big request";
  EXPECT_EQ(errorOf(multibulk({std::string(50, 'a'), std::string(50, 'b')}), small), msg);
  EXPECT_EQ(feed(multibulk({std::string(40, 'a'), std::string(40, 'b')}), {}, small).commands.size(), 1u);
  // Skipped empty lines count while no command has completed.
  EXPECT_EQ(errorOf(std::string(120, '\n'), small), msg);
}

TEST(RequestParser, StaysFailedAfterAnError) {
  RequestParser p;
  EXPECT_EQ(p.parse("*x\r\n"), State::kError);
  EXPECT_EQ(p.parse("PING\r\n"), State::kError);
  EXPECT_EQ(p.error(), "ERR Protocol error: invalid multibulk length");
}

TEST(RequestParser, InlineCommands) {
  auto one = [](std::string_view in) {
    Outcome o = feed(in);
    EXPECT_EQ(o.commands.size(), 1u) << in;
    return o.commands.empty() ? Command{} : o.commands[0];
  };
  EXPECT_EQ(one("PING\r\n"), (Command{"PING"}));
  EXPECT_EQ(one("PING\n"), (Command{"PING"}));
  EXPECT_EQ(one("  set\t a   b  \r\n"), (Command{"set", "a", "b"}));
  EXPECT_EQ(one("a\rb\r\n"), (Command{"a", "b"}));
  EXPECT_EQ(one("SET \"a b\" 'c d'\r\n"), (Command{"SET", "a b", "c d"}));
  EXPECT_EQ(one("\"\\x41\\x4a\\x7e\\n\\r\\t\\b\\a\\\\\\\"\"\r\n"), (Command{"AJ~\n\r\t\b\a\\\""}));
  EXPECT_EQ(one("\"\\xZZ\\q\"\r\n"), (Command{"xZZq"}));
  EXPECT_EQ(one("'it\\'s' 'a\\nb'\r\n"), (Command{"it's", "a\\nb"}));
  EXPECT_EQ(one("\"\" ''\r\n"), (Command{"", ""}));
  EXPECT_EQ(one("foo\"bar baz\"\r\n"), (Command{"foobar baz"}));
  EXPECT_EQ(one("a\"\"\r\n"), (Command{"a"}));
  EXPECT_EQ(one("\"a\"\tb\r\n"), (Command{"a", "b"}));
  EXPECT_EQ(one("\"\\x00\"\r\n"), (Command{std::string(1, '\0')}));
  EXPECT_EQ(one("\va\r\n"), (Command{"a"}));  // vertical tab skipped between words
  EXPECT_EQ(one("a\vb\r\n"), (Command{"a\vb"}));  // but not a word separator
  RequestParser p;
  EXPECT_EQ(p.parse("GET k\r\nGET"), State::kComplete);
  EXPECT_EQ(p.consumed(), 7u);
}

TEST(RequestParser, UnbalancedQuotes) {
  const std::string msg = "ERR Protocol error: unbalanced quotes in request";
  EXPECT_EQ(errorOf("SET \"abc\r\n"), msg);
  EXPECT_EQ(errorOf("SET 'abc\r\n"), msg);
  EXPECT_EQ(errorOf("SET \"a\"b\r\n"), msg);
  EXPECT_EQ(errorOf("SET 'a'b\r\n"), msg);
  EXPECT_EQ(errorOf("SET \"abc\\\"\r\n"), msg);
  EXPECT_EQ(errorOf("SET \"abc\\\r\n"), msg);
}

// ---- ReplyWriter ----

std::string write(int proto, void (*fn)(ReplyWriter&)) {
  std::string out;
  ReplyWriter w(out, proto);
  fn(w);
  return out;
}

TEST(ReplyWriter, SameInBothProtocols) {
  for (int proto : {2, 3}) {
    SCOPED_TRACE(proto);
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.simple("PONG"); }), "+PONG\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.ok(); }), "+OK\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.simple("a\r\nb"); }), "+a  b\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.error("ERR bad\nthing"); }), "-ERR bad thing\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.error("WRONGTYPE x"); }), "-WRONGTYPE x\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.integer(0); }), ":0\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.integer(-42); }), ":-42\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.integer(INT64_MIN); }), ":-9223372036854775808\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.integer(INT64_MAX); }), ":9223372036854775807\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.bulk("foo"); }), "$3\r\nfoo\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.bulk(""); }), "$0\r\n\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.bulk(std::string_view("a\r\n\0", 4)); }),
              std::string("$4\r\na\r\n\0\r\n", 10));
    EXPECT_EQ(write(proto, [](ReplyWriter& w) { w.array(0); }), "*0\r\n");
    EXPECT_EQ(write(proto, [](ReplyWriter& w) {
                w.array(2);
                w.bulk("a");
                w.integer(1);
              }),
              "*2\r\n$1\r\na\r\n:1\r\n");
  }
}

TEST(ReplyWriter, Resp2Degradations) {
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.null(); }), "$-1\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.nullArray(); }), "*-1\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.map(2); }), "*4\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.set(3); }), "*3\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.push(3); }), "*3\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.dbl(1.5); }), "$3\r\n1.5\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.dbl(INFINITY); }), "$3\r\ninf\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.dbl(-INFINITY); }), "$4\r\n-inf\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.dbl(NAN); }), "$3\r\nnan\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.boolean(true); }), ":1\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.boolean(false); }), ":0\r\n");
  EXPECT_EQ(write(2, [](ReplyWriter& w) { w.verbatim("txt", "hi\r\n"); }), "$4\r\nhi\r\n\r\n");
}

TEST(ReplyWriter, Resp3Types) {
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.null(); }), "_\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.nullArray(); }), "_\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.map(2); }), "%2\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.set(3); }), "~3\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.push(3); }), ">3\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.dbl(1.5); }), ",1.5\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.dbl(-0.25); }), ",-0.25\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.dbl(INFINITY); }), ",inf\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.dbl(-INFINITY); }), ",-inf\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.dbl(NAN); }), ",nan\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.boolean(true); }), "#t\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.boolean(false); }), "#f\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.verbatim("txt", "hi\r\n"); }), "=8\r\ntxt:hi\r\n\r\n");
  EXPECT_EQ(write(3, [](ReplyWriter& w) { w.verbatim("mkd", ""); }), "=4\r\nmkd:\r\n");
}

TEST(ReplyWriter, AppendsAndSwitchesProtocol) {
  std::string out = "+x\r\n";
  ReplyWriter w(out);
  EXPECT_EQ(w.proto(), 2);
  w.null();
  w.setProto(3);
  EXPECT_EQ(w.proto(), 3);
  w.null();
  EXPECT_EQ(&w.buffer(), &out);
  EXPECT_EQ(out, "+x\r\n$-1\r\n_\r\n");
}

TEST(FormatDouble, RedisStyle) {
  EXPECT_EQ(formatDouble(10.6), "10.6");
  EXPECT_EQ(formatDouble(10.5 + 0.1), "10.6");
  EXPECT_EQ(formatDouble(5000), "5000");
  EXPECT_EQ(formatDouble(3.0e3), "3000");
  EXPECT_EQ(formatDouble(-2.5), "-2.5");
  EXPECT_EQ(formatDouble(0), "0");
  EXPECT_EQ(formatDouble(-0.0), "0");  // Redis's INCRBYFLOAT turns "-0" into "0"
  EXPECT_EQ(formatDouble(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatDouble(1e-5), "0.00001");
  EXPECT_EQ(formatDouble(-1.5e-5), "-0.000015");
  EXPECT_EQ(formatDouble(1e16), "10000000000000000");
  EXPECT_EQ(formatDouble(99999999999999984.0), "99999999999999984");
  EXPECT_EQ(formatDouble(1e17), "1e+17");
  EXPECT_EQ(formatDouble(1.5e-7), "1.5e-07");
  EXPECT_EQ(formatDouble(-1.7976931348623157e308), "-1.7976931348623157e+308");
  EXPECT_EQ(formatDouble(4.9406564584124654e-324), "5e-324");
  EXPECT_EQ(formatDouble(INFINITY), "inf");
  EXPECT_EQ(formatDouble(-INFINITY), "-inf");
  EXPECT_EQ(formatDouble(NAN), "nan");
}

TEST(FormatDouble, RoundTrips) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) {
      continue;
    }
    if (i % 2 == 0) {
      v = std::ldexp(static_cast<double>(bits >> 11), static_cast<int>(rng() % 120) - 80);  // ordinary sizes
    }
    std::string s = formatDouble(v);
    double back = std::strtod(s.c_str(), nullptr);
    ASSERT_TRUE(back == v) << s;
    double mag = std::fabs(v);
    if (mag >= 1e-5 && mag < 1e17) {
      ASSERT_EQ(s.find('e'), std::string::npos) << s;
    }
  }
}

}  // namespace
}  // namespace ember::resp
