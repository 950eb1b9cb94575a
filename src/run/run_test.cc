// RunBuilder + RunReader: round trips against a model, snapshot reads,
// iteration both ways, bloom statistics, and damage detection.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "db/dbformat.h"
#include "lightning/file_system.h"
#include "run/run_builder.h"
#include "run/run_reader.h"
#include "testutil/testutil.h"
#include "util/coding.h"
#include "run/block.h"

namespace lightning::run {
namespace {

// Internal-key order for a std::map model.
struct IkeyLess {
  bool operator()(const std::string& a, const std::string& b) const { return compare_internal_keys(a, b) < 0; }
};
using Model = std::map<std::string, std::string, IkeyLess>;

std::string ikey(std::string_view user, SequenceNumber seq, ValueKind kind) {
  std::string k;
  append_internal_key(k, user, seq, kind);
  return k;
}

class RunTest : public ::testing::Test {
 protected:
  std::shared_ptr<FileSystem> fs_ = new_in_memory_file_system();
  PageCache cache_{1 << 20};
  RunReadStats stats_;
  const std::string path_ = "/000001.run";

  void build(const Model& model, RunBuilderOptions options = {}) {
    auto file = fs_->new_writable_file(path_, FileSystem::OpenMode::kCreateOrTruncate);
    ASSERT_TRUE(file.has_value()) << file.status().to_string();
    RunBuilder b(file->get(), options);
    for (const auto& [k, v] : model) ASSERT_TRUE(b.add(k, v).is_ok());
    ASSERT_TRUE(b.finish().is_ok());
    ASSERT_EQ(b.file_size(), (*file)->size());
    ASSERT_TRUE((*file)->close().is_ok());
  }
  std::shared_ptr<RunReader> open_run() {
    auto r = RunReader::open(*fs_, path_, {&cache_, 7, &stats_});
    EXPECT_TRUE(r.has_value()) << r.status().to_string();
    return r ? *r : nullptr;
  }
  std::string contents() {
    auto f = fs_->open_readable(path_);
    std::string s(static_cast<std::size_t>(*(*f)->size()), '\0');
    (void)(*f)->read_at(0, std::as_writable_bytes(std::span(s.data(), s.size())));
    return s;
  }
  void overwrite(const std::string& bytes) {
    auto f = fs_->new_writable_file(path_, FileSystem::OpenMode::kCreateOrTruncate);
    ASSERT_TRUE((*f)->append(std::as_bytes(std::span(bytes.data(), bytes.size()))).is_ok());
  }
};

// Several versions per key, tombstones, reads at every snapshot.
TEST_F(RunTest, GetMatchesTheModelAtEverySnapshot) {
  std::mt19937_64 rng(testing::test_seed());
  Model model;
  SequenceNumber seq = 1;
  for (int i = 0; i < 5000; ++i) {
    const std::string user = "k" + std::to_string(rng() % 2000);
    const bool del = rng() % 5 == 0;
    model[ikey(user, seq++, del ? ValueKind::kDelete : ValueKind::kPut)] =
        del ? "" : testing::random_string(rng, rng() % 150);
  }
  ASSERT_NO_FATAL_FAILURE(build(model, {.block_size = 1024, .restart_interval = 4, .bloom_bits_per_key = 10}));
  auto run = open_run();
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->properties().entries, model.size());
  EXPECT_EQ(run->properties().min_sequence, 1u);
  EXPECT_EQ(run->properties().max_sequence, seq - 1);
  EXPECT_GT(run->properties().data_blocks, 50u);
  for (int i = 0; i < 3000; ++i) {
    const std::string user = "k" + std::to_string(rng() % 2200);  // some absent
    const SequenceNumber snap = 1 + rng() % seq;
    // The model's answer: the first entry >= (user, snap).
    auto it = model.lower_bound(ikey(user, snap, kValueKindForSeek));
    std::string value;
    auto got = run->get(user, snap, &value);
    ASSERT_TRUE(got.has_value()) << got.status().to_string();
    ParsedInternalKey p;
    if (it == model.end() || !parse_internal_key(it->first, &p) || p.user_key != user) {
      EXPECT_EQ(*got, RunReader::Lookup::kNotFound) << user << "@" << snap;
    } else if (p.kind == ValueKind::kDelete) {
      EXPECT_EQ(*got, RunReader::Lookup::kDeleted) << user << "@" << snap;
    } else {
      ASSERT_EQ(*got, RunReader::Lookup::kFound) << user << "@" << snap;
      EXPECT_EQ(value, it->second);
    }
  }
  EXPECT_GT(stats_.bloom_useful.load(), 0u) << "absent keys k2000..k2199 should be filtered";
}

TEST_F(RunTest, IteratesBothWaysAndSeeks) {
  std::mt19937_64 rng(testing::test_seed());
  Model model;
  for (int i = 0; i < 3000; ++i) {
    model[ikey(testing::random_string(rng, 1 + rng() % 10, 'a', 'f'), 1 + rng() % 100, ValueKind::kPut)] =
        testing::random_string(rng, rng() % 60);
  }
  ASSERT_NO_FATAL_FAILURE(build(model, {.block_size = 512, .restart_interval = 8, .bloom_bits_per_key = 10}));
  auto run = open_run();
  ASSERT_NE(run, nullptr);
  auto it = run->new_iterator();
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
  for (int i = 0; i < 500; ++i) {
    const std::string target = ikey(testing::random_string(rng, 1 + rng() % 10, 'a', 'f'), rng() % 100, ValueKind::kPut);
    it->seek(target);
    auto lb = model.lower_bound(target);
    if (lb == model.end()) {
      EXPECT_FALSE(it->valid());
    } else {
      ASSERT_TRUE(it->valid());
      EXPECT_EQ(it->key(), lb->first);
      // One step back and forth across block boundaries.
      it->prev();
      if (lb == model.begin()) {
        EXPECT_FALSE(it->valid());
      } else {
        ASSERT_TRUE(it->valid());
        EXPECT_EQ(it->key(), std::prev(lb)->first);
      }
    }
    it->seek_for_prev(target);
    auto ub = model.upper_bound(target);
    if (ub == model.begin()) {
      EXPECT_FALSE(it->valid());
    } else {
      ASSERT_TRUE(it->valid());
      EXPECT_EQ(it->key(), std::prev(ub)->first);
    }
  }
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
}

TEST_F(RunTest, KeyRangeAndFilterSkipLookups) {
  Model model;
  for (int i = 100; i < 200; ++i) model[ikey("key" + std::to_string(i), 5, ValueKind::kPut)] = "v";
  ASSERT_NO_FATAL_FAILURE(build(model));
  auto run = open_run();
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->properties().smallest_user_key, "key100");
  EXPECT_EQ(run->properties().largest_user_key, "key199");
  EXPECT_FALSE(run->may_contain("key099"));  // below the range
  EXPECT_FALSE(run->may_contain("key2"));    // above it
  EXPECT_TRUE(run->may_contain("key150"));
  std::string v;
  EXPECT_EQ(*run->get("key150", 4, &v), RunReader::Lookup::kNotFound) << "newer than the snapshot";
  EXPECT_EQ(*run->get("key150", 5, &v), RunReader::Lookup::kFound);
  EXPECT_EQ(stats_.runs_probed.load(), 2u);
}

TEST_F(RunTest, EveryFlippedByteIsDetected) {
  Model model;
  for (int i = 0; i < 400; ++i) model[ikey("key" + std::to_string(1000 + i), 9, ValueKind::kPut)] = std::string(30, 'v');
  ASSERT_NO_FATAL_FAILURE(build(model, {.block_size = 1024}));
  const std::string good = contents();
  std::mt19937_64 rng(testing::test_seed());
  int detected = 0, cases = 0;
  for (std::size_t pos = 0; pos < good.size(); pos += 1 + rng() % 37) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x20);
    ASSERT_NO_FATAL_FAILURE(overwrite(bad));
    PageCache cache(1 << 20);  // nothing cached from the good file
    ++cases;
    auto run = RunReader::open(*fs_, path_, {&cache, 1, nullptr});
    if (!run) {
      EXPECT_TRUE(run.status().is_corruption()) << run.status().to_string();
      EXPECT_NE(run.status().message().find(path_), std::string::npos) << run.status().to_string();
      ++detected;
      continue;
    }
    // A damaged data block: a full scan or a get of each key reports it.
    auto it = (*run)->new_iterator();
    std::size_t n = 0;
    for (it->seek_to_first(); it->valid(); it->next()) ++n;
    if (!it->status().is_ok()) {
      EXPECT_TRUE(it->status().is_corruption()) << it->status().to_string();
      EXPECT_NE(it->status().message().find("block at offset"), std::string::npos) << it->status().to_string();
      ++detected;
    } else {
      ADD_FAILURE() << "flipped byte " << pos << " of " << good.size() << " went unnoticed (" << n << " entries)";
    }
  }
  EXPECT_EQ(detected, cases);
}

TEST_F(RunTest, TruncatedAndForeignFilesAreCorruption) {
  Model model;
  model[ikey("a", 1, ValueKind::kPut)] = "1";
  ASSERT_NO_FATAL_FAILURE(build(model));
  const std::string good = contents();
  for (std::size_t len : {std::size_t{0}, std::size_t{10}, good.size() - 1}) {
    ASSERT_NO_FATAL_FAILURE(overwrite(good.substr(0, len)));
    auto run = RunReader::open(*fs_, path_, {&cache_, 2, nullptr});
    ASSERT_FALSE(run.has_value()) << len;
    EXPECT_TRUE(run.status().is_corruption()) << run.status().to_string();
  }
  auto missing = RunReader::open(*fs_, "/nope.run", {&cache_, 3, nullptr});
  EXPECT_TRUE(missing.status().is_not_found()) << missing.status().to_string();
}

// Assembles a run file by hand: the given data blocks (payloads), then an
// index with `index_entries` (key, handle), an empty filter, properties
// and a footer, all with valid checksums.
std::string assemble(const std::vector<std::string>& blocks,
                     const std::vector<std::pair<std::string, BlockHandle>>& extra_index,
                     std::vector<BlockHandle>* handles) {
  std::string file;
  for (const std::string& b : blocks) {
    handles->push_back({file.size(), b.size()});
    append_block(b, &file);
  }
  Footer f;
  f.filter = {file.size(), 0};
  append_block("", &file);
  RunProperties props;
  props.entries = 1;
  props.smallest_user_key = "a";
  props.largest_user_key = "zzzz";
  std::string pb;
  encode_properties(props, &pb);
  f.props = {file.size(), pb.size()};
  append_block(pb, &file);
  BlockBuilder index(1);
  for (const auto& [k, h] : extra_index) {
    std::string v;
    put_varint64(v, h.offset);
    put_varint64(v, h.size);
    index.add(k, v);
  }
  const std::string ib(index.finish());
  f.index = {file.size(), ib.size()};
  append_block(ib, &file);
  char footer[kFooterSize];
  encode_footer(f, footer);
  file.append(footer, kFooterSize);
  return file;
}

// Regression (review): a data-block key shorter than the 8-byte tag made
// internal-key comparisons read before the key. Now: Corruption.
TEST_F(RunTest, KeysShorterThanTheTagAreCorruption) {
  BlockBuilder data(16);
  data.add("ab", "v");  // 2 bytes: no tag
  std::vector<BlockHandle> handles;
  const std::string one_block(data.finish());
  std::string file = assemble({one_block}, {}, &handles);
  // The index needs the handle, which assemble computed: rebuild with it.
  handles.clear();
  file = assemble({one_block}, {{ikey("zzzz", 1, ValueKind::kPut), BlockHandle{0, one_block.size()}}}, &handles);
  ASSERT_NO_FATAL_FAILURE(overwrite(file));
  auto run = RunReader::open(*fs_, path_, {&cache_, 11, nullptr});
  ASSERT_TRUE(run.has_value()) << run.status().to_string();
  auto it = (*run)->new_iterator();
  it->seek_to_first();
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().is_corruption()) << it->status().to_string();
}

// Regression (review): a cached block found through a second index entry
// with the same offset but a larger size was read past its end.
TEST_F(RunTest, TwoIndexSizesForOneBlockAreCorruption) {
  BlockBuilder data(16);
  data.add(ikey("a", 1, ValueKind::kPut), "v");
  const std::string block(data.finish());
  std::vector<BlockHandle> handles;
  const std::string file = assemble(
      {block},
      {{ikey("a", 1, ValueKind::kPut), BlockHandle{0, block.size()}},
       {ikey("zzzz", 1, ValueKind::kPut), BlockHandle{0, block.size() + 6000}}},
      &handles);
  ASSERT_NO_FATAL_FAILURE(overwrite(file));
  auto run = RunReader::open(*fs_, path_, {&cache_, 12, nullptr});
  ASSERT_TRUE(run.has_value()) << run.status().to_string();
  auto it = (*run)->new_iterator();
  std::size_t n = 0;
  for (it->seek_to_first(); it->valid(); it->next()) ++n;
  EXPECT_EQ(n, 1u);
  EXPECT_TRUE(it->status().is_corruption()) << it->status().to_string();
}

TEST_F(RunTest, BuilderRejectsOutOfOrderAndMalformedKeys) {
  auto file = fs_->new_writable_file(path_, FileSystem::OpenMode::kCreateOrTruncate);
  RunBuilder b(file->get(), {});
  EXPECT_TRUE(b.add(ikey("b", 5, ValueKind::kPut), "x").is_ok());
  EXPECT_TRUE(b.add(ikey("a", 5, ValueKind::kPut), "x").is_invalid_argument());
  EXPECT_TRUE(b.add(ikey("b", 6, ValueKind::kPut), "x").is_invalid_argument()) << "newer after older";
  EXPECT_TRUE(b.add("short", "x").is_invalid_argument());
  EXPECT_TRUE(b.add(ikey("b", 4, ValueKind::kDelete), "").is_ok());
  EXPECT_TRUE(b.finish().is_ok());
  EXPECT_EQ(b.properties().deletions, 1u);
}

}  // namespace
}  // namespace lightning::run
