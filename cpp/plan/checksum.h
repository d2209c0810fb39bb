// CRC-64/XZ (ECMA-182 polynomial, reflected): the plan file's trailing checksum.
#pragma once
#include <cstddef>
#include <cstdint>

namespace trtcore {

uint64_t crc64(const void* data, size_t size);

}  // namespace trtcore
