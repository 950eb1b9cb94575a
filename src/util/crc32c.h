// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the
// checksum on every WAL record, block and page.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run
// time) and a table-driven software version otherwise; both give identical
// results (tested against the RFC 3720 vectors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lightning::crc32c {

// CRC32C of concat(A, data[0,n)) given init_crc = CRC32C(A).
std::uint32_t extend(std::uint32_t init_crc, const char* data, std::size_t n);
inline std::uint32_t value(const char* data, std::size_t n) { return extend(0, data, n); }
inline std::uint32_t value(std::string_view s) { return extend(0, s.data(), s.size()); }

// The portable implementation (exposed for tests and for CPUs without SSE4.2).
std::uint32_t extend_portable(std::uint32_t init_crc, const char* data, std::size_t n);
// True if extend() uses the hardware instruction on this CPU.
bool hardware_accelerated();

// Stored checksums are masked so that a CRC over data that itself embeds CRCs
// does not degenerate (same scheme as LevelDB's log format).
inline constexpr std::uint32_t kMaskDelta = 0xa282ead8u;
inline std::uint32_t mask(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline std::uint32_t unmask(std::uint32_t masked) {
  std::uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace lightning::crc32c
