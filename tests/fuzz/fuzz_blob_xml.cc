// libFuzzer target: the Azure Blob request-body XML parsers (Put Block List, Set Blob Service
// Properties). Any input must yield a value or a kMalformedXml error, and a parsed block list
// must hold only the three entry kinds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "blob/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto blocks = ember::blob::parseBlockList(in);
  if (!blocks && blocks.error().code() != ember::Code::kMalformedXml) {
    std::abort();
  }
  if (blocks) {
    for (const auto& b : *blocks) {
      using Kind = ember::blob::BlockRef::Kind;
      if (b.kind != Kind::kCommitted && b.kind != Kind::kUncommitted && b.kind != Kind::kLatest) {
        std::abort();
      }
      if (b.id.size() > size) {
        std::abort();  // an id is text taken from the input
      }
    }
  }
  ember::Status props = ember::blob::validateServiceProperties(in);
  if (!props && props.code() != ember::Code::kMalformedXml) {
    std::abort();
  }
  return 0;
}
