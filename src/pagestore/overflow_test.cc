// Tests for overflow extents.
#include "pagestore/overflow.h"

#include <gtest/gtest.h>

#include <random>
#include <span>
#include <string>

#include "testutil/testutil.h"
#include "util/coding.h"

namespace lightning::pagestore {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(OverflowTest, RoundTripSizes) {
  std::mt19937_64 rng(testing::test_seed());
  for (std::uint32_t ps : {4096u, 65536u}) {
    const std::size_t lens[] = {0,
                                1,
                                ps - kPageHeaderSize - 1,
                                ps - kPageHeaderSize,
                                ps - kPageHeaderSize + 1,
                                2 * ps,
                                65536,
                                1 << 20};
    for (std::size_t len : lens) {
      const std::string value = testing::random_string(rng, len, '\0', '\xff');
      std::string image;
      OverflowRef ref;
      build_overflow(value, 70, ps, &image, &ref);
      EXPECT_EQ(ref.value_length, len);
      EXPECT_EQ(ref.extent.page_id, 70u);
      EXPECT_EQ(ref.extent.length, image.size());
      EXPECT_EQ(image.size(), overflow_pages(len, ps) * ps);
      EXPECT_EQ(image.size() / ps, (kPageHeaderSize + len + ps - 1) / ps);
      std::string out = "junk";
      ASSERT_TRUE(read_overflow_value(bytes(image), ref, "t", &out).is_ok());
      EXPECT_EQ(out, value);
      auto view = overflow_value_view(bytes(image), ref, "t");
      ASSERT_TRUE(view.has_value());
      EXPECT_EQ(*view, value);
    }
  }
}

TEST(OverflowTest, DetectsDamage) {
  const std::uint32_t ps = 4096;
  const std::string value(10000, 'v');
  std::string image;
  OverflowRef ref;
  build_overflow(value, 9, ps, &image, &ref);
  ASSERT_EQ(image.size(), 3u * ps);
  std::string out;
  // Flipped bytes anywhere in the extent, including the last page's padding.
  for (std::size_t at : {std::size_t{0}, std::size_t{5}, std::size_t{30}, std::size_t{4096},
                         std::size_t{10031}, image.size() - 1}) {
    std::string bad = image;
    bad[at] = static_cast<char>(bad[at] ^ 1);
    const Status s = read_overflow_value(bytes(bad), ref, "data.db:36864", &out);
    ASSERT_TRUE(s.is_corruption()) << at;
    EXPECT_NE(s.message().find("page 9"), std::string::npos) << s.message();
  }
  // Truncated extent (one page missing).
  EXPECT_TRUE(read_overflow_value(bytes(image.substr(0, 2 * ps)), ref, "t", &out).is_corruption());
  // Parent disagrees about the value length.
  OverflowRef r2 = ref;
  r2.value_length = 9999;
  EXPECT_TRUE(read_overflow_value(bytes(image), r2, "t", &out).is_corruption());
  // Misdirected: the extent of another page id.
  OverflowRef r3 = ref;
  r3.extent.page_id = 10;
  EXPECT_TRUE(read_overflow_value(bytes(image), r3, "t", &out).is_corruption());
  // Stale: an older value at the same place.
  std::string old_image;
  OverflowRef old_ref;
  build_overflow(std::string(10000, 'o'), 9, ps, &old_image, &old_ref);
  EXPECT_TRUE(read_overflow_value(bytes(old_image), ref, "t", &out).is_corruption());
  // A leaf is not an extent.
  EXPECT_TRUE(verify_page(bytes(image), ref.extent, PageType::kLeaf, "t").is_corruption());
}

TEST(OverflowTest, CraftedHeadersPassingCrcAreRejected) {
  const std::uint32_t ps = 4096;
  std::string image;
  OverflowRef ref;
  build_overflow(std::string(5000, 'x'), 3, ps, &image, &ref);
  auto with = [&](std::size_t off, std::uint64_t v, std::size_t width) {
    std::string bad = image;
    if (width == 4) encode_fixed32(bad.data() + off, static_cast<std::uint32_t>(v));
    if (width == 8) encode_fixed64(bad.data() + off, v);
    OverflowRef r = ref;
    r.extent = seal_page(std::as_writable_bytes(std::span(bad.data(), bad.size())), 3);
    r.value_length = width == 8 ? v : ref.value_length;
    std::string out;
    return read_overflow_value(bytes(bad), r, "t", &out);
  };
  EXPECT_TRUE(with(offsetof(PageHeader, payload), 1u << 20, 8).is_corruption());  // too long
  EXPECT_TRUE(with(offsetof(PageHeader, payload), 100, 8).is_corruption());       // too short
  EXPECT_TRUE(with(offsetof(PageHeader, payload), ~0ull, 8).is_corruption());
  EXPECT_TRUE(with(offsetof(PageHeader, page_count), 3, 4).is_corruption());
  EXPECT_TRUE(with(offsetof(PageHeader, page_count), 0, 4).is_corruption());
  EXPECT_TRUE(with(offsetof(PageHeader, payload), 5000, 8).is_ok());
}

}  // namespace
}  // namespace lightning::pagestore
