#include "util/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

std::vector<std::uint64_t> boundary_values64() {
  std::vector<std::uint64_t> v = {0, 1, std::numeric_limits<std::uint64_t>::max()};
  for (int shift = 1; shift < 64; ++shift) {
    const std::uint64_t p = std::uint64_t{1} << shift;
    v.push_back(p - 1);
    v.push_back(p);
    v.push_back(p + 1);
  }
  return v;
}

TEST(CodingTest, Fixed16) {
  for (std::uint32_t v = 0; v <= 0xffff; ++v) {
    char buf[2];
    encode_fixed16(buf, static_cast<std::uint16_t>(v));
    ASSERT_EQ(decode_fixed16(buf), v);
  }
  char buf[2];
  encode_fixed16(buf, 0x1234);
  EXPECT_EQ(buf[0], '\x34');  // little-endian
  EXPECT_EQ(buf[1], '\x12');
}

TEST(CodingTest, Fixed32RoundTripAndLayout) {
  std::string s;
  for (std::uint32_t v = 0; v < 100000; ++v) put_fixed32(s, v);
  std::string_view in = s;
  for (std::uint32_t v = 0; v < 100000; ++v) {
    std::uint32_t got = 0;
    ASSERT_TRUE(get_fixed32(&in, &got));
    ASSERT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
  std::string le;
  put_fixed32(le, 0x04030201u);
  EXPECT_EQ(le, std::string("\x01\x02\x03\x04", 4));
}

TEST(CodingTest, Fixed64RoundTripAndLayout) {
  std::string s;
  const auto values = boundary_values64();
  for (std::uint64_t v : values) put_fixed64(s, v);
  std::string_view in = s;
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint64_t got = 0;
    ASSERT_TRUE(get_fixed64(&in, &got));
    ASSERT_EQ(got, values[i]);
    EXPECT_EQ(decode_fixed64(s.data() + 8 * i), values[i]);
  }
  EXPECT_TRUE(in.empty());
  std::string le;
  put_fixed64(le, 0x0807060504030201ull);
  EXPECT_EQ(le, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(CodingTest, FixedTruncatedRejected) {
  std::string s;
  put_fixed64(s, 42);
  for (std::size_t n = 0; n < 4; ++n) {
    std::string_view in(s.data(), n);
    std::uint32_t v32 = 7;
    EXPECT_FALSE(get_fixed32(&in, &v32));
    EXPECT_EQ(in.size(), n);
    EXPECT_EQ(v32, 7u);
  }
  for (std::size_t n = 0; n < 8; ++n) {
    std::string_view in(s.data(), n);
    std::uint64_t v64 = 7;
    EXPECT_FALSE(get_fixed64(&in, &v64));
    EXPECT_EQ(in.size(), n);
  }
}

TEST(CodingTest, Varint32Boundaries) {
  std::vector<std::uint32_t> values;
  for (std::uint32_t i = 0; i < 32 * 32; ++i) values.push_back((i / 32) << (i % 32));
  for (std::uint32_t v :
       {0u, 127u, 128u, 16383u, 16384u, 2097151u, 2097152u, 268435455u, 268435456u, 0xffffffffu}) {
    values.push_back(v);
  }
  std::string s;
  for (std::uint32_t v : values) put_varint32(s, v);
  std::string_view in = s;
  for (std::uint32_t v : values) {
    const std::size_t before = in.size();
    std::uint32_t got = 0;
    ASSERT_TRUE(get_varint32(&in, &got));
    ASSERT_EQ(got, v);
    ASSERT_EQ(before - in.size(), static_cast<std::size_t>(varint_length(v)));
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, Varint64Boundaries) {
  const auto values = boundary_values64();
  std::string s;
  for (std::uint64_t v : values) put_varint64(s, v);
  std::string_view in = s;
  for (std::uint64_t v : values) {
    const std::size_t before = in.size();
    std::uint64_t got = 0;
    ASSERT_TRUE(get_varint64(&in, &got));
    ASSERT_EQ(got, v);
    ASSERT_EQ(before - in.size(), static_cast<std::size_t>(varint_length(v)));
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, VarintLengths) {
  EXPECT_EQ(varint_length(0), 1);
  EXPECT_EQ(varint_length(127), 1);
  EXPECT_EQ(varint_length(128), 2);
  EXPECT_EQ(varint_length(0xffffffffu), 5);
  EXPECT_EQ(varint_length(std::numeric_limits<std::uint64_t>::max()), 10);
  char buf[10];
  EXPECT_EQ(encode_varint64(buf, std::numeric_limits<std::uint64_t>::max()) - buf, 10);
  EXPECT_EQ(encode_varint32(buf, 300) - buf, 2);
  EXPECT_EQ(std::string(buf, 2), std::string("\xac\x02", 2));
}

TEST(CodingTest, VarintTruncatedRejected) {
  for (std::uint64_t v : boundary_values64()) {
    std::string s;
    put_varint64(s, v);
    for (std::size_t n = 0; n < s.size(); ++n) {
      std::string_view in(s.data(), n);
      std::uint64_t got = 99;
      ASSERT_FALSE(get_varint64(&in, &got)) << v << " cut to " << n;
      ASSERT_EQ(in.size(), n);  // input unchanged
      ASSERT_EQ(got, 99u);
      if (v <= 0xffffffffu) {
        std::uint32_t got32 = 99;
        ASSERT_FALSE(get_varint32(&in, &got32));
        ASSERT_EQ(in.size(), n);
      }
    }
  }
}

TEST(CodingTest, Varint32OverflowRejected) {
  // 2^32 needs 5 bytes but does not fit in 32 bits.
  std::string s;
  put_varint64(s, std::uint64_t{1} << 32);
  std::string_view in = s;
  std::uint32_t v = 0;
  EXPECT_FALSE(get_varint32(&in, &v));
  EXPECT_EQ(in.size(), s.size());
  // Six bytes with continuation bits set: too long for a varint32.
  const std::string six("\x80\x80\x80\x80\x80\x00", 6);
  in = six;
  EXPECT_FALSE(get_varint32(&in, &v));
  EXPECT_EQ(in.size(), six.size());
  // Five bytes whose top group sets bits above 32.
  const std::string big("\xff\xff\xff\xff\x1f", 5);
  in = big;
  EXPECT_FALSE(get_varint32(&in, &v));
  const std::string max32("\xff\xff\xff\xff\x0f", 5);
  in = max32;
  EXPECT_TRUE(get_varint32(&in, &v));
  EXPECT_EQ(v, 0xffffffffu);
}

TEST(CodingTest, Varint64OverflowRejected) {
  // 10th byte may carry only the top bit (value 1).
  std::string max64(9, '\xff');
  max64.push_back('\x01');
  std::string_view in = max64;
  std::uint64_t v = 0;
  EXPECT_TRUE(get_varint64(&in, &v));
  EXPECT_EQ(v, std::numeric_limits<std::uint64_t>::max());

  std::string over(9, '\xff');
  over.push_back('\x02');
  in = over;
  EXPECT_FALSE(get_varint64(&in, &v));
  EXPECT_EQ(in.size(), over.size());

  std::string eleven(10, '\x80');
  eleven.push_back('\x00');
  in = eleven;
  EXPECT_FALSE(get_varint64(&in, &v));
  EXPECT_EQ(in.size(), eleven.size());
}

TEST(CodingTest, LengthPrefixed) {
  std::string s;
  const std::vector<std::string> values = {
      "", "foo", "bar", std::string(200, 'x'), std::string(70000, 'y'), std::string("\0z", 2)};
  for (const auto& v : values) put_length_prefixed(s, v);
  std::string_view in = s;
  for (const auto& v : values) {
    std::string_view got;
    ASSERT_TRUE(get_length_prefixed(&in, &got));
    ASSERT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
  std::string_view got;
  EXPECT_FALSE(get_length_prefixed(&in, &got));
}

TEST(CodingTest, LengthPrefixedTruncatedRejected) {
  std::string s;
  put_length_prefixed(s, std::string(300, 'q'));  // 2-byte length prefix
  for (std::size_t n = 0; n < s.size(); ++n) {
    std::string_view in(s.data(), n);
    std::string_view got = "unchanged";
    ASSERT_FALSE(get_length_prefixed(&in, &got)) << n;
    ASSERT_EQ(in.size(), n);
    ASSERT_EQ(got, "unchanged");
  }
  // A length that overflows 32 bits.
  std::string bad;
  put_varint64(bad, std::uint64_t{1} << 33);
  bad.append(16, 'x');
  std::string_view in = bad;
  std::string_view got;
  EXPECT_FALSE(get_length_prefixed(&in, &got));
  EXPECT_EQ(in.size(), bad.size());
}

TEST(CodingTest, RandomVarintStreams) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  std::vector<std::uint64_t> values;
  std::string s;
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    values.push_back(v);
    put_varint64(s, v);
  }
  std::string_view in = s;
  for (std::uint64_t v : values) {
    std::uint64_t got = 0;
    ASSERT_TRUE(get_varint64(&in, &got));
    ASSERT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
}

}  // namespace
}  // namespace lightning
