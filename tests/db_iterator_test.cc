// Iterator, range and prefix behaviour through the public API.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

class DbIteratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::open(dir_.sub("db"), Config{});
    ASSERT_TRUE(db) << db.status().to_string();
    db_ = std::move(*db);
  }
  std::vector<std::string> keys(Range r) {
    std::vector<std::string> out;
    for (auto [k, v] : r) out.emplace_back(k);
    EXPECT_TRUE(r.status());
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DbIteratorTest, EmptyDatabase) {
  auto it = db_->new_iterator();
  it->first();
  EXPECT_FALSE(it->valid());
  it->last();
  EXPECT_FALSE(it->valid());
  it->seek("a");
  EXPECT_FALSE(it->valid());
  it->seek_for_prev("z");
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status());
  EXPECT_TRUE(keys(db_->range("a", "z")).empty());
}

TEST_F(DbIteratorTest, SeekVerbs) {
  for (const char* k : {"b", "d", "f"}) ASSERT_TRUE(db_->put(k, std::string("v") + k));
  auto it = db_->new_iterator();
  it->seek("c");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "d");
  EXPECT_EQ(it->value(), "vd");
  it->seek("d");
  EXPECT_EQ(it->key(), "d");
  it->seek_for_prev("c");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "b");
  it->seek_for_prev("d");
  EXPECT_EQ(it->key(), "d");
  it->seek_for_prev("a");
  EXPECT_FALSE(it->valid());
  it->seek("g");
  EXPECT_FALSE(it->valid());
  it->seek_for_prev("zzz");
  EXPECT_EQ(it->key(), "f");
  it->prev();
  EXPECT_EQ(it->key(), "d");
  it->next();
  EXPECT_EQ(it->key(), "f");
  it->next();
  EXPECT_FALSE(it->valid());
}

TEST_F(DbIteratorTest, DeletesAndOverwritesAreHiddenBothWays) {
  ASSERT_TRUE(db_->put("a", "1"));
  ASSERT_TRUE(db_->put("b", "1"));
  ASSERT_TRUE(db_->put("b", "2"));
  ASSERT_TRUE(db_->put("c", "1"));
  ASSERT_TRUE(db_->remove("c"));
  ASSERT_TRUE(db_->put("d", "1"));
  ASSERT_TRUE(db_->remove("d"));
  ASSERT_TRUE(db_->put("d", "3"));
  ASSERT_TRUE(db_->remove("e"));
  std::vector<std::pair<std::string, std::string>> fwd, rev;
  auto it = db_->new_iterator();
  for (it->first(); it->valid(); it->next()) fwd.emplace_back(it->key(), it->value());
  for (it->last(); it->valid(); it->prev()) rev.emplace_back(it->key(), it->value());
  std::vector<std::pair<std::string, std::string>> want = {{"a", "1"}, {"b", "2"}, {"d", "3"}};
  EXPECT_EQ(fwd, want);
  std::reverse(want.begin(), want.end());
  EXPECT_EQ(rev, want);
}

TEST_F(DbIteratorTest, DirectionChanges) {
  for (const char* k : {"a", "b", "c", "d"}) ASSERT_TRUE(db_->put(k, k));
  ASSERT_TRUE(db_->remove("c"));
  auto it = db_->new_iterator();
  it->seek("b");
  it->next();
  EXPECT_EQ(it->key(), "d");
  it->prev();
  EXPECT_EQ(it->key(), "b");
  it->prev();
  EXPECT_EQ(it->key(), "a");
  it->next();
  EXPECT_EQ(it->key(), "b");
  it->next();
  EXPECT_EQ(it->key(), "d");
}

TEST_F(DbIteratorTest, BoundsAndRange) {
  for (const char* k : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(db_->put(k, k));
  EXPECT_EQ(keys(db_->range("b", "d")), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(keys(db_->range("bb", "dd")), (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(keys(db_->range("x", "z")).empty());
  EXPECT_TRUE(keys(db_->range("c", "c")).empty());
  ReadOptions ro;
  ro.lower_bound = "b";
  ro.upper_bound = "d";
  auto it = db_->new_iterator(ro);
  it->last();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "c");
  it->seek("a");
  EXPECT_EQ(it->key(), "b");
  it->seek_for_prev("z");
  EXPECT_EQ(it->key(), "c");
  it->seek_for_prev("a");
  EXPECT_FALSE(it->valid());
  it->seek("d");
  EXPECT_FALSE(it->valid());
  it->first();
  it->prev();
  EXPECT_FALSE(it->valid());
}

TEST_F(DbIteratorTest, Prefix) {
  for (const char* k : {"user:1", "user:2", "user;", "users", "use", "order:1"}) ASSERT_TRUE(db_->put(k, "v"));
  EXPECT_EQ(keys(db_->prefix("user:")), (std::vector<std::string>{"user:1", "user:2"}));
  EXPECT_EQ(keys(db_->prefix("user")), (std::vector<std::string>{"user:1", "user:2", "user;", "users"}));
  EXPECT_EQ(keys(db_->prefix("")).size(), 6u);
  std::string ff("\xff\xff", 2);
  ASSERT_TRUE(db_->put(ff + "a", "v"));
  ASSERT_TRUE(db_->put(std::string("\xff", 1), "v"));
  EXPECT_EQ(keys(db_->prefix(ff)), (std::vector<std::string>{ff + "a"}));
}

TEST_F(DbIteratorTest, IteratorIsAStableView) {
  ASSERT_TRUE(db_->put("a", "old"));
  auto it = db_->new_iterator();
  ASSERT_TRUE(db_->put("a", "new"));
  ASSERT_TRUE(db_->put("b", "new"));
  ASSERT_TRUE(db_->remove("a"));
  it->first();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "a");
  EXPECT_EQ(it->value(), "old");
  it->next();
  EXPECT_FALSE(it->valid());
  auto fresh = db_->new_iterator();
  fresh->first();
  EXPECT_EQ(fresh->key(), "b");
}

}  // namespace
}  // namespace lightning
