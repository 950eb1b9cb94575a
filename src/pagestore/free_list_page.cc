#include "pagestore/free_list_page.h"

#include <cstring>
#include <span>

namespace lightning::pagestore {

std::uint64_t free_list_pages(std::uint32_t page_size, std::size_t payload_bytes) {
  return (kPageHeaderSize + payload_bytes + page_size - 1) / page_size;
}

PageRef build_free_list(std::string_view payload, std::uint64_t first_page_id, std::uint64_t pages,
                        std::uint32_t page_size, std::string* image, PageType type) {
  image->assign(pages * page_size, '\0');
  PageHeader h{};
  h.type = static_cast<std::uint8_t>(type);
  h.version = kPageFormatVersion;
  h.codec = kCodecNone;
  h.page_count = static_cast<std::uint32_t>(pages);
  h.payload = payload.size();
  encode_page_header(image->data(), h);
  std::memcpy(image->data() + kPageHeaderSize, payload.data(), payload.size());
  return seal_page(std::as_writable_bytes(std::span(image->data(), image->size())), first_page_id);
}

Status read_free_list_payload(std::string_view image, const PageRef& ref, std::string_view where,
                              std::string* payload) {
  if (image.size() < kPageHeaderSize) {
    return Status::corruption(std::string(where) + ": free-space page is truncated");
  }
  PageHeader h = decode_page_header(image.data());
  if (h.payload > image.size() - kPageHeaderSize) {
    return Status::corruption(std::string(where) + ": free-space map at page " +
                              std::to_string(ref.page_id) + " claims " + std::to_string(h.payload) +
                              " bytes, more than its extent holds");
  }
  payload->assign(image.substr(kPageHeaderSize, h.payload));
  return Status::ok();
}

}  // namespace lightning::pagestore
