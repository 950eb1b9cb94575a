#include "util/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace lightning::crc32c {
namespace {

// Checks a vector against the dispatching, the portable and (explicitly) the
// value() entry points.
void expect_crc(const std::string& data, std::uint32_t expected) {
  EXPECT_EQ(value(data), expected);
  EXPECT_EQ(value(data.data(), data.size()), expected);
  EXPECT_EQ(extend_portable(0, data.data(), data.size()), expected);
}

TEST(Crc32cTest, Rfc3720Vectors) {
  expect_crc(std::string(32, '\0'), 0x8a9136aau);
  expect_crc(std::string(32, '\xff'), 0x62a8ab43u);
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[static_cast<std::size_t>(i)] = static_cast<char>(i);
    descending[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
  }
  expect_crc(ascending, 0x46dd794eu);
  expect_crc(descending, 0x113fdb5cu);
  expect_crc("123456789", 0xe3069283u);
}

TEST(Crc32cTest, IscsiReadCommandPdu) {
  // RFC 3720 B.4: an iSCSI SCSI Read (10) command PDU.
  const unsigned char pdu[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                 0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  expect_crc(std::string(reinterpret_cast<const char*>(pdu), sizeof pdu), 0xd9963a56u);
}

TEST(Crc32cTest, EmptyInput) {
  EXPECT_EQ(value("", 0), 0u);
  EXPECT_EQ(extend(0x12345678u, nullptr, 0), 0x12345678u);
  EXPECT_EQ(extend_portable(0x12345678u, nullptr, 0), 0x12345678u);
}

TEST(Crc32cTest, ExtendEqualsValueOfConcatenation) {
  EXPECT_EQ(value("hello world"), extend(value("hello "), "world", 5));
  std::mt19937_64 rng(lightning::testing::test_seed());
  for (int iter = 0; iter < 200; ++iter) {
    const std::string data = lightning::testing::random_string(rng, rng() % 300, '\0', '\x7f');
    const std::size_t split = data.empty() ? 0 : rng() % (data.size() + 1);
    const std::uint32_t whole = value(data);
    EXPECT_EQ(extend(value(data.data(), split), data.data() + split, data.size() - split), whole);
    EXPECT_EQ(extend_portable(extend_portable(0, data.data(), split), data.data() + split,
                              data.size() - split),
              whole);
  }
}

TEST(Crc32cTest, DifferentInputsDiffer) {
  EXPECT_NE(value("a"), value("foo"));
  EXPECT_NE(value("foo"), value("bar"));
}

TEST(Crc32cTest, HardwareMatchesPortable) {
  std::printf("hardware_accelerated() = %d\n", hardware_accelerated() ? 1 : 0);
  std::mt19937_64 rng(lightning::testing::test_seed());
  std::vector<char> buf(4096 + 16);
  for (auto& c : buf) c = static_cast<char>(rng());
  // Every length and alignment near the word-size edges...
  for (std::size_t align = 0; align < 16; ++align) {
    for (std::size_t len = 0; len < 80; ++len) {
      const char* p = buf.data() + align;
      ASSERT_EQ(extend(0, p, len), extend_portable(0, p, len))
          << "align " << align << " len " << len;
      ASSERT_EQ(extend(0xdeadbeefu, p, len), extend_portable(0xdeadbeefu, p, len));
    }
  }
  // ...and random ones.
  for (int iter = 0; iter < 2000; ++iter) {
    const std::size_t align = rng() % 16;
    const std::size_t len = rng() % 4096;
    const auto init = static_cast<std::uint32_t>(rng());
    const char* p = buf.data() + align;
    ASSERT_EQ(extend(init, p, len), extend_portable(init, p, len))
        << "align " << align << " len " << len << " init " << init;
  }
}

TEST(Crc32cTest, MaskRoundTrip) {
  const std::uint32_t crc = value("foo");
  EXPECT_NE(crc, mask(crc));
  EXPECT_NE(crc, mask(mask(crc)));
  EXPECT_EQ(crc, unmask(mask(crc)));
  EXPECT_EQ(crc, unmask(unmask(mask(mask(crc)))));
  std::mt19937_64 rng(lightning::testing::test_seed());
  for (int i = 0; i < 10000; ++i) {
    const auto c = static_cast<std::uint32_t>(rng());
    EXPECT_EQ(unmask(mask(c)), c);
    EXPECT_NE(mask(c), c);
  }
  for (std::uint32_t c : {0u, 1u, 0xffffffffu, 0x80000000u, 0x7fffffffu}) {
    EXPECT_EQ(unmask(mask(c)), c);
    EXPECT_NE(mask(c), c);
  }
}

}  // namespace
}  // namespace lightning::crc32c
