// Crash test with a real process kill: a child (tests/crash/crash_child.cc)
// writes to a database in Sync mode from several threads and reports every
// acknowledged write on a pipe; the parent SIGKILLs it after a random
// 50-400 ms, reopens the database in-process and checks, per thread:
//  - every acknowledged key is present with its exact value;
//  - the present keys form a contiguous prefix 0..k (no holes), k >= the last
//    acknowledged index, and k does not exceed what the child could have
//    attempted (one write in flight per thread);
//  - batches are atomic (odd threads write batch_keys(t) keys at once);
//  - no other keys exist.
// Rounds repeat on the same directory; each child continues numbering where
// the database ends. The seed (printed) fixes the values and the kill delays.
// The second test runs the same loop with the child's "flush" mode: a 64 KiB
// memtable and a thread calling flush_lsm() every few ms, so kills land
// during memtable switches, page writes, meta-slot commits and WAL deletion.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lightning/lightning.h"
#include "testutil/child_process.h"
#include "testutil/testutil.h"


namespace lightning {
namespace {

// ---- Duplicated from tests/crash/crash_child.cc; keep identical. ----
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
// ---- end of the duplicated part ----

constexpr int kThreads = 4;
constexpr int kRounds = 8;

// What one child run reported.
struct ChildRun {
  bool ready = false;                    // the child opened the database
  std::vector<std::int64_t> last_acked;  // per thread, -1 if none
  int signal = 0;                        // the signal that ended it (0: it exited)
  int exit_code = -1;
  std::string malformed;  // a line that did not parse
};

// Spawns the child on dir, kills it delay_ms after it reported "ready" (or
// after spawning, when kill_during_open), and collects every acked line.
ChildRun run_child(const std::string& dir, std::uint64_t seed,
                   const std::vector<std::uint64_t>& starts, int delay_ms, bool kill_during_open,
                   bool flush = false) {
  ChildRun run;
  run.last_acked.assign(kThreads, -1);
  std::vector<std::string> args = {LIGHTNING_CRASH_CHILD, dir, std::to_string(seed),
                                   std::to_string(kThreads)};
  for (std::uint64_t s : starts) args.push_back(std::to_string(s));
  if (flush) args.push_back("flush");
  auto child = testing::run_and_kill(args, kill_during_open ? "" : "ready", delay_ms, [&](const std::string& line) {
    if (line == "ready") {
      run.ready = true;
      return;
    }
    std::istringstream in(line);
    int t = -1;
    std::int64_t i = -1;
    if (!(in >> t >> i) || t < 0 || t >= kThreads || i < 0) {
      run.malformed = line;
      return;
    }
    // Each thread reports in increasing order.
    if (i <= run.last_acked[t]) run.malformed = "out of order: " + line;
    run.last_acked[t] = i;
  });
  run.signal = child.signal;
  run.exit_code = child.exit_code;
  return run;
}

// Checks the database against everything acked so far; returns the number
// of keys present per thread (the next start index), or an empty vector on
// failure.
std::vector<std::uint64_t> verify(const std::string& dir, std::uint64_t seed,
                                  const std::vector<std::int64_t>& acked,
                                  const std::vector<std::uint64_t>& max_attempted_end) {
  auto db = Database::open(dir);
  EXPECT_TRUE(db.has_value()) << db.status().to_string();
  if (!db) return {};
  // No orphans: after the open, the run files on disk are exactly the live
  // runs (a run written by a killed flush, or merged but not yet deleted,
  // is removed by the open).
  std::uint64_t run_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".run") ++run_files;
  }
  EXPECT_EQ(run_files, (*db)->stats().runs) << "orphan run files after reopen";
  std::vector<std::uint64_t> present(kThreads, 0);
  auto it = (*db)->new_iterator();
  for (it->first(); it->valid(); it->next()) {
    const std::string k(it->key());
    int t = -1;
    unsigned long long i = 0;
    char tail = 0;
    if (std::sscanf(k.c_str(), "t%d-%llu%c", &t, &i, &tail) != 2 || t < 0 || t >= kThreads ||
        k != key(t, i)) {
      ADD_FAILURE() << "unexpected key " << k;
      return {};
    }
    // Keys of one thread sort by i, so a prefix means each key is the next one.
    if (i != present[t]) {
      ADD_FAILURE() << "thread " << t << ": key " << i << " present but " << present[t]
                    << " missing (a hole)";
      return {};
    }
    if (it->value() != value_for(seed, t, i)) {
      ADD_FAILURE() << "thread " << t << ": key " << k << " has a wrong value";
      return {};
    }
    ++present[t];
  }
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  for (int t = 0; t < kThreads; ++t) {
    SCOPED_TRACE("thread " + std::to_string(t));
    const std::int64_t last_present = static_cast<std::int64_t>(present[t]) - 1;
    EXPECT_GE(last_present, acked[t]) << "an acknowledged write is lost";
    EXPECT_LE(present[t], max_attempted_end[t])
        << "keys beyond what the child could have attempted";
    EXPECT_EQ(present[t] % batch_keys(t), 0u) << "a torn batch";
  }
  return present;
}

void run_kill_loop(bool flush) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  std::vector<std::uint64_t> starts(kThreads, 0);
  std::vector<std::int64_t> acked(kThreads, -1);  // highest acked index over all rounds
  std::uint64_t total_acked_lines = 0;
  for (int round = 0; round < kRounds; ++round) {
    const int delay_ms = 50 + static_cast<int>(rng() % 351);
    // One round kills the child while it may still be opening/recovering.
    const bool during_open = round == 3;
    SCOPED_TRACE("round " + std::to_string(round) + ", kill after " + std::to_string(delay_ms) +
                 " ms" + (during_open ? " (from spawn)" : ""));
    ChildRun run = run_child(dir, seed, starts, delay_ms, during_open, flush);
    ASSERT_EQ(run.signal, SIGKILL) << "the child ended on its own, exit code " << run.exit_code;
    ASSERT_TRUE(run.malformed.empty()) << "bad line from the child: " << run.malformed;
    if (!during_open) ASSERT_TRUE(run.ready);
    std::vector<std::uint64_t> max_end(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      if (run.last_acked[t] >= 0) {
        ASSERT_GE(run.last_acked[t], static_cast<std::int64_t>(starts[t]));
        total_acked_lines +=
            (static_cast<std::uint64_t>(run.last_acked[t]) + 1 - starts[t]) / batch_keys(t);
        acked[t] = std::max(acked[t], run.last_acked[t]);
      }
      // One write of batch_keys(t) keys may be in flight after the last ack.
      const std::uint64_t next =
          run.last_acked[t] >= 0 ? static_cast<std::uint64_t>(run.last_acked[t]) + 1 : starts[t];
      max_end[t] = next + batch_keys(t);
    }
    std::vector<std::uint64_t> present = verify(dir, seed, acked, max_end);
    ASSERT_EQ(present.size(), static_cast<std::size_t>(kThreads));
    for (int t = 0; t < kThreads; ++t)
      ASSERT_GE(present[t], starts[t]) << "an earlier round's write is lost";
    starts = present;
  }
  std::printf("[ info     ] %llu acknowledged writes over %d rounds; keys per thread:",
              static_cast<unsigned long long>(total_acked_lines), kRounds);
  for (auto s : starts) std::printf(" %llu", static_cast<unsigned long long>(s));
  std::printf("\n");
  EXPECT_GT(total_acked_lines, 0u) << "the children never acknowledged a write";

  // One last reopen: everything from every round is still there.
  std::vector<std::uint64_t> max_end = starts;
  std::vector<std::uint64_t> final_present = verify(dir, seed, acked, max_end);
  EXPECT_EQ(final_present, starts);
  if (flush) {
    // The children did flush into the tree, and the tree is sound.
    auto db = Database::open(dir);
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    EXPECT_GT((*db)->stats().tree_epoch, 1u) << "no flush was ever committed";
    Status v = (*db)->verify();
    EXPECT_TRUE(v.is_ok()) << v.to_string();
  }
}

TEST(CrashSigkill, AcknowledgedWritesSurviveKill9) { run_kill_loop(/*flush=*/false); }

// The same with flushes into the B+tree happening all the time.
TEST(CrashSigkill, AcknowledgedWritesSurviveKill9WhileFlushing) { run_kill_loop(/*flush=*/true); }

}  // namespace
}  // namespace lightning
