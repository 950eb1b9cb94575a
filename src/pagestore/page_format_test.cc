// Tests for the common page header, PageRef and verify_page/seal_page.
#include "pagestore/page_format.h"

#include <gtest/gtest.h>

#include <span>
#include <string>

#include "pagestore/leaf_page.h"
#include "util/coding.h"

namespace lightning::pagestore {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
std::span<std::byte> wbytes(std::string& s) {
  return std::as_writable_bytes(std::span(s.data(), s.size()));
}

// A small sealed leaf page with a few cells.
PageRef make_leaf(std::uint64_t id, std::string* out, std::string_view value = "v") {
  LeafBuilder b(4096);
  b.add_inline("apple", value);
  b.add_inline("banana", "yellow");
  return b.finish(id, out);
}

TEST(PageFormatTest, PageRefRoundTrip) {
  const PageRef ref{0x0102030405060708ull, 0x11223344u, 0xdeadbeefu};
  char buf[kPageRefSize];
  encode_page_ref(buf, ref);
  EXPECT_EQ(decode_fixed64(buf), ref.page_id);
  EXPECT_EQ(decode_fixed32(buf + 8), ref.length);
  EXPECT_EQ(decode_fixed32(buf + 12), ref.crc);
  EXPECT_EQ(decode_page_ref(buf), ref);

  const OverflowRef oref{ref, 0x99887766554433ull};
  char obuf[kOverflowRefSize];
  encode_overflow_ref(obuf, oref);
  EXPECT_EQ(decode_overflow_ref(obuf), oref);
  EXPECT_EQ(decode_fixed64(obuf + 16), oref.value_length);
}

TEST(PageFormatTest, HeaderRoundTripAndOffsets) {
  PageHeader h{};
  h.type = 2;
  h.level = 3;
  h.version = 1;
  h.codec = 0;
  h.crc = 0xa1b2c3d4u;
  h.page_id = 77;
  h.page_count = 5;
  h.count = 300;
  h.prefix_len = 12;
  h.payload = 123456789;
  char buf[kPageHeaderSize];
  encode_page_header(buf, h);
  EXPECT_EQ(buf[0], 2);
  EXPECT_EQ(buf[1], 3);
  EXPECT_EQ(decode_fixed32(buf + 4), h.crc);
  EXPECT_EQ(decode_fixed64(buf + 8), h.page_id);
  EXPECT_EQ(decode_fixed32(buf + 16), h.page_count);
  EXPECT_EQ(decode_fixed16(buf + 20), h.count);
  EXPECT_EQ(decode_fixed16(buf + 22), h.prefix_len);
  EXPECT_EQ(decode_fixed64(buf + 24), h.payload);
  const PageHeader d = decode_page_header(buf);
  EXPECT_EQ(d.type, h.type);
  EXPECT_EQ(d.level, h.level);
  EXPECT_EQ(d.crc, h.crc);
  EXPECT_EQ(d.page_id, h.page_id);
  EXPECT_EQ(d.page_count, h.page_count);
  EXPECT_EQ(d.count, h.count);
  EXPECT_EQ(d.prefix_len, h.prefix_len);
  EXPECT_EQ(d.payload, h.payload);
}

TEST(PageFormatTest, ValidPageSizes) {
  EXPECT_TRUE(valid_page_size(4096));
  EXPECT_TRUE(valid_page_size(8192));
  EXPECT_TRUE(valid_page_size(65536));
  EXPECT_FALSE(valid_page_size(2048));
  EXPECT_FALSE(valid_page_size(131072));
  EXPECT_FALSE(valid_page_size(12288));
  EXPECT_FALSE(valid_page_size(0));
}

TEST(PageFormatTest, Limits) {
  for (std::uint32_t ps = kMinPageSize; ps <= kMaxPageSize; ps *= 2) {
    // Every cell kind takes at most a quarter of the usable space.
    const std::size_t q = max_cell_size(ps);
    EXPECT_LE(kSlotSize + kLeafCellHeaderSize + max_inline_key(ps) + max_inline_value(ps), q);
    EXPECT_LE(kSlotSize + kLeafCellHeaderSize + long_key_stub(ps) + kOverflowRefSize +
                  max_inline_value(ps),
              q);
    EXPECT_LE(kSlotSize + kLeafCellHeaderSize + max_inline_key(ps) + kOverflowRefSize, q);
    EXPECT_GE(long_key_stub(ps), 400u);
  }
}

TEST(PageFormatTest, SealAndVerify) {
  std::string page;
  const PageRef ref = make_leaf(42, &page);
  EXPECT_EQ(ref.page_id, 42u);
  EXPECT_EQ(ref.length, 4096u);
  EXPECT_EQ(ref.crc, decode_page_header(page.data()).crc);
  EXPECT_EQ(ref.crc, compute_page_crc(bytes(page)));
  EXPECT_TRUE(verify_page(bytes(page), ref, PageType::kLeaf, "f:0").is_ok());

  // Round trip through the 16-byte parent encoding.
  char buf[kPageRefSize];
  encode_page_ref(buf, ref);
  EXPECT_TRUE(verify_page(bytes(page), decode_page_ref(buf), PageType::kLeaf, "f:0").is_ok());
}

TEST(PageFormatTest, DetectsEveryFlippedByte) {
  std::string page;
  const PageRef ref = make_leaf(7, &page);
  for (std::size_t i = 0; i < page.size(); ++i) {
    std::string bad = page;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    const Status s = verify_page(bytes(bad), ref, PageType::kLeaf, "data.db:28672");
    ASSERT_TRUE(s.is_corruption()) << "byte " << i;
    EXPECT_NE(s.message().find("page 7"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("data.db:28672"), std::string::npos) << s.message();
  }
}

TEST(PageFormatTest, DetectsMisdirectedRead) {
  std::string page;
  make_leaf(8, &page);
  std::string other;
  const PageRef expected = make_leaf(9, &other);
  // The image of page 8 returned where page 9 was asked for.
  const PageRef wrong{9, expected.length, expected.crc};
  const Status s = verify_page(bytes(page), wrong, PageType::kLeaf, "x");
  ASSERT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("misdirected"), std::string::npos) << s.message();
}

TEST(PageFormatTest, DetectsWrongPageIdEvenWithMatchingCrc) {
  std::string page;
  const PageRef ref = make_leaf(8, &page);
  PageRef wrong = ref;
  wrong.page_id = 10;
  EXPECT_TRUE(verify_page(bytes(page), wrong, PageType::kLeaf, "x").is_corruption());
}

TEST(PageFormatTest, DetectsStalePage) {
  std::string old_image;
  make_leaf(5, &old_image, "old");
  std::string new_image;
  const PageRef current = make_leaf(5, &new_image, "new");
  ASSERT_TRUE(verify_page(bytes(new_image), current, PageType::kLeaf, "x").is_ok());
  // The older image is internally consistent but not what the parent points at.
  const Status s = verify_page(bytes(old_image), current, PageType::kLeaf, "x");
  ASSERT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("stale"), std::string::npos) << s.message();
}

TEST(PageFormatTest, DetectsWrongType) {
  std::string page;
  const PageRef ref = make_leaf(3, &page);
  EXPECT_TRUE(verify_page(bytes(page), ref, PageType::kInner, "x").is_corruption());
  EXPECT_TRUE(verify_page(bytes(page), ref, PageType::kOverflow, "x").is_corruption());
}

TEST(PageFormatTest, DetectsWrongLength) {
  std::string page;
  PageRef ref = make_leaf(3, &page);
  ref.length = 8192;
  EXPECT_TRUE(verify_page(bytes(page), ref, PageType::kLeaf, "x").is_corruption());
  std::string shorter = page.substr(0, 2048);
  PageRef ref2 = make_leaf(3, &page);
  EXPECT_TRUE(verify_page(bytes(shorter), ref2, PageType::kLeaf, "x").is_corruption());
  ref2.length = 2048;
  EXPECT_TRUE(verify_page(bytes(shorter), ref2, PageType::kLeaf, "x").is_corruption());
  EXPECT_TRUE(verify_page({}, PageRef{3, 0, 0}, PageType::kLeaf, "x").is_corruption());
}

TEST(PageFormatTest, RejectsUnknownVersionCodecLevelAndExtent) {
  auto resealed = [](std::size_t offset, char v) {
    std::string page;
    make_leaf(4, &page);
    page[offset] = v;
    const PageRef ref = seal_page(wbytes(page), 4);
    return verify_page(bytes(page), ref, PageType::kLeaf, "x");
  };
  EXPECT_TRUE(resealed(offsetof(PageHeader, version), 2).is_corruption());
  EXPECT_TRUE(resealed(offsetof(PageHeader, codec), 1).is_corruption());
  EXPECT_TRUE(resealed(offsetof(PageHeader, level), 1).is_corruption());
  EXPECT_TRUE(resealed(offsetof(PageHeader, page_count), 2).is_corruption());
  EXPECT_TRUE(resealed(offsetof(PageHeader, page_count), 0).is_corruption());
  EXPECT_TRUE(resealed(offsetof(PageHeader, count), 2).is_ok());  // structure is open()'s job
}

TEST(PageFormatTest, SuffixCompareRules) {
  using detail::Order;
  EXPECT_EQ(detail::compare_suffix("abc", false, "abc"), Order::kEqual);
  EXPECT_EQ(detail::compare_suffix("abc", false, "abd"), Order::kLess);
  EXPECT_EQ(detail::compare_suffix("abc", false, "ab"), Order::kGreater);
  EXPECT_EQ(detail::compare_suffix("ab", false, "abc"), Order::kLess);
  EXPECT_EQ(detail::compare_suffix("abc", true, "abc"), Order::kGreater);
  EXPECT_EQ(detail::compare_suffix("ab", true, "abc"), Order::kUndecided);
  EXPECT_EQ(detail::compare_suffix("ac", true, "abc"), Order::kGreater);
  EXPECT_EQ(detail::compare_prefix("pre", "pre"), Order::kEqual);
  EXPECT_EQ(detail::compare_prefix("pre", "prefix"), Order::kEqual);
  EXPECT_EQ(detail::compare_prefix("pre", "pr"), Order::kGreater);
  EXPECT_EQ(detail::compare_prefix("pre", "pra"), Order::kGreater);
  EXPECT_EQ(detail::compare_prefix("pre", "q"), Order::kLess);
  EXPECT_EQ(detail::compare_prefix("", ""), Order::kEqual);
}

}  // namespace
}  // namespace lightning::pagestore
