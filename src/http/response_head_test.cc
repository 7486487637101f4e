#include "http/response_head.h"

#include <regex>
#include <string>

#include <gtest/gtest.h>

namespace ember::http::detail {
namespace {

// Replaces the Date value (which changes every second) by a fixed marker.
std::string withoutDate(std::string s) {
  return std::regex_replace(s, std::regex("Date: [^\r]*\r\n"), "Date: *\r\n");
}

TEST(ResponseHeadTest, ContentLengthResponse) {
  Response r;
  r.status = 200;
  r.headers.add("Content-Type", "text/plain");
  r.headers.add("ETag", "\"abc\"");
  std::string out;
  HeadOptions opts;
  opts.framing = ResponseFraming::kContentLength;
  opts.contentLength = 4096;
  ASSERT_TRUE(appendResponseHead(out, r, opts));
  EXPECT_EQ(withoutDate(out),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "ETag: \"abc\"\r\n"
            "Server: Ember\r\n"
            "Date: *\r\n"
            "Content-Length: 4096\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, ServerOwnsFramingAndConnectionFields) {
  Response r;
  r.status = 404;
  r.headers.add("content-length", "999");
  r.headers.add("Transfer-Encoding", "gzip");
  r.headers.add("Connection", "keep-alive");
  r.headers.add("Server", "Custom");
  r.headers.add("Date", "Mon, 01 Jan 2024 00:00:00 GMT");
  std::string out;
  HeadOptions opts;
  opts.framing = ResponseFraming::kChunked;
  opts.close = true;
  ASSERT_TRUE(appendResponseHead(out, r, opts));
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\n"
            "Server: Custom\r\n"
            "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, HeadAndNoBodyFraming) {
  Response r;
  r.status = 200;
  std::string out;
  HeadOptions opts;
  opts.framing = ResponseFraming::kNone;
  opts.headContentLength = true;
  opts.contentLength = 12;
  opts.keepAlive = true;
  ASSERT_TRUE(appendResponseHead(out, r, opts));
  EXPECT_NE(out.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
  out.clear();
  r.status = 204;
  opts.headContentLength = false;
  opts.keepAlive = false;
  ASSERT_TRUE(appendResponseHead(out, r, opts));
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(out.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
}

TEST(ResponseHeadTest, RejectsResponseSplitting) {
  for (auto [name, value] : {std::pair{"X-A", "v\r\nSet-Cookie: x"}, std::pair{"X-A", "v\nw"},
                             std::pair{"Bad Name", "v"}, std::pair{"", "v"},
                             std::pair{"X:Y", "v"}}) {
    Response r;
    r.headers.add(name, value);
    std::string out;
    EXPECT_FALSE(appendResponseHead(out, r, HeadOptions{})) << name << ": " << value;
  }
  Response r;
  r.headers.add("X-Nul", std::string("a\0b", 3));
  std::string out;
  EXPECT_FALSE(appendResponseHead(out, r, HeadOptions{}));
}

TEST(ResponseHeadTest, DateIsImfFixdate) {
  std::string date(httpDate());
  EXPECT_TRUE(std::regex_match(
      date, std::regex("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
                       "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
                       "[0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT")))
      << date;
}

TEST(ResponseHeadTest, ReasonPhrasesAndChunkHeaders) {
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(599), "Unknown");
  std::string out;
  appendChunkHeader(out, 0x1f40);
  appendChunkHeader(out, 1);
  EXPECT_EQ(out, "1f40\r\n1\r\n");
}

}  // namespace
}  // namespace ember::http::detail
