// Lightning DB quick start: open, write, read, iterate, batch, transaction, stats.
//
//   ./basic_usage [directory]     (default: a fresh directory under /tmp)
#include <lightning/lightning.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {
int fail(const lightning::Status& s) {
  std::cerr << "error: " << s.to_string() << '\n';
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  std::string path;
  if (argc > 1) {
    path = argv[1];
  } else {
    path = (std::filesystem::temp_directory_path() / "lightning-example").string();
    std::filesystem::remove_all(path);
  }

  // Open (creating if missing). Sync mode: every acknowledged write is durable.
  lightning::Config config = lightning::Config::balanced();
  auto opened = lightning::Database::open(path, config);
  if (!opened) return fail(opened.status());
  std::unique_ptr<lightning::Database> db = std::move(*opened);

  // Put, get, remove.
  if (auto s = db->put("hello", "world"); !s) return fail(s);
  auto value = db->get("hello");
  if (!value) return fail(value.status());
  std::cout << "get(hello) = " << value->value_or("<absent>") << '\n';

  if (auto s = db->remove("hello"); !s) return fail(s);
  auto gone = db->contains("hello");
  if (!gone) return fail(gone.status());
  std::cout << "contains(hello) after remove = " << std::boolalpha << *gone << '\n';

  // An atomic batch: all or nothing, also across a crash.
  lightning::WriteBatch batch;
  for (int i = 0; i < 5; ++i) {
    if (auto s = batch.put("user:" + std::to_string(i), "name-" + std::to_string(i)); !s) return fail(s);
  }
  if (auto s = batch.put("order:1", "pending"); !s) return fail(s);
  if (auto s = db->write(batch); !s) return fail(s);

  // Prefix iteration in a range-for loop.
  std::cout << "users:\n";
  auto users = db->prefix("user:");
  for (auto [k, v] : users) std::cout << "  " << k << " -> " << v << '\n';
  if (!users.status()) return fail(users.status());

  // Reverse iteration with an explicit iterator.
  std::cout << "all keys in reverse order:\n";
  auto it = db->new_iterator();
  for (it->last(); it->valid(); it->prev()) std::cout << "  " << it->key() << '\n';
  if (!it->status()) return fail(it->status());
  it.reset();

  // Batch get: one consistent view.
  std::vector<std::string_view> keys = {"user:1", "user:9", "order:1"};
  auto many = db->batch_get(keys);
  if (!many) return fail(many.status());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::cout << "batch_get(" << keys[i] << ") = " << (*many)[i].value_or("<absent>") << '\n';
  }

  // A transaction: move 10 from account a to b. Serializable: the commit is
  // refused (Conflict) if anything it read changed meanwhile; retry then.
  (void)db->put("acct:a", "100");
  (void)db->put("acct:b", "0");
  for (int attempt = 0;; ++attempt) {
    auto t = db->transaction(lightning::IsolationLevel::kSerializable);
    if (!t) return fail(t.status());
    auto a = t->get("acct:a");
    auto b = t->get("acct:b");
    if (!a) return fail(a.status());
    if (!b) return fail(b.status());
    (void)t->put("acct:a", std::to_string(std::stol(a->value_or("0")) - 10));
    (void)t->put("acct:b", std::to_string(std::stol(b->value_or("0")) + 10));
    lightning::Status s = t->commit();
    if (s) break;
    if (!s.is_conflict() || attempt == 10) return fail(s);
  }
  std::cout << "after the transfer: acct:a = " << db->get("acct:a")->value_or("?")
            << ", acct:b = " << db->get("acct:b")->value_or("?") << '\n';

  // Bad input is an error, never a crash.
  auto bad = db->put("", "x");
  std::cout << "put(\"\") -> " << bad.to_string() << '\n';

  lightning::Stats stats = db->stats();
  std::cout << "stats: puts=" << stats.puts << " wal_syncs=" << stats.wal_syncs
            << " wal_bytes_written=" << stats.wal_bytes_written << '\n';

  // Close by destroying; reopen and read back.
  db.reset();
  auto reopened = lightning::Database::open(path, config);
  if (!reopened) return fail(reopened.status());
  auto again = (*reopened)->get("user:3");
  if (!again) return fail(again.status());
  std::cout << "after reopen get(user:3) = " << again->value_or("<absent>") << '\n';
  return 0;
}
