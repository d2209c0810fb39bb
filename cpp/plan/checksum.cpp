// Slicing-by-8 keeps the check near memory speed: a plan of several hundred MB of weights loads without a pause.
#include "plan/checksum.h"

#include <array>
#include <cstring>

namespace trtcore {

namespace {

constexpr uint64_t kPoly = 0xC96C5795D7870F42ull;  // reflected ECMA-182

using Tables = std::array<std::array<uint64_t, 256>, 8>;

Tables make_tables() {
  Tables t{};
  for (uint64_t i = 0; i < 256; ++i) {
    uint64_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (size_t i = 0; i < 256; ++i)
    for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  return t;
}

}  // namespace

uint64_t crc64(const void* data, size_t size) {
  static const Tables t = make_tables();
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t crc = ~0ull;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);  // little-endian hosts only (checked where plans are written and read)
    crc ^= word;
    crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^ t[4][(crc >> 24) & 0xff] ^
          t[3][(crc >> 32) & 0xff] ^ t[2][(crc >> 40) & 0xff] ^ t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
    p += 8;
    size -= 8;
  }
  while (size--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

}  // namespace trtcore
