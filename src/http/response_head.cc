#include "http/response_head.h"

#include <charconv>
#include <cstring>
#include <chrono>
#include <ctime>

namespace ember::http::detail {

namespace {

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool validFieldName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    if (!isTokenChar(c)) {
      return false;
    }
  }
  return true;
}

bool validFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void appendNumber(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void appendTwoDigits(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
  }
}

std::string_view httpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct Cache {
    std::time_t second = -1;
    char text[30] = {};
  };
  thread_local Cache cache;
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != cache.second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    char* p = cache.text;
    std::memcpy(p, kDays[tm.tm_wday], 3);
    p[3] = ',';
    p[4] = ' ';
    appendTwoDigits(p + 5, tm.tm_mday);
    p[7] = ' ';
    std::memcpy(p + 8, kMonths[tm.tm_mon], 3);
    p[11] = ' ';
    int year = tm.tm_year + 1900;
    appendTwoDigits(p + 12, year / 100 % 100);
    appendTwoDigits(p + 14, year % 100);
    p[16] = ' ';
    appendTwoDigits(p + 17, tm.tm_hour);
    p[19] = ':';
    appendTwoDigits(p + 20, tm.tm_min);
    p[22] = ':';
    appendTwoDigits(p + 23, tm.tm_sec);
    std::memcpy(p + 25, " GMT", 4);
    cache.second = now;
  }
  return {cache.text, 29};
}

bool appendResponseHead(std::string& out, const Response& head, const HeadOptions& opts) {
  out += "HTTP/1.1 ";
  appendNumber(out, static_cast<uint64_t>(head.status));
  out += ' ';
  out += reasonPhrase(head.status);
  out += "\r\n";
  bool haveServer = false;
  bool haveDate = false;
  for (const Headers::Field& f : head.headers.fields()) {
    if (!validFieldName(f.name) || !validFieldValue(f.value)) {
      return false;
    }
    if (iequals(f.name, "Content-Length") || iequals(f.name, "Transfer-Encoding") ||
        iequals(f.name, "Connection")) {
      continue;
    }
    haveServer = haveServer || iequals(f.name, "Server");
    haveDate = haveDate || iequals(f.name, "Date");
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
  if (!haveServer) {
    out += "Server: Ember\r\n";
  }
  if (!haveDate) {
    out += "Date: ";
    out += httpDate();
    out += "\r\n";
  }
  switch (opts.framing) {
    case ResponseFraming::kContentLength:
      out += "Content-Length: ";
      appendNumber(out, opts.contentLength);
      out += "\r\n";
      break;
    case ResponseFraming::kChunked:
      out += "Transfer-Encoding: chunked\r\n";
      break;
    case ResponseFraming::kNone:
      if (opts.headContentLength) {
        out += "Content-Length: ";
        appendNumber(out, opts.contentLength);
        out += "\r\n";
      }
      break;
    case ResponseFraming::kUntilClose:
      break;
  }
  if (opts.close) {
    out += "Connection: close\r\n";
  } else if (opts.keepAlive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return true;
}

void appendChunkHeader(std::string& out, size_t n) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n, 16);
  out.append(buf, end);
  out += "\r\n";
}

}  // namespace ember::http::detail
