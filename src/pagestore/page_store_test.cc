// PageStore: meta slots, commits, free-space map persistence, reader tickets.
#include "pagestore/page_store.h"

#include <gtest/gtest.h>

#include "pagestore/free_space.h"
#include "pagestore/page_cache.h"

namespace lightning::pagestore {
namespace {

class PageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = new_in_memory_file_system();
    ASSERT_TRUE(fs_->create_dir("/s"));
    open_store();
  }
  void open_store() {
    store_.reset();
    PageStore::Options o;
    o.cache = &cache_;
    auto s = PageStore::open(fs_, "/s/DATA", o);
    ASSERT_TRUE(s) << s.status().to_string();
    store_ = std::move(*s);
  }
  std::shared_ptr<FileSystem> fs_;
  PageCache cache_{1 << 20};
  std::unique_ptr<PageStore> store_;
};

TEST_F(PageStoreTest, FreshStoreIsEpochOneAndEmpty) {
  Meta m = store_->durable_meta();
  EXPECT_EQ(m.epoch, 1u);
  EXPECT_EQ(m.tree_height, 0);
  EXPECT_EQ(m.high_water, kMetaPages);
  EXPECT_EQ(store_->page_size(), 4096u);
}

// Regression: a free-space map spanning several pages failed verification
// at reopen ("bad extent"), because only overflow pages were allowed to be
// extents.
TEST_F(PageStoreTest, MultiPageFreeSpaceMapSurvivesReopen) {
  // Fragment the file: allocate 3000 single pages and free every other one,
  // so the map holds ~1500 extents (24 KiB+, several pages).
  std::vector<Extent> pages;
  for (int i = 0; i < 3000; ++i) pages.push_back(store_->allocate(1));
  ASSERT_TRUE(store_->commit(Meta{}));
  for (std::size_t i = 0; i < pages.size(); i += 2) store_->free({pages[i].start, 4096, 0});
  ASSERT_TRUE(store_->commit(Meta{}));
  ASSERT_TRUE(store_->commit(Meta{}));  // the frees become reusable
  EXPECT_GT(store_->durable_meta().free_space_bytes, 3 * 4096u);
  const std::uint64_t free_before = store_->free_pages();
  ASSERT_NO_FATAL_FAILURE(open_store());
  EXPECT_EQ(store_->durable_meta().epoch, 4u);
  EXPECT_EQ(store_->free_pages(), free_before);
}

TEST_F(PageStoreTest, RunListIsKeptAcrossCommitsAndReopen) {
  EXPECT_EQ(store_->run_list(), "");
  const std::string big(10000, 'r');  // a three-page blob
  ASSERT_TRUE(store_->commit(Meta{}, &big));
  EXPECT_EQ(store_->run_list(), big);
  EXPECT_NE(store_->durable_meta().runs.page_id, 0u);
  EXPECT_EQ(store_->durable_meta().runs_bytes, big.size());
  ASSERT_TRUE(store_->commit(Meta{}));  // null: keep the list
  EXPECT_EQ(store_->run_list(), big);
  ASSERT_NO_FATAL_FAILURE(open_store());
  EXPECT_EQ(store_->run_list(), big);
  const std::string small = "two runs";
  ASSERT_TRUE(store_->commit(Meta{}, &small));
  ASSERT_NO_FATAL_FAILURE(open_store());
  EXPECT_EQ(store_->run_list(), small);
  const std::string none;
  ASSERT_TRUE(store_->commit(Meta{}, &none));
  EXPECT_EQ(store_->durable_meta().runs.page_id, 0u);
  ASSERT_NO_FATAL_FAILURE(open_store());
  EXPECT_EQ(store_->run_list(), "");
  // The old lists' extents were freed and become reusable.
  ASSERT_TRUE(store_->commit(Meta{}));
  EXPECT_GE(store_->free_pages(), 3u);
}

TEST_F(PageStoreTest, FreedPagesWaitForTheNextCommitAndForReaders) {
  Extent a = store_->allocate(1);
  ASSERT_TRUE(store_->commit(Meta{}));  // epoch 2 references a
  auto ticket = store_->register_reader(2);
  store_->free({a.start, 4096, 0});
  ASSERT_TRUE(store_->commit(Meta{}));  // epoch 3: a freed at 3
  ASSERT_TRUE(store_->commit(Meta{}));  // epoch 4: durable past 3, but a reader of 2 is live
  Extent b = store_->allocate(1);
  EXPECT_NE(b.start, a.start) << "a page a live reader can reach was reused";
  store_->free({b.start, 4096, 0});
  ticket.reset();
  ASSERT_TRUE(store_->commit(Meta{}));
  Extent c = store_->allocate(1);
  EXPECT_EQ(c.start, a.start) << "the lowest free page is reused once no reader needs it";
}

TEST_F(PageStoreTest, ReopenPicksTheNewestValidSlot) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->commit(Meta{}));
  ASSERT_NO_FATAL_FAILURE(open_store());
  EXPECT_EQ(store_->durable_meta().epoch, 6u);
  EXPECT_FALSE(store_->recovered_from_fallback_slot());
}

// A meta-only commit (a flush publishing a run list) may land while a merge
// is writing pages: it keeps the durable tree, and the map it writes calls
// the merge's pages free and keeps the merge's frees pending, so a crash
// before the merge's own commit leaks nothing and frees nothing in use.
TEST_F(PageStoreTest, MetaOnlyCommitLeavesTheTreeWritersWorkPending) {
  Extent old_page = store_->allocate(1);
  Meta tree;
  tree.root = PageRef{old_page.start, 4096, 1};
  tree.tree_height = 1;
  tree.entry_count = 7;
  ASSERT_TRUE(store_->commit(tree));
  const std::uint64_t free_before = store_->free_pages();
  // The tree writer: 5 new pages, the old root freed.
  Extent fresh = store_->allocate(5);
  store_->free(tree.root);
  EXPECT_EQ(store_->pending_tree_pages(), 5u);
  // Meta-only commit: the root in `next` is ignored.
  Meta flush;
  flush.root = PageRef{fresh.start, 4096, 1};
  flush.last_sequence = 42;
  const std::string runs = "run list";
  ASSERT_TRUE(store_->commit(flush, &runs, PageStore::CommitScope::kMetaOnly));
  EXPECT_EQ(store_->durable_meta().root.page_id, old_page.start);
  EXPECT_EQ(store_->durable_meta().entry_count, 7u);
  EXPECT_EQ(store_->durable_meta().last_sequence, 42u);
  EXPECT_EQ(store_->pending_tree_pages(), 5u) << "a meta-only commit does not take the tree writer's pages";
  ASSERT_TRUE(store_->commit(Meta{}, nullptr, PageStore::CommitScope::kMetaOnly));
  Extent other = store_->allocate(1);
  EXPECT_NE(other.start, old_page.start) << "the durable root was freed by an uncommitted merge";
  store_->abandon_tree_writes();
  // "Crash": reopen from what is on disk. The merge's pages are free; the
  // old root is not.
  ASSERT_NO_FATAL_FAILURE(open_store());
  EXPECT_EQ(store_->durable_meta().root.page_id, old_page.start);
  EXPECT_EQ(store_->run_list(), runs);
  EXPECT_GE(store_->free_pages(), free_before + 5) << "the merge's pages leaked";
  for (int i = 0; i < 8; ++i) {
    EXPECT_NE(store_->allocate(1).start, old_page.start);
  }
}

TEST_F(PageStoreTest, TreeCommitPublishesThePendingWorkAfterMetaOnlyCommits) {
  Extent old_page = store_->allocate(1);
  Meta tree;
  tree.root = PageRef{old_page.start, 4096, 1};
  tree.tree_height = 1;
  ASSERT_TRUE(store_->commit(tree));
  Extent fresh = store_->allocate(3);
  store_->free(tree.root);
  ASSERT_TRUE(store_->commit(Meta{}, nullptr, PageStore::CommitScope::kMetaOnly));
  Meta merged;
  merged.root = PageRef{fresh.start, 3 * 4096, 1};
  merged.tree_height = 1;
  ASSERT_TRUE(store_->commit(merged));
  EXPECT_EQ(store_->pending_tree_pages(), 0u);
  ASSERT_NO_FATAL_FAILURE(open_store());
  EXPECT_EQ(store_->durable_meta().root.page_id, fresh.start);
  // The merged tree's pages are in use; the old root is free after one more
  // commit (reopen releases as far as the two slots allow).
  ASSERT_TRUE(store_->commit(merged));
  bool old_reused = false;
  for (int i = 0; i < 4; ++i) {
    Extent e = store_->allocate(1);
    EXPECT_FALSE(e.start >= fresh.start && e.start < fresh.start + 3) << "a live page was handed out";
    old_reused |= e.start == old_page.start;
  }
  EXPECT_TRUE(old_reused);
}

TEST_F(PageStoreTest, AbandonedTreeWritesReturnTheirPages) {
  ASSERT_TRUE(store_->commit(Meta{}));
  Extent a = store_->allocate(4);
  store_->abandon_tree_writes();
  EXPECT_EQ(store_->pending_tree_pages(), 0u);
  EXPECT_EQ(store_->allocate(4).start, a.start);
}

}  // namespace
}  // namespace lightning::pagestore
