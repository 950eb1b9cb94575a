// On-disk page format of the copy-on-write B+tree (docs/format/pages.md has
// the byte layout and the reasoning).
//
//   page (page_size bytes, a power of two in [4 KiB, 64 KiB], fixed per
//   database) := header (32 bytes) body
//   extent := header (32 bytes) body, spanning page_count contiguous pages
//     (overflow values and long keys; leaf and inner pages are 1-page extents)
//
//   header :=
//     type       u8      PageType
//     level      u8      0 for leaves (and every non-tree page), height above the leaves for inner
//     version    u8      kPageFormatVersion
//     codec      u8      kCodecNone
//     crc        u32 le  masked crc32c of the whole stored image with this field as 0
//     page_id    u64 le  the page's own id (detects misdirected reads and writes)
//     page_count u32 le  pages in the extent (1 for leaf and inner pages)
//     count      u16 le  cells (leaf, inner); 0 otherwise
//     prefix_len u16 le  length of the common key prefix stored once (leaf, inner)
//     payload    u64 le  overflow: bytes of the value/key stored in the extent; 0 otherwise
//
// A parent stores its child's PageRef {page_id, length, crc}; the crc in the
// PageRef equals the crc in the child's header, so one CRC pass over the image
// checks both (a stale image carries its own, older, valid crc and is caught by
// the comparison with the parent's).
//
// Thread safety: everything here is a pure function of its arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "lightning/status.h"

namespace lightning::pagestore {

inline constexpr std::uint8_t kPageFormatVersion = 1;
inline constexpr std::uint8_t kCodecNone = 0;

// DO NOT CHANGE: embedded in on-disk data.
enum class PageType : std::uint8_t {
  kLeaf = 1,
  kInner = 2,
  kOverflow = 3,
  kFreeList = 4,
  kRunList = 5,  // the live run files (a blob extent like kFreeList)
};
inline constexpr std::uint8_t kMaxPageType = 5;

inline constexpr std::uint32_t kMinPageSize = 4 * 1024;
inline constexpr std::uint32_t kMaxPageSize = 64 * 1024;
// True if page_size is a power of two in [kMinPageSize, kMaxPageSize].
constexpr bool valid_page_size(std::uint64_t page_size) {
  return page_size >= kMinPageSize && page_size <= kMaxPageSize &&
         (page_size & (page_size - 1)) == 0;
}

// ---- PageRef: a child/extent address as stored in parents and meta slots ----
//   page_id u64 le | length u32 le | crc u32 le   (16 bytes)
// crc = the masked crc32c in the referenced image's header (see above).
struct PageRef {
  std::uint64_t page_id = 0;
  std::uint32_t length = 0;  // bytes of the stored image (page_count * page_size)
  std::uint32_t crc = 0;
  friend bool operator==(const PageRef&, const PageRef&) = default;
};
inline constexpr std::size_t kPageRefSize = 16;
void encode_page_ref(char* dst, const PageRef& ref);
PageRef decode_page_ref(const char* src);

// ---- OverflowRef: a value (or long key) stored in an overflow extent ----
//   extent PageRef (16) | value_length u64 le   (24 bytes)
struct OverflowRef {
  PageRef extent;                  // extent.length = bytes stored (pages * page_size)
  std::uint64_t value_length = 0;  // bytes of the value (or key) itself
  friend bool operator==(const OverflowRef&, const OverflowRef&) = default;
};
inline constexpr std::size_t kOverflowRefSize = 24;
void encode_overflow_ref(char* dst, const OverflowRef& ref);
OverflowRef decode_overflow_ref(const char* src);

// Leaf and inner pages use the header's payload field as flags.
// DO NOT CHANGE: embedded in on-disk data.
inline constexpr std::uint64_t kPageFlagLongKeys = 0x1;  // some cell holds a long key

// How much LeafPage::open / InnerPage::open check. kFull walks every slot and
// cell (for pages just read from disk, verify() and tools); kHeaderOnly checks
// the header and that the slot array and prefix fit (O(1), for pages already
// validated once and served from the cache). Either way accessors bounds-check
// every cell, so a damaged page can give wrong answers but never a crash.
enum class PageValidation { kFull, kHeaderOnly };

// ---- The common page header ----
inline constexpr std::size_t kPageHeaderSize = 32;
struct PageHeader {
  std::uint8_t type;
  std::uint8_t level;
  std::uint8_t version;
  std::uint8_t codec;
  std::uint32_t crc;
  std::uint64_t page_id;
  std::uint32_t page_count;
  std::uint16_t count;
  std::uint16_t prefix_len;
  std::uint64_t payload;
};
static_assert(sizeof(PageHeader) == kPageHeaderSize);
static_assert(offsetof(PageHeader, level) == 1);
static_assert(offsetof(PageHeader, version) == 2);
static_assert(offsetof(PageHeader, codec) == 3);
static_assert(offsetof(PageHeader, crc) == 4);
static_assert(offsetof(PageHeader, page_id) == 8);
static_assert(offsetof(PageHeader, page_count) == 16);
static_assert(offsetof(PageHeader, count) == 20);
static_assert(offsetof(PageHeader, prefix_len) == 22);
static_assert(offsetof(PageHeader, payload) == 24);
inline constexpr std::size_t kHeaderCrcOffset = offsetof(PageHeader, crc);

// Field-by-field little-endian encoding (never a memcpy of the struct).
// REQUIRES: dst/src point at kPageHeaderSize bytes.
void encode_page_header(char* dst, const PageHeader& h);
PageHeader decode_page_header(const char* src);

// ---- Cell size limits (shared by leaf and inner pages) ----
// Every cell, slot included, takes at most max_cell_size(page_size), so at
// least 4 cells fit a page and any single cell fits an empty page.
inline constexpr std::size_t kSlotSize = 2;  // u16 le offset of the cell within the page
constexpr std::size_t max_cell_size(std::uint32_t page_size) {
  return (page_size - kPageHeaderSize) / 4;
}
// A leaf value is stored inline iff value_len <= max_inline_value(page_size)
// (page_size / 8: 512 B for 4 KiB pages), else in an overflow extent.
constexpr std::size_t max_inline_value(std::uint32_t page_size) { return page_size / 8; }
// The largest key stored whole in a cell: 473 B for 4 KiB pages, 8153 B for
// 64 KiB pages. Longer keys are "long keys": the cell keeps their first
// max_inline_key() bytes (the stub) and an OverflowRef (24 B) to an extent
// holding the whole key. 7 = slot + leaf cell header (flags u8, key_len u16,
// value_len u16).
//
// The stub is exactly as long as the longest inline key, so stored keys
// (whole inline keys and stubs) are in non-decreasing order whenever the
// whole keys are strictly increasing; equal stored keys occur only when the
// later one is long.
constexpr std::size_t max_inline_key(std::uint32_t page_size) {
  return max_cell_size(page_size) - kSlotSize - 5 - kOverflowRefSize - max_inline_value(page_size);
}
constexpr std::size_t long_key_stub(std::uint32_t page_size) { return max_inline_key(page_size); }
constexpr bool is_long_key(std::uint32_t page_size, std::size_t key_len) {
  return key_len > max_inline_key(page_size);
}
static_assert(max_inline_key(kMinPageSize) == 473);
static_assert(max_inline_key(kMaxPageSize) == 8153);

// Loads the whole key of a long-key cell (typically: read the extent, then
// read_overflow_value()). Search calls it only when the inline stub cannot
// decide a comparison, i.e. when the target starts with the stub.
using KeyLoader = std::function<Status(const OverflowRef& key_ref, std::string* key)>;

// ---- Sealing and verification ----

// Stores page_id in the header, computes the header crc over the whole image
// (crc field as 0) and returns the PageRef to store in the parent.
// REQUIRES: image.size() >= kPageHeaderSize and all other header fields set.
PageRef seal_page(std::span<std::byte> image, std::uint64_t page_id);

// Verifies a page image read from disk: its length equals expected.length,
// its crc matches both its header and expected.crc (a stale image fails the
// latter), page_id == expected.page_id (a misdirected read fails), and
// type == expected_type, version, codec, level and page_count are valid.
// Returns Corruption naming the page id and `where` (e.g. "file:offset").
Status verify_page(std::span<const std::byte> image, const PageRef& expected,
                   PageType expected_type, std::string_view where);

// masked crc32c of image with the header crc field taken as zero.
// REQUIRES: image.size() >= kPageHeaderSize.
std::uint32_t compute_page_crc(std::span<const std::byte> image);

namespace detail {
// Shared by leaf and inner pages (not part of the format).

// Where a stored key stands relative to a search target.
enum class Order : std::uint8_t {
  kLess,       // key < target
  kEqual,      // key == target
  kGreater,    // key > target
  kUndecided,  // a long key whose stored stub is a proper prefix of target
};
// Compares a stored key suffix with the target's bytes after the page prefix.
Order compare_suffix(std::string_view suffix, bool long_key, std::string_view rest);
// Compares target with the page prefix: kEqual if target starts with prefix
// (search goes on with target.substr(prefix.size())), kGreater if every key
// of the page is greater than target, kLess if every key is less.
Order compare_prefix(std::string_view prefix, std::string_view target);
// A whole-key comparison of a loaded long key with target.
Order compare_full(std::string_view key, std::string_view target);
std::size_t common_prefix_length(std::string_view a, std::string_view b);
// Loads the long key whose OverflowRef is encoded at ref (24 bytes) and checks
// it is longer than, and starts with, its stored stub prefix + suffix.
Status load_long_key(std::string_view prefix, std::string_view suffix, const char* ref,
                     const KeyLoader& load, std::string* out);
inline int to_int(Order o) { return o == Order::kLess ? -1 : (o == Order::kEqual ? 0 : 1); }
// Where a stored key (page prefix + suffix; a stub when long_key, its
// OverflowRef at key_ref) stands relative to target, given
// rest = target minus the prefix (REQUIRES: target starts with the prefix).
// A long key the stub cannot decide is loaded with *load; without a loader it
// counts as less than target.
Result<Order> order_stored_key(std::string_view prefix, std::string_view suffix, bool long_key,
                               const char* key_ref, std::string_view rest,
                               std::string_view target, const KeyLoader* load);
}  // namespace detail

}  // namespace lightning::pagestore
