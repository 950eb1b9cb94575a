// Bank transfers in transactions, killed with SIGKILL (a real process, the
// POSIX file system) at random moments, again and again on one database.
// After every kill the reopened database must hold the invariant total
// (every transfer wholly present or wholly absent) and every transfer the
// child acknowledged (its "done/<thread>" counter at least the last
// acknowledged count). The child is tests/crash/bank_child.cc.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lightning/lightning.h"
#include "testutil/child_process.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

// Duplicated from tests/crash/bank_child.cc.
constexpr int kAccounts = 16;
constexpr long kStart = 1000;
std::string account(int i) { return "acct" + std::to_string(100 + i); }

struct ChildRun {
  bool ready = false;
  long acked[2] = {0, 0};  // highest acknowledged done count per mover
  int signal = 0;
  int exit_code = -1;
};

ChildRun run_child(const std::string& dir, std::uint64_t seed, int delay_ms) {
  ChildRun run;
  auto child = testing::run_and_kill({LIGHTNING_BANK_CHILD, dir, std::to_string(seed)}, "ready", delay_ms,
                                     [&](const std::string& line) {
                                       if (line == "ready") {
                                         run.ready = true;
                                         return;
                                       }
                                       std::istringstream in(line);
                                       int t = -1;
                                       long done = 0;
                                       if (in >> t >> done && (t == 0 || t == 1)) {
                                         run.acked[t] = std::max(run.acked[t], done);
                                       }
                                     });
  run.signal = child.signal;
  run.exit_code = child.exit_code;
  return run;
}

TEST(CrashBankSigkill, TransfersSurviveKill9WithTheTotalIntact) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  testing::TempDir tmp;
  const std::string dir = tmp.sub("db");
  long acked[2] = {0, 0};
  for (int round = 0; round < 6; ++round) {
    const int delay_ms = 100 + static_cast<int>(rng() % 400);
    SCOPED_TRACE("round " + std::to_string(round) + ", kill after " + std::to_string(delay_ms) + " ms, seed " +
                 std::to_string(seed));
    ChildRun run = run_child(dir, rng(), delay_ms);
    ASSERT_EQ(run.signal, SIGKILL) << "the child ended on its own, exit code " << run.exit_code;
    ASSERT_TRUE(run.ready);
    for (int t = 0; t < 2; ++t) acked[t] = std::max(acked[t], run.acked[t]);
    auto db = Database::open(dir);
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    long total = 0;
    for (int i = 0; i < kAccounts; ++i) {
      auto v = (*db)->get(account(i));
      ASSERT_TRUE(v.has_value() && v->has_value()) << account(i);
      total += std::stol(**v);
    }
    EXPECT_EQ(total, kAccounts * kStart) << "a transfer is partly present";
    for (int t = 0; t < 2; ++t) {
      auto d = (*db)->get("done/" + std::to_string(t));
      ASSERT_TRUE(d.has_value());
      const long done = *d ? std::stol(**d) : 0;
      EXPECT_GE(done, acked[t]) << "mover " << t << ": an acknowledged transfer is lost";
      EXPECT_LE(done, acked[t] + 1) << "mover " << t << ": more transfers than attempted";
      acked[t] = done;  // the next round continues from what is there
    }
    EXPECT_TRUE((*db)->verify().is_ok());
  }
  std::printf("[ info     ] transfers committed: %ld + %ld\n", acked[0], acked[1]);
  EXPECT_GT(acked[0] + acked[1], 0);
}

}  // namespace
}  // namespace lightning
