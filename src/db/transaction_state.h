// Transaction::State: what a transaction has done so far (engine side).
//
// Owned by the Transaction handle (and, in the id-style API, by the
// database's table of open transactions); iterators over the transaction
// share it. Used by one thread at a time (the id-style API serializes calls
// with `mu`).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lightning/snapshot.h"
#include "lightning/transaction.h"
#include "util/thread_annotations.h"

namespace lightning {

class DatabaseImpl;

// A key range a serializable transaction's iterator examined: [lo, hi);
// nullopt: unbounded on that side. `used` is false until the iterator was
// first positioned.
struct ScannedRange {
  bool used = false;
  std::optional<std::string> lo;
  std::optional<std::string> hi;
};

struct Transaction::State {
  DatabaseImpl* db = nullptr;  // valid while *db_open
  // Shared with the database, false once it started closing: a handle
  // used (or destroyed) after that touches only this.
  std::shared_ptr<const std::atomic<bool>> db_open;
  IsolationLevel level = IsolationLevel::kSnapshot;
  // The read point of kSnapshot / kSerializable (empty for kReadCommitted).
  Snapshot snapshot;
  // The write set: key -> value, or nullopt for a delete. Ordered, so that
  // iterators can merge it over the database's view.
  std::map<std::string, std::optional<std::string>, std::less<>> writes;
  // kSerializable: keys read from the database (not from the write set),
  // and the ranges iterators examined.
  std::vector<std::string> reads;
  std::vector<ScannedRange> ranges;
  bool open = true;
  std::uint64_t commit_sequence = 0;  // set by a successful commit with writes
  Mutex mu;  // the id-style API's per-transaction serialization
};

// What the commit queue's leader validates for a transaction's batch.
struct TxnValidation {
  const Transaction::State* state;
  std::uint64_t first_sequence = 0;  // out: the batch's first sequence number
};

}  // namespace lightning
