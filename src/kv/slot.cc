// keySlot: Redis Cluster's hash slot (CRC16-XMODEM: polynomial 0x1021, initial value 0, no reflection).

#include <array>

#include "kv/engine.h"

namespace ember::kv {
namespace {

constexpr std::array<uint16_t, 256> makeTable() {
  std::array<uint16_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int b = 0; b < 8; ++b) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
    t[i] = crc;
  }
  return t;
}

constexpr std::array<uint16_t, 256> kTable = makeTable();

uint16_t crc16(std::string_view s) {
  uint16_t crc = 0;
  for (char c : s) {
    crc = static_cast<uint16_t>((crc << 8) ^ kTable[((crc >> 8) ^ static_cast<uint8_t>(c)) & 0xff]);
  }
  return crc;
}

}  // namespace

uint16_t keySlot(std::string_view key) {
  // The first '{' and the first '}' after it; a non-empty tag between them is what is hashed.
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return static_cast<uint16_t>(crc16(key) & 16383);
}

}  // namespace ember::kv
