// Corruption tests on real files (TempDir + the POSIX file system): bytes of
// WAL segments and of the LIGHTNING marker are flipped or cut, and
// Database::open must tell a torn tail (a crash during the last append:
// recover silently) from damage in the middle (Corruption naming the file and
// offset, or with paranoid_checks = false: keep the intact prefix, set the
// damaged files aside as *.corrupt). Nothing here may crash (ASan/UBSan).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "db/filename.h"
#include "lightning/lightning.h"
#include "testutil/testutil.h"
#include "wal/wal_format.h"

namespace lightning {
namespace {

namespace fs = std::filesystem;
using Model = std::map<std::string, std::string>;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

void flip_byte(const std::string& path, std::uint64_t offset) {
  std::string data = read_bytes(path);
  ASSERT_LT(offset, data.size()) << path;
  data[offset] = static_cast<char>(data[offset] ^ 0x55);
  write_bytes(path, data);
}

Model read_all(Database& db) {
  Model m;
  auto it = db.new_iterator();
  for (it->first(); it->valid(); it->next())
    m.emplace(std::string(it->key()), std::string(it->value()));
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  return m;
}

// "equal" or the first difference (maps of long values make poor messages).
std::string diff(const Model& got, const Model& want) {
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end())
      return "missing key " + k + " (" + std::to_string(got.size()) + " keys present)";
    if (it->second != v) return "key " + k + " has a wrong value";
  }
  for (const auto& [k, v] : got) {
    if (!want.contains(k)) return "unexpected key " + k;
  }
  return "equal";
}

Config paranoid(bool on) {
  Config c;
  c.paranoid_checks = on;
  return c;
}

// One session's writes to one segment: record i is the bytes [start[i], end[i])
// of the segment (found from the file size around each Sync-mode put).
struct Session {
  std::string segment;  // path
  std::vector<std::string> keys, values;
  std::vector<std::uint64_t> start, end;
  Model model() const {
    Model m;
    for (std::size_t i = 0; i < keys.size(); ++i) m[keys[i]] = values[i];
    return m;
  }
  Model prefix(std::size_t n) const {
    Model m;
    for (std::size_t i = 0; i < n; ++i) m[keys[i]] = values[i];
    return m;
  }
  // Offset of record i's first fragment header (after any block trailer).
  std::uint64_t fragment_start(std::size_t i) const {
    const std::uint64_t in_block = (start[i] - wal::kSegmentHeaderSize) % wal::kBlockSize;
    if (wal::kBlockSize - in_block < wal::kFragmentHeaderSize)
      return start[i] + wal::kBlockSize - in_block;
    return start[i];
  }
  // True if record i lies within one block.
  bool in_one_block(std::size_t i) const {
    auto block = [](std::uint64_t off) {
      return (off - wal::kSegmentHeaderSize) / wal::kBlockSize;
    };
    return block(fragment_start(i)) == block(end[i] - 1);
  }
};

// Opens dir (which must be fresh or cleanly closed, so this open creates
// segment `segment_number`), writes n puts in Sync mode and closes.
Session write_session(const std::string& dir, std::uint64_t segment_number,
                      const std::string& prefix, int n, std::mt19937_64& rng) {
  Session s;
  s.segment = wal_file_name(dir, segment_number);
  auto db = Database::open(dir);
  EXPECT_TRUE(db.has_value()) << db.status().to_string();
  if (!db) return s;
  for (int i = 0; i < n; ++i) {
    s.keys.push_back(prefix + std::to_string(1000 + i));
    s.values.push_back(testing::random_string(rng, 100 + rng() % 900));
    s.start.push_back(fs::file_size(s.segment));
    EXPECT_TRUE((*db)->put(s.keys.back(), s.values.back()).is_ok());
    s.end.push_back(fs::file_size(s.segment));
  }
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------- damage in the middle

// A flipped byte inside a record that intact records follow (in the same
// segment, or only in the next one) is Corruption naming the file and offset.
// Without paranoid checks the intact prefix is kept, everything after the
// damage (including the whole later segment: no holes) is dropped and set
// aside as *.corrupt, and the next open is clean.
void check_mid_segment_damage(bool last_record_of_segment, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  Session s1 = write_session(dir, 1, "a", 90, rng);
  Session s2 = write_session(dir, 2, "b", 20, rng);
  ASSERT_EQ(s1.keys.size(), 90u);
  ASSERT_GT(s1.end.back(), wal::kBlockSize) << "the first segment should span blocks";

  std::size_t j = s1.keys.size() - 1;
  if (!last_record_of_segment) {
    do {
      j = 5 + rng() % 80;
    } while (!s1.in_one_block(j));
  }
  const std::uint64_t damage = (s1.fragment_start(j) + s1.end[j]) / 2;
  SCOPED_TRACE("damaged record " + std::to_string(j) + " at offset " + std::to_string(damage));
  flip_byte(s1.segment, damage);

  auto bad = Database::open(dir, paranoid(true));
  ASSERT_FALSE(bad.has_value());
  const Status st = bad.status();
  EXPECT_TRUE(st.is_corruption()) << st.to_string();
  EXPECT_TRUE(contains(st.message(), "000001.wal")) << st.to_string();
  EXPECT_TRUE(contains(st.message(), "offset")) << st.to_string();
  // The failed open changed nothing: it fails again the same way.
  auto bad2 = Database::open(dir, paranoid(true));
  ASSERT_FALSE(bad2.has_value());
  EXPECT_EQ(bad2.status(), st);

  {
    auto db = Database::open(dir, paranoid(false));
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    EXPECT_EQ(diff(read_all(**db), s1.prefix(j)), "equal")
        << "want exactly the records before the damage";
    EXPECT_GT((*db)->stats().wal_bytes_dropped_at_recovery, 0u);
    EXPECT_EQ((*db)->stats().wal_records_replayed, j);
    // One sequence number per put: the kept prefix ends at sequence j, and new
    // writes must continue after it.
    EXPECT_EQ((*db)->stats().last_sequence, j);
    EXPECT_TRUE(fs::exists(corrupt_wal_file_name(dir, 1)));
    EXPECT_TRUE(fs::exists(corrupt_wal_file_name(dir, 2))) << "the later segment must be set aside";
    EXPECT_FALSE(fs::exists(s2.segment));
    // The copy set aside is the damaged segment as it was.
    std::string aside = read_bytes(corrupt_wal_file_name(dir, 1));
    EXPECT_EQ(aside.size(), s1.end.back());
    ASSERT_TRUE((*db)->put("after", "recovery").is_ok());
  }
  for (int reopen = 0; reopen < 2; ++reopen) {
    auto db = Database::open(dir, paranoid(true));
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    Model want = s1.prefix(j);
    want["after"] = "recovery";
    EXPECT_EQ(diff(read_all(**db), want), "equal");
    EXPECT_EQ((*db)->stats().wal_bytes_dropped_at_recovery, 0u) << "a second reopen must be clean";
  }
}

TEST(WalCorruption, FlipInMiddleOfSegmentIsCorruption) {
  check_mid_segment_damage(/*last_record_of_segment=*/false, testing::test_seed());
}

TEST(WalCorruption, FlipInLastRecordOfNonLastSegmentIsCorruption) {
  check_mid_segment_damage(/*last_record_of_segment=*/true, testing::test_seed());
}

// A bad header (magic) on a segment that is not the last one is Corruption;
// without paranoid checks nothing after the damage is kept (no holes).
TEST(WalCorruption, BadHeaderMagicOnNonLastSegment) {
  std::mt19937_64 rng(testing::test_seed());
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  Session s1 = write_session(dir, 1, "a", 10, rng);
  Session s2 = write_session(dir, 2, "b", 10, rng);
  flip_byte(s1.segment, 3);  // inside the magic
  auto bad = Database::open(dir, paranoid(true));
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.status().is_corruption()) << bad.status().to_string();
  EXPECT_TRUE(contains(bad.status().message(), "000001.wal")) << bad.status().to_string();

  auto db = Database::open(dir, paranoid(false));
  ASSERT_TRUE(db.has_value()) << db.status().to_string();
  EXPECT_EQ(diff(read_all(**db), Model{}), "equal")
      << "keys after the damaged header must not survive";
  EXPECT_GT((*db)->stats().wal_bytes_dropped_at_recovery, 0u);
  EXPECT_TRUE(fs::exists(corrupt_wal_file_name(dir, 1)));
  EXPECT_TRUE(fs::exists(corrupt_wal_file_name(dir, 2)));
}

// A segment whose header names another segment number (a misnamed file) is
// Corruption naming the file.
TEST(WalCorruption, SegmentNumberMismatchIsCorruption) {
  std::mt19937_64 rng(testing::test_seed());
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  Session s1 = write_session(dir, 1, "a", 10, rng);
  Session s2 = write_session(dir, 2, "b", 10, rng);
  fs::rename(s1.segment, wal_file_name(dir, 0));
  auto bad = Database::open(dir);
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.status().is_corruption()) << bad.status().to_string();
  // Either the misnamed file or the segment the data file needs (the tree's
  // wal_floor, now missing) is named; nothing is deleted by the failed open.
  EXPECT_TRUE(contains(bad.status().message(), "000000.wal") ||
              contains(bad.status().message(), "000001.wal"))
      << bad.status().to_string();
  EXPECT_TRUE(fs::exists(wal_file_name(dir, 0)));
}

// ---------------------------------------------------------------- torn tails

// Cutting the last segment anywhere is a torn tail: the open succeeds with
// exactly the records that end at or before the cut, and a reopen is clean.
TEST(WalCorruption, TruncatedLastSegmentKeepsPrefix) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  Session s = write_session(dir, 1, "k", 70, rng);
  ASSERT_EQ(s.keys.size(), 70u);
  const std::string segment = read_bytes(s.segment);
  const std::string marker = read_bytes(marker_file_name(dir));
  const std::string data = read_bytes(data_file_name(dir));  // an empty tree
  ASSERT_EQ(segment.size(), s.end.back());

  std::vector<std::uint64_t> cuts = {0, 1, 31, 32, 33, 38, 39, 40};
  for (std::size_t i = 0; i < s.end.size(); i += 3) {
    for (std::int64_t d : {-1, 0, 1, 7}) cuts.push_back(s.end[i] + d);
  }
  for (std::uint64_t b = 1; wal::block_start(b) < segment.size(); ++b) {
    for (std::int64_t d : {-8, -7, -6, -1, 0, 1, 6, 7, 8}) cuts.push_back(wal::block_start(b) + d);
  }
  for (int r = 0; r < 20; ++r) cuts.push_back(rng() % segment.size());
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  const std::string cut_dir = tmp.sub("cut");
  for (std::uint64_t cut : cuts) {
    if (cut > segment.size()) continue;
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(segment.size()));
    fs::remove_all(cut_dir);
    fs::create_directory(cut_dir);
    write_bytes(marker_file_name(cut_dir), marker);
    write_bytes(data_file_name(cut_dir), data);
    write_bytes(wal_file_name(cut_dir, 1), segment.substr(0, cut));
    std::size_t whole = 0;
    while (whole < s.end.size() && s.end[whole] <= cut) ++whole;
    {
      auto db = Database::open(cut_dir);
      ASSERT_TRUE(db.has_value()) << db.status().to_string();
      ASSERT_EQ(diff(read_all(**db), s.prefix(whole)), "equal");
      const std::uint64_t good_end = whole > 0 ? s.end[whole - 1] : wal::kSegmentHeaderSize;
      const std::uint64_t dropped = (*db)->stats().wal_bytes_dropped_at_recovery;
      if (cut < wal::kSegmentHeaderSize) {
        EXPECT_EQ(dropped, cut);
      } else {
        EXPECT_LE(dropped, cut - good_end);
        // Only the zero trailer of a block may end a segment without counting as torn.
        if (dropped == 0) {
          EXPECT_EQ(segment.substr(good_end, cut - good_end), std::string(cut - good_end, '\0'));
        }
      }
      ASSERT_TRUE((*db)->put("after", "cut").is_ok());
    }
    auto db = Database::open(cut_dir);
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    Model want = s.prefix(whole);
    want["after"] = "cut";
    ASSERT_EQ(diff(read_all(**db), want), "equal");
    EXPECT_EQ((*db)->stats().wal_bytes_dropped_at_recovery, 0u);
  }
}

// Damage confined to the last record of the last segment is a torn tail.
TEST(WalCorruption, FlipInLastRecordIsTornTail) {
  std::mt19937_64 rng(testing::test_seed());
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  Session s = write_session(dir, 1, "k", 30, rng);
  const std::string original = read_bytes(s.segment);
  const std::size_t last = s.keys.size() - 1;
  const std::uint64_t frag = s.fragment_start(last);
  std::vector<std::uint64_t> offsets;
  for (std::uint64_t i = 0; i < wal::kFragmentHeaderSize; ++i) offsets.push_back(frag + i);
  offsets.push_back((frag + s.end[last]) / 2);
  offsets.push_back(s.end[last] - 1);
  for (std::uint64_t off : offsets) {
    SCOPED_TRACE("flipped offset " + std::to_string(off) + " (record at " + std::to_string(frag) +
                 ")");
    write_bytes(s.segment, original);
    // Later opens add segments; keep only the first one.
    for (std::uint64_t n = 2; n < 10; ++n) fs::remove(wal_file_name(dir, n));
    flip_byte(s.segment, off);
    auto db = Database::open(dir);
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    EXPECT_EQ(diff(read_all(**db), s.prefix(last)), "equal");
    EXPECT_GT((*db)->stats().wal_bytes_dropped_at_recovery, 0u);
    EXPECT_FALSE(fs::exists(corrupt_wal_file_name(dir, 1))) << "a torn tail is not damage";
  }
}

// ---------------------------------------------------------------- not a database

TEST(WalCorruption, DirectoryWithForeignFilesIsNotADatabase) {
  testing::TempDir tmp;
  write_bytes(tmp.sub("notes.txt"), "hello");
  write_bytes(tmp.sub("data.bin"), std::string(100, '\x01'));
  auto db = Database::open(tmp.path());
  ASSERT_FALSE(db.has_value());
  EXPECT_TRUE(db.status().is_invalid_argument()) << db.status().to_string();
  EXPECT_TRUE(contains(db.status().message(), "LIGHTNING")) << db.status().to_string();
  EXPECT_FALSE(fs::exists(tmp.sub("LIGHTNING")))
      << "must not create a database among foreign files";
  EXPECT_EQ(read_bytes(tmp.sub("notes.txt")), "hello");
}

TEST(WalCorruption, PathIsARegularFile) {
  testing::TempDir tmp;
  const std::string path = tmp.sub("plainfile");
  write_bytes(path, "not a directory");
  auto db = Database::open(path);
  ASSERT_FALSE(db.has_value());
  EXPECT_FALSE(db.status().message().empty());
  EXPECT_TRUE(contains(db.status().message(), path)) << db.status().to_string();
  EXPECT_EQ(read_bytes(path), "not a directory");
}

TEST(WalCorruption, DamagedMarkerIsCorruption) {
  std::mt19937_64 rng(testing::test_seed());
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  write_session(dir, 1, "k", 3, rng);
  const std::string marker = marker_file_name(dir);
  const std::string original = read_bytes(marker);
  ASSERT_EQ(original.size(), 32u);
  for (std::uint64_t off : {0ull, 9ull, 20ull, 31ull}) {
    SCOPED_TRACE("flipped marker byte " + std::to_string(off));
    write_bytes(marker, original);
    flip_byte(marker, off);
    auto db = Database::open(dir);
    ASSERT_FALSE(db.has_value());
    EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
    EXPECT_TRUE(contains(db.status().message(), "LIGHTNING")) << db.status().to_string();
  }
  // A short marker.
  write_bytes(marker, original.substr(0, 5));
  auto db = Database::open(dir);
  ASSERT_FALSE(db.has_value());
  EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
  EXPECT_TRUE(contains(db.status().message(), "LIGHTNING")) << db.status().to_string();
  // Restored, the database opens with its data.
  write_bytes(marker, original);
  auto ok = Database::open(dir);
  ASSERT_TRUE(ok.has_value()) << ok.status().to_string();
  EXPECT_EQ(read_all(**ok).size(), 3u);
}

TEST(WalCorruption, MissingMarkerWithWalSegmentsIsCorruption) {
  std::mt19937_64 rng(testing::test_seed());
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  write_session(dir, 1, "k", 3, rng);
  fs::remove(marker_file_name(dir));
  auto db = Database::open(dir);
  ASSERT_FALSE(db.has_value());
  EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
  EXPECT_TRUE(contains(db.status().message(), "LIGHTNING")) << db.status().to_string();
  EXPECT_FALSE(fs::exists(marker_file_name(dir))) << "must not write a fresh marker over the WAL";
}

TEST(WalCorruption, SecondOpenIsBusy) {
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  auto first = Database::open(dir);
  ASSERT_TRUE(first.has_value()) << first.status().to_string();
  ASSERT_TRUE((*first)->put("k", "v").is_ok());
  auto second = Database::open(dir);
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.status().is_busy()) << second.status().to_string();
  EXPECT_TRUE(contains(second.status().message(), "LOCK")) << second.status().to_string();
  // The first handle is unaffected, and after it closes the database opens.
  auto v = (*first)->get("k");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->value_or(""), "v");
  first->reset();
  auto third = Database::open(dir);
  ASSERT_TRUE(third.has_value()) << third.status().to_string();
  EXPECT_EQ(diff(read_all(**third), (Model{{"k", "v"}})), "equal");
}

TEST(WalCorruption, CreateIfMissingAndErrorIfExists) {
  testing::TempDir tmp;
  Config no_create;
  no_create.create_if_missing = false;
  auto db = Database::open(tmp.sub("absent"), no_create);
  ASSERT_FALSE(db.has_value());
  EXPECT_TRUE(db.status().is_invalid_argument()) << db.status().to_string();
  EXPECT_FALSE(fs::exists(tmp.sub("absent")));

  ASSERT_TRUE(Database::open(tmp.sub("db")).has_value());
  Config exclusive;
  exclusive.error_if_exists = true;
  auto again = Database::open(tmp.sub("db"), exclusive);
  ASSERT_FALSE(again.has_value());
  EXPECT_TRUE(again.status().is_invalid_argument()) << again.status().to_string();
}

}  // namespace
}  // namespace lightning
