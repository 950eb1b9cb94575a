// Helpers shared by the B+tree read and merge code (not a public contract).
#pragma once

#include <string>
#include <string_view>

#include "pagestore/btree.h"
#include "pagestore/inner_page.h"
#include "pagestore/leaf_page.h"
#include "pagestore/overflow.h"

namespace lightning::pagestore::detail {

// Loads the whole bytes behind an overflow ref (a value or a long key).
inline Status load_overflow(const PageStore& store, const OverflowRef& ref, std::string* out) {
  std::string image;
  LIGHTNING_RETURN_IF_ERROR(store.read_uncached(ref.extent, PageType::kOverflow, &image));
  return read_overflow_value(std::as_bytes(std::span(image.data(), image.size())), ref,
                             store.path() + " page " + std::to_string(ref.extent.page_id), out);
}

inline KeyLoader key_loader(const PageStore& store) {
  return [&store](const OverflowRef& ref, std::string* key) { return load_overflow(store, ref, key); };
}

inline std::string page_where(const PageStore& store, const PageRef& ref) {
  return store.path() + " page " + std::to_string(ref.page_id) + " (offset " +
         std::to_string(ref.page_id * store.page_size()) + ")";
}

// Writes value into a fresh overflow extent and returns its ref.
Result<OverflowRef> write_overflow(PageStore& store, std::string_view bytes);

}  // namespace lightning::pagestore::detail
