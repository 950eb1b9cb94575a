// Feeds arbitrary bytes to the run file decoders: the input becomes a run
// file in an in-memory file system; RunReader::open, a full forward and
// backward scan, seeks and gets run on it. Every outcome must be a value or
// a Status, never a crash, over-read or leak. Inputs that start with a valid
// run (the fuzzer finds the footer magic) reach the block decoders.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "db/dbformat.h"
#include "lightning/file_system.h"
#include "pagestore/page_cache.h"
#include "run/block.h"
#include "run/bloom.h"
#include "run/run_builder.h"
#include "run/run_reader.h"

namespace {

using namespace lightning;       // NOLINT
using namespace lightning::run;  // NOLINT

void check(bool ok) {
  if (!ok) std::abort();
}

int bytewise(std::string_view a, std::string_view b) { return a.compare(b); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto fs = new_in_memory_file_system();
  PageCache cache(1 << 20);
  RunReadStats stats;

  // 1. The raw input as a run file.
  {
    auto f = fs->new_writable_file("/x.run", FileSystem::OpenMode::kCreateOrTruncate);
    check(f.has_value());
    check((*f)->append(std::as_bytes(std::span(input.data(), input.size()))).is_ok());
  }
  if (auto run = RunReader::open(*fs, "/x.run", {&cache, 1, &stats}); run) {
    auto it = (*run)->new_iterator();
    int n = 0;
    for (it->seek_to_first(); it->valid() && n < 100000; it->next()) ++n;
    for (it->seek_to_last(); it->valid() && n < 200000; it->prev()) ++n;
    std::string target;
    append_internal_key(target, input.substr(0, std::min<std::size_t>(8, size)), 7, ValueKind::kPut);
    it->seek(target);
    it->seek_for_prev(target);
    std::string v;
    (void)(*run)->get(input.substr(0, std::min<std::size_t>(4, size)), 100, &v);
  } else {
    check(!run.status().is_ok());
  }

  // 2. The input as one block payload.
  std::string where = "fuzz";
  if (auto b = BlockReader::open(input, BlockLocation{&where, 0}); b) {
    auto it = b->new_iterator(&bytewise);
    int n = 0;
    for (it->seek_to_first(); it->valid() && n < 100000; it->next()) ++n;
    for (it->seek_to_last(); it->valid() && n < 200000; it->prev()) ++n;
    it->seek(input.substr(0, std::min<std::size_t>(3, size)));
    it->seek_for_prev(input.substr(0, std::min<std::size_t>(3, size)));
  }
  // 3. The input as a bloom filter.
  (void)bloom_may_contain(input, "key");

  // 4. A run built from input-derived keys reads back exactly.
  {
    auto f = fs->new_writable_file("/y.run", FileSystem::OpenMode::kCreateOrTruncate);
    check(f.has_value());
    RunBuilder builder(f->get(), {.block_size = 64, .restart_interval = 3, .bloom_bits_per_key = 8});
    std::string prev;
    int added = 0;
    for (std::size_t i = 0; i + 2 <= size && added < 200; i += 2) {
      std::string user = "k" + std::to_string(static_cast<unsigned>(data[i]) * 256 + data[i + 1]);
      std::string key;
      append_internal_key(key, user, 1000 - static_cast<SequenceNumber>(i), ValueKind::kPut);
      if (!prev.empty() && compare_internal_keys(prev, key) >= 0) continue;
      check(builder.add(key, user).is_ok());
      prev = key;
      ++added;
    }
    check(builder.finish().is_ok());
    auto run = RunReader::open(*fs, "/y.run", {&cache, 2, nullptr});
    check(run.has_value());
    check((*run)->properties().entries == static_cast<std::uint64_t>(added));
    auto it = (*run)->new_iterator();
    int n = 0;
    for (it->seek_to_first(); it->valid(); it->next()) {
      check(extract_user_key(it->key()) == it->value());
      ++n;
    }
    check(n == added && it->status().is_ok());
  }
  return 0;
}
