// Overflow extents: a value (or a long key) too large for a cell, stored in
// page_count contiguous pages (docs/format/pages.md).
//
//   extent := header (32, type kOverflow, level 0, page_count = N,
//                     count 0, prefix_len 0, payload = value length)
//             value bytes | zero padding to N * page_size
//   N = ceil((32 + value length) / page_size), at least 1
//
// One crc (the header's, equal to the PageRef's) covers the whole extent.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lightning/status.h"
#include "pagestore/page_format.h"

namespace lightning::pagestore {

// Pages an extent for a value of value_len bytes occupies.
constexpr std::uint64_t overflow_pages(std::uint64_t value_len, std::uint32_t page_size) {
  return (kPageHeaderSize + value_len + page_size - 1) / page_size;
}
// The largest value an extent can hold (its byte length must fit the u32 PageRef length).
constexpr std::uint64_t max_overflow_value(std::uint32_t page_size) {
  return (0xffffffffull / page_size) * page_size - kPageHeaderSize;
}

// Builds the extent for value, sealed as first_page_id, into *out (resized to
// overflow_pages() * page_size) and sets *ref (ref->extent.length = out->size()).
// REQUIRES: valid_page_size(page_size), value.size() <= max_overflow_value(page_size).
void build_overflow(std::string_view value, std::uint64_t first_page_id, std::uint32_t page_size,
                    std::string* out, OverflowRef* ref);

// Verifies an extent image read from disk against ref (verify_page plus the
// value length and the extent's page count) and copies the value into *value.
// Corruption names the first page id and `where`.
Status read_overflow_value(std::span<const std::byte> extent_image, const OverflowRef& ref,
                           std::string_view where, std::string* value);

// The value inside an already verified extent, without copying; Corruption if
// the header's length does not match ref or the extent's size.
Result<std::string_view> overflow_value_view(std::span<const std::byte> extent_image,
                                             const OverflowRef& ref, std::string_view where);

}  // namespace lightning::pagestore
