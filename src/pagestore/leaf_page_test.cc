// Tests for LeafBuilder / LeafPage: round trips, search against a model,
// long keys and crafted (CRC-valid) damage.
#include "pagestore/leaf_page.h"

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

// Overflow extents "on disk", keyed by first page id; serves as KeyLoader.
struct ExtentStore {
  std::map<std::uint64_t, std::string> extents;
  std::uint64_t next_id = 1000;
  int loads = 0;

  OverflowRef put(std::string_view value, std::uint32_t page_size) {
    std::string image;
    OverflowRef ref;
    build_overflow(value, next_id, page_size, &image, &ref);
    extents[next_id] = std::move(image);
    next_id += ref.extent.length / page_size;
    return ref;
  }
  KeyLoader loader() {
    return [this](const OverflowRef& ref, std::string* key) -> Status {
      ++loads;
      auto it = extents.find(ref.extent.page_id);
      if (it == extents.end()) return Status::not_found("no extent");
      return read_overflow_value(bytes(it->second), ref, "test", key);
    };
  }
};

struct Entry {
  std::string key;
  std::string value;      // inline value, or the value stored in an extent
  bool overflow = false;  // value in an extent
  OverflowRef value_ref;
  bool long_key = false;
  OverflowRef key_ref;
};

// Adds entries (sorted) while they fit; returns how many went in.
std::size_t fill(LeafBuilder& b, std::vector<Entry>& entries, ExtentStore& store,
                 std::uint32_t page_size) {
  std::size_t n = 0;
  for (Entry& e : entries) {
    if (!b.fits(e.key, e.value.size())) break;
    const std::size_t before = b.used_bytes();
    e.long_key = is_long_key(page_size, e.key.size());
    if (e.long_key) e.key_ref = store.put(e.key, page_size);
    e.overflow = !LeafBuilder::is_inline(page_size, e.value.size());
    if (e.overflow) {
      e.value_ref = store.put(e.value, page_size);
      b.add_overflow(e.key, e.value_ref, e.long_key ? &e.key_ref : nullptr);
    } else {
      b.add_inline(e.key, e.value, e.long_key ? &e.key_ref : nullptr);
    }
    EXPECT_GT(b.used_bytes(), before);
    EXPECT_LE(b.used_bytes(), page_size);
    ++n;
  }
  return n;
}

// Builds a page from entries[0, n), opens it and checks every accessor and
// searches against the model.
void check_page(const std::vector<Entry>& all, std::size_t n, LeafBuilder& b, ExtentStore& store,
                std::uint32_t page_size, std::mt19937_64& rng) {
  std::string image;
  const PageRef ref = b.finish(12345, &image);
  ASSERT_EQ(image.size(), page_size);
  ASSERT_TRUE(verify_page(bytes(image), ref, PageType::kLeaf, "t").is_ok());
  // Everything past used_bytes() is zero.
  ASSERT_TRUE(std::all_of(image.begin() + static_cast<std::ptrdiff_t>(b.used_bytes()), image.end(),
                          [](char c) { return c == 0; }));
  auto page = LeafPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value()) << page.status().to_string();
  ASSERT_EQ(page->count(), n);
  ASSERT_TRUE(page->check_order("t").is_ok());
  const KeyLoader load = store.loader();
  std::vector<std::string> keys;
  std::string k;
  for (std::uint32_t i = 0; i < n; ++i) {
    const Entry& e = all[i];
    keys.push_back(e.key);
    ASSERT_EQ(page->is_long_key(i), e.long_key);
    page->key(i, &k);
    if (e.long_key) {
      EXPECT_EQ(k, e.key.substr(0, long_key_stub(page_size)));
      EXPECT_EQ(page->long_key_ref(i), e.key_ref);
    } else {
      EXPECT_EQ(k, e.key);
      EXPECT_EQ(page->compare_key(i, e.key), 0);
    }
    ASSERT_TRUE(page->key(i, &k, load).is_ok());
    EXPECT_EQ(k, e.key);
    EXPECT_EQ(*page->compare_key(i, e.key, load), 0);
    ASSERT_EQ(page->is_overflow(i), e.overflow);
    if (e.overflow) {
      EXPECT_EQ(page->overflow_ref(i), e.value_ref);
      EXPECT_EQ(page->inline_value(i), "");
    } else {
      EXPECT_EQ(page->inline_value(i), e.value);
    }
  }
  // Out-of-range indexes are safe.
  page->key(page->count(), &k);
  EXPECT_TRUE(k.empty());
  EXPECT_FALSE(page->is_overflow(page->count()));
  EXPECT_EQ(page->inline_value(page->count()), "");

  // Searches: every key, neighbours of every key, random strings.
  std::vector<std::string> targets = {"", std::string(1, '\0'), std::string(3, '\xff')};
  for (std::size_t j = 0; j < keys.size(); j += 1 + keys.size() / 300) {
    const std::string& key = keys[j];
    targets.push_back(key);
    targets.push_back(key + '\0');
    targets.push_back(key.substr(0, key.size() - 1));
    targets.push_back(key.substr(0, key.size() / 2));
    std::string up = key;
    up.back() = static_cast<char>(up.back() + 1);
    targets.push_back(up);
  }
  for (int i = 0; i < 50; ++i) targets.push_back(testing::random_string(rng, rng() % 12));
  for (const std::string& t : targets) {
    const auto want =
        static_cast<std::uint32_t>(std::lower_bound(keys.begin(), keys.end(), t) - keys.begin());
    auto got = page->lower_bound(t, load);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, want) << "target size " << t.size();
    if (!page->has_long_keys()) {
      EXPECT_EQ(page->lower_bound(t), want);
    }
    for (std::uint32_t i = 0; i < n; i += std::max<std::uint32_t>(1, n / 7)) {
      const int c = *page->compare_key(i, t, load);
      const int m = keys[i].compare(t);
      EXPECT_EQ(c < 0, m < 0);
      EXPECT_EQ(c == 0, m == 0);
      if (!page->is_long_key(i)) {
        EXPECT_EQ(page->compare_key(i, t), c);
      }
    }
  }
}

std::vector<Entry> random_entries(std::mt19937_64& rng, int mode, std::size_t n,
                                  std::uint32_t page_size) {
  if (mode >= 2) n = std::min<std::size_t>(n, 64);  // big keys: few fit anyway
  std::set<std::string> keys;
  const std::string common = testing::random_string(rng, 1 + rng() % 40);
  while (keys.size() < n) {
    std::string k;
    switch (mode) {
      case 0:  // binary, no shared prefix
        k.resize(1 + rng() % 24);
        for (char& c : k) c = static_cast<char>(rng());
        break;
      case 1:  // long shared prefix
        k = common + testing::random_string(rng, rng() % 8, 'a', 'd');
        break;
      case 3:  // long keys (up to 64 KiB) sharing long prefixes, mixed with short keys
        k = rng() % 3 == 0 ? testing::random_string(rng, 1 + rng() % 5)
                           : std::string(max_inline_key(page_size) - 30 + rng() % 70000, 'q') +
                                 testing::random_string(rng, 1 + rng() % 3, 'a', 'c');
        if (k.size() > 65536) k.resize(65536);
        break;
      default:  // mixture of lengths up to the inline maximum
        k = testing::random_string(rng, 1 + rng() % max_inline_key(page_size), 'a', 'c');
        break;
    }
    keys.insert(k);
  }
  std::vector<Entry> out;
  const std::size_t t = max_inline_value(page_size);
  const std::size_t lens[] = {0, 1, 7, 100, t - 1, t, t + 1, 3 * page_size};
  for (const std::string& k : keys) {
    Entry e;
    e.key = k;
    const std::size_t len = (rng() % 4 == 0) ? lens[rng() % (rng() % 8 == 0 ? 8 : 7)] : rng() % 20;
    e.value = testing::random_string(rng, len, '\0', '\xff');
    out.push_back(std::move(e));
  }
  return out;
}

TEST(LeafPageTest, RandomRoundTrips) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  for (std::uint32_t ps : {4096u, 16384u, 65536u}) {
    for (int mode = 0; mode < 4; ++mode) {
      for (int rep = 0; rep < 3; ++rep) {
        SCOPED_TRACE("page_size " + std::to_string(ps) + " mode " + std::to_string(mode));
        std::vector<Entry> entries = random_entries(rng, mode, 1 + rng() % (ps / 16), ps);
        ExtentStore store;
        LeafBuilder b(ps);
        const std::size_t n = fill(b, entries, store, ps);
        ASSERT_GE(n, std::min<std::size_t>(entries.size(), 4));
        check_page(entries, n, b, store, ps, rng);
        if (n < entries.size()) {
          EXPECT_FALSE(b.fits(entries[n].key, entries[n].value.size()));
        }
      }
    }
  }
}

TEST(LeafPageTest, EmptyPage) {
  LeafBuilder b(4096);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.used_bytes(), kPageHeaderSize);
  std::string image;
  const PageRef ref = b.finish(1, &image);
  ASSERT_TRUE(verify_page(bytes(image), ref, PageType::kLeaf, "t").is_ok());
  auto page = LeafPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->count(), 0u);
  EXPECT_EQ(page->lower_bound("a"), 0u);
  EXPECT_EQ(page->lower_bound(""), 0u);
}

TEST(LeafPageTest, SingleCellAndReset) {
  LeafBuilder b(4096);
  b.add_inline("only", "");
  std::string image;
  b.finish(2, &image);
  auto page = LeafPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->count(), 1u);
  EXPECT_EQ(page->prefix(), "only");  // a single key is all prefix
  std::string k;
  page->key(0, &k);
  EXPECT_EQ(k, "only");
  EXPECT_EQ(page->inline_value(0), "");
  EXPECT_EQ(page->lower_bound("onl"), 0u);
  EXPECT_EQ(page->lower_bound("only"), 0u);
  EXPECT_EQ(page->lower_bound("only\0"), 0u);
  EXPECT_EQ(page->lower_bound(std::string("only\0", 5)), 1u);
  EXPECT_EQ(page->lower_bound("p"), 1u);
  b.reset();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.used_bytes(), kPageHeaderSize);
}

TEST(LeafPageTest, MaxCellsExactFill) {
  // Three-byte keys "p<hi><lo>" sharing prefix "p": 9 bytes per cell with its slot.
  for (std::uint32_t ps : {4096u, 65536u}) {
    LeafBuilder b(ps);
    std::vector<std::string> keys;
    for (int i = 0;; ++i) {
      std::string k = "p";
      k.push_back(static_cast<char>(1 + i / 250));
      k.push_back(static_cast<char>(1 + i % 250));
      if (!b.fits(k, 0)) break;
      b.add_inline(k, "");
      keys.push_back(k);
    }
    EXPECT_GT(b.count(), (ps - kPageHeaderSize) / 12);
    std::string image;
    b.finish(3, &image);
    auto page = LeafPage::open(bytes(image), "t");
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->count(), keys.size());
    EXPECT_EQ(page->prefix().substr(0, 1), "p");
    std::string k;
    for (std::uint32_t i = 0; i < page->count(); ++i) {
      page->key(i, &k);
      ASSERT_EQ(k, keys[i]);
      ASSERT_EQ(page->lower_bound(keys[i]), i);
    }
  }
}

TEST(LeafPageTest, InlineThreshold) {
  for (std::uint32_t ps : {4096u, 8192u, 65536u}) {
    const std::size_t t = max_inline_value(ps);
    EXPECT_EQ(t, ps / 8);
    EXPECT_TRUE(LeafBuilder::is_inline(ps, 0));
    EXPECT_TRUE(LeafBuilder::is_inline(ps, t - 1));
    EXPECT_TRUE(LeafBuilder::is_inline(ps, t));
    EXPECT_FALSE(LeafBuilder::is_inline(ps, t + 1));
  }
}

TEST(LeafPageTest, EveryCellFitsAnEmptyPageAndFourFit) {
  for (std::uint32_t ps = kMinPageSize; ps <= kMaxPageSize; ps *= 2) {
    LeafBuilder b(ps);
    const std::size_t t = max_inline_value(ps);
    // Worst cells: max inline key + max inline value; long key + max inline value.
    EXPECT_TRUE(b.fits(std::string(max_inline_key(ps), 'k'), t));
    EXPECT_TRUE(b.fits(std::string(65536, 'k'), t));
    EXPECT_TRUE(b.fits(std::string(65536, 'k'), 1u << 30));
    ExtentStore store;
    for (int i = 0; i < 4; ++i) {
      std::string key(max_inline_key(ps), 'a');
      key[0] = static_cast<char>('a' + i);  // no shared prefix
      ASSERT_TRUE(b.fits(key, t)) << ps << " cell " << i;
      b.add_inline(key, std::string(t, 'v'));
    }
    LeafBuilder lb(ps);
    for (int i = 0; i < 4; ++i) {
      std::string key(65536, 'a');
      key[0] = static_cast<char>('a' + i);
      ASSERT_TRUE(lb.fits(key, t)) << ps << " long cell " << i;
      const OverflowRef kref = store.put(key, ps);
      lb.add_inline(key, std::string(t, 'v'), &kref);
    }
  }
}

TEST(LeafPageTest, MaxSizeKeysWithSharedStubs) {
  // 64 KiB keys with 4 KiB pages that agree on far more than the stub: every
  // comparison near them needs the loader.
  const std::uint32_t ps = 4096;
  std::mt19937_64 rng(testing::test_seed());
  const std::string base = testing::random_string(rng, 65536 - 10);
  std::set<std::string> keyset;
  keyset.insert(base.substr(0, 473));  // exactly the stub, stored inline
  keyset.insert(base.substr(0, 472) + "\xff");
  keyset.insert("a");
  keyset.insert(std::string(65536, '\xff'));
  while (keyset.size() < 12) keyset.insert(base + testing::random_string(rng, 1 + rng() % 10));
  std::vector<Entry> entries;
  for (const std::string& k : keyset) {
    Entry e;
    e.key = k;
    e.value = testing::random_string(rng, rng() % 2 ? 10 : 5000);
    entries.push_back(std::move(e));
  }
  ExtentStore store;
  LeafBuilder b(ps);
  const std::size_t n = fill(b, entries, store, ps);
  ASSERT_GE(n, 4u);
  check_page(entries, n, b, store, ps, rng);
  // Targets that share the whole stub with long keys.
  std::string image;
  b.finish(9, &image);
  auto page = LeafPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->has_long_keys());
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back(entries[i].key);
  for (int i = 0; i < 200; ++i) {
    std::string t = base.substr(0, rng() % base.size()) + testing::random_string(rng, rng() % 3);
    const auto want =
        static_cast<std::uint32_t>(std::lower_bound(keys.begin(), keys.end(), t) - keys.begin());
    EXPECT_EQ(*page->lower_bound(t, store.loader()), want);
  }
}

TEST(LeafPageTest, LoaderErrorsAndMismatchedLongKeys) {
  const std::uint32_t ps = 4096;
  const std::string key(2000, 'x');
  ExtentStore store;
  const OverflowRef kref = store.put(key, ps);
  LeafBuilder b(ps);
  b.add_inline(key, "v", &kref);
  std::string image;
  b.finish(1, &image);
  auto page = LeafPage::open(bytes(image), "t");
  ASSERT_TRUE(page.has_value());
  const std::string target(3000, 'x');
  // Failing loader: the error is returned.
  KeyLoader failing = [](const OverflowRef&, std::string*) { return Status::io_error("boom"); };
  EXPECT_TRUE(page->lower_bound(target, failing).status().is_io_error());
  EXPECT_TRUE(page->compare_key(0, target, failing).status().is_io_error());
  // A loader returning a key that does not match the stub: Corruption.
  KeyLoader wrong = [](const OverflowRef& r, std::string* k) {
    k->assign(r.value_length, 'y');
    return Status::ok();
  };
  EXPECT_TRUE(page->lower_bound(target, wrong).status().is_corruption());
  // Targets the stub decides never call the loader.
  store.loads = 0;
  EXPECT_EQ(*page->lower_bound("a", store.loader()), 0u);
  EXPECT_EQ(*page->lower_bound("y", store.loader()), 1u);
  EXPECT_EQ(*page->lower_bound(std::string(473, 'x'), store.loader()), 0u);
  EXPECT_EQ(store.loads, 0);
  EXPECT_EQ(*page->lower_bound(target, store.loader()), 1u);
  EXPECT_EQ(store.loads, 1);
}

// Applies f to a copy of a valid page, reseals it (so the CRC passes) and
// checks open() either rejects it or every accessor stays safe.
void exercise(const std::string& image) {
  auto page = LeafPage::open(bytes(image), "crafted");
  if (!page.has_value()) {
    EXPECT_TRUE(page.status().is_corruption());
    return;
  }
  std::string k;
  for (std::uint32_t i = 0; i <= page->count(); ++i) {
    page->key(i, &k);
    (void)page->compare_key(i, k);
    (void)page->is_overflow(i);
    (void)page->inline_value(i);
    (void)page->overflow_ref(i);
    (void)page->is_long_key(i);
    (void)page->long_key_ref(i);
    (void)page->lower_bound(k);
  }
  (void)page->check_order("crafted");
}

TEST(LeafPageTest, CraftedDamagePassingCrcIsSafe) {
  std::mt19937_64 rng(testing::test_seed());
  std::vector<Entry> entries = random_entries(rng, 2, 40, 4096);
  ExtentStore store;
  LeafBuilder b(4096);
  const std::size_t n = fill(b, entries, store, 4096);
  ASSERT_GT(n, 2u);
  std::string good;
  b.finish(77, &good);
  auto reseal = [](std::string* s) {
    seal_page(std::as_writable_bytes(std::span(s->data(), s->size())), 77);
  };
  // Specific crafted damage.
  const std::vector<std::pair<std::size_t, std::uint16_t>> edits = {
      {kPageHeaderSize, 0},                  // slot 0 -> inside the header
      {kPageHeaderSize, 4095},               // slot 0 -> last byte
      {kPageHeaderSize, 4092},               // cell header runs off the end
      {offsetof(PageHeader, count), 60000},  // count far beyond the page
      {offsetof(PageHeader, prefix_len), 5000},
      {offsetof(PageHeader, prefix_len), 0},  // prefix shrinks: slots now point into it
  };
  for (const auto& [off, v] : edits) {
    std::string bad = good;
    encode_fixed16(bad.data() + off, v);
    reseal(&bad);
    exercise(bad);
  }
  // Cell 0's key length pointing past the end.
  {
    std::string bad = good;
    const std::size_t cell0 = decode_fixed16(bad.data() + kPageHeaderSize);
    encode_fixed16(bad.data() + cell0 + 1, 0xffff);
    reseal(&bad);
    EXPECT_FALSE(LeafPage::open(bytes(bad), "t").has_value());
  }
  // Random byte damage in the header, slots and cells.
  for (int rep = 0; rep < 3000; ++rep) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng() % 600;
      bad[at] = static_cast<char>(rng());
    }
    reseal(&bad);
    exercise(bad);
  }
  // Wrong sizes.
  EXPECT_FALSE(LeafPage::open(bytes(good.substr(0, 100)), "t").has_value());
  EXPECT_FALSE(LeafPage::open({}, "t").has_value());
}

}  // namespace
}  // namespace lightning::pagestore
