// Corruption tests of the data file on real files (POSIX file system).
//
// A database with a 3-level B+tree (4 KiB pages, 30k keys) and overflow
// values is built once, flushed and closed. Its data file is parsed with the
// page-format code (meta slots, inner pages, leaves, overflow extents) to find
// the root, an inner page, a leaf and a multi-page overflow extent. Each case
// then copies the database, flips one byte and checks:
//  - a tree page or overflow extent: get() of a key stored there returns
//    Corruption naming the page ("page <id>"); an iteration over it stops
//    with status() Corruption naming the page; verify() reports Corruption
//    naming the page; keys elsewhere still read correctly;
//  - the older meta slot: the open uses the newest one, nothing is lost;
//  - the newest meta slot: the open either gives every acknowledged write
//    (it cannot: the flush deleted the WAL the older slot needs) or fails
//    with Corruption naming DATA. Silently opening the older tree is a bug;
//  - both meta slots: the open fails with Corruption naming DATA.
// Everything runs under ASan/UBSan in CI: no crash on damaged input.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lightning/lightning.h"
#include "pagestore/inner_page.h"
#include "pagestore/leaf_page.h"
#include "pagestore/meta.h"
#include "pagestore/page_format.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

namespace ps = pagestore;
using Model = std::map<std::string, std::string>;
constexpr std::uint32_t kPageSize = 4096;
constexpr int kKeys = 30000;

std::string key_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key%08d", i);
  return buf;
}

std::string value_for(int i, std::mt19937_64& rng) {
  std::size_t len = 100;
  if (i % 997 == 0) {
    len = 9000;  // a 3-page overflow extent
  } else if (i % 97 == 0) {
    len = 3000;  // a 1-page overflow extent
  }
  return testing::random_string(rng, len, 'a', 'z');
}

Config config(bool use_mmap = false) {
  Config c;
  c.page_size = kPageSize;
  c.cache_size = 1 << 20;
  c.use_mmap = use_mmap;
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void flip_byte(const std::string& path, std::uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  ASSERT_TRUE(f.good()) << "offset " << offset << " is past the end of " << path;
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  f.flush();
  ASSERT_TRUE(f.good());
}

std::span<const std::byte> bytes_of(const std::string& s, std::uint64_t off, std::uint64_t len) {
  return std::as_bytes(std::span(s.data() + off, len));
}

// What the test found in the data file.
struct Layout {
  std::uint64_t newest_epoch = 0;
  int newest_slot = -1;
  std::uint8_t height = 0;
  ps::PageRef root;            // inner, level 2
  ps::PageRef inner;           // inner, level 1 (a child of the root)
  ps::PageRef leaf;            // a child of `inner`
  std::string leaf_key;        // a key stored in `leaf` (hence under inner and root)
  ps::PageRef overflow;        // a multi-page overflow extent
  std::string overflow_key;    // the key whose value it holds
  std::string other_key;       // a key in another subtree of the root
};

// The golden database, built once for the whole suite.
class PageStoreCorruption : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    golden_ = tmp_->sub("golden");
    model_ = new Model();
    layout_ = new Layout();
    const std::uint64_t seed = testing::test_seed();
    std::mt19937_64 rng(seed);
    auto db = Database::open(golden_, config());
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    for (int first = 0; first < kKeys; first += 500) {
      WriteBatch b;
      for (int i = first; i < first + 500; ++i) {
        std::string v = value_for(i, rng);
        ASSERT_TRUE(b.put(key_name(i), v).is_ok());
        (*model_)[key_name(i)] = v;
      }
      ASSERT_TRUE((*db)->write(b).is_ok());
    }
    ASSERT_TRUE((*db)->flush_lsm().is_ok());
    // A second flush, so that the older meta slot holds a real tree too.
    ASSERT_TRUE((*db)->put(key_name(kKeys), "last").is_ok());
    (*model_)[key_name(kKeys)] = "last";
    ASSERT_TRUE((*db)->flush_lsm().is_ok());
    const Stats st = (*db)->stats();
    ASSERT_EQ(st.tree_height, 3u) << "the test needs a 3-level tree";
    ASSERT_TRUE((*db)->verify().is_ok());
    db->reset();
    parse_layout(st.tree_epoch);
  }
  static void TearDownTestSuite() {
    delete layout_;
    delete model_;
    delete tmp_;
  }

  static void parse_layout(std::uint64_t epoch) {
    Layout& L = *layout_;
    const std::string data = read_file(golden_ + "/DATA");
    ASSERT_GE(data.size(), 2u * kPageSize);
    std::optional<ps::Meta> slots[2];
    for (int s = 0; s < 2; ++s) {
      auto m = ps::decode_meta(bytes_of(data, s * kPageSize, ps::kMetaSize), "slot");
      if (m) slots[s] = *m;
    }
    ASSERT_TRUE(slots[0] && slots[1]) << "both meta slots should be valid after two flushes";
    L.newest_slot = slots[1]->epoch > slots[0]->epoch ? 1 : 0;
    const ps::Meta& m = *slots[L.newest_slot];
    L.newest_epoch = m.epoch;
    ASSERT_EQ(m.epoch, epoch);
    ASSERT_EQ(static_cast<std::uint64_t>(L.newest_slot), ps::meta_slot_for_epoch(m.epoch));
    L.height = m.tree_height;
    L.root = m.root;
    auto image = [&](const ps::PageRef& r) {
      EXPECT_LE(r.page_id * kPageSize + r.length, data.size());
      return bytes_of(data, r.page_id * kPageSize, r.length);
    };
    auto root = ps::InnerPage::open(image(L.root), "root");
    ASSERT_TRUE(root.has_value()) << root.status().to_string();
    ASSERT_EQ(root->level(), 2);
    ASSERT_GE(root->count(), 2u);
    L.inner = root->child(0);
    auto inner = ps::InnerPage::open(image(L.inner), "inner");
    ASSERT_TRUE(inner.has_value()) << inner.status().to_string();
    ASSERT_EQ(inner->level(), 1);
    L.leaf = inner->child(inner->count() / 2);
    auto leaf = ps::LeafPage::open(image(L.leaf), "leaf");
    ASSERT_TRUE(leaf.has_value()) << leaf.status().to_string();
    ASSERT_GT(leaf->count(), 0u);
    leaf->key(leaf->count() / 2, &L.leaf_key);
    ASSERT_TRUE(model_->contains(L.leaf_key)) << L.leaf_key;
    // A key under the root's last child: another subtree.
    auto last_inner = ps::InnerPage::open(image(root->child(root->count() - 1)), "inner");
    ASSERT_TRUE(last_inner.has_value());
    auto last_leaf = ps::LeafPage::open(image(last_inner->child(0)), "leaf");
    ASSERT_TRUE(last_leaf.has_value());
    last_leaf->key(0, &L.other_key);
    // The first multi-page overflow extent under `inner`, not in `leaf`.
    for (std::uint32_t c = 0; c < inner->count() && L.overflow.page_id == 0; ++c) {
      if (inner->child(c) == L.leaf) continue;
      auto l = ps::LeafPage::open(image(inner->child(c)), "leaf");
      ASSERT_TRUE(l.has_value());
      for (std::uint32_t i = 0; i < l->count(); ++i) {
        if (l->is_overflow(i) && l->overflow_ref(i).extent.length > kPageSize) {
          L.overflow = l->overflow_ref(i).extent;
          l->key(i, &L.overflow_key);
          break;
        }
      }
    }
    ASSERT_NE(L.overflow.page_id, 0u) << "no multi-page overflow extent under the first inner page";
    std::printf("[ info     ] epoch %llu in slot %d; root page %llu, inner %llu, leaf %llu (key %s), "
                "overflow extent %llu (%u bytes, key %s)\n",
                static_cast<unsigned long long>(L.newest_epoch), L.newest_slot,
                static_cast<unsigned long long>(L.root.page_id), static_cast<unsigned long long>(L.inner.page_id),
                static_cast<unsigned long long>(L.leaf.page_id), L.leaf_key.c_str(),
                static_cast<unsigned long long>(L.overflow.page_id), L.overflow.length, L.overflow_key.c_str());
  }

  // A fresh copy of the golden database.
  std::string copy_db() {
    const std::string dir = tmp_->sub("case" + std::to_string(next_case_++));
    std::filesystem::copy(golden_, dir, std::filesystem::copy_options::recursive);
    return dir;
  }

  // Flips a byte at `offset` of a fresh copy's data file and checks reads,
  // iteration and verify() against the page `page_id`, reading through the
  // page cache and through the memory mapping (Config::use_mmap).
  void check_damaged_page(std::uint64_t offset, std::uint64_t page_id, const std::string& key_on_page) {
    for (bool use_mmap : {false, true}) {
      SCOPED_TRACE(use_mmap ? "use_mmap" : "page cache");
      check_damaged_page(offset, page_id, key_on_page, use_mmap);
      if (HasFatalFailure()) return;
    }
  }

  void check_damaged_page(std::uint64_t offset, std::uint64_t page_id, const std::string& key_on_page,
                          bool use_mmap) {
    const std::string dir = copy_db();
    flip_byte(dir + "/DATA", offset);
    ASSERT_FALSE(HasFatalFailure());
    const std::string names_page = "page " + std::to_string(page_id);
    auto opened = Database::open(dir, config(use_mmap));
    ASSERT_TRUE(opened.has_value()) << "a damaged tree page must not fail the open: "
                                    << opened.status().to_string();
    std::unique_ptr<Database> db = std::move(*opened);

    // Point read of a key on the damaged page.
    auto got = db->get(key_on_page);
    ASSERT_FALSE(got.has_value()) << "get(" << key_on_page << ") succeeded on a damaged page";
    EXPECT_TRUE(got.status().is_corruption()) << got.status().to_string();
    EXPECT_NE(got.status().message().find(names_page), std::string::npos) << got.status().to_string();
    EXPECT_NE(got.status().message().find("DATA"), std::string::npos) << got.status().to_string();
    // Again (no cached success or cached damage may hide it).
    auto again = db->get(key_on_page);
    EXPECT_FALSE(again.has_value());

    // A key elsewhere still reads correctly (unless the root is the page).
    if (page_id != layout_->root.page_id) {
      auto other = db->get(layout_->other_key);
      ASSERT_TRUE(other.has_value()) << other.status().to_string();
      ASSERT_TRUE(other->has_value());
      EXPECT_EQ(**other, model_->at(layout_->other_key));
    }

    // Iteration: from the start, and seeking to the key, stops with Corruption.
    {
      auto it = db->new_iterator();
      std::uint64_t n = 0;
      for (it->first(); it->valid(); it->next()) {
        const std::string k(it->key());
        ASSERT_TRUE(model_->contains(k)) << "unexpected key " << k;
        ASSERT_EQ(it->value(), model_->at(k)) << "wrong value for " << k;
        ++n;
      }
      EXPECT_LT(n, model_->size());
      EXPECT_TRUE(it->status().is_corruption()) << it->status().to_string() << " after " << n << " keys";
      EXPECT_NE(it->status().message().find(names_page), std::string::npos) << it->status().to_string();
    }
    {
      auto it = db->new_iterator();
      it->seek(key_on_page);
      if (it->valid()) {
        EXPECT_NE(it->key(), key_on_page) << "the iterator yielded a key from a damaged page";
        for (; it->valid(); it->next()) {
        }
      }
      EXPECT_TRUE(it->status().is_corruption()) << it->status().to_string();
    }

    // verify() names the page.
    Status v = db->verify();
    EXPECT_TRUE(v.is_corruption()) << v.to_string();
    EXPECT_NE(v.message().find(names_page), std::string::npos) << v.to_string();

    // The database stays usable for writes that do not touch the damage, and
    // closing it does not crash.
    EXPECT_TRUE(db->put("zzz-new", "v").is_ok());
  }

  static testing::TempDir* tmp_;
  static std::string golden_;
  static Model* model_;
  static Layout* layout_;
  static int next_case_;
};

testing::TempDir* PageStoreCorruption::tmp_ = nullptr;
std::string PageStoreCorruption::golden_;
Model* PageStoreCorruption::model_ = nullptr;
Layout* PageStoreCorruption::layout_ = nullptr;
int PageStoreCorruption::next_case_ = 0;

TEST_F(PageStoreCorruption, GoldenCopyIsIntact) {
  auto db = Database::open(copy_db(), config());
  ASSERT_TRUE(db.has_value()) << db.status().to_string();
  EXPECT_TRUE((*db)->verify().is_ok());
  auto it = (*db)->new_iterator();
  std::size_t n = 0;
  for (it->first(); it->valid(); it->next()) {
    ASSERT_EQ(it->value(), model_->at(std::string(it->key())));
    ++n;
  }
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  EXPECT_EQ(n, model_->size());
}

TEST_F(PageStoreCorruption, FlippedByteInALeaf) {
  const Layout& L = *layout_;
  // Inside the slot/cell area, and in a separate case in the unused tail
  // (covered by the same checksum), and in the header's page_id field.
  for (std::uint64_t within : {std::uint64_t{200}, std::uint64_t{kPageSize - 1}, std::uint64_t{9}}) {
    SCOPED_TRACE("leaf page " + std::to_string(L.leaf.page_id) + ", byte " + std::to_string(within));
    check_damaged_page(L.leaf.page_id * kPageSize + within, L.leaf.page_id, L.leaf_key);
  }
}

TEST_F(PageStoreCorruption, FlippedByteInAnInnerPage) {
  const Layout& L = *layout_;
  for (std::uint64_t within : {std::uint64_t{100}, std::uint64_t{1}}) {  // body, level byte
    SCOPED_TRACE("inner page " + std::to_string(L.inner.page_id) + ", byte " + std::to_string(within));
    check_damaged_page(L.inner.page_id * kPageSize + within, L.inner.page_id, L.leaf_key);
  }
}

TEST_F(PageStoreCorruption, FlippedByteInTheRoot) {
  const Layout& L = *layout_;
  SCOPED_TRACE("root page " + std::to_string(L.root.page_id));
  check_damaged_page(L.root.page_id * kPageSize + 300, L.root.page_id, L.leaf_key);
}

TEST_F(PageStoreCorruption, FlippedByteInAnOverflowExtent) {
  const Layout& L = *layout_;
  // In its last page: one checksum covers the whole extent.
  const std::uint64_t off = L.overflow.page_id * kPageSize + L.overflow.length - 100;
  SCOPED_TRACE("overflow extent at page " + std::to_string(L.overflow.page_id) + ", offset " + std::to_string(off));
  check_damaged_page(off, L.overflow.page_id, L.overflow_key);
}

TEST_F(PageStoreCorruption, FlippedByteInTheOlderMetaSlotIsHarmless) {
  const Layout& L = *layout_;
  const std::string dir = copy_db();
  flip_byte(dir + "/DATA", static_cast<std::uint64_t>(1 - L.newest_slot) * kPageSize + 20);
  auto db = Database::open(dir, config());
  ASSERT_TRUE(db.has_value()) << db.status().to_string();
  EXPECT_EQ((*db)->stats().tree_epoch, L.newest_epoch);
  EXPECT_TRUE((*db)->verify().is_ok());
  std::size_t n = 0;
  auto it = (*db)->new_iterator();
  for (it->first(); it->valid(); it->next()) {
    ASSERT_EQ(it->value(), model_->at(std::string(it->key())));
    ++n;
  }
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  EXPECT_EQ(n, model_->size());
}

// The newest slot is damaged after its flush completed and deleted the WAL
// segments the older slot's tree needs: the acknowledged state cannot be
// rebuilt, so the open must say so (Corruption naming DATA).
TEST_F(PageStoreCorruption, FlippedByteInTheNewestMetaSlotIsReported) {
  const Layout& L = *layout_;
  for (std::uint64_t within : {std::uint64_t{16}, std::uint64_t{40}, std::uint64_t{123}, std::uint64_t{126}}) {
    SCOPED_TRACE("newest meta slot " + std::to_string(L.newest_slot) + ", byte " + std::to_string(within));
    const std::string dir = copy_db();
    flip_byte(dir + "/DATA", static_cast<std::uint64_t>(L.newest_slot) * kPageSize + within);
    auto db = Database::open(dir, config());
    if (!db) {
      EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
      EXPECT_NE(db.status().message().find("DATA"), std::string::npos) << db.status().to_string();
      continue;
    }
    std::size_t n = 0;
    bool all_equal = true;
    auto it = (*db)->new_iterator();
    for (it->first(); it->valid(); it->next()) {
      auto m = model_->find(std::string(it->key()));
      all_equal &= m != model_->end() && m->second == it->value();
      ++n;
    }
    EXPECT_TRUE(all_equal && n == model_->size() && it->status().is_ok())
        << "the open succeeded with tree epoch " << (*db)->stats().tree_epoch << " (newest: " << L.newest_epoch
        << ") and " << n << " of " << model_->size() << " keys: acknowledged writes silently lost";
  }
}

TEST_F(PageStoreCorruption, BothMetaSlotsDamagedFailsTheOpen) {
  const std::string dir = copy_db();
  flip_byte(dir + "/DATA", 20);
  flip_byte(dir + "/DATA", kPageSize + 20);
  auto db = Database::open(dir, config());
  ASSERT_FALSE(db.has_value()) << "opened with both meta slots damaged";
  EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
  EXPECT_NE(db.status().message().find("DATA"), std::string::npos) << db.status().to_string();
}

}  // namespace
}  // namespace lightning
