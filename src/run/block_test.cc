#include "run/block.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "testutil/testutil.h"

namespace lightning::run {
namespace {

int bytewise(std::string_view a, std::string_view b) { return a.compare(b); }

const std::string kFile = "test.run";

class BlockTest : public ::testing::TestWithParam<int> {};

TEST_P(BlockTest, RoundTripSeeksAndBothDirections) {
  std::mt19937_64 rng(testing::test_seed() + static_cast<std::uint64_t>(GetParam()));
  std::map<std::string, std::string> model;
  for (int i = 0; i < 300; ++i) model[testing::random_string(rng, 1 + rng() % 12, 'a', 'd')] = testing::random_string(rng, rng() % 20);
  BlockBuilder b(GetParam());
  for (const auto& [k, v] : model) b.add(k, v);
  const std::string payload(b.finish());
  auto reader = BlockReader::open(payload, BlockLocation{&kFile, 4096});
  ASSERT_TRUE(reader.has_value()) << reader.status().to_string();
  auto it = reader->new_iterator(&bytewise);
  auto m = model.begin();
  for (it->seek_to_first(); it->valid(); it->next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second);
  }
  EXPECT_EQ(m, model.end());
  auto r = model.rbegin();
  for (it->seek_to_last(); it->valid(); it->prev(), ++r) {
    ASSERT_NE(r, model.rend());
    ASSERT_EQ(it->key(), r->first);
  }
  EXPECT_EQ(r, model.rend());
  for (int i = 0; i < 200; ++i) {
    const std::string target = testing::random_string(rng, 1 + rng() % 12, 'a', 'd');
    it->seek(target);
    auto lb = model.lower_bound(target);
    if (lb == model.end()) {
      EXPECT_FALSE(it->valid()) << target;
    } else {
      ASSERT_TRUE(it->valid()) << target;
      EXPECT_EQ(it->key(), lb->first);
    }
    it->seek_for_prev(target);
    auto ub = model.upper_bound(target);
    if (ub == model.begin()) {
      EXPECT_FALSE(it->valid()) << target;
    } else {
      ASSERT_TRUE(it->valid()) << target;
      EXPECT_EQ(it->key(), std::prev(ub)->first);
    }
  }
  EXPECT_TRUE(it->status().is_ok());
}

INSTANTIATE_TEST_SUITE_P(RestartIntervals, BlockTest, ::testing::Values(1, 2, 16, 1000));

TEST(BlockReaderTest, RejectsBadRestartArrays) {
  const std::string empty;
  EXPECT_TRUE(BlockReader::open(empty, BlockLocation{&kFile, 7}).status().is_corruption());
  std::string zero_restarts(4, '\0');
  auto r = BlockReader::open(zero_restarts, BlockLocation{&kFile, 7});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.status().message().find("test.run block at offset 7"), std::string::npos) << r.status().to_string();
  std::string too_many = "\xff\xff\xff\x0f";
  EXPECT_TRUE(BlockReader::open(too_many, BlockLocation{&kFile, 7}).status().is_corruption());
}

TEST(BlockReaderTest, DamagedEntriesStopWithCorruption) {
  BlockBuilder b(4);
  for (int i = 0; i < 20; ++i) b.add("key" + std::to_string(100 + i), "value");
  std::string payload(b.finish());
  payload[1] = '\xff';  // the first entry's unshared length becomes a
  payload[2] = '\x7f';  // two-byte varint (16383): far past the block
  auto reader = BlockReader::open(payload, BlockLocation{&kFile, 0});
  ASSERT_TRUE(reader.has_value());
  auto it = reader->new_iterator(&bytewise);
  it->seek_to_first();
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().is_corruption()) << it->status().to_string();
}

}  // namespace
}  // namespace lightning::run
