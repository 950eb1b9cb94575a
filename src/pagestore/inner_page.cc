#include "pagestore/inner_page.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "util/coding.h"

namespace lightning::pagestore {

using detail::Order;

namespace {

Status inner_corruption(const char* data, std::size_t size, std::string_view where,
                        const std::string& what) {
  std::string msg = "inner page";
  if (size >= kPageHeaderSize) msg += " " + std::to_string(decode_page_header(data).page_id);
  if (!where.empty()) msg += " (" + std::string(where) + ")";
  return Status::corruption(msg + ": " + what);
}

}  // namespace

namespace detail {

std::size_t inner_cell_size(const char* data, std::size_t size, std::size_t off) {
  if (off > size || size - off < kInnerCellHeaderSize) return 0;
  const std::uint8_t flags = static_cast<std::uint8_t>(data[off]);
  if ((flags & ~kCellLongKey) != 0) return 0;
  const std::size_t n = kInnerCellHeaderSize + decode_fixed16(data + off + 1) +
                        ((flags & kCellLongKey) != 0 ? kOverflowRefSize : 0);
  return size - off < n ? 0 : n;
}

}  // namespace detail

// ---------------- InnerBuilder ----------------

InnerBuilder::InnerBuilder(std::uint32_t page_size, std::uint8_t level)
    : page_size_(page_size), level_(level) {
  assert(valid_page_size(page_size));
  assert(level >= 1);
}

void InnerBuilder::reset() {
  cells_.clear();
  keys_.clear();
  cell_bytes_ = 0;
  prefix_len_ = 0;
}

std::size_t InnerBuilder::prefix_with(std::string_view stored) const {
  if (cells_.size() < 2) return stored.size();
  return std::min(prefix_len_, detail::common_prefix_length(stored_key(cells_[1]), stored));
}

std::size_t InnerBuilder::used_bytes() const {
  const std::size_t n = cells_.size();
  const std::size_t keyed = n < 2 ? 0 : n - 1;
  const std::size_t saved = keyed < 2 ? 0 : (keyed - 1) * prefix_len_;
  return kPageHeaderSize + kSlotSize * n + cell_bytes_ - saved;
}

bool InnerBuilder::fits(std::string_view key) const {
  if (cells_.empty()) return true;
  const bool long_key = is_long_key(page_size_, key.size());
  const std::string_view stored = long_key ? key.substr(0, long_key_stub(page_size_)) : key;
  const std::size_t n = cells_.size() + 1;
  const std::size_t keyed = n - 1;
  const std::size_t size = kPageHeaderSize + kSlotSize * n + cell_bytes_ +
                           cell_size(stored.size(), long_key) - (keyed - 1) * prefix_with(stored);
  return size <= page_size_;
}

void InnerBuilder::add(std::string_view key, const PageRef& child, const OverflowRef* key_ref) {
  Cell c{};
  c.child = child;
  c.key_off = static_cast<std::uint32_t>(keys_.size());
  if (!cells_.empty()) {
    std::string_view stored = key;
    if (key_ref != nullptr) {
      assert(is_long_key(page_size_, key_ref->value_length));
      assert(key.size() >= long_key_stub(page_size_));
      stored = key.substr(0, long_key_stub(page_size_));
      c.flags = kCellLongKey;
      c.key_ref = *key_ref;
    } else {
      assert(!is_long_key(page_size_, key.size()));
    }
    assert(cells_.size() < 2 || stored_key(cells_.back()) < stored ||
           (key_ref != nullptr && stored_key(cells_.back()) == stored));
    assert(fits(key));
    prefix_len_ = prefix_with(stored);
    c.key_len = static_cast<std::uint32_t>(stored.size());
    keys_.append(stored);
  }
  cells_.push_back(c);
  cell_bytes_ += cell_size(c.key_len, c.flags != 0);
}

PageRef InnerBuilder::finish(std::uint64_t page_id, std::string* out) const {
  assert(!cells_.empty());
  assert(used_bytes() <= page_size_);
  out->assign(page_size_, '\0');
  char* p = out->data();
  const std::size_t n = cells_.size();
  const std::size_t prefix = n < 2 ? 0 : prefix_len_;
  PageHeader h{};
  h.type = static_cast<std::uint8_t>(PageType::kInner);
  h.level = level_;
  h.version = kPageFormatVersion;
  h.codec = kCodecNone;
  h.page_count = 1;
  h.count = static_cast<std::uint16_t>(n);
  h.prefix_len = static_cast<std::uint16_t>(prefix);
  h.payload = has_long_keys() ? kPageFlagLongKeys : 0;
  encode_page_header(p, h);
  std::size_t pos = kPageHeaderSize + kSlotSize * n;
  if (n >= 2) std::memcpy(p + pos, keys_.data() + cells_[1].key_off, prefix);
  pos += prefix;
  for (std::size_t i = 0; i < n; ++i) {
    const Cell& c = cells_[i];
    const std::size_t skip = i == 0 ? 0 : prefix;
    encode_fixed16(p + kPageHeaderSize + kSlotSize * i, static_cast<std::uint16_t>(pos));
    p[pos] = static_cast<char>(c.flags);
    encode_fixed16(p + pos + 1, static_cast<std::uint16_t>(c.key_len - skip));
    encode_page_ref(p + pos + 3, c.child);
    pos += kInnerCellHeaderSize;
    std::memcpy(p + pos, keys_.data() + c.key_off + skip, c.key_len - skip);
    pos += c.key_len - skip;
    if (c.flags & kCellLongKey) {
      encode_overflow_ref(p + pos, c.key_ref);
      pos += kOverflowRefSize;
    }
  }
  assert(pos == used_bytes());
  return seal_page(std::as_writable_bytes(std::span(out->data(), out->size())), page_id);
}

// ---------------- InnerPage ----------------

Result<InnerPage> InnerPage::open(std::span<const std::byte> image, std::string_view where,
                                  PageValidation validation) {
  const char* data = reinterpret_cast<const char*>(image.data());
  const std::size_t size = image.size();
  if (!valid_page_size(size)) {
    return inner_corruption(data, size, where, "bad page size " + std::to_string(size));
  }
  const PageHeader h = decode_page_header(data);
  if (h.type != static_cast<std::uint8_t>(PageType::kInner) || h.level == 0 ||
      h.version != kPageFormatVersion || h.codec != kCodecNone || h.page_count != 1 ||
      h.count == 0 || (h.count < 2 && h.prefix_len != 0)) {
    return inner_corruption(data, size, where, "bad header");
  }
  const std::size_t n = h.count;
  const std::size_t body = kPageHeaderSize + kSlotSize * n + h.prefix_len;
  if (body > size) return inner_corruption(data, size, where, "slots and prefix overrun the page");
  if ((h.payload & ~kPageFlagLongKeys) != 0) return inner_corruption(data, size, where, "unknown page flags");
  const bool flagged_long_keys = (h.payload & kPageFlagLongKeys) != 0;
  if (validation == PageValidation::kHeaderOnly) {
    return InnerPage(data, size, h.level, static_cast<std::uint32_t>(n),
                    std::string_view(data + kPageHeaderSize + kSlotSize * n, h.prefix_len),
                    flagged_long_keys);
  }
  bool has_long_keys = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t off = decode_fixed16(data + kPageHeaderSize + kSlotSize * i);
    const std::size_t cell_size = off < body ? 0 : detail::inner_cell_size(data, size, off);
    if (cell_size == 0) {
      return inner_corruption(data, size, where, "bad cell " + std::to_string(i));
    }
    const std::size_t key_len = decode_fixed16(data + off + 1);
    const bool long_key = (data[off] & kCellLongKey) != 0;
    if (i == 0 && (key_len != 0 || long_key)) {
      return inner_corruption(data, size, where, "cell 0 has a key");
    }
    if (long_key) {
      has_long_keys = true;
      const OverflowRef ref = decode_overflow_ref(data + off + kInnerCellHeaderSize + key_len);
      if (ref.value_length <= h.prefix_len + key_len) {
        return inner_corruption(data, size, where, "long key " + std::to_string(i) + " too short");
      }
    }
  }
  if (has_long_keys != flagged_long_keys) {
    return inner_corruption(data, size, where, "long-key flag disagrees with the cells");
  }
  return InnerPage(data, size, h.level, static_cast<std::uint32_t>(n),
                   std::string_view(data + kPageHeaderSize + kSlotSize * n, h.prefix_len),
                   has_long_keys);
}

bool InnerPage::cell(std::uint32_t i, CellView* c) const {
  if (i >= count_) return false;
  const std::size_t body = kPageHeaderSize + kSlotSize * count_ + prefix_.size();
  const std::size_t off = decode_fixed16(data_ + kPageHeaderSize + kSlotSize * i);
  if (off < body || detail::inner_cell_size(data_, size_, off) == 0) return false;
  const char* p = data_ + off;
  c->flags = static_cast<std::uint8_t>(p[0]);
  const std::size_t key_len = decode_fixed16(p + 1);
  c->child = p + 3;
  c->suffix = std::string_view(p + kInnerCellHeaderSize, key_len);
  c->key_ref = std::string_view();
  if ((c->flags & kCellLongKey) != 0) {
    c->key_ref = std::string_view(p + kInnerCellHeaderSize + key_len, kOverflowRefSize);
  }
  return true;
}

void InnerPage::key(std::uint32_t i, std::string* out) const {
  CellView c;
  if (i == 0 || !cell(i, &c)) {
    out->clear();
    return;
  }
  out->assign(prefix_);
  out->append(c.suffix);
}

Status InnerPage::key(std::uint32_t i, std::string* out, const KeyLoader& load) const {
  CellView c;
  if (!cell(i, &c)) {
    out->clear();
    return Status::invalid_argument("inner cell index out of range");
  }
  if (i > 0 && (c.flags & kCellLongKey) != 0) {
    return detail::load_long_key(prefix_, c.suffix, c.key_ref.data(), load, out);
  }
  key(i, out);
  return Status::ok();
}

PageRef InnerPage::child(std::uint32_t i) const {
  CellView c;
  if (!cell(i, &c)) return PageRef{};
  return decode_page_ref(c.child);
}

bool InnerPage::is_long_key(std::uint32_t i) const {
  CellView c;
  return i > 0 && cell(i, &c) && (c.flags & kCellLongKey) != 0;
}

OverflowRef InnerPage::long_key_ref(std::uint32_t i) const {
  CellView c;
  if (i == 0 || !cell(i, &c) || c.key_ref.size() != kOverflowRefSize) return OverflowRef{};
  return decode_overflow_ref(c.key_ref.data());
}

Result<std::uint32_t> InnerPage::search(std::string_view target, const KeyLoader* load) const {
  if (count_ < 2) return std::uint32_t{0};
  const Order p = detail::compare_prefix(prefix_, target);
  if (p == Order::kGreater) return std::uint32_t{0};
  if (p == Order::kLess) return count_ - 1;
  const std::string_view rest = target.substr(prefix_.size());
  // First i in [1, count) with key(i) > target, minus one.
  std::uint32_t lo = 1;
  std::uint32_t hi = count_;
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    CellView c;
    Order o = Order::kGreater;
    if (cell(mid, &c)) {
      auto r = detail::order_stored_key(prefix_, c.suffix, (c.flags & kCellLongKey) != 0,
                                        c.key_ref.data(), rest, target, load);
      if (!r) return r.status();
      o = *r;
    }
    if (o == Order::kGreater) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo - 1;
}

std::uint32_t InnerPage::find_child(std::string_view target) const {
  return *search(target, nullptr);
}

Result<std::uint32_t> InnerPage::find_child(std::string_view target, const KeyLoader& load) const {
  return search(target, &load);
}

Status InnerPage::check_order(std::string_view where) const {
  std::string prev;
  std::string cur;
  for (std::uint32_t i = 1; i < count_; ++i) {
    key(i, &cur);
    if (i > 1 && !(prev < cur || (prev == cur && is_long_key(i)))) {
      return inner_corruption(data_, size_, where, "keys out of order at " + std::to_string(i));
    }
    prev.swap(cur);
  }
  return Status::ok();
}

}  // namespace lightning::pagestore
