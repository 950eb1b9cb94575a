// Feeds arbitrary bytes to the B+tree page decoders: LeafPage::open,
// InnerPage::open (without verify_page, so that the structural checks are
// reached) and every accessor on every index; read_overflow_value on the
// raw input and on a sealed copy; and a LeafBuilder round trip of cells
// parsed from the input. Nothing may crash, over-read or leak, and answers
// must be self-consistent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <span>
#include <string>

#include "pagestore/inner_page.h"
#include "pagestore/leaf_page.h"
#include "pagestore/overflow.h"
#include "pagestore/page_format.h"
#include "util/coding.h"

namespace {

using namespace lightning::pagestore;  // NOLINT

void check(bool ok) {
  if (!ok) std::abort();
}

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// A loader that fails for odd ids and otherwise returns value_length bytes.
lightning::Status load(const OverflowRef& ref, std::string* key) {
  if (ref.extent.page_id % 2 == 1) return lightning::Status::io_error("odd");
  if (ref.value_length > 100000) return lightning::Status::corruption("too long");
  key->assign(static_cast<std::size_t>(ref.value_length), 'k');
  return lightning::Status::ok();
}

void exercise_leaf(const std::string& image) {
  auto page = LeafPage::open(bytes(image), "fuzz");
  if (!page.has_value()) {
    check(page.status().is_corruption());
    return;
  }
  const bool ordered = page->check_order("fuzz").is_ok();
  std::string k;
  std::string full;
  for (std::uint32_t i = 0; i <= page->count(); ++i) {
    page->key(i, &k);
    (void)page->key(i, &full, load);
    const std::uint32_t lb = page->lower_bound(k);
    check(lb <= page->count());
    (void)page->lower_bound(k, load);
    (void)page->compare_key(i, k);
    (void)page->compare_key(i, k, load);
    const bool ovf = page->is_overflow(i);
    if (ovf) {
      (void)page->overflow_ref(i);
    } else {
      check(page->inline_value(i).size() <= image.size());
    }
    if (page->is_long_key(i)) (void)page->long_key_ref(i);
    if (i < page->count()) {
      check(page->compare_key(i, k) >= 0);
      if (ordered && !page->has_long_keys()) {
        check(lb == i);
        check(page->compare_key(i, k) == 0);
      }
    }
  }
}

void exercise_inner(const std::string& image) {
  auto page = InnerPage::open(bytes(image), "fuzz");
  if (!page.has_value()) {
    check(page.status().is_corruption());
    return;
  }
  check(page->count() >= 1 && page->level() >= 1);
  const bool ordered = page->check_order("fuzz").is_ok();
  std::string k;
  std::string full;
  for (std::uint32_t i = 0; i <= page->count(); ++i) {
    page->key(i, &k);
    (void)page->key(i, &full, load);
    (void)page->child(i);
    (void)page->is_long_key(i);
    (void)page->long_key_ref(i);
    const std::uint32_t c = page->find_child(k);
    check(c < page->count());
    auto cl = page->find_child(k, load);
    if (cl.has_value()) check(*cl < page->count());
    if (ordered && !page->has_long_keys() && i >= 1 && i < page->count()) check(c == i);
  }
}

// Forces a header that passes the type/level/version checks so the slot and
// cell parsers see the fuzzer's bytes.
std::string with_header(std::string image, PageType type, std::uint8_t level) {
  image[0] = static_cast<char>(type);
  image[1] = static_cast<char>(level);
  image[2] = static_cast<char>(kPageFormatVersion);
  image[3] = static_cast<char>(kCodecNone);
  lightning::encode_fixed32(image.data() + offsetof(PageHeader, page_count), 1);
  return image;
}

void exercise_overflow(const std::uint8_t* data, std::size_t size) {
  std::string raw(reinterpret_cast<const char*>(data), size);
  std::string value;
  OverflowRef ref;
  if (size >= kPageHeaderSize + kOverflowRefSize) {
    ref = decode_overflow_ref(raw.data() + size - kOverflowRefSize);
  }
  (void)read_overflow_value(bytes(raw), ref, "fuzz", &value);
  if (size < kPageHeaderSize) return;
  // Sealed copy with a matching type, so the extent checks are reached.
  raw[0] = static_cast<char>(PageType::kOverflow);
  raw[1] = 0;
  raw[2] = static_cast<char>(kPageFormatVersion);
  raw[3] = static_cast<char>(kCodecNone);
  const PageHeader h = decode_page_header(raw.data());
  ref.extent = seal_page(std::as_writable_bytes(std::span(raw.data(), raw.size())), h.page_id);
  ref.value_length = h.payload;
  if (read_overflow_value(bytes(raw), ref, "fuzz", &value).is_ok()) {
    check(value.size() == h.payload);
    check(value.size() + kPageHeaderSize <= raw.size());
  }
}

// Parses cells from the input and checks a LeafBuilder/InnerBuilder round trip.
void exercise_builders(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return;
  const std::uint32_t ps = kMinPageSize << (data[0] % 5);
  std::set<std::string> keys;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (in.size() >= 2) {
    const std::size_t len = 1 + static_cast<unsigned char>(in[0]) % 48;
    in.remove_prefix(1);
    keys.insert(std::string(in.substr(0, len)));
    in.remove_prefix(std::min(len, in.size()));
  }
  LeafBuilder lb(ps);
  InnerBuilder ib(ps, 1);
  std::vector<std::string> added;
  for (const std::string& k : keys) {
    if (!lb.fits(k, k.size() * 3) || !ib.fits(k)) break;
    lb.add_inline(k, k + k + k);
    ib.add(k, PageRef{added.size(), 1, 2});
    added.push_back(k);
  }
  std::string image;
  const PageRef ref = lb.finish(5, &image);
  check(verify_page(bytes(image), ref, PageType::kLeaf, "fuzz").is_ok());
  auto leaf = LeafPage::open(bytes(image), "fuzz");
  check(leaf.has_value() && leaf->count() == added.size());
  std::string k;
  for (std::uint32_t i = 0; i < added.size(); ++i) {
    leaf->key(i, &k);
    check(k == added[i]);
    check(leaf->inline_value(i) == k + k + k);
    check(leaf->lower_bound(k) == i);
  }
  if (added.empty()) return;
  const PageRef iref = ib.finish(6, &image);
  check(verify_page(bytes(image), iref, PageType::kInner, "fuzz").is_ok());
  auto inner = InnerPage::open(bytes(image), "fuzz");
  check(inner.has_value() && inner->count() == added.size());
  for (std::uint32_t i = 1; i < added.size(); ++i) {
    check(inner->find_child(added[i]) == i);
    check(inner->child(i).page_id == i);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The input as a page: zero-padded (or cut) to the smallest page size that holds it.
  std::size_t ps = kMinPageSize;
  while (ps < size && ps < kMaxPageSize) ps *= 2;
  std::string image(reinterpret_cast<const char*>(data), std::min(size, ps));
  image.resize(ps, '\0');

  exercise_leaf(image);
  exercise_inner(image);
  exercise_leaf(with_header(image, PageType::kLeaf, 0));
  exercise_inner(with_header(image, PageType::kInner, static_cast<std::uint8_t>(1 + image[1] % 9)));
  // Odd sizes must be rejected cleanly.
  std::string raw(reinterpret_cast<const char*>(data), size);
  exercise_leaf(raw);
  exercise_inner(raw);

  exercise_overflow(data, size);
  exercise_builders(data, size);
  return 0;
}
