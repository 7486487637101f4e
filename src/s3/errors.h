#pragma once
// The S3 error table: core Status -> (HTTP status, S3 <Code>). Every S3 error response goes
// through s3ErrorFor(); handlers never pick HTTP status codes for errors themselves.

#include <string>
#include <string_view>

#include "common/status.h"

namespace ember::s3 {

struct S3Error {
  int httpStatus;
  std::string_view code;     // S3 error code, e.g. "NoSuchKey"
  std::string_view message;  // default message when the Status has none
};

S3Error s3ErrorFor(Code code);

// <Error><Code/><Message/><Resource/><RequestId/></Error> with the XML declaration.
std::string renderErrorXml(const S3Error& e, std::string_view message, std::string_view resource,
                           std::string_view requestId);

}  // namespace ember::s3
