// B+tree tests: merges against a std::map model (splits, merges at page
// boundaries, overflow values, long keys, deletes), iteration both ways,
// verify, reopen, and the space bound under overwrites.
#include "pagestore/btree.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

#include "db/dbformat.h"
#include "pagestore/page_cache.h"
#include "pagestore/page_store.h"
#include "testutil/testutil.h"

namespace lightning::pagestore {
namespace {

using Model = std::map<std::string, std::string>;

class VectorChanges : public ChangeSource {
 public:
  // (key, is_delete, value), sorted by key, unique.
  explicit VectorChanges(std::vector<std::tuple<std::string, bool, std::string>> v) : v_(std::move(v)) {}
  bool valid() const override { return i_ < v_.size(); }
  std::string_view key() const override { return std::get<0>(v_[i_]); }
  bool is_delete() const override { return std::get<1>(v_[i_]); }
  std::string_view value() const override { return std::get<2>(v_[i_]); }
  void next() override { ++i_; }
  Status status() const override { return Status::ok(); }

 private:
  std::vector<std::tuple<std::string, bool, std::string>> v_;
  std::size_t i_ = 0;
};

class BTreeTest : public ::testing::TestWithParam<std::uint32_t> {
 protected:
  void SetUp() override {
    fs_ = new_in_memory_file_system();
    ASSERT_TRUE(fs_->create_dir("/t"));
    reopen();
  }
  void reopen() {
    store_.reset();
    PageStore::Options o;
    o.page_size = GetParam();
    o.cache = &cache_;
    auto s = PageStore::open(fs_, "/t/data", o);
    ASSERT_TRUE(s) << s.status().to_string();
    store_ = std::move(*s);
    Meta m = store_->durable_meta();
    root_ = {m.root, m.tree_height, m.entry_count};
  }
  // Applies changes, commits, updates the model.
  void apply(const std::map<std::string, std::optional<std::string>>& changes, Model& model) {
    std::vector<std::tuple<std::string, bool, std::string>> v;
    for (const auto& [k, val] : changes) {
      v.emplace_back(k, !val.has_value(), val.value_or(""));
      if (val) {
        model[k] = *val;
      } else {
        model.erase(k);
      }
    }
    VectorChanges src(std::move(v));
    MergeStats stats;
    auto r = merge_into_tree(*store_, root_, src, &stats);
    ASSERT_TRUE(r) << r.status().to_string();
    Meta next;
    next.root = r->root;
    next.tree_height = r->height;
    next.entry_count = r->entry_count;
    ASSERT_TRUE(store_->commit(next));
    root_ = *r;
    ASSERT_EQ(root_.entry_count, model.size());
  }
  void check(const Model& model, std::mt19937_64& rng) {
    std::uint64_t pages = 0;
    Status v = verify_tree(*store_, root_, &pages);
    ASSERT_TRUE(v) << v.to_string();
    auto it = new_tree_iterator(*store_, root_);
    auto mit = model.begin();
    for (it->seek_to_first(); it->valid(); it->next(), ++mit) {
      ASSERT_NE(mit, model.end());
      ASSERT_EQ(extract_user_key(it->key()), mit->first);
      ASSERT_EQ(it->value(), mit->second);
    }
    ASSERT_TRUE(it->status()) << it->status().to_string();
    ASSERT_EQ(mit, model.end());
    auto rit = model.rbegin();
    for (it->seek_to_last(); it->valid(); it->prev(), ++rit) {
      ASSERT_NE(rit, model.rend());
      ASSERT_EQ(extract_user_key(it->key()), rit->first);
    }
    ASSERT_EQ(rit, model.rend());
    for (int i = 0; i < 50; ++i) {
      std::string k = key(rng);
      std::string value;
      auto got = tree_get(*store_, root_, k, &value);
      ASSERT_TRUE(got) << got.status().to_string();
      auto m = model.find(k);
      ASSERT_EQ(*got, m != model.end()) << k;
      if (*got) {
        ASSERT_EQ(value, m->second);
      }
      // seek: first key >= k
      std::string ikey;
      append_internal_key(ikey, k, kMaxSequenceNumber, ValueKind::kPut);
      it->seek(ikey);
      auto lb = model.lower_bound(k);
      if (lb == model.end()) {
        ASSERT_FALSE(it->valid());
      } else {
        ASSERT_TRUE(it->valid());
        ASSERT_EQ(extract_user_key(it->key()), lb->first);
      }
      // seek_for_prev: last key <= k
      ikey.clear();
      append_internal_key(ikey, k, 0, ValueKind::kDelete);
      it->seek_for_prev(ikey);
      auto ub = model.upper_bound(k);
      if (ub == model.begin()) {
        ASSERT_FALSE(it->valid());
      } else {
        ASSERT_TRUE(it->valid());
        ASSERT_EQ(extract_user_key(it->key()), std::prev(ub)->first);
      }
    }
  }
  std::string key(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> len(1, 12);
    return testing::random_string(rng, static_cast<std::size_t>(len(rng)), 'a', 'h');
  }
  std::string value(std::mt19937_64& rng) {
    int kind = static_cast<int>(rng() % 20);
    std::size_t n = kind == 0 ? 1000 + rng() % 20000 : kind == 1 ? GetParam() / 8 + (rng() % 3) - 1 : rng() % 120;
    return testing::random_string(rng, n, '0', 'z');
  }

  std::shared_ptr<FileSystem> fs_;
  PageCache cache_{1 << 20};
  std::unique_ptr<PageStore> store_;
  TreeRoot root_;
};

TEST_P(BTreeTest, EmptyTree) {
  std::mt19937_64 rng(1);
  Model model;
  check(model, rng);
  apply({{"a", std::nullopt}}, model);  // deleting from an empty tree
  EXPECT_EQ(root_.height, 0);
  check(model, rng);
}

TEST_P(BTreeTest, SingleKeyAndBackToEmpty) {
  std::mt19937_64 rng(2);
  Model model;
  apply({{"only", std::string("v")}}, model);
  EXPECT_EQ(root_.height, 1);
  check(model, rng);
  apply({{"only", std::nullopt}}, model);
  EXPECT_EQ(root_.height, 0);
  check(model, rng);
}

TEST_P(BTreeTest, RandomMergesMatchModel) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  Model model;
  for (int round = 0; round < 40; ++round) {
    std::map<std::string, std::optional<std::string>> changes;
    int n = 1 + static_cast<int>(rng() % (round % 5 == 0 ? 2000 : 200));
    for (int i = 0; i < n; ++i) {
      std::string k = key(rng);
      if (rng() % 3 == 0 && !model.empty()) {
        changes[k] = std::nullopt;
        auto it = model.lower_bound(k);
        if (it != model.end()) changes[it->first] = std::nullopt;
      } else {
        changes[k] = value(rng);
      }
    }
    ASSERT_NO_FATAL_FAILURE(apply(changes, model));
    if (round % 7 == 3) {
      ASSERT_NO_FATAL_FAILURE(reopen());
    }
    ASSERT_NO_FATAL_FAILURE(check(model, rng));
  }
  // Delete everything: the tree shrinks back to empty.
  std::map<std::string, std::optional<std::string>> all;
  for (const auto& kv : model) all[kv.first] = std::nullopt;
  ASSERT_NO_FATAL_FAILURE(apply(all, model));
  EXPECT_EQ(root_.height, 0);
}

TEST_P(BTreeTest, LongKeysUpToTheMaximum) {
  std::mt19937_64 rng(3);
  Model model;
  std::map<std::string, std::optional<std::string>> changes;
  for (std::size_t len : {std::size_t{400}, std::size_t{600}, std::size_t{5000}, std::size_t{65536}}) {
    for (int i = 0; i < 5; ++i) {
      std::string k(len, 'k');
      k[len - 1] = static_cast<char>('a' + i);  // keys sharing a long prefix
      changes[k] = "v" + std::to_string(len) + "-" + std::to_string(i);
    }
  }
  for (int i = 0; i < 300; ++i) changes["short" + std::to_string(i)] = std::string(50, 's');
  ASSERT_NO_FATAL_FAILURE(apply(changes, model));
  ASSERT_NO_FATAL_FAILURE(check(model, rng));
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_NO_FATAL_FAILURE(check(model, rng));
  changes.clear();
  for (const auto& kv : model) {
    if (kv.first.size() > 1000) changes[kv.first] = std::nullopt;
  }
  ASSERT_NO_FATAL_FAILURE(apply(changes, model));
  ASSERT_NO_FATAL_FAILURE(check(model, rng));
}

TEST_P(BTreeTest, SequentialInsertsFillPages) {
  std::mt19937_64 rng(4);
  Model model;
  std::map<std::string, std::optional<std::string>> changes;
  char buf[32];
  for (int i = 0; i < 20000; ++i) {
    std::snprintf(buf, sizeof buf, "key%08d", i);
    changes[buf] = std::string(100, 'v');
  }
  ASSERT_NO_FATAL_FAILURE(apply(changes, model));
  ASSERT_NO_FATAL_FAILURE(check(model, rng));
  // ~20000 * ~115 bytes of cells: pages are at least half full on average.
  std::uint64_t pages = 0;
  ASSERT_TRUE(verify_tree(*store_, root_, &pages));
  EXPECT_LT(pages * GetParam(), 2 * 20000ull * 120);
  EXPECT_GE(root_.height, GetParam() == 4096 ? 2 : 1);
}

TEST_P(BTreeTest, OverwritesDoNotGrowTheFile) {
  std::mt19937_64 rng(5);
  Model model;
  char buf[32];
  std::uint64_t pages_after_first = 0;
  for (int round = 0; round < 20; ++round) {
    std::map<std::string, std::optional<std::string>> changes;
    for (int i = 0; i < 5000; ++i) {
      std::snprintf(buf, sizeof buf, "key%08d", i);
      changes[buf] = std::string(100, static_cast<char>('a' + round));
    }
    ASSERT_NO_FATAL_FAILURE(apply(changes, model));
    if (round == 0) pages_after_first = store_->file_pages();
  }
  ASSERT_NO_FATAL_FAILURE(check(model, rng));
  // Copy-on-write needs room for about two more trees (the previous commit's
  // pages are reusable one commit later): a small factor, never 20x.
  EXPECT_LE(store_->file_pages(), 4 * pages_after_first) << "first " << pages_after_first;
  // Deleting nearly everything makes the space reusable and the tail trimmed.
  std::map<std::string, std::optional<std::string>> del;
  for (const auto& kv : model) {
    if (kv.first != "key00000000") del[kv.first] = std::nullopt;
  }
  ASSERT_NO_FATAL_FAILURE(apply(del, model));
  ASSERT_NO_FATAL_FAILURE(apply({{"key00000001", std::string("x")}}, model));
  ASSERT_NO_FATAL_FAILURE(apply({{"key00000002", std::string("y")}}, model));
  EXPECT_LT(store_->file_pages() - store_->free_pages(), pages_after_first / 4);
}

TEST_P(BTreeTest, InnerIndexLookupsMatchTheTree) {
  std::mt19937_64 rng(6);
  Model model;
  std::map<std::string, std::optional<std::string>> changes;
  char buf[32];
  for (int i = 0; i < 30000; ++i) {
    std::snprintf(buf, sizeof buf, "key%08d", i * 3);
    changes[buf] = std::to_string(i);
  }
  ASSERT_NO_FATAL_FAILURE(apply(changes, model));
  ASSERT_GE(root_.height, 2);
  for (std::size_t max_bytes : {std::size_t{0}, std::size_t{GetParam()}, std::size_t{1} << 30}) {
    auto index = InnerIndex::build(*store_, root_, max_bytes);
    ASSERT_TRUE(index) << index.status().to_string();
    if (max_bytes == 0) {
      EXPECT_EQ((*index)->pages(), 0u);
    }
    if (max_bytes == GetParam()) {
      EXPECT_EQ((*index)->pages(), 1u) << "only the root fits";
    }
    for (int i = 0; i < 2000; ++i) {
      std::snprintf(buf, sizeof buf, "key%08d", static_cast<int>(rng() % 90000));
      PageHandle pin;
      std::string_view view;
      std::string overflow;
      auto found = tree_get_pinned(*store_, root_, buf, &pin, &view, &overflow, index->get());
      ASSERT_TRUE(found) << found.status().to_string();
      auto m = model.find(buf);
      ASSERT_EQ(*found, m != model.end()) << buf;
      if (*found) {
        ASSERT_EQ(view, m->second);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PageSizes, BTreeTest, ::testing::Values(4096u, 16384u));

}  // namespace
}  // namespace lightning::pagestore
