#include "http/request_decoder.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ember::http {
namespace {

// Feeds `input` to the decoder `piece` bytes at a time, keeping unconsumed bytes in front like the
// connection's receive buffer does. Returns the final state; `rest` gets the unconsumed bytes.
RequestDecoder::HeadState feedHead(RequestDecoder& d, std::string_view input, size_t piece,
                                   std::string* rest = nullptr) {
  std::string buf;
  size_t pos = 0;
  RequestDecoder::HeadState state = RequestDecoder::HeadState::kNeedMore;
  while (state == RequestDecoder::HeadState::kNeedMore && pos < input.size()) {
    size_t n = std::min(piece, input.size() - pos);
    buf.append(input.substr(pos, n));
    pos += n;
    RequestDecoder::HeadStep step = d.putHead(buf);
    buf.erase(0, step.consumed);
    state = step.state;
  }
  if (rest) {
    *rest = buf + std::string(input.substr(pos));
  }
  return state;
}

// Decodes the whole body from `in` with an output window of `window` bytes.
Result<std::string> decodeBody(RequestDecoder& d, std::string in, size_t window,
                               std::string* rest = nullptr) {
  std::string out;
  std::vector<char> buf(window);
  for (int guard = 0; guard < 100000; ++guard) {
    Result<RequestDecoder::BodyStep> step = d.putBody(in, buf);
    if (!step) {
      return unexpected(step.error());
    }
    out.append(buf.data(), step->produced);
    in.erase(0, step->consumed);
    if (step->done) {
      if (rest) {
        *rest = in;
      }
      return out;
    }
    if (step->consumed == 0 && step->produced == 0) {
      return unexpected(Code::kIncompleteBody, "needs more input");
    }
  }
  return unexpected(Code::kInternal, "no progress");
}

class RequestDecoderTest : public ::testing::Test {
 protected:
  RequestDecoder::HeadState parse(std::string_view input, size_t piece = 1 << 20) {
    decoder_.reset(&req_);
    return feedHead(decoder_, input, piece, &rest_);
  }

  DecoderLimits limits_;
  RequestDecoder decoder_{limits_};
  Request req_;
  std::string rest_;
};

constexpr std::string_view kSimple =
    "GET /bucket/key%20x?uploads&a=b HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "X-Amz-Date:  20240101T000000Z  \r\n"
    "x-amz-meta-Empty:\r\n"
    "\r\n";

TEST_F(RequestDecoderTest, ParsesRequestLineAndFields) {
  ASSERT_EQ(parse(kSimple), RequestDecoder::HeadState::kDone);
  EXPECT_EQ(req_.method, "GET");
  EXPECT_EQ(req_.target, "/bucket/key%20x?uploads&a=b");
  EXPECT_EQ(req_.path, "/bucket/key%20x");
  EXPECT_EQ(req_.query, "uploads&a=b");
  ASSERT_EQ(req_.headers.fields().size(), 3u);
  EXPECT_EQ(req_.headers.get("host"), "example.com");
  EXPECT_EQ(req_.headers.get("x-amz-date"), "20240101T000000Z");  // OWS trimmed
  EXPECT_TRUE(req_.headers.has("X-Amz-Meta-Empty"));
  EXPECT_EQ(req_.headers.get("x-amz-meta-empty", "absent"), "");
  EXPECT_EQ(req_.contentLength, 0u);
  EXPECT_TRUE(req_.keepAlive);
  EXPECT_EQ(decoder_.framing(), BodyFraming::kNone);
  EXPECT_EQ(decoder_.version(), 11);
  EXPECT_TRUE(decoder_.bodyDone());
  EXPECT_TRUE(rest_.empty());
}

TEST_F(RequestDecoderTest, SameResultWhenFedByteByByte) {
  for (size_t piece : {1, 2, 3, 7, 16}) {
    ASSERT_EQ(parse(kSimple, piece), RequestDecoder::HeadState::kDone) << piece;
    EXPECT_EQ(req_.path, "/bucket/key%20x");
    EXPECT_EQ(req_.headers.fields().size(), 3u);
    EXPECT_TRUE(rest_.empty());
  }
}

TEST_F(RequestDecoderTest, ResetClearsThePreviousRequest) {
  ASSERT_EQ(parse(kSimple), RequestDecoder::HeadState::kDone);
  ASSERT_EQ(parse("PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"),
            RequestDecoder::HeadState::kDone);
  EXPECT_EQ(req_.method, "PUT");
  EXPECT_EQ(req_.path, "/b");
  EXPECT_EQ(req_.query, "");
  EXPECT_EQ(req_.headers.fields().size(), 3u);
  EXPECT_EQ(req_.contentLength, 3u);
  EXPECT_FALSE(req_.keepAlive);
  EXPECT_EQ(decoder_.framing(), BodyFraming::kContentLength);
}

TEST_F(RequestDecoderTest, StopsAtTheEndOfTheHead) {
  ASSERT_EQ(parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /"),
            RequestDecoder::HeadState::kDone);
  EXPECT_EQ(rest_, "helloGET /");
  std::string after;
  Result<std::string> body = decodeBody(decoder_, rest_, 2, &after);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, "hello");
  EXPECT_EQ(after, "GET /");
  EXPECT_TRUE(decoder_.bodyDone());
}

TEST_F(RequestDecoderTest, SkipsLeadingEmptyLines) {
  ASSERT_EQ(parse(std::string("\r\n\r\n") + std::string(kSimple), 1),
            RequestDecoder::HeadState::kDone);
  EXPECT_EQ(req_.method, "GET");
}

TEST_F(RequestDecoderTest, Http10KeepAliveRules) {
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n"), RequestDecoder::HeadState::kDone);
  EXPECT_EQ(decoder_.version(), 10);
  EXPECT_FALSE(req_.keepAlive);  // and Host is optional in 1.0
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
            RequestDecoder::HeadState::kDone);
  EXPECT_TRUE(req_.keepAlive);
}

TEST_F(RequestDecoderTest, TargetForms) {
  ASSERT_EQ(parse("GET http://example.com/b/k?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            RequestDecoder::HeadState::kDone);
  EXPECT_EQ(req_.path, "/b/k");
  EXPECT_EQ(req_.query, "x=1");
  ASSERT_EQ(parse("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            RequestDecoder::HeadState::kDone);
  EXPECT_EQ(req_.path, "/");
  ASSERT_EQ(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), RequestDecoder::HeadState::kDone);
  EXPECT_EQ(req_.path, "*");
  EXPECT_EQ(parse("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), RequestDecoder::HeadState::kError);
  EXPECT_EQ(decoder_.errorStatus(), 400);
  EXPECT_EQ(parse("GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n"),
            RequestDecoder::HeadState::kError);
  EXPECT_EQ(decoder_.errorStatus(), 400);
}

struct BadCase {
  const char* input;
  int status;
};

TEST_F(RequestDecoderTest, RejectsMalformedAndSmugglingHeads) {
  const BadCase cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost h\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n", 400},
      {"GET / HTTP/1.1\nHost: h\n\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},                         // missing Host
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},  // duplicate Host
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
       400},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
       "Transfer-Encoding: chunked\r\n\r\n",
       400},
  };
  for (const BadCase& c : cases) {
    EXPECT_EQ(parse(c.input), RequestDecoder::HeadState::kError) << c.input;
    EXPECT_EQ(decoder_.errorStatus(), c.status) << c.input;
    EXPECT_FALSE(decoder_.errorDetail().empty());
  }
}

TEST_F(RequestDecoderTest, HeadSizeLimitCountsTheWholeHead) {
  DecoderLimits limits;
  limits.maxHeaderBytes = 256;
  RequestDecoder d(limits);
  Request req;
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\n";
  while (head.size() < 400) {
    head += "X-Pad: 0123456789\r\n";
  }
  head += "\r\n";
  // Fed in small pieces, Beast alone would only bound each unconsumed window.
  for (size_t piece : {1, 16, 1000}) {
    d.reset(&req);
    EXPECT_EQ(feedHead(d, head, piece), RequestDecoder::HeadState::kError) << piece;
    EXPECT_EQ(d.errorStatus(), 431);
  }
  // Exactly at the limit is fine.
  std::string fits = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  fits += std::string(256 - fits.size() - 4, 'a');
  fits += "\r\n\r\n";
  ASSERT_EQ(fits.size(), 256u);
  d.reset(&req);
  EXPECT_EQ(feedHead(d, fits, 7), RequestDecoder::HeadState::kDone);
  fits.insert(fits.size() - 4, "a");
  d.reset(&req);
  EXPECT_EQ(feedHead(d, fits, 7), RequestDecoder::HeadState::kError);
  EXPECT_EQ(d.errorStatus(), 431);
}

TEST_F(RequestDecoderTest, HeaderCountLimit) {
  DecoderLimits limits;
  limits.maxHeaderCount = 3;
  RequestDecoder d(limits);
  Request req;
  d.reset(&req);
  EXPECT_EQ(feedHead(d, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", 100),
            RequestDecoder::HeadState::kDone);
  d.reset(&req);
  EXPECT_EQ(feedHead(d, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 100),
            RequestDecoder::HeadState::kError);
  EXPECT_EQ(d.errorStatus(), 431);
}

TEST_F(RequestDecoderTest, ContentLengthOverBodyLimitIs413) {
  DecoderLimits limits;
  limits.maxBodyBytes = 100;
  RequestDecoder d(limits);
  Request req;
  d.reset(&req);
  EXPECT_EQ(feedHead(d, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", 100),
            RequestDecoder::HeadState::kError);
  EXPECT_EQ(d.errorStatus(), 413);
}

TEST_F(RequestDecoderTest, ExpectContinueOnlyWithABody) {
  ASSERT_EQ(parse("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n"),
            RequestDecoder::HeadState::kDone);
  EXPECT_TRUE(decoder_.expectContinue());
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"),
            RequestDecoder::HeadState::kDone);
  EXPECT_FALSE(decoder_.expectContinue());
}

constexpr std::string_view kChunkedHead =
    "PUT /o HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_F(RequestDecoderTest, DecodesChunkedBodyWithExtensionsAndTrailers) {
  std::string body =
      "5\r\nhello\r\n"
      "6;name=value\r\n world\r\n"
      "A\r\n0123456789\r\n"
      "0\r\nX-Checksum: abc\r\n\r\n"
      "NEXT";
  for (size_t window : {1, 3, 64}) {
    ASSERT_EQ(parse(std::string(kChunkedHead) + body), RequestDecoder::HeadState::kDone);
    EXPECT_EQ(decoder_.framing(), BodyFraming::kChunked);
    EXPECT_FALSE(req_.contentLength.has_value());
    std::string after;
    Result<std::string> out = decodeBody(decoder_, rest_, window, &after);
    ASSERT_TRUE(out.has_value()) << out.error().toString();
    EXPECT_EQ(*out, "hello world0123456789");
    EXPECT_EQ(after, "NEXT");  // the pipelined next request is untouched
    EXPECT_TRUE(decoder_.bodyDone());
  }
}

TEST_F(RequestDecoderTest, ChunkedBodyFedInPieces) {
  std::string body = "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
  ASSERT_EQ(parse(kChunkedHead), RequestDecoder::HeadState::kDone);
  std::string pending;
  std::string out;
  char window[2];
  for (char c : body) {
    pending += c;
    for (;;) {
      Result<RequestDecoder::BodyStep> step = decoder_.putBody(pending, window);
      ASSERT_TRUE(step.has_value());
      out.append(window, step->produced);
      pending.erase(0, step->consumed);
      if (step->produced == 0 || step->done) {
        break;
      }
    }
  }
  EXPECT_EQ(out, "abcdefg");
  EXPECT_TRUE(decoder_.bodyDone());
}

TEST_F(RequestDecoderTest, MalformedChunkedBody) {
  for (const char* body : {"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcX\r\n0\r\n\r\n",
                           "3;bad ext\r\nabc\r\n0\r\n\r\n"}) {
    ASSERT_EQ(parse(kChunkedHead), RequestDecoder::HeadState::kDone);
    Result<std::string> out = decodeBody(decoder_, body, 16);
    ASSERT_FALSE(out.has_value()) << body;
    EXPECT_EQ(out.error().code(), Code::kInvalidArgument) << body;
  }
}

TEST_F(RequestDecoderTest, ChunkedBodyOverLimit) {
  DecoderLimits limits;
  limits.maxBodyBytes = 8;
  RequestDecoder d(limits);
  Request req;
  d.reset(&req);
  ASSERT_EQ(feedHead(d, kChunkedHead, 100), RequestDecoder::HeadState::kDone);
  Result<std::string> out = decodeBody(d, "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 16);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), Code::kEntityTooLarge);
}

}  // namespace
}  // namespace ember::http
