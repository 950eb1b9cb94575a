// Transactions: optimistic MVCC with enforced isolation levels
// (docs/transactions.md has the rules and the anomalies each level allows).
//
// A transaction buffers its writes (its write set) and reads through its
// read point with its own writes merged over it. Nothing is locked while it
// runs; commit() validates it against everything committed since it began,
// in the commit queue, and either writes the whole write set as one WAL
// record (atomic across crashes, durable per wal_sync_mode) or refuses it
// with a Conflict status. A refused transaction has no effect; retry it from
// the start.
//
// Ownership: Database::transaction() returns a movable handle. Destroying a
// transaction that was neither committed nor rolled back rolls it back.
// Finish or destroy transactions (and their iterators) before closing the
// database; a handle used after the close gets InvalidArgument and its
// destruction is harmless (iterators left open are not protected).
// Thread safety: one transaction is used by one thread at a time; distinct
// transactions run concurrently with each other and with plain writes.
// Errors:
//  - Conflict (retryable): commit found a write (or, at kSerializable, a
//    read or scanned range) that another commit changed since this
//    transaction began. Nothing was written.
//  - InvalidArgument: a bad key or value (names the key), the write set
//    limit (Config::max_transaction_writes), or use after commit/rollback.
//  - Busy: Config::max_active_transactions are open.
//  - Aborted: the database refuses writes after an I/O failure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lightning/iterator.h"
#include "lightning/status.h"

namespace lightning {

enum class IsolationLevel : std::uint8_t {
  // Each read sees the latest committed data; commit is atomic; no
  // validation (lost updates and write skew are possible).
  kReadCommitted = 0,
  // All reads from the snapshot taken when the transaction began; commit
  // refuses a write to a key that another transaction committed since
  // (first committer wins). Write skew is possible.
  kSnapshot = 1,
  // Snapshot, and commit also refuses the transaction if any key it read,
  // or any range it scanned, was written since it began: the committed
  // transactions are equivalent to running one at a time in commit order.
  kSerializable = 2,
  // Aliases, accepted for familiarity.
  kRepeatableRead = kSnapshot,
  kReadUncommitted = kReadCommitted,  // no dirty reads: same as kReadCommitted
};

const char* isolation_level_name(IsolationLevel level);

// The id-style API's handle (Database::begin_transaction). 0 is never used.
using TxId = std::uint64_t;

class Transaction {
 public:
  Transaction() = default;  // an empty handle: every call is InvalidArgument
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();  // rolls back if still open

  // Buffered in the write set; visible to this transaction's reads only.
  Status put(std::string_view key, std::string_view value);
  Status remove(std::string_view key);

  // The transaction's own write if any, else the committed value at its
  // read point (kSnapshot, kSerializable: when it began; kReadCommitted:
  // now). At kSerializable the key joins the read set.
  Result<std::optional<std::string>> get(std::string_view key);
  Result<bool> get(std::string_view key, std::string& value);

  // Iteration over the committed state at the read point with the write set
  // merged over it, within options' bounds (options.snapshot must be null).
  // At kSerializable the key range the iterator covers (from its first
  // position to the furthest key it reached, or to the end) joins the scanned
  // ranges, so an insert into it by another commit makes this commit fail.
  // The iterator must be destroyed before the transaction finishes.
  std::unique_ptr<Iterator> new_iterator(const ReadOptions& options = {});
  Range range(std::string_view begin, std::string_view end);
  Range prefix(std::string_view prefix);

  // Validates and writes the write set (one WAL record, one sequence range).
  // OK: committed and durable per wal_sync_mode. Conflict: nothing written.
  // Either way the transaction is finished.
  Status commit();
  // Discards the write set; the transaction is finished. OK if it was open.
  Status rollback();

  bool active() const;  // begun, not yet committed or rolled back
  IsolationLevel isolation() const;
  // The sequence number of the read point (0 for kReadCommitted).
  std::uint64_t start_sequence() const;
  // Entries in the write set (one per key).
  std::size_t write_count() const;
  // After a successful commit with writes: the sequence number of its first
  // write (commits are ordered by it); 0 otherwise.
  std::uint64_t commit_sequence() const;

  struct State;  // engine-side; opaque

 private:
  friend class DatabaseImpl;
  explicit Transaction(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace lightning
