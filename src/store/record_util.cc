#include "store/record_util.h"

#include <sys/random.h>

#include <array>
#include <random>

namespace ember::store {

namespace {

Status validateExtent(const Extent& x) {
  if (x.kind == Extent::Kind::kInline) {
    if (x.data.size() != x.size) {
      return makeError(Code::kInvalidArgument, "inline extent carries " +
                                                   std::to_string(x.data.size()) +
                                                   " bytes, its size says " +
                                                   std::to_string(x.size));
    }
    return Status::ok();
  }
  if (x.kind != Extent::Kind::kFile || !isHexId(x.id) || !x.data.empty()) {
    return makeError(Code::kInvalidArgument, "malformed file extent");
  }
  return Status::ok();
}

}  // namespace

bool isHexId(std::string_view id) {
  if (id.size() != 32) {
    return false;
  }
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string newHexId() {
  thread_local std::mt19937_64 gen = [] {
    std::array<uint32_t, 8> seed{};
    size_t got = 0;
    while (got < sizeof(seed)) {
      ssize_t n = getrandom(reinterpret_cast<char*>(seed.data()) + got, sizeof(seed) - got, 0);
      if (n > 0) {
        got += static_cast<size_t>(n);
      }
    }
    std::seed_seq seq(seed.begin(), seed.end());
    return std::mt19937_64(seq);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t i = 0; i < 32; i += 16) {
    uint64_t v = gen();
    for (size_t j = 0; j < 16; ++j) {
      id[i + j] = kHex[(v >> (4 * j)) & 15];
    }
  }
  return id;
}

Status validateObjectRecord(const ObjectRecord& rec) {
  if (rec.bucket.empty()) {
    return makeError(Code::kInvalidArgument, "object record without a bucket");
  }
  uint64_t total = 0;
  for (const Extent& x : rec.extents) {
    if (Status s = validateExtent(x); !s) {
      return s;
    }
    total += x.size;
  }
  if (total != rec.size) {
    return makeError(Code::kInvalidArgument, "extent sizes sum to " + std::to_string(total) +
                                                 ", record size is " + std::to_string(rec.size));
  }
  if (!rec.versionId.empty() && !isHexId(rec.versionId)) {
    return makeError(Code::kInvalidArgument, "malformed versionId");
  }
  return Status::ok();
}

Status validatePart(const PartRecord& part) {
  if (part.number < 1 || (part.blockId.empty() && part.number > kMaxPartNumber)) {
    return makeError(Code::kInvalidArgument, "part number out of range");
  }
  if (part.size != part.extent.size) {
    return makeError(Code::kInvalidArgument, "part size differs from its extent's");
  }
  return validateExtent(part.extent);
}

uint64_t inlineBytes(const ObjectRecord& rec) {
  uint64_t n = 0;
  for (const Extent& x : rec.extents) {
    if (x.kind == Extent::Kind::kInline) {
      n += x.data.size();
    }
  }
  return n;
}

void stripInlineData(ObjectRecord& rec) {
  for (Extent& x : rec.extents) {
    if (x.kind == Extent::Kind::kInline) {
      x.data.clear();
      x.data.shrink_to_fit();
    }
  }
}

}  // namespace ember::store
