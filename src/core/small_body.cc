#include "core/small_body.h"

namespace ember::core {

asio::awaitable<Result<std::string>> readSmallBody(ByteSource& body, std::optional<uint64_t> declared,
                                                   uint64_t limit, Status overLimit) {
  uint64_t cap = declared ? *declared : limit;
  std::string data(static_cast<size_t>(cap) + 1, '\0');
  size_t got = 0;
  for (;;) {
    auto n = co_await body.read(std::span<char>(data.data() + got, data.size() - got));
    EMBER_CO_TRY(n);
    if (*n == 0) {
      break;
    }
    got += *n;
    if (got == data.size()) {
      if (declared) {
        co_return unexpected(Code::kIncompleteBody, "The body is longer than its declared size.");
      }
      co_return unexpected(std::move(overLimit));
    }
  }
  if (declared && got != *declared) {
    co_return unexpected(Code::kIncompleteBody, "You did not provide the number of bytes "
                                                "specified by the Content-Length HTTP header.");
  }
  data.resize(got);
  co_return data;
}

}  // namespace ember::core
