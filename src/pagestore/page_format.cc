#include "pagestore/page_format.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"

namespace lightning::pagestore {

void encode_page_ref(char* dst, const PageRef& ref) {
  encode_fixed64(dst, ref.page_id);
  encode_fixed32(dst + 8, ref.length);
  encode_fixed32(dst + 12, ref.crc);
}

PageRef decode_page_ref(const char* src) {
  return PageRef{decode_fixed64(src), decode_fixed32(src + 8), decode_fixed32(src + 12)};
}

void encode_overflow_ref(char* dst, const OverflowRef& ref) {
  encode_page_ref(dst, ref.extent);
  encode_fixed64(dst + kPageRefSize, ref.value_length);
}

OverflowRef decode_overflow_ref(const char* src) {
  return OverflowRef{decode_page_ref(src), decode_fixed64(src + kPageRefSize)};
}

void encode_page_header(char* dst, const PageHeader& h) {
  dst[0] = static_cast<char>(h.type);
  dst[1] = static_cast<char>(h.level);
  dst[2] = static_cast<char>(h.version);
  dst[3] = static_cast<char>(h.codec);
  encode_fixed32(dst + offsetof(PageHeader, crc), h.crc);
  encode_fixed64(dst + offsetof(PageHeader, page_id), h.page_id);
  encode_fixed32(dst + offsetof(PageHeader, page_count), h.page_count);
  encode_fixed16(dst + offsetof(PageHeader, count), h.count);
  encode_fixed16(dst + offsetof(PageHeader, prefix_len), h.prefix_len);
  encode_fixed64(dst + offsetof(PageHeader, payload), h.payload);
}

PageHeader decode_page_header(const char* src) {
  PageHeader h{};
  h.type = static_cast<std::uint8_t>(src[0]);
  h.level = static_cast<std::uint8_t>(src[1]);
  h.version = static_cast<std::uint8_t>(src[2]);
  h.codec = static_cast<std::uint8_t>(src[3]);
  h.crc = decode_fixed32(src + offsetof(PageHeader, crc));
  h.page_id = decode_fixed64(src + offsetof(PageHeader, page_id));
  h.page_count = decode_fixed32(src + offsetof(PageHeader, page_count));
  h.count = decode_fixed16(src + offsetof(PageHeader, count));
  h.prefix_len = decode_fixed16(src + offsetof(PageHeader, prefix_len));
  h.payload = decode_fixed64(src + offsetof(PageHeader, payload));
  return h;
}

std::uint32_t compute_page_crc(std::span<const std::byte> image) {
  assert(image.size() >= kPageHeaderSize);
  const char* p = reinterpret_cast<const char*>(image.data());
  static constexpr char kZero[4] = {0, 0, 0, 0};
  std::uint32_t c = crc32c::value(p, kHeaderCrcOffset);
  c = crc32c::extend(c, kZero, sizeof kZero);
  c = crc32c::extend(c, p + kHeaderCrcOffset + 4, image.size() - kHeaderCrcOffset - 4);
  return crc32c::mask(c);
}

PageRef seal_page(std::span<std::byte> image, std::uint64_t page_id) {
  assert(image.size() >= kPageHeaderSize);
  char* p = reinterpret_cast<char*>(image.data());
  encode_fixed64(p + offsetof(PageHeader, page_id), page_id);
  const std::uint32_t crc = compute_page_crc(image);
  encode_fixed32(p + kHeaderCrcOffset, crc);
  return PageRef{page_id, static_cast<std::uint32_t>(image.size()), crc};
}

namespace {

Status page_corruption(std::uint64_t page_id, std::string_view where, const std::string& what) {
  std::string msg = "page " + std::to_string(page_id);
  if (!where.empty()) {
    msg += " (";
    msg += where;
    msg += ")";
  }
  msg += ": ";
  msg += what;
  return Status::corruption(msg);
}

}  // namespace

Status verify_page(std::span<const std::byte> image, const PageRef& expected,
                   PageType expected_type, std::string_view where) {
  const std::uint64_t id = expected.page_id;
  if (image.size() != expected.length) {
    return page_corruption(id, where,
                           "read " + std::to_string(image.size()) + " bytes, parent says " +
                               std::to_string(expected.length));
  }
  if (image.size() < kPageHeaderSize) {
    return page_corruption(id, where, "image shorter than the page header");
  }
  const PageHeader h = decode_page_header(reinterpret_cast<const char*>(image.data()));
  const std::uint32_t crc = compute_page_crc(image);
  if (crc != h.crc) {
    return page_corruption(id, where, "checksum mismatch (damaged page)");
  }
  if (h.page_id != expected.page_id) {
    return page_corruption(id, where,
                           "page holds page " + std::to_string(h.page_id) + " (misdirected I/O)");
  }
  if (crc != expected.crc) {
    return page_corruption(id, where, "checksum differs from the parent's (stale page)");
  }
  if (h.type != static_cast<std::uint8_t>(expected_type)) {
    return page_corruption(id, where,
                           "page type " + std::to_string(h.type) + ", expected " +
                               std::to_string(static_cast<unsigned>(expected_type)));
  }
  if (h.version != kPageFormatVersion) {
    return page_corruption(id, where, "unknown format version " + std::to_string(h.version));
  }
  if (h.codec != kCodecNone) {
    return page_corruption(id, where, "unknown codec " + std::to_string(h.codec));
  }
  const bool inner = expected_type == PageType::kInner;
  if (inner ? h.level == 0 : h.level != 0) {
    return page_corruption(id, where, "bad level " + std::to_string(h.level));
  }
  // Overflow values and the free-space map span extents; tree pages are single.
  const bool extent = expected_type == PageType::kOverflow || expected_type == PageType::kFreeList ||
                      expected_type == PageType::kRunList;
  if (h.page_count == 0 || (!extent && h.page_count != 1) || image.size() % h.page_count != 0 ||
      !valid_page_size(image.size() / h.page_count)) {
    return page_corruption(id, where,
                           "bad extent: " + std::to_string(h.page_count) + " pages in " +
                               std::to_string(image.size()) + " bytes");
  }
  return Status::ok();
}

namespace detail {

Order compare_full(std::string_view key, std::string_view target) {
  const int c = key.compare(target);
  return c < 0 ? Order::kLess : (c > 0 ? Order::kGreater : Order::kEqual);
}

Order compare_suffix(std::string_view suffix, bool long_key, std::string_view rest) {
  const std::size_t n = std::min(suffix.size(), rest.size());
  const int c = n == 0 ? 0 : std::memcmp(suffix.data(), rest.data(), n);
  if (c != 0) return c < 0 ? Order::kLess : Order::kGreater;
  if (suffix.size() > rest.size()) return Order::kGreater;
  // The whole of a long key is longer than its stub.
  if (suffix.size() == rest.size()) return long_key ? Order::kGreater : Order::kEqual;
  return long_key ? Order::kUndecided : Order::kLess;
}

Order compare_prefix(std::string_view prefix, std::string_view target) {
  const std::size_t n = std::min(prefix.size(), target.size());
  const int c = n == 0 ? 0 : std::memcmp(prefix.data(), target.data(), n);
  if (c != 0) return c < 0 ? Order::kLess : Order::kGreater;
  return target.size() < prefix.size() ? Order::kGreater : Order::kEqual;
}

std::size_t common_prefix_length(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

Result<Order> order_stored_key(std::string_view prefix, std::string_view suffix, bool long_key,
                               const char* key_ref, std::string_view rest,
                               std::string_view target, const KeyLoader* load) {
  const Order o = compare_suffix(suffix, long_key, rest);
  if (o != Order::kUndecided) return o;
  if (load == nullptr) return Order::kLess;
  std::string full;
  LIGHTNING_RETURN_IF_ERROR(load_long_key(prefix, suffix, key_ref, *load, &full));
  return compare_full(full, target);
}

Status load_long_key(std::string_view prefix, std::string_view suffix, const char* ref_bytes,
                     const KeyLoader& load, std::string* out) {
  const OverflowRef ref = decode_overflow_ref(ref_bytes);
  LIGHTNING_RETURN_IF_ERROR(load(ref, out));
  if (out->size() != ref.value_length || out->size() <= prefix.size() + suffix.size() ||
      out->compare(0, prefix.size(), prefix) != 0 ||
      out->compare(prefix.size(), suffix.size(), suffix) != 0) {
    return Status::corruption("long key in extent " + std::to_string(ref.extent.page_id) +
                              " does not match its stub");
  }
  return Status::ok();
}

}  // namespace detail

}  // namespace lightning::pagestore
