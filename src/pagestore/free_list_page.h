// Blob extents: a page header (type kFreeList or kRunList, payload = blob
// bytes) followed by the blob, zero-padded to whole pages. The free-space
// map (free_space.h) and the run list are stored this way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/status.h"
#include "pagestore/page_format.h"

namespace lightning::pagestore {

// Pages needed to store a map of payload_bytes.
std::uint64_t free_list_pages(std::uint32_t page_size, std::size_t payload_bytes);
// Builds the sealed image (pages * page_size bytes) at first_page_id.
PageRef build_free_list(std::string_view payload, std::uint64_t first_page_id, std::uint64_t pages,
                        std::uint32_t page_size, std::string* image, PageType type = PageType::kFreeList);
// Extracts the map bytes from an image already checked by verify_page().
Status read_free_list_payload(std::string_view image, const PageRef& ref, std::string_view where,
                              std::string* payload);

}  // namespace lightning::pagestore
