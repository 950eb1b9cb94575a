// Tests for InnerBuilder / InnerPage.
#include "pagestore/inner_page.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "pagestore/overflow.h"
#include "testutil/testutil.h"
#include "util/coding.h"

namespace lightning::pagestore {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

PageRef child_ref(std::uint64_t i) {
  return PageRef{100 + i, 4096, static_cast<std::uint32_t>(i * 2654435761u)};
}

// Model: the child for target is the last i with keys[i] <= target, where
// keys[0] is -infinity.
std::uint32_t model_find(const std::vector<std::string>& keys, std::string_view t) {
  std::uint32_t r = 0;
  for (std::uint32_t i = 1; i < keys.size(); ++i) {
    if (keys[i] <= t) r = i;
  }
  return r;
}

struct Extents {
  std::map<std::uint64_t, std::string> images;
  std::uint64_t next = 5000;
  OverflowRef put(std::string_view key, std::uint32_t ps) {
    std::string image;
    OverflowRef ref;
    build_overflow(key, next, ps, &image, &ref);
    images[next] = std::move(image);
    next += ref.extent.length / ps;
    return ref;
  }
  KeyLoader loader() {
    return [this](const OverflowRef& ref, std::string* key) {
      return read_overflow_value(bytes(images.at(ref.extent.page_id)), ref, "t", key);
    };
  }
};

void build_and_check(std::uint32_t ps, const std::set<std::string>& keyset, std::mt19937_64& rng) {
  Extents ext;
  InnerBuilder b(ps, 3);
  std::vector<std::string> keys;
  keys.push_back("");  // -infinity
  b.add("ignored", child_ref(0));
  for (const std::string& k : keyset) {
    if (!b.fits(k)) break;
    const std::size_t before = b.used_bytes();
    if (is_long_key(ps, k.size())) {
      const OverflowRef r = ext.put(k, ps);
      b.add(k, child_ref(keys.size()), &r);
    } else {
      b.add(k, child_ref(keys.size()));
    }
    EXPECT_GT(b.used_bytes(), before);
    keys.push_back(k);
  }
  ASSERT_EQ(b.count(), keys.size());
  std::string image;
  const PageRef ref = b.finish(31, &image);
  ASSERT_TRUE(verify_page(bytes(image), ref, PageType::kInner, "t").is_ok());
  ASSERT_TRUE(std::all_of(image.begin() + static_cast<std::ptrdiff_t>(b.used_bytes()), image.end(),
                          [](char c) { return c == 0; }));
  auto page = InnerPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value()) << page.status().to_string();
  EXPECT_EQ(page->level(), 3);
  ASSERT_EQ(page->count(), keys.size());
  EXPECT_TRUE(page->check_order("t").is_ok());
  const KeyLoader load = ext.loader();
  std::string k;
  for (std::uint32_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(page->child(i), child_ref(i));
    ASSERT_TRUE(page->key(i, &k, load).is_ok());
    EXPECT_EQ(k, keys[i]);
    page->key(i, &k);
    if (page->is_long_key(i)) {
      EXPECT_EQ(k, keys[i].substr(0, long_key_stub(ps)));
    } else {
      EXPECT_EQ(k, keys[i]);
    }
  }
  EXPECT_EQ(page->child(page->count()), PageRef{});
  std::vector<std::string> targets = {"", std::string(1, '\0'), std::string(4, '\xff')};
  for (std::size_t j = 1; j < keys.size(); j += 1 + keys.size() / 200) {
    const std::string& key = keys[j];
    targets.push_back(key);
    targets.push_back(key + '\0');
    targets.push_back(key.substr(0, key.size() - 1));
    std::string up = key;
    up.back() = static_cast<char>(up.back() + 1);
    targets.push_back(up);
  }
  for (int i = 0; i < 50; ++i) targets.push_back(testing::random_string(rng, rng() % 10));
  for (const std::string& t : targets) {
    const std::uint32_t want = model_find(keys, t);
    auto got = page->find_child(t, load);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, want);
    if (!page->has_long_keys()) {
      EXPECT_EQ(page->find_child(t), want);
    }
  }
}

TEST(InnerPageTest, RandomRoundTrips) {
  std::mt19937_64 rng(testing::test_seed());
  for (std::uint32_t ps : {4096u, 16384u, 65536u}) {
    for (int mode = 0; mode < 4; ++mode) {
      SCOPED_TRACE("page size " + std::to_string(ps) + " mode " + std::to_string(mode));
      std::set<std::string> keys;
      const std::string common = testing::random_string(rng, 1 + rng() % 30);
      const std::size_t n = mode == 3 ? 12 : 1 + rng() % (ps / 8);
      while (keys.size() < n) {
        std::string k;
        if (mode == 0) {
          k.resize(1 + rng() % 16);
          for (char& c : k) c = static_cast<char>(rng());
        } else if (mode == 1) {
          k = common + testing::random_string(rng, 1 + rng() % 8, 'a', 'd');  // 87380 choices
        } else if (mode == 2) {
          k = testing::random_string(rng, 1 + rng() % 40, 'a', 'b');
        } else {  // long keys sharing a long prefix, mixed with short ones
          k = rng() % 3 == 0 ? testing::random_string(rng, 1 + rng() % 5)
                             : std::string(600 + rng() % 70000, 'q') +
                                   testing::random_string(rng, 1 + rng() % 3);
          if (k.size() > 65536) k.resize(65536);
        }
        keys.insert(k);
      }
      build_and_check(ps, keys, rng);
    }
  }
}

TEST(InnerPageTest, SingleChild) {
  InnerBuilder b(4096, 1);
  EXPECT_TRUE(b.fits(std::string(65536, 'x')));
  b.add("whatever", child_ref(0));
  std::string image;
  b.finish(2, &image);
  auto page = InnerPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->count(), 1u);
  EXPECT_EQ(page->find_child(""), 0u);
  EXPECT_EQ(page->find_child("zzz"), 0u);
  std::string k = "junk";
  page->key(0, &k);
  EXPECT_EQ(k, "");
  EXPECT_EQ(page->child(0), child_ref(0));
}

TEST(InnerPageTest, TwoChildrenPrefixIsTheSeparator) {
  InnerBuilder b(4096, 2);
  b.add("", child_ref(0));
  b.add("m", child_ref(1));
  std::string image;
  b.finish(2, &image);
  auto page = InnerPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->prefix(), "m");
  EXPECT_EQ(page->find_child("a"), 0u);
  EXPECT_EQ(page->find_child("l\xff"), 0u);
  EXPECT_EQ(page->find_child("m"), 1u);
  EXPECT_EQ(page->find_child("ma"), 1u);
  EXPECT_EQ(page->find_child("z"), 1u);
}

TEST(InnerPageTest, RejectsBadStructure) {
  InnerBuilder b(4096, 1);
  b.add("", child_ref(0));
  b.add("b", child_ref(1));
  b.add("c", child_ref(2));
  std::string good;
  b.finish(4, &good);
  auto reseal = [](std::string s) {
    seal_page(std::as_writable_bytes(std::span(s.data(), s.size())), 4);
    return s;
  };
  {
    std::string bad = good;
    bad[offsetof(PageHeader, level)] = 0;
    EXPECT_FALSE(InnerPage::open(bytes(reseal(bad)), "t").has_value());
  }
  {
    std::string bad = good;
    encode_fixed16(bad.data() + offsetof(PageHeader, count), 0);
    EXPECT_FALSE(InnerPage::open(bytes(reseal(bad)), "t").has_value());
  }
  {
    // Cell 0 given a key.
    std::string bad = good;
    const std::size_t cell0 = decode_fixed16(bad.data() + kPageHeaderSize);
    encode_fixed16(bad.data() + cell0 + 1, 1);
    EXPECT_FALSE(InnerPage::open(bytes(reseal(bad)), "t").has_value());
  }
  {
    std::string bad = good;
    encode_fixed16(bad.data() + kPageHeaderSize + 2, 4090);
    EXPECT_FALSE(InnerPage::open(bytes(reseal(bad)), "t").has_value());
  }
  // A leaf is not an inner page.
  LeafBuilder lb(4096);
  lb.add_inline("a", "b");
  std::string leaf;
  lb.finish(4, &leaf);
  EXPECT_FALSE(InnerPage::open(bytes(leaf), "t").has_value());
  EXPECT_FALSE(LeafPage::open(bytes(good), "t").has_value());
}

TEST(InnerPageTest, RandomCraftedDamageIsSafe) {
  std::mt19937_64 rng(testing::test_seed());
  InnerBuilder b(4096, 1);
  b.add("", child_ref(0));
  for (int i = 1; i < 30; ++i) b.add("key" + std::to_string(100 + i), child_ref(i));
  std::string good;
  b.finish(6, &good);
  for (int rep = 0; rep < 3000; ++rep) {
    std::string bad = good;
    for (int f = 0; f < 1 + static_cast<int>(rng() % 4); ++f) {
      bad[rng() % 500] = static_cast<char>(rng());
    }
    seal_page(std::as_writable_bytes(std::span(bad.data(), bad.size())), 6);
    auto page = InnerPage::open(bytes(bad), "t");
    if (!page.has_value()) continue;
    std::string k;
    for (std::uint32_t i = 0; i <= page->count(); ++i) {
      page->key(i, &k);
      (void)page->child(i);
      (void)page->is_long_key(i);
      (void)page->long_key_ref(i);
      EXPECT_LT(page->find_child(k), page->count());
    }
    (void)page->check_order("t");
  }
}

}  // namespace
}  // namespace lightning::pagestore
