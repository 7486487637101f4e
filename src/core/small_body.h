#pragma once
// Receiving a small request body whole, for the core operations that hash, write and commit it in one trip
// to the blocking pool (small PUTs, Append Block). One byte more than allowed is asked for, so an oversized
// body is told from a complete one without reading past it.

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/stream.h"

namespace ember::core {

// Reads `body` to its end. With `declared` (the Content-Length): exactly that many bytes, else
// kIncompleteBody (shorter, or longer than declared). Without: at most `limit` bytes, else `overLimit`.
asio::awaitable<Result<std::string>> readSmallBody(ByteSource& body, std::optional<uint64_t> declared,
                                                   uint64_t limit, Status overLimit);

}  // namespace ember::core
