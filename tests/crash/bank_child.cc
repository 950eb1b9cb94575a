// The child process of crash_bank_sigkill_test: bank transfers in
// transactions until it is killed with SIGKILL.
//
// Usage: lightning_bank_child <db dir> <seed>
//
// Opens the database (Sync mode, POSIX file system, a 64 KiB memtable and
// max_runs 3, so flushes and merges run all the time). On a fresh database
// it creates kAccounts accounts of kStart each in one transaction. Then it
// writes "ready\n" and runs two movers (thread 0 at Serializable, thread 1
// at Snapshot). Each transfer moves a random amount between two accounts
// and sets "done/<thread>" to the number of transfers that thread has
// committed in total (continuing from the stored value), all in one
// transaction; after commit() returns OK the thread writes
// "<thread> <done count>\n" to stdout with a single write(2).
//
// kAccounts and kStart are duplicated in tests/crash_bank_sigkill_test.cc.
//
// Exit codes (never reached when killed): 1 usage, 2 open or setup failed,
// 3 a transaction failed with something other than Conflict. A 120 s alarm
// ends an orphaned child.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lightning/lightning.h"

namespace {

constexpr int kAccounts = 16;
constexpr long kStart = 1000;

std::string account(int i) { return "acct" + std::to_string(100 + i); }

void say(const std::string& line) {
  std::string l = line + "\n";
  if (::write(STDOUT_FILENO, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::_Exit(4);
}

[[noreturn]] void fail(int code, const lightning::Status& s) {
  std::fprintf(stderr, "bank_child: %s\n", s.to_string().c_str());
  std::_Exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 1;
  ::alarm(120);
  const std::string dir = argv[1];
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  lightning::Config config;
  config.memtable_size = 64 << 10;
  config.max_runs = 3;
  config.merge_ratio = 0.5;
  auto opened = lightning::Database::open(dir, config);
  if (!opened) fail(2, opened.status());
  lightning::Database& db = **opened;
  auto first = db.get(account(0));
  if (!first) fail(2, first.status());
  if (!*first) {
    auto t = db.transaction(lightning::IsolationLevel::kSerializable);
    if (!t) fail(2, t.status());
    for (int i = 0; i < kAccounts; ++i) {
      if (auto s = t->put(account(i), std::to_string(kStart)); !s.is_ok()) fail(2, s);
    }
    if (auto s = t->commit(); !s.is_ok()) fail(2, s);
  }
  say("ready");
  auto mover = [&](int id, lightning::IsolationLevel level) {
    std::mt19937_64 rng(seed * 7 + static_cast<std::uint64_t>(id));
    const std::string done_key = "done/" + std::to_string(id);
    const std::string pad(400, static_cast<char>('p' + id));
    while (true) {
      const int from = static_cast<int>(rng() % kAccounts);
      const int to = (from + 1 + static_cast<int>(rng() % (kAccounts - 1))) % kAccounts;
      const long amount = static_cast<long>(rng() % 100);
      auto t = db.transaction(level);
      if (!t) fail(3, t.status());
      auto a = t->get(account(from));
      auto b = t->get(account(to));
      auto d = t->get(done_key);
      if (!a || !b || !d || !*a || !*b) fail(3, lightning::Status::corruption("an account is missing"));
      const long done = *d ? std::stol(**d) : 0;
      lightning::Status s = t->put(account(from), std::to_string(std::stol(**a) - amount));
      if (s.is_ok()) s = t->put(account(to), std::to_string(std::stol(**b) + amount));
      if (s.is_ok()) s = t->put(done_key, std::to_string(done + 1));
      if (s.is_ok()) s = t->put("pad/" + std::to_string(id) + "/" + std::to_string(done % 64), pad);
      if (!s.is_ok()) fail(3, s);
      s = t->commit();
      if (s.is_conflict()) continue;
      if (!s.is_ok()) fail(3, s);
      say(std::to_string(id) + " " + std::to_string(done + 1));
    }
  };
  std::thread t0(mover, 0, lightning::IsolationLevel::kSerializable);
  std::thread t1(mover, 1, lightning::IsolationLevel::kSnapshot);
  t0.join();
  t1.join();
  return 0;
}
