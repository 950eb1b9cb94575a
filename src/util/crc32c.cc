// Portable slicing-by-8 CRC32C and the run-time choice between it and the
// SSE4.2 kernel (crc32c_sse42.cc).
#include "util/crc32c.h"

#include <array>

#include "util/coding.h"

namespace lightning::crc32c {

// Defined in crc32c_sse42.cc (compiled with -msse4.2). Only called when the
// CPU reports SSE4.2; on non-x86 builds it is never called.
std::uint32_t extend_sse42(std::uint32_t init_crc, const char* data, std::size_t n);

namespace {

constexpr std::uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of
// byte b followed by k zero bytes, which lets 8 bytes be folded at once.
constexpr Tables make_tables() {
  Tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1u) ? kPoly : 0u);
    t[0][b] = crc;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t b = 0; b < 256; ++b) {
      t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
  return t;
}

constexpr Tables kTables = make_tables();
static_assert(kTables[0][1] == 0xf26b8303u, "CRC32C table sanity check");

bool detect_sse42() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

// Checked once, on first use (thread-safe static initialization).
bool use_sse42() {
  static const bool kHave = detect_sse42();
  return kHave;
}

}  // namespace

std::uint32_t extend_portable(std::uint32_t init_crc, const char* data, std::size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  std::uint32_t crc = ~init_crc;
  while (n >= 8) {
    const std::uint32_t lo = decode_fixed32(reinterpret_cast<const char*>(p)) ^ crc;
    const std::uint32_t hi = decode_fixed32(reinterpret_cast<const char*>(p + 4));
    crc = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
          kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
          kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *p) & 0xff];
    ++p;
    --n;
  }
  return ~crc;
}

bool hardware_accelerated() { return use_sse42(); }

std::uint32_t extend(std::uint32_t init_crc, const char* data, std::size_t n) {
  if (use_sse42()) return extend_sse42(init_crc, data, n);
  return extend_portable(init_crc, data, n);
}

}  // namespace lightning::crc32c
