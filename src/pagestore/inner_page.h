// Inner (branch) pages of the B+tree: (separator key, child PageRef) cells
// behind a slot array, the separators' common prefix stored once
// (docs/format/pages.md).
//
//   inner page := header (32, type kInner, level >= 1) slot[count] prefix cell[count] zero*
//   cell := flags u8 | key_len u16 le | child PageRef (16) | key suffix[key_len]
//           | (flags & kCellLongKey ? key OverflowRef (24) : nothing)
//
// Cell 0's key is -infinity: stored empty, outside the prefix. Child i holds
// the keys k with key(i) <= k < key(i+1). The prefix is common to keys 1..count-1.
// Long separator keys are stored like long leaf keys (stub + OverflowRef).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/status.h"
#include "pagestore/leaf_page.h"
#include "pagestore/page_format.h"

namespace lightning::pagestore {

inline constexpr std::size_t kInnerCellHeaderSize = 3 + kPageRefSize;  // flags, key_len, child

// Builds one inner page image.
// Thread safety: none (one builder per thread).
class InnerBuilder {
 public:
  // REQUIRES: valid_page_size(page_size), level >= 1.
  InnerBuilder(std::uint32_t page_size, std::uint8_t level);

  // Would a cell with separator key (the whole key) still fit? Always true on
  // an empty builder (the first cell's key is not stored).
  bool fits(std::string_view key) const;
  // Cell i = (separator key, child). The first cell's key (and key_ref) is
  // ignored. Keys of later cells strictly increasing.
  // REQUIRES: fits(key); key_ref as for LeafBuilder::add_inline (only for a
  //   long key, then `key` is the whole key or at least its stub).
  void add(std::string_view key, const PageRef& child, const OverflowRef* key_ref = nullptr);

  std::size_t count() const { return cells_.size(); }
  bool empty() const { return cells_.empty(); }
  std::size_t used_bytes() const;
  std::uint8_t level() const { return level_; }

  // Lays out and seals the page into *out (resized to page_size).
  // REQUIRES: count() >= 1.
  PageRef finish(std::uint64_t page_id, std::string* out) const;
  void reset();

 private:
  struct Cell {
    std::uint32_t key_off;
    std::uint32_t key_len;
    PageRef child;
    OverflowRef key_ref;
    std::uint8_t flags;
  };
  std::string_view stored_key(const Cell& c) const { return {keys_.data() + c.key_off, c.key_len}; }
  static std::size_t cell_size(std::size_t stored_key_len, bool long_key) {
    return kInnerCellHeaderSize + stored_key_len + (long_key ? kOverflowRefSize : 0);
  }
  std::size_t prefix_with(std::string_view stored) const;

  std::uint32_t page_size_;
  std::uint8_t level_;
  std::vector<Cell> cells_;
  std::string keys_;
  std::size_t cell_bytes_ = 0;  // sum of cell sizes with whole stored keys
  std::size_t prefix_len_ = 0;  // common prefix of stored keys 1..count-1
  bool has_long_keys() const {  // cell 0's key is not stored
    for (std::size_t i = 1; i < cells_.size(); ++i) {
      if ((cells_[i].flags & kCellLongKey) != 0) return true;
    }
    return false;
  }
};

// A read-only view over an inner page image; same safety rules as LeafPage.
// open() also requires count >= 1 and an empty cell 0.
class InnerPage {
 public:
  static Result<InnerPage> open(std::span<const std::byte> image, std::string_view where,
                                PageValidation validation = PageValidation::kFull);

  std::uint8_t level() const { return level_; }
  std::uint32_t count() const { return count_; }
  std::string_view prefix() const { return prefix_; }

  // Stored key i (empty for i == 0; the stub of a long key).
  void key(std::uint32_t i, std::string* out) const;
  Status key(std::uint32_t i, std::string* out, const KeyLoader& load) const;
  PageRef child(std::uint32_t i) const;  // PageRef{} if i >= count()
  bool is_long_key(std::uint32_t i) const;
  OverflowRef long_key_ref(std::uint32_t i) const;
  bool has_long_keys() const { return has_long_keys_; }

  // The child whose range holds target: the last i with key(i) <= target
  // (0 if target < key(1)). Without a loader a long separator whose stub is a
  // proper prefix of target counts as <= target; with one it is exact.
  std::uint32_t find_child(std::string_view target) const;
  Result<std::uint32_t> find_child(std::string_view target, const KeyLoader& load) const;

  Status check_order(std::string_view where) const;

 private:
  struct CellView {
    std::uint8_t flags = 0;
    std::string_view suffix;
    std::string_view key_ref;
    const char* child = nullptr;
  };
  InnerPage(const char* data, std::size_t size, std::uint8_t level, std::uint32_t count,
            std::string_view prefix, bool has_long_keys)
      : data_(data),
        size_(size),
        level_(level),
        count_(count),
        prefix_(prefix),
        has_long_keys_(has_long_keys) {}
  bool cell(std::uint32_t i, CellView* c) const;
  Result<std::uint32_t> search(std::string_view target, const KeyLoader* load) const;

  const char* data_;
  std::size_t size_;
  std::uint8_t level_;
  std::uint32_t count_;
  std::string_view prefix_;
  bool has_long_keys_;
};

namespace detail {
// Size of the inner cell at off, or 0 if it does not lie inside [off, size)
// or has unknown flags.
std::size_t inner_cell_size(const char* data, std::size_t size, std::size_t off);
}  // namespace detail

}  // namespace lightning::pagestore
