#include "resp/protocol.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>

#include "common/strings.h"

namespace ember::resp {
namespace {

constexpr std::string_view kInvalidMultibulk = "ERR Protocol error: invalid multibulk length";
constexpr std::string_view kInvalidBulk = "ERR Protocol error: invalid bulk length";

// Parses a length as Redis's string2ll does: an optional '-', then digits with no leading zero (only "0"
// itself may start with 0; "-0", "+1", " 1", "" and overflows are refused).
bool parseLength(const char* p, size_t n, int64_t& out) {
  if (n == 0) {
    return false;
  }
  bool negative = false;
  if (p[0] == '-') {
    negative = true;
    ++p;
    --n;
    if (n == 0) {
      return false;
    }
  }
  if (p[0] == '0') {
    if (n != 1 || negative) {
      return false;
    }
    out = 0;
    return true;
  }
  if (n > 19) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned d = static_cast<unsigned char>(p[i]) - static_cast<unsigned>('0');
    if (d > 9) {
      return false;
    }
    v = v * 10 + d;  // 19 digits fit in uint64_t
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  }
  out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

// The common case of a length line, "<prefix><1 to 18 digits>\r\n" whole in the buffer at pos, read without a
// memchr. False for anything else (the caller then takes the general path, which decides the same way for
// every line this accepts).
bool quickLength(std::string_view buf, size_t pos, size_t maxLine, int64_t& value, size_t& cr) {
  const char* data = buf.data();
  size_t i = pos + 1;
  size_t end = std::min(buf.size(), pos + 19);
  uint64_t v = 0;
  while (i < end) {
    unsigned d = static_cast<unsigned char>(data[i]) - static_cast<unsigned>('0');
    if (d > 9) {
      break;
    }
    v = v * 10 + d;
    ++i;
  }
  size_t digits = i - pos - 1;
  if (digits == 0 || i + 1 >= buf.size() || data[i] != '\r' || data[i + 1] != '\n' || i - pos > maxLine ||
      (digits > 1 && data[pos + 1] == '0')) {
    return false;
  }
  value = static_cast<int64_t>(v);
  cr = i;
  return true;
}

// isspace() in the C locale: what sdssplitargs skips between words and accepts after a closing quote.
bool isSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// At a backslash inside quotes (`s` starts at it): appends what the escape stands for to word and returns its
// length, or returns 0 when the backslash is an ordinary character. Inside "double quotes": \xHH (two hex
// digits), and \<any>, where \n \r \t \b \a are control characters; inside 'single quotes': \' only.
size_t appendEscape(char quote, std::string_view s, std::string& word) {
  if (quote == '\'') {
    if (s.size() >= 2 && s[1] == '\'') {
      word.push_back('\'');
      return 2;
    }
    return 0;
  }
  if (s.size() >= 4 && s[1] == 'x' && hexDigitValue(s[2]) >= 0 && hexDigitValue(s[3]) >= 0) {
    word.push_back(static_cast<char>(hexDigitValue(s[2]) * 16 + hexDigitValue(s[3])));
    return 4;
  }
  if (s.size() >= 2) {
    char e = s[1];
    switch (e) {
      case 'n': e = '\n'; break;
      case 'r': e = '\r'; break;
      case 't': e = '\t'; break;
      case 'b': e = '\b'; break;
      case 'a': e = '\a'; break;
      default: break;
    }
    word.push_back(e);
    return 2;
  }
  return 0;
}

}  // namespace

RequestParser::RequestParser(Limits limits) : limits_(limits) {}

RequestParser::State RequestParser::fail(std::string msg) {
  // Redis replaces line breaks in error replies with spaces (a quoted byte may be one).
  std::replace_if(msg.begin(), msg.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  error_ = std::move(msg);
  failed_ = true;
  return State::kError;
}

RequestParser::State RequestParser::complete(std::string_view buf) {
  if (inArray_) {
    args_.resize(spans_.size());
    for (size_t i = 0; i < spans_.size(); ++i) {
      args_[i] = buf.substr(spans_[i].first, spans_[i].second);
    }
  } else {
    args_.resize(inlineCount_);
    for (size_t i = 0; i < inlineCount_; ++i) {
      args_[i] = inlineArgs_[i];
    }
  }
  consumed_ = pos_;
  // The next call starts on a new buffer whose first byte is the next command's.
  inArray_ = false;
  pos_ = 0;
  scan_ = 0;
  argc_ = 0;
  bulkLen_ = -1;
  spans_.clear();
  return State::kComplete;
}

int RequestParser::findCR(std::string_view buf, size_t& cr) {
  size_t from = std::max(scan_, pos_);
  const char* data = buf.data();
  const void* hit = from < buf.size() ? std::memchr(data + from, '\r', buf.size() - from) : nullptr;
  bytesScanned_ += buf.size() > from ? buf.size() - from : 0;
  if (hit == nullptr) {
    scan_ = buf.size();
    return buf.size() - pos_ > limits_.maxInlineBytes ? -1 : 0;
  }
  cr = static_cast<size_t>(static_cast<const char*>(hit) - data);
  scan_ = cr;
  if (cr - pos_ > limits_.maxInlineBytes) {
    return -1;
  }
  return cr + 1 < buf.size() ? 1 : 0;
}

RequestParser::State RequestParser::parse(std::string_view buf) {
  if (failed_) {
    return State::kError;
  }
  args_.clear();
  needed_ = 0;
  const char* data = buf.data();
  for (;;) {
    if (!inArray_) {
      // A new command (or an empty line / empty array to skip) starts at pos_.
      if (pos_ >= buf.size()) {
        return State::kIncomplete;
      }
      if (pos_ > limits_.maxCommandBytes) {
        return fail("ERR Protocol error: too big request");
      }
      if (data[pos_] != '*') {
        State s = parseInline(buf);
        if (s != State::kComplete) {
          return s;
        }
        if (inlineCount_ > 0) {
          return complete(buf);
        }
        continue;  // an empty line
      }
      size_t cr = 0;
      int64_t n = 0;
      if (!quickLength(buf, pos_, limits_.maxInlineBytes, n, cr)) {
        int found = findCR(buf, cr);
        if (found < 0) {
          return fail("ERR Protocol error: too big mbulk count string");
        }
        if (found == 0) {
          return State::kIncomplete;
        }
        if (!parseLength(data + pos_ + 1, cr - pos_ - 1, n) || data[cr + 1] != '\n') {
          return fail(std::string(kInvalidMultibulk));
        }
      }
      if (n > INT_MAX || (n > 0 && static_cast<uint64_t>(n) > limits_.maxArgs)) {
        return fail(std::string(kInvalidMultibulk));
      }
      pos_ = cr + 2;
      if (n <= 0) {
        continue;  // "*0" and "*-1": nothing to run
      }
      inArray_ = true;
      argc_ = static_cast<size_t>(n);
      bulkLen_ = -1;
    }

    while (spans_.size() < argc_) {
      if (bulkLen_ < 0) {
        size_t cr = 0;
        int64_t len = 0;
        if (pos_ >= buf.size() || data[pos_] != '$' || !quickLength(buf, pos_, limits_.maxInlineBytes, len, cr)) {
          int found = findCR(buf, cr);
          if (found < 0) {
            return fail("ERR Protocol error: too big bulk count string");
          }
          if (found == 0) {
            return State::kIncomplete;
          }
          if (data[pos_] != '$') {
            return fail(std::string("ERR Protocol error: expected '$', got '") + data[pos_] + "'");
          }
          if (!parseLength(data + pos_ + 1, cr - pos_ - 1, len) || len < 0 || data[cr + 1] != '\n') {
            return fail(std::string(kInvalidBulk));
          }
        }
        if (static_cast<uint64_t>(len) > limits_.maxBulkBytes) {
          return fail(std::string(kInvalidBulk));
        }
        pos_ = cr + 2;
        if (pos_ + static_cast<size_t>(len) + 2 > limits_.maxCommandBytes) {
          return fail("ERR Protocol error: too big request");
        }
        bulkLen_ = len;
      }
      size_t len = static_cast<size_t>(bulkLen_);
      if (buf.size() - pos_ < len + 2) {
        needed_ = pos_ + len + 2;
        return State::kIncomplete;
      }
      if (data[pos_ + len] != '\r' || data[pos_ + len + 1] != '\n') {
        return fail("ERR Protocol error: bulk not followed by CRLF");
      }
      spans_.emplace_back(pos_, len);
      pos_ += len + 2;
      bulkLen_ = -1;
    }
    return complete(buf);
  }
}

// An inline command: the line at pos_ up to LF (a CR before the LF is dropped), split into words. Returns
// kComplete with inlineCount_ words (0 for a blank line), having moved pos_ past the line.
RequestParser::State RequestParser::parseInline(std::string_view buf) {
  size_t from = std::max(scan_, pos_);
  const char* data = buf.data();
  const void* hit = std::memchr(data + from, '\n', buf.size() - from);
  bytesScanned_ += buf.size() - from;
  if (hit == nullptr) {
    scan_ = buf.size();
    // The line can still fit only if at most maxInlineBytes bytes plus a CR have arrived.
    size_t have = buf.size() - pos_;
    if (have > limits_.maxInlineBytes + 1 ||
        (have == limits_.maxInlineBytes + 1 && data[buf.size() - 1] != '\r')) {
      return fail("ERR Protocol error: too big inline request");
    }
    return State::kIncomplete;
  }
  size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - data);
  size_t end = lf;
  if (end > pos_ && data[end - 1] == '\r') {
    --end;
  }
  if (end - pos_ > limits_.maxInlineBytes) {
    return fail("ERR Protocol error: too big inline request");
  }
  if (!splitInline(buf.substr(pos_, end - pos_))) {
    return fail("ERR Protocol error: unbalanced quotes in request");
  }
  pos_ = lf + 1;
  scan_ = pos_;
  return State::kComplete;
}

// Splits a line as Redis's sdssplitargs does: words separated by blanks; "double quotes" with \n \r \t \b \a
// \xHH and \<any> escapes; 'single quotes' with \' only; a closing quote must be followed by a blank or the
// end of the line. Unlike sdssplitargs (which works on C strings), a NUL byte is an ordinary character.
bool RequestParser::splitInline(std::string_view line) {
  inlineCount_ = 0;
  size_t i = 0;
  const size_t n = line.size();
  for (;;) {
    while (i < n && isSpace(line[i])) {
      ++i;
    }
    if (i == n) {
      return true;
    }
    if (inlineCount_ == inlineArgs_.size()) {
      inlineArgs_.emplace_back();
    }
    std::string& word = inlineArgs_[inlineCount_++];
    word.clear();
    char quote = 0;  // the open quote character; 0 outside quotes
    for (;;) {
      if (quote == 0) {
        if (i == n) {
          break;
        }
        char c = line[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
          break;
        }
        if (c == '"' || c == '\'') {
          quote = c;
        } else {
          word.push_back(c);
        }
        ++i;
        continue;
      }
      if (i == n) {
        return false;  // the quote never closes
      }
      char c = line[i];
      if (c == quote) {
        if (i + 1 < n && !isSpace(line[i + 1])) {
          return false;
        }
        ++i;
        break;
      }
      size_t escape = c == '\\' ? appendEscape(quote, line.substr(i), word) : 0;
      if (escape == 0) {
        word.push_back(c);
        ++i;
      } else {
        i += escape;
      }
    }
  }
}

// ---- ReplyWriter ----

namespace {

// Appends <prefix><n>\r\n.
void appendHeader(std::string& out, char prefix, int64_t n) {
  char buf[24];
  buf[0] = prefix;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  (void)ec;  // 20 characters always fit
  end[0] = '\r';
  end[1] = '\n';
  out.append(buf, static_cast<size_t>(end + 2 - buf));
}

// Appends <prefix><s>\r\n with CR and LF in s written as spaces (they would end the line early).
void appendLine(std::string& out, char prefix, std::string_view s) {
  out.push_back(prefix);
  size_t start = out.size();
  out.append(s);
  if (s.find_first_of("\r\n") != std::string_view::npos) {
    std::replace_if(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
                    [](char c) { return c == '\r' || c == '\n'; }, ' ');
  }
  out.append("\r\n", 2);
}

// Writes formatDouble(v) into buf (at least 32 bytes) and returns its length.
size_t formatDoubleTo(double v, char* buf) {
  if (std::isnan(v)) {
    std::memcpy(buf, "nan", 3);
    return 3;
  }
  if (std::isinf(v)) {
    if (v > 0) {
      std::memcpy(buf, "inf", 3);
      return 3;
    }
    std::memcpy(buf, "-inf", 4);
    return 4;
  }
  if (v == 0) {
    buf[0] = '0';  // -0 too, as Redis's INCRBYFLOAT prints it
    return 1;
  }
  double mag = std::fabs(v);
  // Shortest round-trip digits; fixed notation for ordinary magnitudes (at most 17 integer digits or
  // 5 leading fraction zeros, so at most 1 + 22 + 1 characters), scientific outside them.
  std::chars_format fmt =
      mag >= 1e-5 && mag < 1e17 ? std::chars_format::fixed : std::chars_format::scientific;
  auto [end, ec] = std::to_chars(buf, buf + 32, v, fmt);
  (void)ec;
  return static_cast<size_t>(end - buf);
}

}  // namespace

std::string formatDouble(double v) {
  char buf[32];
  return std::string(buf, formatDoubleTo(v, buf));
}

void ReplyWriter::simple(std::string_view s) { appendLine(out_, '+', s); }

void ReplyWriter::error(std::string_view msg) { appendLine(out_, '-', msg); }

void ReplyWriter::integer(int64_t v) { appendHeader(out_, ':', v); }

void ReplyWriter::bulk(std::string_view s) {
  appendHeader(out_, '$', static_cast<int64_t>(s.size()));
  out_.append(s);
  out_.append("\r\n", 2);
}

void ReplyWriter::null() {
  if (proto_ >= 3) {
    out_.append("_\r\n", 3);
  } else {
    out_.append("$-1\r\n", 5);
  }
}

void ReplyWriter::nullArray() {
  if (proto_ >= 3) {
    out_.append("_\r\n", 3);
  } else {
    out_.append("*-1\r\n", 5);
  }
}

void ReplyWriter::array(size_t n) { appendHeader(out_, '*', static_cast<int64_t>(n)); }

void ReplyWriter::map(size_t n) {
  if (proto_ >= 3) {
    appendHeader(out_, '%', static_cast<int64_t>(n));
  } else {
    appendHeader(out_, '*', static_cast<int64_t>(n * 2));
  }
}

void ReplyWriter::set(size_t n) { appendHeader(out_, proto_ >= 3 ? '~' : '*', static_cast<int64_t>(n)); }

void ReplyWriter::push(size_t n) { appendHeader(out_, proto_ >= 3 ? '>' : '*', static_cast<int64_t>(n)); }

void ReplyWriter::dbl(double v) {
  char buf[32];
  size_t len = formatDoubleTo(v, buf);
  if (proto_ >= 3) {
    out_.push_back(',');
    out_.append(buf, len);
    out_.append("\r\n", 2);
  } else {
    bulk(std::string_view(buf, len));
  }
}

void ReplyWriter::boolean(bool v) {
  if (proto_ >= 3) {
    out_.append(v ? "#t\r\n" : "#f\r\n", 4);
  } else {
    out_.append(v ? ":1\r\n" : ":0\r\n", 4);
  }
}

void ReplyWriter::verbatim(std::string_view format, std::string_view text) {
  if (proto_ < 3) {
    bulk(text);
    return;
  }
  appendHeader(out_, '=', static_cast<int64_t>(format.size() + 1 + text.size()));
  out_.append(format);
  out_.push_back(':');
  out_.append(text);
  out_.append("\r\n", 2);
}

}  // namespace ember::resp
