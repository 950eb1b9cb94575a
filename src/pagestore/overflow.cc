#include "pagestore/overflow.h"

#include <cassert>
#include <cstring>

namespace lightning::pagestore {

void build_overflow(std::string_view value, std::uint64_t first_page_id, std::uint32_t page_size,
                    std::string* out, OverflowRef* ref) {
  assert(valid_page_size(page_size));
  assert(value.size() <= max_overflow_value(page_size));
  const std::uint64_t pages = overflow_pages(value.size(), page_size);
  out->assign(pages * page_size, '\0');
  PageHeader h{};
  h.type = static_cast<std::uint8_t>(PageType::kOverflow);
  h.level = 0;
  h.version = kPageFormatVersion;
  h.codec = kCodecNone;
  h.page_count = static_cast<std::uint32_t>(pages);
  h.payload = value.size();
  encode_page_header(out->data(), h);
  if (!value.empty()) std::memcpy(out->data() + kPageHeaderSize, value.data(), value.size());
  ref->extent =
      seal_page(std::as_writable_bytes(std::span(out->data(), out->size())), first_page_id);
  ref->value_length = value.size();
}

Result<std::string_view> overflow_value_view(std::span<const std::byte> extent_image,
                                             const OverflowRef& ref, std::string_view where) {
  const char* data = reinterpret_cast<const char*>(extent_image.data());
  const std::size_t size = extent_image.size();
  auto corrupt = [&](const std::string& what) {
    std::string msg = "overflow extent " + std::to_string(ref.extent.page_id);
    if (!where.empty()) msg += " (" + std::string(where) + ")";
    return Status::corruption(msg + ": " + what);
  };
  if (size < kPageHeaderSize) return corrupt("shorter than its header");
  const PageHeader h = decode_page_header(data);
  if (h.payload != ref.value_length) {
    return corrupt("holds " + std::to_string(h.payload) + " bytes, parent says " +
                   std::to_string(ref.value_length));
  }
  if (h.page_count == 0 || size % h.page_count != 0 || !valid_page_size(size / h.page_count) ||
      h.payload > size - kPageHeaderSize ||
      overflow_pages(h.payload, static_cast<std::uint32_t>(size / h.page_count)) != h.page_count) {
    return corrupt("value length " + std::to_string(h.payload) + " does not match " +
                   std::to_string(h.page_count) + " pages of " + std::to_string(size) + " bytes");
  }
  return std::string_view(data + kPageHeaderSize, h.payload);
}

Status read_overflow_value(std::span<const std::byte> extent_image, const OverflowRef& ref,
                           std::string_view where, std::string* value) {
  LIGHTNING_RETURN_IF_ERROR(verify_page(extent_image, ref.extent, PageType::kOverflow, where));
  Result<std::string_view> v = overflow_value_view(extent_image, ref, where);
  if (!v.has_value()) return v.status();
  value->assign(*v);
  return Status::ok();
}

}  // namespace lightning::pagestore
