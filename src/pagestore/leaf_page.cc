#include "pagestore/leaf_page.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "util/coding.h"

namespace lightning::pagestore {

using detail::Order;

namespace {

constexpr std::uint8_t kKnownCellFlags = kCellOverflowValue | kCellLongKey;

std::size_t tail_size(bool long_key, bool overflow_value, std::size_t value_len) {
  return (long_key ? kOverflowRefSize : 0) + (overflow_value ? kOverflowRefSize : value_len);
}

Status leaf_corruption(const char* data, std::size_t size, std::string_view where,
                       const std::string& what) {
  std::string msg = "leaf page";
  if (size >= kPageHeaderSize) msg += " " + std::to_string(decode_page_header(data).page_id);
  if (!where.empty()) msg += " (" + std::string(where) + ")";
  return Status::corruption(msg + ": " + what);
}

}  // namespace

namespace detail {

bool decode_leaf_cell(const char* data, std::size_t size, std::size_t off, LeafCellLayout* out) {
  if (off > size || size - off < kLeafCellHeaderSize) return false;
  const std::uint8_t flags = static_cast<std::uint8_t>(data[off]);
  if ((flags & ~kKnownCellFlags) != 0) return false;
  const std::size_t key_len = decode_fixed16(data + off + 1);
  const std::size_t value_len = decode_fixed16(data + off + 3);
  const bool overflow = (flags & kCellOverflowValue) != 0;
  if (overflow && value_len != 0) return false;
  const std::size_t cell_size =
      kLeafCellHeaderSize + key_len + tail_size((flags & kCellLongKey) != 0, overflow, value_len);
  if (size - off < cell_size) return false;
  *out = LeafCellLayout{flags, key_len, overflow ? kOverflowRefSize : value_len, cell_size};
  return true;
}

}  // namespace detail

// ---------------- LeafBuilder ----------------

LeafBuilder::LeafBuilder(std::uint32_t page_size) : page_size_(page_size) {
  assert(valid_page_size(page_size));
}

void LeafBuilder::reset() {
  cells_.clear();
  data_.clear();
  cell_bytes_ = 0;
  prefix_len_ = 0;
}

std::size_t LeafBuilder::prefix_with(std::string_view stored) const {
  if (cells_.empty()) return stored.size();
  return std::min(prefix_len_, detail::common_prefix_length(stored_key(cells_.front()), stored));
}

std::size_t LeafBuilder::size_with(std::size_t stored_key_len, std::size_t tail_len,
                                   std::size_t prefix_len) const {
  const std::size_t n = cells_.size() + 1;
  const std::size_t key_bytes = cell_bytes_ + kLeafCellHeaderSize + stored_key_len + tail_len;
  return kPageHeaderSize + kSlotSize * n + key_bytes - (n - 1) * prefix_len;
}

std::size_t LeafBuilder::used_bytes() const {
  const std::size_t n = cells_.size();
  if (n == 0) return kPageHeaderSize;
  return kPageHeaderSize + kSlotSize * n + cell_bytes_ - (n - 1) * prefix_len_;
}

bool LeafBuilder::fits(std::string_view key, std::size_t value_len) const {
  const bool long_key = is_long_key(page_size_, key.size());
  const std::string_view stored = long_key ? key.substr(0, long_key_stub(page_size_)) : key;
  const std::size_t tail = tail_size(long_key, !is_inline(page_size_, value_len), value_len);
  return size_with(stored.size(), tail, prefix_with(stored)) <= page_size_;
}

void LeafBuilder::add_inline(std::string_view key, std::string_view value,
                             const OverflowRef* key_ref) {
  assert(is_inline(page_size_, value.size()));
  add(key, key_ref, 0, value, nullptr);
}

void LeafBuilder::add_overflow(std::string_view key, const OverflowRef& value_ref,
                               const OverflowRef* key_ref) {
  add(key, key_ref, kCellOverflowValue, {}, &value_ref);
}

void LeafBuilder::add(std::string_view key, const OverflowRef* key_ref, std::uint8_t flags,
                      std::string_view value, const OverflowRef* value_ref) {
  std::string_view stored = key;
  if (key_ref != nullptr) {
    assert(is_long_key(page_size_, key_ref->value_length));
    assert(key.size() >= long_key_stub(page_size_));
    stored = key.substr(0, long_key_stub(page_size_));
    flags |= kCellLongKey;
  } else {
    assert(!is_long_key(page_size_, key.size()));
  }
  assert(cells_.empty() || stored_key(cells_.back()) < stored ||
         (key_ref != nullptr && stored_key(cells_.back()) == stored));
  const std::size_t prefix = prefix_with(stored);
  Cell c{};
  c.flags = flags;
  c.key_off = static_cast<std::uint32_t>(data_.size());
  c.key_len = static_cast<std::uint32_t>(stored.size());
  data_.append(stored);
  c.tail_off = static_cast<std::uint32_t>(data_.size());
  char ref[kOverflowRefSize];
  if (key_ref != nullptr) {
    encode_overflow_ref(ref, *key_ref);
    data_.append(ref, sizeof ref);
  }
  if (value_ref != nullptr) {
    encode_overflow_ref(ref, *value_ref);
    data_.append(ref, sizeof ref);
  } else {
    data_.append(value);
    c.value_len = static_cast<std::uint16_t>(value.size());
  }
  c.tail_len = static_cast<std::uint32_t>(data_.size() - c.tail_off);
  assert(size_with(c.key_len, c.tail_len, prefix) <= page_size_);
  cells_.push_back(c);
  cell_bytes_ += kLeafCellHeaderSize + c.key_len + c.tail_len;
  prefix_len_ = prefix;
}

PageRef LeafBuilder::finish(std::uint64_t page_id, std::string* out) const {
  assert(used_bytes() <= page_size_);
  out->assign(page_size_, '\0');
  char* p = out->data();
  const std::size_t n = cells_.size();
  const std::size_t prefix = n == 0 ? 0 : prefix_len_;
  PageHeader h{};
  h.type = static_cast<std::uint8_t>(PageType::kLeaf);
  h.level = 0;
  h.version = kPageFormatVersion;
  h.codec = kCodecNone;
  h.page_count = 1;
  h.count = static_cast<std::uint16_t>(n);
  h.prefix_len = static_cast<std::uint16_t>(prefix);
  h.payload = has_long_keys() ? kPageFlagLongKeys : 0;
  encode_page_header(p, h);
  std::size_t pos = kPageHeaderSize + kSlotSize * n;
  if (n > 0) std::memcpy(p + pos, data_.data() + cells_[0].key_off, prefix);
  pos += prefix;
  for (std::size_t i = 0; i < n; ++i) {
    const Cell& c = cells_[i];
    encode_fixed16(p + kPageHeaderSize + kSlotSize * i, static_cast<std::uint16_t>(pos));
    p[pos] = static_cast<char>(c.flags);
    encode_fixed16(p + pos + 1, static_cast<std::uint16_t>(c.key_len - prefix));
    encode_fixed16(p + pos + 3, c.value_len);
    pos += kLeafCellHeaderSize;
    std::memcpy(p + pos, data_.data() + c.key_off + prefix, c.key_len - prefix);
    pos += c.key_len - prefix;
    std::memcpy(p + pos, data_.data() + c.tail_off, c.tail_len);
    pos += c.tail_len;
  }
  assert(pos == used_bytes() || n == 0);
  return seal_page(std::as_writable_bytes(std::span(out->data(), out->size())), page_id);
}

// ---------------- LeafPage ----------------

Result<LeafPage> LeafPage::open(std::span<const std::byte> image, std::string_view where,
                                  PageValidation validation) {
  const char* data = reinterpret_cast<const char*>(image.data());
  const std::size_t size = image.size();
  if (!valid_page_size(size)) {
    return leaf_corruption(data, size, where, "bad page size " + std::to_string(size));
  }
  const PageHeader h = decode_page_header(data);
  if (h.type != static_cast<std::uint8_t>(PageType::kLeaf) || h.level != 0 ||
      h.version != kPageFormatVersion || h.codec != kCodecNone || h.page_count != 1) {
    return leaf_corruption(data, size, where, "bad header");
  }
  const std::size_t n = h.count;
  const std::size_t body = kPageHeaderSize + kSlotSize * n + h.prefix_len;
  if (body > size) return leaf_corruption(data, size, where, "slots and prefix overrun the page");
  if ((h.payload & ~kPageFlagLongKeys) != 0) return leaf_corruption(data, size, where, "unknown page flags");
  const bool flagged_long_keys = (h.payload & kPageFlagLongKeys) != 0;
  if (validation == PageValidation::kHeaderOnly) {
    return LeafPage(data, size, static_cast<std::uint32_t>(n),
                    std::string_view(data + kPageHeaderSize + kSlotSize * n, h.prefix_len),
                    flagged_long_keys);
  }
  bool has_long_keys = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t off = decode_fixed16(data + kPageHeaderSize + kSlotSize * i);
    detail::LeafCellLayout c;
    if (off < body || !detail::decode_leaf_cell(data, size, off, &c)) {
      return leaf_corruption(data, size, where, "bad cell " + std::to_string(i));
    }
    if ((c.flags & kCellLongKey) != 0) {
      has_long_keys = true;
      const OverflowRef ref = decode_overflow_ref(data + off + kLeafCellHeaderSize + c.key_len);
      if (ref.value_length <= h.prefix_len + c.key_len) {
        return leaf_corruption(data, size, where, "long key " + std::to_string(i) + " too short");
      }
    }
  }
  if (has_long_keys != flagged_long_keys) {
    return leaf_corruption(data, size, where, "long-key flag disagrees with the cells");
  }
  return LeafPage(data, size, static_cast<std::uint32_t>(n),
                  std::string_view(data + kPageHeaderSize + kSlotSize * n, h.prefix_len),
                  has_long_keys);
}

bool LeafPage::cell(std::uint32_t i, CellView* c) const {
  if (i >= count_) return false;
  const std::size_t body = kPageHeaderSize + kSlotSize * count_ + prefix_.size();
  const std::size_t off = decode_fixed16(data_ + kPageHeaderSize + kSlotSize * i);
  detail::LeafCellLayout l;
  if (off < body || !detail::decode_leaf_cell(data_, size_, off, &l)) return false;
  const char* p = data_ + off + kLeafCellHeaderSize;
  c->flags = l.flags;
  c->suffix = std::string_view(p, l.key_len);
  p += l.key_len;
  c->key_ref = std::string_view();
  if ((l.flags & kCellLongKey) != 0) {
    c->key_ref = std::string_view(p, kOverflowRefSize);
    p += kOverflowRefSize;
  }
  c->value = std::string_view(p, l.value_len);
  return true;
}

Result<int> LeafPage::compare(std::uint32_t i, std::string_view target,
                              const KeyLoader* load) const {
  CellView c;
  if (!cell(i, &c)) return 1;  // out of range: an "infinite" key
  const Order p = detail::compare_prefix(prefix_, target);
  if (p != Order::kEqual) return detail::to_int(p);
  auto o = detail::order_stored_key(prefix_, c.suffix, (c.flags & kCellLongKey) != 0,
                                    c.key_ref.data(), target.substr(prefix_.size()), target, load);
  if (!o) return o.status();
  return detail::to_int(*o);
}

int LeafPage::compare_key(std::uint32_t i, std::string_view target) const {
  return *compare(i, target, nullptr);
}

Result<int> LeafPage::compare_key(std::uint32_t i, std::string_view target,
                                  const KeyLoader& load) const {
  return compare(i, target, &load);
}

Result<std::uint32_t> LeafPage::search(std::string_view target, const KeyLoader* load) const {
  const Order p = detail::compare_prefix(prefix_, target);
  if (p == Order::kGreater) return std::uint32_t{0};
  if (p == Order::kLess) return count_;
  const std::string_view rest = target.substr(prefix_.size());
  std::uint32_t lo = 0;
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
    if (o == Order::kLess) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::uint32_t LeafPage::lower_bound(std::string_view target) const {
  return *search(target, nullptr);
}

Result<std::uint32_t> LeafPage::lower_bound(std::string_view target, const KeyLoader& load) const {
  return search(target, &load);
}

void LeafPage::key(std::uint32_t i, std::string* out) const {
  CellView c;
  if (!cell(i, &c)) {
    out->clear();
    return;
  }
  out->assign(prefix_);
  out->append(c.suffix);
}

Status LeafPage::key(std::uint32_t i, std::string* out, const KeyLoader& load) const {
  CellView c;
  if (!cell(i, &c)) {
    out->clear();
    return Status::invalid_argument("leaf cell index out of range");
  }
  if ((c.flags & kCellLongKey) != 0)
    return detail::load_long_key(prefix_, c.suffix, c.key_ref.data(), load, out);
  out->assign(prefix_);
  out->append(c.suffix);
  return Status::ok();
}

bool LeafPage::is_long_key(std::uint32_t i) const {
  CellView c;
  return cell(i, &c) && (c.flags & kCellLongKey) != 0;
}

OverflowRef LeafPage::long_key_ref(std::uint32_t i) const {
  CellView c;
  if (!cell(i, &c) || c.key_ref.size() != kOverflowRefSize) return OverflowRef{};
  return decode_overflow_ref(c.key_ref.data());
}

bool LeafPage::is_overflow(std::uint32_t i) const {
  CellView c;
  return cell(i, &c) && (c.flags & kCellOverflowValue) != 0;
}

std::string_view LeafPage::inline_value(std::uint32_t i) const {
  CellView c;
  if (!cell(i, &c) || (c.flags & kCellOverflowValue) != 0) return {};
  return c.value;
}

OverflowRef LeafPage::overflow_ref(std::uint32_t i) const {
  CellView c;
  if (!cell(i, &c) || (c.flags & kCellOverflowValue) == 0) return OverflowRef{};
  return decode_overflow_ref(c.value.data());
}

Status LeafPage::check_order(std::string_view where) const {
  std::string prev;
  std::string cur;
  for (std::uint32_t i = 0; i < count_; ++i) {
    key(i, &cur);
    if (i > 0 && !(prev < cur || (prev == cur && is_long_key(i)))) {
      return leaf_corruption(data_, size_, where, "keys out of order at " + std::to_string(i));
    }
    prev.swap(cur);
  }
  return Status::ok();
}

}  // namespace lightning::pagestore
