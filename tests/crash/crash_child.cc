// The child process of crash_sigkill_test: writes to a database until it is
// killed with SIGKILL.
//
// Usage: lightning_crash_child <db dir> <seed> <threads> <start_0> ... <start_{threads-1}> [flush]
//
// With the optional trailing "flush", the database is opened with a 64 KiB
// memtable (so background flushes into runs and merges into the B+tree run
// all the time) and one
// more thread calls flush_lsm() every few milliseconds; a failing flush_lsm
// exits with code 3 like a failing write.
//
// Opens the database (Sync mode, POSIX file system), writes "ready\n" to
// stdout, then runs one writer per thread. Thread t writes the keys
// key(t, i) = "t<t>-<i, 8 digits>" with value_for(seed, t, i), for i =
// start_t, start_t + 1, ... in order, forever. Even threads put one key at a
// time; odd threads write batch_keys(t) consecutive keys atomically (thread 1
// with WriteBatch, thread 3 with batch_put, and so on alternating). After a
// write is acknowledged, the thread writes "<t> <last i of the write>\n" to
// stdout with a single write(2) (lines are short, so pipe writes are atomic).
//
// key(), value_for() and batch_keys() are duplicated in
// tests/crash_sigkill_test.cc; keep the two copies identical.
//
// Exit codes (never reached when killed): 1 usage, 2 open failed, 3 a write
// failed. A 120 s alarm ends an orphaned child.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lightning/lightning.h"

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string key(int t, std::uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "t%d-%08llu", t, static_cast<unsigned long long>(i));
  return buf;
}

std::string value_for(std::uint64_t seed, int t, std::uint64_t i) {
  std::uint64_t h = splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(t) * 1000003 + i));
  // Mostly short values; every 64th is 40 KiB (a record over several WAL blocks).
  const std::size_t len = h % 64 == 0 ? 40000 : 8 + h % 200;
  std::string v;
  v.reserve(len);
  while (v.size() < len) {
    h = splitmix64(h);
    v.push_back(static_cast<char>('a' + h % 26));
  }
  return v;
}

std::uint64_t batch_keys(int t) { return t % 2 == 0 ? 1 : 3 + static_cast<std::uint64_t>(t); }

void write_line(const std::string& line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) std::_Exit(4);  // the parent is gone
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void writer(lightning::Database& db, std::uint64_t seed, int t, std::uint64_t start) {
  const std::uint64_t step = batch_keys(t);
  for (std::uint64_t i = start;; i += step) {
    lightning::Status s;
    if (step == 1) {
      s = db.put(key(t, i), value_for(seed, t, i));
    } else if ((t / 2) % 2 == 0) {
      lightning::WriteBatch b;
      for (std::uint64_t j = i; j < i + step && s.is_ok(); ++j)
        s = b.put(key(t, j), value_for(seed, t, j));
      if (s.is_ok()) s = db.write(b);
    } else {
      std::vector<std::pair<std::string, std::string>> owned;
      std::vector<std::pair<std::string_view, std::string_view>> pairs;
      for (std::uint64_t j = i; j < i + step; ++j)
        owned.emplace_back(key(t, j), value_for(seed, t, j));
      for (const auto& [k, v] : owned) pairs.emplace_back(k, v);
      s = db.batch_put(pairs);
    }
    if (!s.is_ok()) {
      std::fprintf(stderr, "crash_child: thread %d write %llu failed: %s\n", t,
                   static_cast<unsigned long long>(i), s.to_string().c_str());
      std::_Exit(3);
    }
    write_line(std::to_string(t) + " " + std::to_string(i + step - 1) + "\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <db dir> <seed> <threads> <start>...\n", argv[0]);
    return 1;
  }
  const std::string dir = argv[1];
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const int threads = std::atoi(argv[3]);
  const bool flush = threads >= 1 && argc == 5 + threads && std::strcmp(argv[4 + threads], "flush") == 0;
  if (threads < 1 || (argc != 4 + threads && !flush)) {
    std::fprintf(stderr, "crash_child: need one start index per thread (then optionally \"flush\")\n");
    return 1;
  }
  std::vector<std::uint64_t> starts;
  for (int t = 0; t < threads; ++t) starts.push_back(std::strtoull(argv[4 + t], nullptr, 10));
  ::alarm(120);

  lightning::Config config;
  config.wal_sync_mode = lightning::WalSyncMode::kSync;
  config.wal_segment_size = 256 << 10;  // rotate now and then
  if (flush) config.memtable_size = 64 << 10;
  auto db = lightning::Database::open(dir, config);
  if (!db) {
    std::fprintf(stderr, "crash_child: open %s failed: %s\n", dir.c_str(),
                 db.status().to_string().c_str());
    return 2;
  }
  write_line("ready\n");
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&db, seed, t, start = starts[t]] { writer(**db, seed, t, start); });
  }
  if (flush) {
    workers.emplace_back([&db, seed] {
      for (std::uint64_t n = 0;; ++n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2 + splitmix64(seed + n) % 20));
        lightning::Status s = (*db)->flush_lsm();
        if (!s.is_ok()) {
          std::fprintf(stderr, "crash_child: flush_lsm failed: %s\n", s.to_string().c_str());
          std::_Exit(3);
        }
      }
    });
  }
  for (auto& w : workers) w.join();  // never: writers run until killed
  return 0;
}
