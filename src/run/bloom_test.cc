#include "run/bloom.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace lightning::run {
namespace {


std::string key(std::uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "user%012llu", static_cast<unsigned long long>(i));
  return buf;
}

// The textbook rate of a bloom filter with b bits per key and k probes.
double expected_rate(int bits_per_key, int probes) {
  return std::pow(1.0 - std::exp(-static_cast<double>(probes) / bits_per_key), probes);
}

TEST(BloomTest, NoFalseNegatives) {
  BloomBuilder b(10);
  for (std::uint64_t i = 0; i < 10'000; ++i) b.add(key(i));
  std::string f;
  b.finish(&f);
  for (std::uint64_t i = 0; i < 10'000; ++i) ASSERT_TRUE(bloom_may_contain(f, key(i))) << key(i);
}

// 100k keys, then 100k absent keys: the measured false-positive rate is
// within a factor of 1.5 (either way) of the theoretical rate for the
// configured bits per key.
TEST(BloomTest, FalsePositiveRateMatchesBitsPerKey) {
  constexpr std::uint64_t kKeys = 100'000;
  for (int bits : {6, 10, 16}) {
    BloomBuilder b(bits);
    for (std::uint64_t i = 0; i < kKeys; ++i) b.add(key(i));
    std::string f;
    b.finish(&f);
    EXPECT_GE(f.size(), kKeys * static_cast<std::uint64_t>(bits) / 8);
    std::uint64_t positives = 0;
    for (std::uint64_t i = kKeys; i < 2 * kKeys; ++i) positives += bloom_may_contain(f, key(i)) ? 1 : 0;
    const double rate = static_cast<double>(positives) / kKeys;
    const double expected = expected_rate(bits, b.num_probes());
    std::printf("[ info     ] %d bits/key, %d probes: false positives %.4f%% (theory %.4f%%)\n", bits,
                b.num_probes(), 100 * rate, 100 * expected);
    EXPECT_LT(rate, expected * 1.5) << bits << " bits per key";
    EXPECT_GT(rate, expected / 1.5) << bits << " bits per key";
  }
}

TEST(BloomTest, EmptyAndMalformedFiltersNeverSayAbsentWrongly) {
  BloomBuilder b(10);
  std::string f;
  b.finish(&f);  // no keys: a 64-bit filter that rejects everything
  EXPECT_FALSE(bloom_may_contain(f, "x"));
  EXPECT_TRUE(bloom_may_contain("", "x"));  // too short: no answer
  std::string bad(16, '\0');
  bad.back() = 99;  // unknown probe count
  EXPECT_TRUE(bloom_may_contain(bad, "x"));
}

TEST(BloomTest, HashIsStable) {
  // Filters are on disk: the hash must never change.
  EXPECT_EQ(key_hash(""), key_hash(std::string_view()));
  EXPECT_NE(key_hash("a"), key_hash("b"));
  EXPECT_NE(key_hash("abcdefgh"), key_hash(std::string_view("abcdefgh\0", 9)));
  EXPECT_NE(key_hash(""), key_hash(std::string_view("\0", 1)));
  // Golden values: a change here invalidates every filter on disk.
  std::printf("[ info     ] key_hash(lightning) = %llu, key_hash(empty) = %llu\n",
              static_cast<unsigned long long>(key_hash("lightning")), static_cast<unsigned long long>(key_hash("")));
  EXPECT_EQ(key_hash("lightning"), 3674311441587726035ull);
  EXPECT_EQ(key_hash(""), 5627194300713089401ull);
}

}  // namespace
}  // namespace lightning::run
