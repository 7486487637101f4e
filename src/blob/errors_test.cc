#include <set>
#include <string>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "blob/errors.h"

namespace ember::blob {
namespace {

TEST(BlobErrorTable, EveryCodeMaps) {
  for (int i = 1; i <= static_cast<int>(Code::kInternal); ++i) {
    auto code = static_cast<Code>(i);
    for (Scope scope : {Scope::kContainer, Scope::kBlob}) {
      BlobError e = blobErrorFor(Status(code, ""), scope);
      EXPECT_GE(e.status, 300) << codeName(code);
      EXPECT_LE(e.status, 599) << codeName(code);
      EXPECT_FALSE(e.code.empty()) << codeName(code);
      EXPECT_FALSE(e.message.empty()) << codeName(code);
      for (char c : e.code) {
        EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            << e.code;
      }
    }
  }
  EXPECT_EQ(blobErrorFor(Status()).status, 200);
}

TEST(BlobErrorTable, Rows) {
  struct Row {
    Code code;
    int status;
    const char* container;  // blobErrorFor
    const char* blob;       // blobErrorForBlob
  };
  const Row rows[] = {
      {Code::kNotFound, 404, "ResourceNotFound", "BlobNotFound"},
      {Code::kNoSuchBucket, 404, "ContainerNotFound", "ContainerNotFound"},
      {Code::kNoSuchKey, 404, "BlobNotFound", "BlobNotFound"},
      {Code::kAlreadyExists, 409, "ContainerAlreadyExists", "BlobAlreadyExists"},
      {Code::kAlreadyOwned, 409, "ContainerAlreadyExists", "BlobAlreadyExists"},
      {Code::kBucketNotEmpty, 409, "ContainerBeingDeleted", "ContainerBeingDeleted"},
      {Code::kPreconditionFailed, 412, "ConditionNotMet", "ConditionNotMet"},
      {Code::kNotModified, 304, "ConditionNotMet", "ConditionNotMet"},
      {Code::kUnsupportedCondition, 400, "MultipleConditionHeadersNotSupported",
       "MultipleConditionHeadersNotSupported"},
      {Code::kInvalidRange, 416, "InvalidRange", "InvalidRange"},
      {Code::kInvalidBlockList, 400, "InvalidBlockList", "InvalidBlockList"},
      {Code::kInvalidBlockId, 400, "InvalidBlobOrBlock", "InvalidBlobOrBlock"},
      {Code::kWrongObjectKind, 409, "InvalidBlobType", "InvalidBlobType"},
      {Code::kObjectSealed, 409, "BlobIsSealed", "BlobIsSealed"},
      {Code::kAppendPositionMismatch, 412, "AppendPositionConditionNotMet",
       "AppendPositionConditionNotMet"},
      {Code::kMaxSizeExceeded, 412, "MaxBlobSizeConditionNotMet", "MaxBlobSizeConditionNotMet"},
      {Code::kBlockCountExceeded, 409, "BlockCountExceedsLimit", "BlockCountExceedsLimit"},
      {Code::kLeaseIdMissing, 412, "LeaseIdMissing", "LeaseIdMissing"},
      {Code::kLeaseIdMismatch, 412, "LeaseIdMismatchWithContainerOperation",
       "LeaseIdMismatchWithBlobOperation"},
      {Code::kLeaseNotPresent, 412, "LeaseNotPresentWithContainerOperation",
       "LeaseNotPresentWithBlobOperation"},
      {Code::kLeaseAlreadyPresent, 409, "LeaseAlreadyPresent", "LeaseAlreadyPresent"},
      {Code::kLeaseOpIdMismatch, 409, "LeaseIdMismatchWithLeaseOperation",
       "LeaseIdMismatchWithLeaseOperation"},
      {Code::kLeaseOpNotPresent, 409, "LeaseNotPresentWithLeaseOperation",
       "LeaseNotPresentWithLeaseOperation"},
      {Code::kLeaseBrokenCannotRenew, 409, "LeaseIsBrokenAndCannotBeRenewed",
       "LeaseIsBrokenAndCannotBeRenewed"},
      {Code::kLeaseBreakingCannotAcquire, 409, "LeaseIsBreakingAndCannotBeAcquired",
       "LeaseIsBreakingAndCannotBeAcquired"},
      {Code::kCopySourceFailed, 404, "CannotVerifyCopySource", "CannotVerifyCopySource"},
      {Code::kNoPendingCopy, 409, "NoPendingCopyOperation", "NoPendingCopyOperation"},
      {Code::kCopyIdMismatch, 409, "CopyIdMismatch", "CopyIdMismatch"},
      {Code::kBadDigest, 400, "Md5Mismatch", "Md5Mismatch"},
      {Code::kInvalidDigest, 400, "InvalidMd5", "InvalidMd5"},
      {Code::kMetadataTooLarge, 400, "MetadataTooLarge", "MetadataTooLarge"},
      {Code::kInvalidHeader, 400, "InvalidHeaderValue", "InvalidHeaderValue"},
      {Code::kMissingHeader, 400, "MissingRequiredHeader", "MissingRequiredHeader"},
      {Code::kInvalidQueryParam, 400, "InvalidQueryParameterValue", "InvalidQueryParameterValue"},
      {Code::kMalformedXml, 400, "InvalidXmlDocument", "InvalidXmlDocument"},
      {Code::kSignatureMismatch, 403, "AuthenticationFailed", "AuthenticationFailed"},
      {Code::kInvalidAccessKey, 403, "AuthenticationFailed", "AuthenticationFailed"},
      {Code::kExpired, 403, "AuthenticationFailed", "AuthenticationFailed"},
      {Code::kRequestTimeSkewed, 403, "AuthenticationFailed", "AuthenticationFailed"},
      {Code::kAuthQueryMalformed, 403, "AuthenticationFailed", "AuthenticationFailed"},
      {Code::kAuthMalformed, 400, "InvalidAuthenticationInfo", "InvalidAuthenticationInfo"},
      {Code::kUnauthenticated, 401, "NoAuthenticationInformation",
       "NoAuthenticationInformation"},
      {Code::kPermissionDenied, 403, "AuthorizationPermissionMismatch",
       "AuthorizationPermissionMismatch"},
      {Code::kInvalidBucketName, 400, "InvalidResourceName", "InvalidResourceName"},
      {Code::kInvalidKey, 400, "InvalidResourceName", "InvalidResourceName"},
      {Code::kKeyTooLong, 400, "OutOfRangeInput", "OutOfRangeInput"},
      {Code::kMissingContentLength, 411, "MissingContentLengthHeader",
       "MissingContentLengthHeader"},
      {Code::kEntityTooLarge, 413, "RequestBodyTooLarge", "RequestBodyTooLarge"},
      {Code::kInsufficientStorage, 507, "InsufficientStorage", "InsufficientStorage"},
      {Code::kBusy, 503, "ServerBusy", "ServerBusy"},
      {Code::kUnavailable, 503, "ServerBusy", "ServerBusy"},
      {Code::kTimeout, 500, "OperationTimedOut", "OperationTimedOut"},
      {Code::kNotImplemented, 501, "APINotImplemented", "APINotImplemented"},
      {Code::kMethodNotAllowed, 405, "UnsupportedHttpVerb", "UnsupportedHttpVerb"},
      {Code::kCorruption, 500, "InternalError", "InternalError"},
      {Code::kIOError, 500, "InternalError", "InternalError"},
      {Code::kInternal, 500, "InternalError", "InternalError"},
  };
  for (const Row& r : rows) {
    Status s(r.code, "detail");
    BlobError c = blobErrorFor(s);
    BlobError b = blobErrorForBlob(s);
    EXPECT_EQ(c.status, r.status) << codeName(r.code);
    EXPECT_EQ(b.status, r.status) << codeName(r.code);
    EXPECT_EQ(c.code, r.container) << codeName(r.code);
    EXPECT_EQ(b.code, r.blob) << codeName(r.code);
  }
  EXPECT_EQ(blobErrorFor(Status(Code::kNoSuchBucket, "")).message,
            "The specified container does not exist.");
  EXPECT_EQ(blobErrorForBlob(Status(Code::kNoSuchKey, "")).message,
            "The specified blob does not exist.");
  EXPECT_TRUE(blobErrorFor(Status(Code::kSignatureMismatch, "x")).authDetail);
  EXPECT_FALSE(blobErrorFor(Status(Code::kNoSuchKey, "x")).authDetail);
}

TEST(BlobErrorTable, AzureCodePrefixes) {
  struct Row {
    Code code;
    const char* message;
    int status;
    const char* azure;
  };
  const Row rows[] = {
      {Code::kPermissionDenied, "AuthorizationSourceIPMismatch: not from 10.0.0.1", 403,
       "AuthorizationSourceIPMismatch"},
      {Code::kPermissionDenied, "AuthorizationResourceTypeMismatch: srt=s", 403,
       "AuthorizationResourceTypeMismatch"},
      {Code::kPermissionDenied, "AuthorizationProtocolMismatch: https only", 403,
       "AuthorizationProtocolMismatch"},
      {Code::kPermissionDenied, "AuthorizationFailure: denied", 403, "AuthorizationFailure"},
      {Code::kPermissionDenied, "AuthorizationServiceMismatch: ss=q", 403,
       "AuthorizationServiceMismatch"},
      {Code::kInvalidHeader, "InvalidMetadata: 1abc", 400, "InvalidMetadata"},
      {Code::kInvalidHeader, "UnsupportedHeader: If-Match", 400, "UnsupportedHeader"},
      {Code::kUnsupportedCondition, "UnsatisfiableCondition: If-None-Match: *", 400,
       "UnsatisfiableCondition"},
      {Code::kInvalidBlockId, "InvalidBlockId: not base64", 400, "InvalidBlockId"},
      {Code::kUnauthenticated, "InvalidAuthenticationInfo: token expired", 401,
       "InvalidAuthenticationInfo"},
      {Code::kAuthMalformed, "AuthenticationFailed: sp is mandatory", 403,
       "AuthenticationFailed"},
      // Not listed for the code, or not a prefix: the base mapping applies.
      {Code::kPermissionDenied, "InvalidMetadata: x", 403, "AuthorizationPermissionMismatch"},
      {Code::kInvalidHeader, "Foo: bar", 400, "InvalidHeaderValue"},
      {Code::kInvalidHeader, "x-ms-version: too old", 400, "InvalidHeaderValue"},
      {Code::kPermissionDenied, "AuthorizationFailure", 403, "AuthorizationPermissionMismatch"},
  };
  for (const Row& r : rows) {
    BlobError e = blobErrorForBlob(Status(r.code, r.message));
    EXPECT_EQ(e.status, r.status) << r.message;
    EXPECT_EQ(e.code, r.azure) << r.message;
  }
  EXPECT_EQ(errorDetail(Status(Code::kInvalidHeader, "InvalidMetadata: name '1abc'")),
            "name '1abc'");
  EXPECT_EQ(errorDetail(Status(Code::kInvalidHeader, "Foo: bar")), "Foo: bar");
  EXPECT_TRUE(blobErrorFor(Status(Code::kUnauthenticated, "InvalidAuthenticationInfo: x"))
                  .authDetail);
}

TEST(BlobErrorTable, CopySourceStatus) {
  EXPECT_EQ(blobErrorForBlob(Status(Code::kCopySourceFailed, "403: forbidden")).status, 403);
  EXPECT_EQ(blobErrorForBlob(Status(Code::kCopySourceFailed, "500:")).status, 500);
  EXPECT_EQ(blobErrorForBlob(Status(Code::kCopySourceFailed, "source missing")).status, 404);
  EXPECT_EQ(blobErrorForBlob(Status(Code::kCopySourceFailed, "999: bogus")).status, 404);
  EXPECT_EQ(blobErrorForBlob(Status(Code::kCopySourceFailed, "40: short")).status, 404);
  EXPECT_EQ(blobErrorForBlob(Status(Code::kCopySourceFailed, "403: forbidden")).code,
            "CannotVerifyCopySource");
  EXPECT_EQ(errorDetail(Status(Code::kCopySourceFailed, "403: forbidden")), "forbidden");
}

TEST(BlobErrorXml, RendersAndParses) {
  // 2026-11-22T23:30:00.123Z
  const int64_t ms = 1795390200123;
  std::string doc = renderBlobErrorXml("BlobNotFound", "The specified blob does not exist.",
                                       "req-1", ms, {{"HeaderName", "x-ms-range"}});
  EXPECT_TRUE(doc.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>")) << doc;
  pugi::xml_document x;
  ASSERT_TRUE(x.load_string(doc.c_str()));
  pugi::xml_node root = x.document_element();
  EXPECT_STREQ(root.name(), "Error");
  EXPECT_STREQ(root.child("Code").text().get(), "BlobNotFound");
  EXPECT_EQ(std::string(root.child("Message").text().get()),
            "The specified blob does not exist.\nRequestId:req-1\n"
            "Time:2026-11-22T23:30:00.1230000Z");
  EXPECT_STREQ(root.child("HeaderName").text().get(), "x-ms-range");
  std::vector<std::string> order;
  for (pugi::xml_node n : root.children()) {
    order.emplace_back(n.name());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"Code", "Message", "HeaderName"}));
}

TEST(BlobErrorXml, EscapesText) {
  std::string doc =
      renderBlobErrorXml("AuthenticationFailed", "a<b&c", "r", 0,
                         {{"AuthenticationErrorDetail", "sig '<x>' & more"}});
  pugi::xml_document x;
  ASSERT_TRUE(x.load_string(doc.c_str()));
  EXPECT_EQ(std::string(x.document_element().child("AuthenticationErrorDetail").text().get()),
            "sig '<x>' & more");
  EXPECT_TRUE(std::string(x.document_element().child("Message").text().get())
                  .starts_with("a<b&c\nRequestId:r\nTime:1970-01-01T00:00:00.0000000Z"));
}

}  // namespace
}  // namespace ember::blob
