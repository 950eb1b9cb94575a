// Meta slot encoding: round trip, format versions, run-list fields.
#include "pagestore/meta.h"

#include <gtest/gtest.h>

#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"

namespace lightning::pagestore {
namespace {

Meta sample() {
  Meta m;
  m.page_size = 4096;
  m.epoch = 7;
  m.last_sequence = 1234;
  m.high_water = 100;
  m.wal_floor = 9;
  m.runs = PageRef{50, 4096, 0xabcdef};
  m.runs_bytes = 33;
  return m;
}

std::span<const std::byte> bytes(const char* p) { return std::as_bytes(std::span(p, kMetaSize)); }

// Rewrites the version field and the checksum, as a writer of that version would.
void set_version(char* buf, std::uint32_t version) {
  encode_fixed32(buf + meta_layout::kVersion, version);
  encode_fixed32(buf + meta_layout::kCrc, crc32c::mask(crc32c::value(buf, meta_layout::kCrc)));
}

TEST(MetaTest, RoundTripIncludingTheRunList) {
  char buf[kMetaSize];
  encode_meta(sample(), buf);
  auto m = decode_meta(bytes(buf), "slot");
  ASSERT_TRUE(m.has_value()) << m.status().to_string();
  EXPECT_EQ(m->epoch, 7u);
  EXPECT_EQ(m->runs, (PageRef{50, 4096, 0xabcdef}));
  EXPECT_EQ(m->runs_bytes, 33u);
  EXPECT_EQ(decode_fixed32(buf + meta_layout::kVersion), kDataFileFormatVersion);
}

TEST(MetaTest, VersionOneSlotsReadAsHavingNoRuns) {
  Meta m = sample();
  m.runs = PageRef{};
  m.runs_bytes = 0;
  char buf[kMetaSize];
  encode_meta(m, buf);
  set_version(buf, 1);
  auto d = decode_meta(bytes(buf), "slot");
  ASSERT_TRUE(d.has_value()) << d.status().to_string();
  EXPECT_EQ(d->runs.page_id, 0u);
}

TEST(MetaTest, NewerVersionIsNotSupported) {
  char buf[kMetaSize];
  encode_meta(sample(), buf);
  set_version(buf, kDataFileFormatVersion + 1);
  auto d = decode_meta(bytes(buf), "slot");
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(d.status().is_not_supported()) << d.status().to_string();
}

TEST(MetaTest, RunListFieldsAreValidated) {
  Meta m = sample();
  m.runs_bytes = 0;  // a list extent without a length
  char buf[kMetaSize];
  encode_meta(m, buf);
  EXPECT_TRUE(decode_meta(bytes(buf), "slot").status().is_corruption());
  m = sample();
  m.runs.page_id = 500;  // past the high-water mark
  encode_meta(m, buf);
  auto d = decode_meta(bytes(buf), "slot");
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.status().message().find("run list page 500"), std::string::npos) << d.status().to_string();
}

}  // namespace
}  // namespace lightning::pagestore
