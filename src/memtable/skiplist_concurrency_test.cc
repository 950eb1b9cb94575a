// One writer inserts while several readers look up and iterate, lock-free.
// Run under ThreadSanitizer in CI (the _concurrency_test suffix).
//
// The writer publishes its progress through atomics with release stores made
// after each insert; readers load them with acquire, so everything the
// writer finished before that point must be visible to them. The checks:
//  - readers only ever see fully-formed entries (values are a deterministic
//    function of key and sequence, so a torn entry is detected);
//  - iteration order is strictly ascending;
//  - an entry visible once stays visible (per-key newest sequence and scan
//    sizes never go backwards for a reader);
//  - every entry published before a read is found by it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db/dbformat.h"
#include "memtable/arena.h"
#include "memtable/memtable.h"
#include "memtable/skiplist.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

constexpr int kReaders = 3;

// ---- Raw skiplist ----

struct U64Compare {
  int operator()(std::uint64_t a, std::uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};

TEST(SkipListConcurrencyTest, ReadersSeePublishedKeys) {
  const std::uint64_t seed = testing::test_seed();
  constexpr int kInserts = 20000;
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> keys;
  {
    std::vector<std::uint64_t> all(kInserts);
    for (int i = 0; i < kInserts; i++)
      all[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(i) * 7 + 1;
    std::shuffle(all.begin(), all.end(), rng);
    keys = std::move(all);
  }

  Arena arena;
  SkipList<std::uint64_t, U64Compare> list(U64Compare{}, &arena);
  std::atomic<int> published{0};
  std::atomic<bool> failed{false};

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; r++) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rrng(seed + static_cast<std::uint64_t>(r) + 1);
      std::size_t last_scan = 0;
      while (!failed.load()) {
        int n = published.load(std::memory_order_acquire);
        // Spot checks: every published key is present.
        for (int i = 0; i < 20 && n > 0; i++) {
          std::uint64_t k = keys[rrng() % static_cast<std::size_t>(n)];
          if (!list.contains(k)) failed = true;
        }
        // A full scan: strictly ascending, no smaller than last time or
        // than what was published before it started.
        SkipList<std::uint64_t, U64Compare>::Iterator it(&list);
        std::size_t count = 0;
        std::uint64_t prev = 0;
        for (it.seek_to_first(); it.valid(); it.next()) {
          if (count > 0 && it.key() <= prev) failed = true;
          if (it.key() % 7 != 1) failed = true;
          prev = it.key();
          count++;
        }
        if (count < last_scan || count < static_cast<std::size_t>(n)) failed = true;
        last_scan = count;
        if (n == kInserts) break;
      }
    });
  }
  for (int i = 0; i < kInserts; i++) {
    list.insert(keys[static_cast<std::size_t>(i)]);
    published.store(i + 1, std::memory_order_release);
  }
  for (auto& t : readers) t.join();
  EXPECT_FALSE(failed.load()) << "seed " << seed;
}

// ---- MemTable ----

constexpr int kKeys = 64;
constexpr SequenceNumber kOps = 8000;

std::string key_of(int k) { return "key" + std::to_string(k); }
ValueKind kind_of(SequenceNumber seq) {
  return seq % 5 == 0 ? ValueKind::kDelete : ValueKind::kPut;
}
// Variable-length so that a torn or misattributed value is detected.
std::string value_of(std::string_view key, SequenceNumber seq) {
  std::string v(key);
  v += '@';
  v += std::to_string(seq);
  v.append(seq % 37, static_cast<char>('a' + seq % 26));
  return v;
}
bool parse_value(std::string_view key, std::string_view v, SequenceNumber* seq) {
  auto at = v.find('@');
  if (at == std::string_view::npos || v.substr(0, at) != key) return false;
  std::size_t end = at + 1;
  SequenceNumber s = 0;
  while (end < v.size() && v[end] >= '0' && v[end] <= '9')
    s = s * 10 + static_cast<SequenceNumber>(v[end++] - '0');
  *seq = s;
  return v == value_of(key, s);
}

TEST(MemTableConcurrencyTest, OneWriterManyReaders) {
  const std::uint64_t seed = testing::test_seed();
  auto mem = MemTable::create();
  // latest[k]: the newest sequence written for key k, stored after add().
  std::vector<std::atomic<SequenceNumber>> latest(kKeys);
  for (auto& l : latest) l.store(0);
  std::atomic<bool> done{false};
  std::atomic<bool> failed{false};
  auto fail = [&](const char* what) {
    if (!failed.exchange(true)) ADD_FAILURE() << what << " (seed " << seed << ")";
  };

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; r++) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rrng(seed + static_cast<std::uint64_t>(r) + 100);
      std::vector<SequenceNumber> seen(kKeys, 0);  // newest seq seen per key
      std::size_t last_scan = 0;
      bool last_round = false;
      while (!failed.load() && !last_round) {
        last_round = done.load(std::memory_order_acquire);
        // Point lookups.
        for (int i = 0; i < 50; i++) {
          int k = static_cast<int>(rrng() % kKeys);
          std::string key = key_of(k);
          SequenceNumber expected =
              latest[static_cast<std::size_t>(k)].load(std::memory_order_acquire);
          std::string v;
          auto res = mem->get(key, kMaxSequenceNumber, &v);
          if (expected != 0 && res == MemTable::LookupResult::kNotFound)
            fail("published key missing");
          if (res == MemTable::LookupResult::kFound) {
            SequenceNumber s;
            if (!parse_value(key, v, &s)) fail("torn value");
            if (s < expected) fail("older version than published");
          }
          if (expected != 0) {
            // At snapshot `expected` the answer is exactly that write.
            res = mem->get(key, expected, &v);
            if (kind_of(expected) == ValueKind::kDelete) {
              if (res != MemTable::LookupResult::kDeleted) fail("tombstone missing at snapshot");
            } else if (res != MemTable::LookupResult::kFound || v != value_of(key, expected)) {
              fail("wrong value at snapshot");
            }
          }
        }
        // A full scan.
        std::size_t published = 0;
        for (auto& l : latest) published += l.load(std::memory_order_acquire) != 0;
        auto it = mem->new_iterator();
        std::string prev;
        std::size_t count = 0, distinct = 0;
        for (it->seek_to_first(); it->valid(); it->next()) {
          ParsedInternalKey p;
          if (!parse_internal_key(it->key(), &p)) {
            fail("bad internal key");
            break;
          }
          if (count > 0 && compare_internal_keys(prev, it->key()) >= 0) fail("out of order");
          if (count == 0 || extract_user_key(prev) != p.user_key) {
            // First (newest) entry of this user key.
            distinct++;
            int k = std::stoi(std::string(p.user_key.substr(3)));
            if (p.sequence < seen[static_cast<std::size_t>(k)]) fail("entry disappeared");
            seen[static_cast<std::size_t>(k)] = p.sequence;
          }
          if (p.kind != kind_of(p.sequence)) fail("wrong kind");
          if (p.kind == ValueKind::kPut) {
            SequenceNumber s;
            if (!parse_value(p.user_key, it->value(), &s) || s != p.sequence) fail("torn value");
          } else if (!it->value().empty()) {
            fail("tombstone with value");
          }
          prev.assign(it->key());
          count++;
        }
        if (count < last_scan) fail("scan shrank");
        if (distinct < published) fail("scan missed published keys");
        last_scan = count;
      }
      if (!failed.load() && last_scan != kOps) fail("final scan incomplete");
    });
  }

  std::mt19937_64 wrng(seed);
  for (SequenceNumber seq = 1; seq <= kOps; seq++) {
    int k = static_cast<int>(wrng() % kKeys);
    std::string key = key_of(k);
    mem->add(seq, kind_of(seq), key, value_of(key, seq));
    latest[static_cast<std::size_t>(k)].store(seq, std::memory_order_release);
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(mem->entry_count(), kOps);
  EXPECT_FALSE(failed.load()) << "seed " << seed;
}

}  // namespace
}  // namespace lightning
