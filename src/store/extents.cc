#include <algorithm>
#include <cstring>

#include "store/object_store.h"

namespace ember::store {

Result<size_t> readExtents(const ObjectRecord& rec, uint64_t offset, std::span<char> buf,
                           const std::function<Result<size_t>(const Extent&, uint64_t,
                                                              std::span<char>)>& readFile) {
  uint64_t base = 0;
  for (const Extent& e : rec.extents) {
    if (offset < base + e.size) {
      uint64_t within = offset - base;
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), e.size - within));
      if (e.kind == Extent::Kind::kInline) {
        if (e.data.size() != e.size) {
          return unexpected(Code::kCorruption, "inline extent size mismatch");
        }
        std::memcpy(buf.data(), e.data.data() + within, want);
        return want;
      }
      return readFile(e, within, buf.first(want));
    }
    base += e.size;
  }
  return size_t{0};
}

}  // namespace ember::store
