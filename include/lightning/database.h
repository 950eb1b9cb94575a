// Database: an open Lightning DB.
//
// Ownership: Database::open returns the only owner. Destroying it closes the
// database: background threads are joined, the WAL is synced (unless the sync
// mode is kNoSync) and the LOCK is released. Iterators must be destroyed
// before the database.
//
// Thread safety: every method may be called from any number of threads at
// once. Concurrent writers are batched into commit groups (group commit).
//
// Errors: every method returns Status or Result<T>; no exception escapes.
//  - InvalidArgument: empty or oversize key, oversize value (names the key).
//  - Aborted: an earlier WAL write or fsync failed; the database refuses all
//    further writes until it is reopened (reads keep working).
//  - IOError / Corruption from open(): names the file and offset.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightning/config.h"
#include "lightning/iterator.h"
#include "lightning/pinned_value.h"
#include "lightning/stats.h"
#include "lightning/status.h"
#include "lightning/transaction.h"
#include "lightning/write_batch.h"

namespace lightning {

// The bounds of Database::prefix / Transaction::prefix: [prefix, the
// smallest key above every key with the prefix).
ReadOptions prefix_read_options(std::string_view prefix);

class Database {
 public:
  // Opens (and per config, creates) the database in directory `path`.
  // Busy if another Database, in this or another process, has it open.
  static Result<std::unique_ptr<Database>> open(const std::string& path, const Config& config = {});

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  virtual ~Database() = default;

  // ---- Writes. Each returns once the write is durable per wal_sync_mode. ----
  virtual Status put(std::string_view key, std::string_view value) = 0;
  // Removing an absent key is not an error.
  virtual Status remove(std::string_view key) = 0;
  // Atomic: after return (and across a crash) either all operations are
  // visible or none.
  virtual Status write(const WriteBatch& batch) = 0;
  // Puts all pairs atomically (one batch).
  virtual Status batch_put(std::span<const std::pair<std::string_view, std::string_view>> pairs) = 0;

  // ---- Point reads: the latest committed state. ----
  // nullopt when the key is absent.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  // Hot-path form: true and `value` assigned (its capacity reused) when the
  // key is present; false (value untouched) when absent.
  virtual Result<bool> get(std::string_view key, std::string& value) = 0;
  // Zero-copy form: true and `value` pointed at the stored bytes (pinned
  // until value is reset or destroyed); false when absent.
  virtual Result<bool> get_pinned(std::string_view key, PinnedValue& value) = 0;
  virtual Result<bool> contains(std::string_view key) = 0;
  // One consistent view for all keys; result[i] belongs to keys[i].
  virtual Result<std::vector<std::optional<std::string>>> batch_get(
      std::span<const std::string_view> keys) = 0;

  // ---- Reads at a snapshot (options.snapshot; latest state when null). ----
  virtual Result<bool> get(const ReadOptions& options, std::string_view key, std::string& value) = 0;
  Result<std::optional<std::string>> get(const ReadOptions& options, std::string_view key);
  virtual Result<std::vector<std::optional<std::string>>> batch_get(
      const ReadOptions& options, std::span<const std::string_view> keys) = 0;
  // A read point: see lightning/snapshot.h. Never fails.
  virtual Snapshot snapshot() = 0;

  // ---- Transactions (lightning/transaction.h, docs/transactions.md). ----
  // Begins a transaction. Busy when Config::max_active_transactions are
  // open; Aborted when the database refuses writes.
  virtual Result<Transaction> transaction(IsolationLevel level = IsolationLevel::kSnapshot) = 0;
  // The same machinery by id, for callers that keep no handle: the database
  // owns the transaction until commit_transaction or rollback_transaction.
  // An unknown or finished id is NotFound ("transaction <id> ..."). Calls
  // for one id are serialized; distinct ids run concurrently.
  virtual Result<TxId> begin_transaction(IsolationLevel level = IsolationLevel::kSnapshot) = 0;
  virtual Status put_tx(TxId id, std::string_view key, std::string_view value) = 0;
  virtual Result<bool> get_tx(TxId id, std::string_view key, std::string& value) = 0;
  Result<std::optional<std::string>> get_tx(TxId id, std::string_view key);
  virtual Status delete_tx(TxId id, std::string_view key) = 0;
  // Either way (OK, Conflict, an error) the id is finished afterwards.
  virtual Status commit_transaction(TxId id) = 0;
  virtual Status rollback_transaction(TxId id) = 0;

  // ---- Iteration over a consistent view as of the call. ----
  virtual std::unique_ptr<Iterator> new_iterator(const ReadOptions& options = {}) = 0;
  // Keys in [begin, end).
  Range range(std::string_view begin, std::string_view end);
  // Keys starting with prefix (all keys for an empty prefix).
  Range prefix(std::string_view prefix);

  // ---- Maintenance. ----
  // Makes every write acknowledged so far durable (fsyncs the WAL).
  virtual Status sync() = 0;
  virtual Stats stats() const = 0;
  // Freezes the active memtable, waits until it is written to a run file and
  // committed, then merges every run into the B+tree (durable on return).
  // Automatic flushes (at Config::memtable_size) only write the run; merges
  // then follow Config::merge_ratio and max_runs. Aborted after an I/O
  // failure (the database is then read-only).
  virtual Status flush_lsm() = 0;
  // Flushes, then rewrites the whole B+tree into the lowest free pages of the
  // data file and truncates the free space at its end, so that the file
  // shrinks after many deletes. Costs about two full rewrites of the tree;
  // writers continue meanwhile (flushes wait). A live iterator keeps the old
  // pages from being reused, so the file shrinks less until it is destroyed.
  virtual Status compact() = 0;
  // Reads every live run file (block checksums, entry order) and walks every
  // page reachable from the current tree: checksums, key order, separator
  // bounds, levels, entry count. Corruption names the file, block or page.
  virtual Status verify() = 0;
  // Writes a consistent, openable copy of the live database into `dir`
  // (which must not exist): flushes, then copies the data file, the live run
  // files and the WAL written since, while writers continue.
  virtual Status checkpoint(const std::string& dir) = 0;

 protected:
  Database() = default;
};

}  // namespace lightning
