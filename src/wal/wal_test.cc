// Tests for WalWriter / WalReader over in-test string-backed files (so they
// depend on no FileSystem implementation).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "testutil/testutil.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"

namespace lightning::wal {
namespace {

using Outcome = WalReader::Outcome;

// A WritableFile appending to a std::string owned by the test. Fails the
// append with index fail_append_at (0-based) and every sync if fail_sync.
class StringFile : public WritableFile {
 public:
  explicit StringFile(std::string* data) : data_(data) {}
  Status append(std::span<const std::byte> data) override {
    if (closed_) return Status::io_error("append after close");
    if (appends_++ == fail_append_at) return Status::io_error("injected append failure");
    data_->append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::ok();
  }
  Status sync() override {
    ++syncs_;
    return fail_sync ? Status::io_error("injected sync failure") : Status::ok();
  }
  Status close() override {
    closed_ = true;
    return Status::ok();
  }
  std::uint64_t size() const override { return data_->size(); }

  int fail_append_at = -1;
  bool fail_sync = false;
  int appends() const { return appends_; }
  int syncs() const { return syncs_; }

 private:
  std::string* data_;
  int appends_ = 0;
  int syncs_ = 0;
  bool closed_ = false;
};

// A ReadableFile over a copy of a string; reads at or past fail_from fail.
class StringSource : public ReadableFile {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    if (offset + out.size() > fail_from) return Status::io_error("injected read failure");
    if (offset >= data_.size()) return std::size_t{0};
    const std::size_t n = std::min<std::size_t>(out.size(), data_.size() - offset);
    std::copy_n(data_.data() + offset, n, reinterpret_cast<char*>(out.data()));
    return n;
  }
  Result<std::uint64_t> size() const override { return std::uint64_t{data_.size()}; }
  std::uint64_t fail_from = UINT64_MAX;

 private:
  std::string data_;
};

constexpr std::uint64_t kSegNo = 7;

struct Written {
  std::string data;
  std::vector<std::uint64_t> ends;  // file offset after each record
};

Written write_segment(const std::vector<std::string>& records, std::uint64_t seg = kSegNo) {
  Written w;
  auto file = std::make_unique<StringFile>(&w.data);
  WalWriter writer(std::move(file), "000007.wal", seg);
  for (const auto& r : records) {
    EXPECT_TRUE(writer.add_record(r).is_ok());
    w.ends.push_back(writer.size());
  }
  EXPECT_TRUE(writer.sync().is_ok());
  EXPECT_EQ(writer.bytes_flushed(), w.data.size());
  EXPECT_TRUE(writer.close().is_ok());
  return w;
}

struct ReadBack {
  std::vector<std::string> records;
  std::vector<std::uint64_t> offsets;
  Outcome outcome = Outcome::kRecord;
  std::uint64_t good_end = 0;
  Status status;
};

ReadBack read_segment(const std::string& data, std::uint64_t seg = kSegNo) {
  StringSource src(data);
  WalReader reader(src, "000007.wal");
  ReadBack rb;
  EXPECT_TRUE(reader.read_header(seg).is_ok());
  EXPECT_EQ(reader.file_size(), data.size());
  std::string rec;
  while ((rb.outcome = reader.next(&rec)) == Outcome::kRecord) {
    rb.records.push_back(rec);
    rb.offsets.push_back(reader.record_offset());
    EXPECT_GT(reader.good_end(), reader.record_offset());
  }
  rb.good_end = reader.good_end();
  rb.status = reader.status();
  // Finished readers repeat their outcome.
  EXPECT_EQ(reader.next(&rec), rb.outcome);
  return rb;
}

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// An independent encoding of one fragment, for hand-built segments.
std::string fragment(FragmentType type, std::string_view payload) {
  std::string f(kFragmentHeaderSize, '\0');
  const char t = static_cast<char>(type);
  const std::uint32_t crc = crc32c::extend(crc32c::value(&t, 1), payload.data(), payload.size());
  encode_fixed32(f.data(), crc32c::mask(crc));
  encode_fixed16(f.data() + 4, static_cast<std::uint16_t>(payload.size()));
  f[6] = t;
  f.append(payload);
  return f;
}

std::string header_only(std::uint64_t seg = kSegNo) { return write_segment({}, seg).data; }

// Where a record appended at file offset `end` starts (after any trailer).
std::uint64_t next_record_start(std::uint64_t end) {
  const std::uint64_t left = kBlockSize - (end - kSegmentHeaderSize) % kBlockSize;
  return left < kFragmentHeaderSize ? end + left : end;
}

void expect_round_trip(const std::vector<std::string>& records) {
  const Written w = write_segment(records);
  const ReadBack rb = read_segment(w.data);
  EXPECT_EQ(rb.outcome, Outcome::kEnd);
  ASSERT_EQ(rb.records.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(rb.records[i], records[i]) << "record " << i;
    EXPECT_EQ(rb.offsets[i], next_record_start(i == 0 ? kSegmentHeaderSize : w.ends[i - 1]))
        << "record " << i;
  }
  EXPECT_EQ(rb.good_end, records.empty() ? kSegmentHeaderSize : w.ends.back());
  EXPECT_EQ(rb.good_end, w.data.size());
}

TEST(WalTest, EmptySegmentIsJustAHeader) {
  std::string data;
  WalWriter writer(std::make_unique<StringFile>(&data), "x.wal", kSegNo);
  EXPECT_EQ(writer.size(), kSegmentHeaderSize);
  EXPECT_EQ(writer.bytes_flushed(), 0u);
  EXPECT_TRUE(data.empty());  // nothing before flush()
  ASSERT_TRUE(writer.flush().is_ok());
  EXPECT_EQ(data.size(), kSegmentHeaderSize);
  EXPECT_EQ(writer.bytes_flushed(), kSegmentHeaderSize);
  expect_round_trip({});
}

TEST(WalTest, HeaderLayout) {
  const std::string h = header_only(0x0102030405060708ull);
  ASSERT_EQ(h.size(), 32u);
  EXPECT_EQ(h.substr(0, 8), "LGLTNWAL");
  EXPECT_EQ(decode_fixed32(h.data() + 8), kWalFormatVersion);
  EXPECT_EQ(h.substr(12, 4), std::string(4, '\0'));  // codec none + reserved
  EXPECT_EQ(decode_fixed64(h.data() + 16), 0x0102030405060708ull);
  EXPECT_EQ(decode_fixed32(h.data() + 24), 0u);
  EXPECT_EQ(crc32c::unmask(decode_fixed32(h.data() + 28)), crc32c::value(h.data(), 28));
}

TEST(WalTest, OneTinyRecordLayout) {
  const Written w = write_segment({"a"});
  EXPECT_EQ(w.data, header_only() + fragment(FragmentType::kFull, "a"));
  expect_round_trip({"a"});
}

TEST(WalTest, RecordExactlyFillingTheFirstBlock) {
  const std::string big(kBlockSize - kFragmentHeaderSize, 'b');
  const Written w = write_segment({big, "next"});
  EXPECT_EQ(w.ends[0], block_start(1));
  EXPECT_EQ(w.data, header_only() + fragment(FragmentType::kFull, big) +
                        fragment(FragmentType::kFull, "next"));
  expect_round_trip({big, "next"});
  expect_round_trip({big});
}

TEST(WalTest, RecordLeavingATrailer) {
  for (std::size_t left = 1; left < kFragmentHeaderSize; ++left) {
    SCOPED_TRACE(left);
    const std::string first(kBlockSize - kFragmentHeaderSize - left, 'c');
    const Written w = write_segment({first, "after"});
    EXPECT_EQ(w.data, header_only() + fragment(FragmentType::kFull, first) +
                          std::string(left, '\0') + fragment(FragmentType::kFull, "after"));
    expect_round_trip({first, "after"});
    expect_round_trip({first});
  }
}

TEST(WalTest, RecordLeavingExactlyAHeaderGetsEmptyFirstFragment) {
  const std::string first(kBlockSize - 2 * kFragmentHeaderSize, 'd');
  const Written w = write_segment({first, "xyz"});
  EXPECT_EQ(w.data, header_only() + fragment(FragmentType::kFull, first) +
                        fragment(FragmentType::kFirst, "") + fragment(FragmentType::kLast, "xyz"));
  expect_round_trip({first, "xyz"});
}

TEST(WalTest, HugeMultiBlockRecord) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  const std::string huge = random_bytes(rng, 5 << 20);
  expect_round_trip({huge});
  expect_round_trip({"small", huge, "tail"});
  // Fragment sequence: FIRST, MIDDLE..., LAST, each block full but the last.
  const Written w = write_segment({huge});
  const std::size_t per_block = kBlockSize - kFragmentHeaderSize;
  const std::size_t blocks = (huge.size() + per_block - 1) / per_block;
  EXPECT_EQ(w.data.size(), kSegmentHeaderSize + huge.size() + blocks * kFragmentHeaderSize);
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto type = static_cast<FragmentType>(w.data[block_start(b) + 6]);
    const FragmentType want = b == 0            ? FragmentType::kFirst
                              : b + 1 == blocks ? FragmentType::kLast
                                                : FragmentType::kMiddle;
    ASSERT_EQ(type, want) << "block " << b;
  }
}

TEST(WalTest, ExactlyOneBlockPayloadTakesTwoFragments) {
  const std::string rec(kBlockSize - kFragmentHeaderSize + 1, 'e');
  const Written w = write_segment({rec});
  EXPECT_EQ(w.data.size(), kSegmentHeaderSize + rec.size() + 2 * kFragmentHeaderSize);
  expect_round_trip({rec});
}

TEST(WalTest, ManyRandomRecordsWithRandomFlushes) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  std::vector<std::string> records;
  std::string data;
  {
    auto file = std::make_unique<StringFile>(&data);
    StringFile* raw = file.get();
    WalWriter writer(std::move(file), "r.wal", kSegNo);
    for (int i = 0; i < 500; ++i) {
      const std::size_t sizes[] = {1, 10, 100, 1000, 10000, 100000};
      const std::size_t n = 1 + rng() % sizes[rng() % 6];
      records.push_back(random_bytes(rng, n));
      ASSERT_TRUE(writer.add_record(records.back()).is_ok());
      if (rng() % 4 == 0) {
        const int before = raw->appends();
        ASSERT_TRUE(writer.flush().is_ok());
        EXPECT_EQ(raw->appends(), before + 1);  // one append per flush
        EXPECT_EQ(writer.bytes_flushed(), data.size());
      }
    }
    ASSERT_TRUE(writer.sync().is_ok());
    EXPECT_EQ(writer.size(), data.size());
  }
  const ReadBack rb = read_segment(data);
  EXPECT_EQ(rb.outcome, Outcome::kEnd);
  ASSERT_EQ(rb.records, records);
  EXPECT_EQ(rb.good_end, data.size());
}

// Writes `prefix` records then `last`, and truncates the last record at the
// given points: every earlier record comes back, then kTornTail (or kEnd when
// only zero trailer bytes of the last record survive).
void check_truncations(const std::vector<std::string>& prefix, const std::string& last,
                       const std::vector<std::uint64_t>& cuts) {
  std::vector<std::string> all = prefix;
  all.push_back(last);
  const Written w = write_segment(all);
  const std::uint64_t prev_end = prefix.empty() ? kSegmentHeaderSize : w.ends[prefix.size() - 1];
  for (std::uint64_t cut : cuts) {
    if (cut < prev_end || cut >= w.data.size()) continue;
    const std::string torn = w.data.substr(0, cut);
    const ReadBack rb = read_segment(torn);
    ASSERT_EQ(rb.records, prefix) << "cut " << cut;
    const bool only_zeros = std::all_of(torn.begin() + static_cast<std::ptrdiff_t>(prev_end),
                                        torn.end(), [](char c) { return c == '\0'; });
    ASSERT_EQ(rb.outcome, only_zeros ? Outcome::kEnd : Outcome::kTornTail) << "cut " << cut;
    ASSERT_EQ(rb.good_end, prev_end) << "cut " << cut;
  }
}

TEST(WalTest, TornTailAtEveryTruncationOfASmallLastRecord) {
  std::vector<std::uint64_t> cuts;
  for (std::uint64_t c = 0; c < 2 * kBlockSize; ++c) cuts.push_back(c);
  check_truncations({"one", "two", std::string(500, 't')}, std::string(100, 'L'), cuts);
  check_truncations({}, "only", cuts);
  // A last record that starts after a trailer.
  check_truncations({std::string(kBlockSize - kFragmentHeaderSize - 3, 'p')}, "last", cuts);
}

TEST(WalTest, TornTailAtTruncationsOfAMultiBlockLastRecord) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  const std::string last = random_bytes(rng, 3 * kBlockSize + 123);
  std::vector<std::string> prefix = {"a", random_bytes(rng, 20000)};
  std::vector<std::uint64_t> cuts;
  // Every point near each block boundary, and a stride through the rest.
  for (std::uint64_t b = 0; b < 6; ++b) {
    for (std::uint64_t d = 0; d < 20; ++d) {
      cuts.push_back(block_start(b) + d);
      cuts.push_back(block_start(b) - d);
    }
  }
  for (std::uint64_t c = 0; c < 6 * kBlockSize; c += 509) cuts.push_back(c);
  check_truncations(prefix, last, cuts);
}

TEST(WalTest, FlippedByteInTheLastRecordIsATornTail) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  const std::vector<std::string> prefix = {"first", random_bytes(rng, 300)};
  for (const std::string& last : {random_bytes(rng, 40), random_bytes(rng, 2 * kBlockSize + 5)}) {
    std::vector<std::string> all = prefix;
    all.push_back(last);
    const Written w = write_segment(all);
    const std::uint64_t prev_end = w.ends[prefix.size() - 1];
    std::vector<std::uint64_t> positions;
    for (std::uint64_t p = prev_end; p < prev_end + 60 && p < w.data.size(); ++p)
      positions.push_back(p);
    for (std::uint64_t b = 1; block_start(b) < w.data.size(); ++b) {
      for (std::uint64_t d = 0; d < 10; ++d) positions.push_back(block_start(b) + d);
    }
    positions.push_back(w.data.size() - 1);
    for (std::uint64_t p : positions) {
      std::string bad = w.data;
      bad[p] = static_cast<char>(bad[p] ^ 0x41);
      const ReadBack rb = read_segment(bad);
      ASSERT_EQ(rb.records, prefix) << "flip at " << p;
      ASSERT_EQ(rb.outcome, Outcome::kTornTail) << "flip at " << p;
      ASSERT_EQ(rb.good_end, prev_end);
    }
  }
}

TEST(WalTest, FlippedByteInAnEarlyRecordIsCorruption) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) records.push_back(random_bytes(rng, 3000));  // ~4 blocks
  const Written w = write_segment(records);
  // Damage the payload of record 3: the records after it in the same block
  // are reached by following its (intact) length.
  {
    std::string bad = w.data;
    const std::uint64_t at = w.ends[2];
    bad[at + kFragmentHeaderSize + 10] ^= 1;
    const ReadBack rb = read_segment(bad);
    EXPECT_EQ(rb.records.size(), 3u);
    EXPECT_EQ(rb.outcome, Outcome::kCorruption);
    EXPECT_TRUE(rb.status.is_corruption());
    EXPECT_NE(rb.status.message().find("000007.wal"), std::string::npos) << rb.status.to_string();
    EXPECT_NE(rb.status.message().find("offset " + std::to_string(at)), std::string::npos)
        << rb.status.to_string();
    EXPECT_NE(
        rb.status.message().find("intact record follows at offset " + std::to_string(w.ends[3])),
        std::string::npos)
        << rb.status.to_string();
    EXPECT_EQ(rb.good_end, at);
  }
  // Damage every byte of the first record in turn (header included): later
  // blocks still start with intact fragments.
  for (std::uint64_t p = kSegmentHeaderSize; p < w.ends[0]; p += 97) {
    std::string bad = w.data;
    bad[p] ^= static_cast<char>(0x80);
    const ReadBack rb = read_segment(bad);
    ASSERT_TRUE(rb.records.empty()) << p;
    ASSERT_EQ(rb.outcome, Outcome::kCorruption) << p;
    ASSERT_NE(rb.status.message().find("at offset 32;"), std::string::npos)
        << rb.status.to_string();
    ASSERT_EQ(rb.good_end, kSegmentHeaderSize);
  }
}

TEST(WalTest, DamagedMiddleFragmentOfAnEarlyRecordIsCorruption) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  const std::vector<std::string> records = {random_bytes(rng, 3 * kBlockSize), "x", "y"};
  const Written w = write_segment(records);
  std::string bad = w.data;
  bad[block_start(1) + 100] ^= 1;  // inside the MIDDLE fragment
  const ReadBack rb = read_segment(bad);
  EXPECT_TRUE(rb.records.empty());
  EXPECT_EQ(rb.outcome, Outcome::kCorruption);
  EXPECT_NE(rb.status.message().find("offset " + std::to_string(block_start(1))), std::string::npos)
      << rb.status.to_string();
  EXPECT_NE(rb.status.message().find("record starting at offset 32"), std::string::npos);
}

TEST(WalTest, BadHeaders) {
  const std::string good = write_segment({"r"}).data;
  auto header_status = [](const std::string& data, std::uint64_t seg) {
    StringSource src(data);
    WalReader reader(src, "h.wal");
    Status st = reader.read_header(seg);
    std::string rec;
    if (!st.is_ok()) {
      EXPECT_EQ(reader.good_end(), 0u);
      EXPECT_EQ(reader.next(&rec), Outcome::kCorruption);  // REQUIRES violated: no crash
    }
    return st;
  };
  EXPECT_TRUE(header_status(good, kSegNo).is_ok());
  // Wrong segment number.
  Status st = header_status(good, kSegNo + 1);
  EXPECT_TRUE(st.is_corruption());
  EXPECT_NE(st.message().find("h.wal"), std::string::npos);
  // Bad magic, bad crc (a flip anywhere in [8, 32)).
  for (std::size_t i = 0; i < kSegmentHeaderSize; ++i) {
    std::string bad = good;
    bad[i] ^= 4;
    EXPECT_TRUE(header_status(bad, kSegNo).is_corruption()) << i;
  }
  // Truncated header.
  for (std::size_t n = 0; n < kSegmentHeaderSize; ++n) {
    EXPECT_TRUE(header_status(good.substr(0, n), kSegNo).is_corruption()) << n;
  }
  // A well-checksummed header with a future version or codec.
  auto reseal = [](std::string h) {
    encode_fixed32(h.data() + 28, crc32c::mask(crc32c::value(h.data(), 28)));
    return h;
  };
  std::string v2 = good;
  encode_fixed32(v2.data() + 8, 2);
  EXPECT_TRUE(header_status(reseal(v2), kSegNo).is_not_supported());
  std::string codec = good;
  codec[12] = 1;
  EXPECT_TRUE(header_status(reseal(codec), kSegNo).is_not_supported());
}

TEST(WalTest, ZeroFilledTailIsACleanEnd) {
  const Written w = write_segment({"a", "bb", std::string(1000, 'c')});
  for (std::size_t zeros : {1u, 6u, 7u, 8u, 100u, 40000u, 100000u}) {
    const ReadBack rb = read_segment(w.data + std::string(zeros, '\0'));
    EXPECT_EQ(rb.records.size(), 3u) << zeros;
    EXPECT_EQ(rb.outcome, Outcome::kEnd) << zeros;
    EXPECT_EQ(rb.good_end, w.data.size());
  }
  // Zero fill then garbage (not an intact record): torn tail.
  const ReadBack garbage = read_segment(w.data + std::string(100, '\0') + "junk");
  EXPECT_EQ(garbage.outcome, Outcome::kTornTail);
  EXPECT_EQ(garbage.good_end, w.data.size());
}

TEST(WalTest, ZerosInsideARecordAreATornTail) {
  const std::string big(2 * kBlockSize, 'z');
  const Written w = write_segment({"a", big});
  std::string bad =
      w.data.substr(0, block_start(1)) + std::string(w.data.size() - block_start(1), '\0');
  const ReadBack rb = read_segment(bad);
  EXPECT_EQ(rb.records, std::vector<std::string>{"a"});
  EXPECT_EQ(rb.outcome, Outcome::kTornTail);
  EXPECT_EQ(rb.good_end, w.ends[0]);
}

TEST(WalTest, ZerosFollowedByAnIntactRecordAreCorruption) {
  // Record, zero-fill of the rest of block 0, then an intact record in block 1.
  std::string data = header_only() + fragment(FragmentType::kFull, "a");
  data.resize(block_start(1), '\0');
  data += fragment(FragmentType::kFull, "b");
  const ReadBack rb = read_segment(data);
  EXPECT_EQ(rb.records, std::vector<std::string>{"a"});
  EXPECT_EQ(rb.outcome, Outcome::kCorruption);
  EXPECT_NE(rb.status.message().find("zero-filled"), std::string::npos) << rb.status.to_string();
}

TEST(WalTest, OutOfSequenceFragments) {
  const std::string h = header_only();
  {  // FIRST then FULL: the open record was cut off and an intact one follows.
    const ReadBack rb = read_segment(h + fragment(FragmentType::kFirst, "ab") +
                                     fragment(FragmentType::kFull, "cd"));
    EXPECT_TRUE(rb.records.empty());
    EXPECT_EQ(rb.outcome, Outcome::kCorruption);
  }
  {  // Orphan LAST followed by an intact FULL.
    const ReadBack rb =
        read_segment(h + fragment(FragmentType::kFull, "ok") + fragment(FragmentType::kLast, "x") +
                     fragment(FragmentType::kFull, "y"));
    EXPECT_EQ(rb.records, std::vector<std::string>{"ok"});
    EXPECT_EQ(rb.outcome, Outcome::kCorruption);
  }
  {  // Orphan MIDDLE at the end: torn.
    const ReadBack rb = read_segment(h + fragment(FragmentType::kFull, "ok") +
                                     fragment(FragmentType::kMiddle, "x"));
    EXPECT_EQ(rb.records, std::vector<std::string>{"ok"});
    EXPECT_EQ(rb.outcome, Outcome::kTornTail);
    EXPECT_EQ(rb.good_end, kSegmentHeaderSize + kFragmentHeaderSize + 2);
  }
  {  // FIRST then EOF: torn.
    const ReadBack rb = read_segment(h + fragment(FragmentType::kFirst, "ab"));
    EXPECT_TRUE(rb.records.empty());
    EXPECT_EQ(rb.outcome, Outcome::kTornTail);
    EXPECT_EQ(rb.good_end, kSegmentHeaderSize);
  }
  {  // Unknown fragment type with intact records after it.
    std::string bad = fragment(FragmentType::kFull, "q");
    bad[6] = 9;
    const ReadBack rb = read_segment(h + bad + fragment(FragmentType::kFull, "r"));
    EXPECT_EQ(rb.outcome, Outcome::kCorruption);
    EXPECT_NE(rb.status.message().find("unknown fragment type 9"), std::string::npos);
  }
}

TEST(WalTest, ReadErrorsAreReportedWithOffset) {
  std::mt19937_64 rng(lightning::testing::test_seed());
  const Written w = write_segment({random_bytes(rng, 2 * kBlockSize), "tail"});
  StringSource src(w.data);
  src.fail_from = block_start(1) + 1;  // block 1 is unreadable
  WalReader reader(src, "io.wal");
  ASSERT_TRUE(reader.read_header(kSegNo).is_ok());
  std::string rec;
  EXPECT_EQ(reader.next(&rec), Outcome::kCorruption);
  EXPECT_TRUE(reader.status().is_io_error()) << reader.status().to_string();
  EXPECT_NE(reader.status().message().find("io.wal"), std::string::npos);
  EXPECT_NE(reader.status().message().find("offset " + std::to_string(block_start(1))),
            std::string::npos)
      << reader.status().to_string();

  StringSource header_fail(w.data);
  header_fail.fail_from = 0;
  WalReader reader2(header_fail, "io.wal");
  EXPECT_TRUE(reader2.read_header(kSegNo).is_io_error());
}

TEST(WalTest, WriterAppendErrorIsSticky) {
  std::string data;
  auto file = std::make_unique<StringFile>(&data);
  file->fail_append_at = 1;
  WalWriter writer(std::move(file), "sticky.wal", kSegNo);
  ASSERT_TRUE(writer.add_record("one").is_ok());
  ASSERT_TRUE(writer.flush().is_ok());  // append #0
  ASSERT_TRUE(writer.add_record("two").is_ok());
  const Status st = writer.flush();  // append #1 fails
  ASSERT_TRUE(st.is_io_error());
  EXPECT_NE(st.message().find("sticky.wal"), std::string::npos) << st.to_string();
  EXPECT_EQ(writer.add_record("three"), st);
  EXPECT_EQ(writer.flush(), st);  // append #2 would succeed: never attempted
  EXPECT_EQ(writer.sync(), st);
  EXPECT_EQ(writer.close(), st);
  const ReadBack rb = read_segment(data);
  EXPECT_EQ(rb.records, std::vector<std::string>{"one"});
}

TEST(WalTest, WriterSyncErrorIsSticky) {
  std::string data;
  auto file = std::make_unique<StringFile>(&data);
  StringFile* raw = file.get();
  raw->fail_sync = true;
  WalWriter writer(std::move(file), "s.wal", kSegNo);
  ASSERT_TRUE(writer.add_record("one").is_ok());
  const Status st = writer.sync();
  ASSERT_TRUE(st.is_io_error());
  raw->fail_sync = false;
  EXPECT_EQ(writer.sync(), st);  // a failed fsync is not retried
  EXPECT_EQ(raw->syncs(), 1);
  EXPECT_EQ(writer.add_record("two"), st);
}

TEST(WalTest, WriterRejectsMisuse) {
  std::string data = "not empty";
  WalWriter nonempty(std::make_unique<StringFile>(&data), "n.wal", kSegNo);
  EXPECT_TRUE(nonempty.add_record("x").is_invalid_argument());
  EXPECT_TRUE(nonempty.flush().is_invalid_argument());

  std::string d2;
  WalWriter writer(std::make_unique<StringFile>(&d2), "m.wal", kSegNo);
  EXPECT_TRUE(writer.add_record("").is_invalid_argument());
  EXPECT_TRUE(writer.add_record("ok").is_ok());  // the empty record was not sticky
  EXPECT_TRUE(writer.close().is_ok());
  EXPECT_TRUE(writer.add_record("late").is_invalid_argument());
  EXPECT_TRUE(writer.close().is_ok());
  EXPECT_EQ(read_segment(d2).records, std::vector<std::string>{"ok"});
}

}  // namespace
}  // namespace lightning::wal
