// Leaf pages of the B+tree: sorted (key, value) cells behind a slot array,
// with the keys' common prefix stored once (docs/format/pages.md).
//
//   leaf page := header (32, type kLeaf, level 0) slot[count] prefix cell[count] zero*
//   slot := u16 le offset of the cell from the start of the page
//   cell := flags u8 | key_len u16 le | value_len u16 le | key suffix[key_len]
//           | (flags & kLongKey ? key OverflowRef (24) : nothing)
//           | (flags & kOverflowValue ? value OverflowRef (24) : value[value_len])
//
// Long keys (longer than max_inline_key(page_size)): the page stores only the
// first long_key_stub(page_size) bytes (the "stub") plus an OverflowRef to an
// extent holding the whole key. Accessors without a KeyLoader work on stored
// keys (the stub for a long key); the KeyLoader overloads are exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/status.h"
#include "pagestore/page_format.h"

namespace lightning::pagestore {

inline constexpr std::uint8_t kCellOverflowValue = 0x01;  // DO NOT CHANGE: on-disk flag bits
inline constexpr std::uint8_t kCellLongKey = 0x02;
inline constexpr std::size_t kLeafCellHeaderSize = 5;  // flags + key_len + value_len

// Builds one leaf page image.
// Thread safety: none (one builder per thread).
class LeafBuilder {
 public:
  // REQUIRES: valid_page_size(page_size).
  explicit LeafBuilder(std::uint32_t page_size);

  // Would a cell for key (the whole key) and a value of value_len bytes
  // (inline if is_inline(), else an overflow ref; a long key as stub + ref)
  // still fit this page? Always true on an empty builder.
  bool fits(std::string_view key, std::size_t value_len) const;
  // The inline/overflow threshold: value_len <= max_inline_value(page_size).
  static bool is_inline(std::uint32_t page_size, std::size_t value_len) {
    return value_len <= max_inline_value(page_size);
  }

  // Cells must be added in strictly increasing key order.
  // REQUIRES: fits(key, length of the value) was true just before.
  // REQUIRES: key_ref != nullptr iff is_long_key(page_size, whole key length);
  //   then *key_ref addresses an extent holding the whole key (build_overflow)
  //   and `key` is the whole key or at least its first long_key_stub() bytes.
  // REQUIRES (add_inline): is_inline(page_size, value.size()).
  void add_inline(std::string_view key, std::string_view value,
                  const OverflowRef* key_ref = nullptr);
  void add_overflow(std::string_view key, const OverflowRef& value_ref,
                    const OverflowRef* key_ref = nullptr);

  std::size_t count() const { return cells_.size(); }
  bool empty() const { return cells_.empty(); }
  // Bytes the page would use if finished now (header, slots, prefix, cells).
  std::size_t used_bytes() const;
  std::uint32_t page_size() const { return page_size_; }

  // Lays out the page into *out (resized to page_size, unused space zeroed),
  // seals it as page_id and returns the PageRef for the parent. The builder
  // keeps its cells until reset().
  PageRef finish(std::uint64_t page_id, std::string* out) const;
  void reset();

 private:
  struct Cell {
    std::uint32_t key_off;  // stored key bytes in data_
    std::uint32_t key_len;
    std::uint32_t tail_off;  // [key ref] value bytes | value ref, in data_
    std::uint32_t tail_len;
    std::uint16_t value_len;  // inline value length (0 for overflow)
    std::uint8_t flags;
  };
  std::string_view stored_key(const Cell& c) const { return {data_.data() + c.key_off, c.key_len}; }
  std::size_t size_with(std::size_t stored_key_len, std::size_t tail_len,
                        std::size_t prefix_len) const;
  std::size_t prefix_with(std::string_view stored) const;
  void add(std::string_view key, const OverflowRef* key_ref, std::uint8_t flags,
           std::string_view value, const OverflowRef* value_ref);

  std::uint32_t page_size_;
  std::vector<Cell> cells_;
  std::string data_;
  std::size_t cell_bytes_ = 0;  // sum of cell sizes with the whole stored key
  std::size_t prefix_len_ = 0;  // common prefix of all stored keys
  bool has_long_keys() const {
    for (const Cell& c : cells_) {
      if ((c.flags & kCellLongKey) != 0) return true;
    }
    return false;
  }
};

// A read-only view over a leaf page image (normally one verify_page() has
// passed). open() checks the header, every slot and every cell lies inside
// the image; accessors re-check bounds and return empty/zero values for an
// index >= count() or a damaged cell, never reading outside the image.
// Key order is not checked by open() (see check_order()).
// Thread safety: const methods may be called concurrently; the image must
// outlive the view.
class LeafPage {
 public:
  static Result<LeafPage> open(std::span<const std::byte> image, std::string_view where,
                               PageValidation validation = PageValidation::kFull);

  std::uint32_t count() const { return count_; }
  std::string_view prefix() const { return prefix_; }

  // Index of the first stored key >= target (count() if none): binary search
  // over the slots, comparing the prefix once, then suffixes.
  std::uint32_t lower_bound(std::string_view target) const;
  // Exact even with long keys: loads a long key when its stub is a proper
  // prefix of target (never otherwise). Errors from load, or a loaded key that
  // does not match its stub/length, are returned.
  Result<std::uint32_t> lower_bound(std::string_view target, const KeyLoader& load) const;

  // Stored key i (prefix + suffix; the stub of a long key) into *out.
  void key(std::uint32_t i, std::string* out) const;
  // The whole key i (loading a long key).
  Status key(std::uint32_t i, std::string* out, const KeyLoader& load) const;
  // <0, 0, >0 as stored key i is less than, equal to, greater than target.
  int compare_key(std::uint32_t i, std::string_view target) const;
  Result<int> compare_key(std::uint32_t i, std::string_view target, const KeyLoader& load) const;

  bool is_long_key(std::uint32_t i) const;
  OverflowRef long_key_ref(std::uint32_t i) const;  // REQUIRES: is_long_key(i)
  bool has_long_keys() const { return has_long_keys_; }

  bool is_overflow(std::uint32_t i) const;
  std::string_view inline_value(std::uint32_t i) const;  // REQUIRES: !is_overflow(i)
  OverflowRef overflow_ref(std::uint32_t i) const;       // REQUIRES: is_overflow(i)

  // Corruption unless stored keys are strictly increasing (O(count) compares;
  // for checkers and tests).
  Status check_order(std::string_view where) const;

 private:
  struct CellView {
    std::uint8_t flags = 0;
    std::string_view suffix;
    std::string_view key_ref;  // 24 bytes iff kCellLongKey
    std::string_view value;    // inline bytes, or the 24-byte ref iff kCellOverflowValue
  };
  LeafPage(const char* data, std::size_t size, std::uint32_t count, std::string_view prefix,
           bool has_long_keys)
      : data_(data), size_(size), count_(count), prefix_(prefix), has_long_keys_(has_long_keys) {}
  // False if i is out of range or the cell does not lie inside the image.
  bool cell(std::uint32_t i, CellView* c) const;
  Result<std::uint32_t> search(std::string_view target, const KeyLoader* load) const;
  Result<int> compare(std::uint32_t i, std::string_view target, const KeyLoader* load) const;

  const char* data_;
  std::size_t size_;
  std::uint32_t count_;
  std::string_view prefix_;
  bool has_long_keys_;
};

// Decodes the cell at offset off of a leaf image; false if it does not lie
// inside [off, size) or has unknown flags. Exposed for InnerPage-free tools.
namespace detail {
struct LeafCellLayout {
  std::uint8_t flags;
  std::size_t key_len;
  std::size_t value_len;  // bytes of inline value, or kOverflowRefSize
  std::size_t size;       // whole cell
};
bool decode_leaf_cell(const char* data, std::size_t size, std::size_t off, LeafCellLayout* out);
}  // namespace detail

}  // namespace lightning::pagestore
