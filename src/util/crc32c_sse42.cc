// The SSE4.2 CRC32C kernel. This is the only file compiled with -msse4.2; it
// is reached only through crc32c.cc's run-time dispatch, so nothing here may
// run (or be inlined elsewhere) on a CPU without SSE4.2.
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#endif

#include "util/crc32c.h"

namespace lightning::crc32c {

std::uint32_t extend_sse42(std::uint32_t init_crc, const char* data, std::size_t n);

#if defined(__SSE4_2__)

std::uint32_t extend_sse42(std::uint32_t init_crc, const char* data, std::size_t n) {
  const char* p = data;
  std::uint32_t crc32 = ~init_crc;
  // Bring p to 8-byte alignment, then take 8 bytes per instruction.
  while (n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    crc32 = _mm_crc32_u8(crc32, static_cast<unsigned char>(*p));
    ++p;
    --n;
  }
#if defined(__x86_64__)
  std::uint64_t crc64 = crc32;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);  // x86 is little-endian, as CRC32C needs
    crc64 = _mm_crc32_u64(crc64, word);
    p += 8;
    n -= 8;
  }
  crc32 = static_cast<std::uint32_t>(crc64);
#endif
  while (n >= 4) {
    std::uint32_t word;
    std::memcpy(&word, p, sizeof word);
    crc32 = _mm_crc32_u32(crc32, word);
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    crc32 = _mm_crc32_u8(crc32, static_cast<unsigned char>(*p));
    ++p;
    --n;
  }
  return ~crc32;
}

#else  // not built with SSE4.2 (non-x86 target): never dispatched to.

std::uint32_t extend_sse42(std::uint32_t init_crc, const char* data, std::size_t n) {
  return extend_portable(init_crc, data, n);
}

#endif

}  // namespace lightning::crc32c
