#pragma once
// RESP, the Redis serialization protocol (https://redis.io/docs/latest/develop/reference/protocol-spec/):
// a bounded, resumable request parser and a reply writer for RESP2 and RESP3. No I/O here; src/resp/server.cc
// feeds the parser from a socket and flushes the writer's buffer.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember::resp {

struct Limits {
  size_t maxBulkBytes = 8ULL << 20;    // one argument ("$<n>"); Redis's proto-max-bulk-len, smaller
  size_t maxArgs = 1 << 20;            // arguments in one command ("*<n>")
  size_t maxInlineBytes = 64 * 1024;   // an inline command line (telnet style)
  size_t maxCommandBytes = 64ULL << 20;  // one whole command (the query-buffer limit)
};

// Parses one command at a time from the front of a buffer that the caller keeps appending to.
//   - Multibulk ("*<n>\r\n$<len>\r\n<bytes>\r\n...") as clients send, and inline commands ("PING\r\n",
//     words split on blanks, "double" and 'single' quotes with Redis's escapes) as telnet users type. A command
//     is inline when its first byte is not '*'; an inline line ends at LF, a CR before the LF is dropped, and
//     its words are split as Redis's sdssplitargs does (except that a NUL byte is an ordinary character).
//   - Resumable: on kIncomplete it remembers how far it got (offsets, never pointers), so a large argument that
//     arrives in pieces is scanned once. The caller may move or grow the buffer between calls as long as the
//     bytes from the command's start are kept; after kComplete it drops consumed() bytes and calls again.
//     Splitting a stream anywhere never changes the commands parsed or the error reached.
//   - Bounded: lengths over Limits, negative or non-numeric lengths, and a missing CRLF after a bulk are
//     kError with Redis's message; the connection should write it as an error reply and close, as Redis does.
//     Messages: "ERR Protocol error: " + "invalid multibulk length" (bad "*<n>" or n > maxArgs), "invalid bulk
//     length" (bad "$<n>" or n > maxBulkBytes), "expected '$', got 'x'", "too big mbulk count string" / "too
//     big bulk count string" (a length line over maxInlineBytes), "too big inline request", "unbalanced quotes
//     in request", and two of ours: "bulk not followed by CRLF" (Redis skips those two bytes unchecked) and
//     "too big request" (the command, with empty lines skipped before it, passes maxCommandBytes; Redis closes
//     such a client without a reply).
//   - Empty lines and "*0"/"*-1" arrays are skipped (consumed, no command), as Redis does. They stay in the
//     buffer until the command after them completes (consumed() counts them then).
class RequestParser {
 public:
  enum class State { kComplete, kIncomplete, kError };

  explicit RequestParser(Limits limits = {});

  State parse(std::string_view buf);

  // kComplete: the command's arguments (views into the buffer passed to the last parse()).
  std::span<const std::string_view> args() const { return args_; }
  // kComplete: bytes of the buffer the command used (including skipped empty lines before it).
  size_t consumed() const { return consumed_; }
  // kIncomplete: at least this many bytes from the buffer's start are needed before progress is possible
  // (lets the reader size one read for a large bulk); 0 when unknown.
  size_t needed() const { return needed_; }
  // kError: the message for an error reply, without the leading '-' ("ERR Protocol error: ..."). The parser
  // stays failed: later parse() calls return kError again (the connection is to be closed).
  std::string_view error() const { return error_; }

 private:
  friend struct RequestParserProbe;  // tests read bytesScanned_

  State fail(std::string msg);
  State complete(std::string_view buf);
  // Finds the CR that ends the length line starting at pos_ (resuming at scan_). 1: found and the byte after
  // it is in buf, cr set; 0: more bytes needed; -1: the line is longer than maxInlineBytes.
  int findCR(std::string_view buf, size_t& cr);
  State parseInline(std::string_view buf);
  bool splitInline(std::string_view line);  // false: unbalanced quotes

  Limits limits_;
  bool failed_ = false;
  // Resumable multibulk state: offsets relative to the buffer's start (the current command's start, plus any
  // empty lines or empty arrays skipped before it).
  bool inArray_ = false;
  size_t pos_ = 0;         // next byte to look at: the start of a line, or of a bulk's payload
  size_t scan_ = 0;        // the line at pos_ holds no CR (LF for inline) before this offset
  size_t argc_ = 0;        // announced arguments
  int64_t bulkLen_ = -1;   // length of the bulk whose payload starts at pos_; -1: its "$<n>" line is next
  uint64_t bytesScanned_ = 0;  // bytes passed to memchr, over the parser's life (tests check it is linear)
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset, length) of parsed arguments
  std::vector<std::string_view> args_;
  std::vector<std::string> inlineArgs_;  // inline commands own their (unescaped) words; reused across calls
  size_t inlineCount_ = 0;               // words of the current inline command in inlineArgs_
  size_t consumed_ = 0;
  size_t needed_ = 0;
  std::string error_;
};

// Appends replies to a buffer in the connection's protocol version (2 or 3). RESP3-only types degrade the way
// Redis degrades them for RESP2 clients: map -> flat array, set -> array, double -> bulk string, null -> $-1
// (or *-1 for a null array), boolean -> integer 0/1, verbatim -> bulk, big number -> bulk. simple() and error()
// write CR and LF inside their text as spaces (as Redis does for errors), so a reply can't end early.
class ReplyWriter {
 public:
  explicit ReplyWriter(std::string& out, int proto = 2) : out_(out), proto_(proto) {}
  int proto() const { return proto_; }
  void setProto(int proto) { proto_ = proto; }

  void simple(std::string_view s);          // +OK
  void error(std::string_view msg);         // -ERR ... (msg must start with the error code word)
  void integer(int64_t v);                  // :1
  void bulk(std::string_view s);            // $3\r\nfoo\r\n
  void null();                              // RESP2 $-1, RESP3 _
  void nullArray();                         // RESP2 *-1, RESP3 _
  void array(size_t n);                     // *n, then n replies
  void map(size_t n);                       // RESP3 %n (n pairs), RESP2 *2n
  void set(size_t n);                       // RESP3 ~n, RESP2 *n
  void push(size_t n);                      // RESP3 >n, RESP2 *n
  void dbl(double v);                       // RESP3 ,1.5 ; RESP2 bulk "1.5" (inf/-inf/nan spelled as Redis)
  void boolean(bool v);                     // RESP3 #t ; RESP2 :1
  void verbatim(std::string_view format, std::string_view text);  // RESP3 =n\r\ntxt:... ; RESP2 bulk (format: 3 chars)
  void ok() { simple("OK"); }

  std::string& buffer() { return out_; }

 private:
  std::string& out_;
  int proto_;
};

// Formats a double as Redis does in replies (INCRBYFLOAT, RESP3 doubles): the shortest decimal that reads back
// as the same double; fixed notation when 1e-5 <= |v| < 1e17 ("10.6", "5000", "0.00001"), scientific outside
// ("1e+17", "1.5e-07"; Redis's INCRBYFLOAT would print those in fixed notation too); "0" for both zeros (as
// INCRBYFLOAT prints -0); "inf" / "-inf" / "nan".
std::string formatDouble(double v);

}  // namespace ember::resp
