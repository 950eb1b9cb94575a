// Engine: the one small interface every store is benchmarked through.
//
// An adapter opens its store in a fresh directory with EngineSettings and
// translates these calls into the store's own API. Adapters for the peers
// (RocksDB, LevelDB, LMDB) are compiled only when their library was found;
// compiled_engines() lists what this binary has.
//
// Errors: any failure of the store throws BenchError naming the call; the
// run that hit it is reported as failed. A benchmark has no way to continue
// meaningfully after a store error.
//
// Thread safety: put/get/remove/write_batch/new_cursor may be called from
// several threads at once (every store here supports that). A Cursor is used
// by one thread. settle() and the destructor run with no other call active.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EngineSettings {
  // true: every commit (put, remove, batch) is durable before it returns
  // (fsync/fdatasync); false: the OS decides when bytes reach the disk.
  bool sync = false;
  // Block cache of RocksDB and LevelDB, page cache of Lightning DB, in MiB.
  // LMDB and lightning-mmap rely on the OS page cache instead.
  std::size_t cache_mb = 128;
  // The run uses Engine::begin_txn() (the oltp workloads): RocksDB opens as
  // an OptimisticTransactionDB.
  bool transactions = false;
};

using KeyValue = std::pair<std::string_view, std::string_view>;

// Forward iteration over the store's keys in bytewise order.
class Cursor {
 public:
  virtual ~Cursor() = default;
  // Positions at the first key >= target.
  virtual void seek(std::string_view target) = 0;
  virtual void first() = 0;
  virtual bool valid() const = 0;
  // REQUIRES: valid()
  virtual void next() = 0;
  // REQUIRES: valid()
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
};

// One read-write transaction (the oltp workloads). Reads see the
// transaction's snapshot and its own writes; commit() is durable per
// EngineSettings::sync and returns false when the store refused the commit
// because of a conflicting commit (nothing was written; retry).
class Txn {
 public:
  virtual ~Txn() = default;
  virtual bool get(std::string_view key, std::string* value) = 0;
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual bool commit() = 0;
};

// Bytes the engine has written to storage since it was opened, and where
// the figure comes from (for the write-amplification column).
struct BytesWritten {
  std::uint64_t bytes = 0;
  std::string source;
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual void put(std::string_view key, std::string_view value) = 0;
  // Returns whether the key exists; its value is copied into *value.
  virtual bool get(std::string_view key, std::string* value) = 0;
  virtual void remove(std::string_view key) = 0;
  // Puts every pair atomically (one commit).
  virtual void write_batch(std::span<const KeyValue> pairs) = 0;
  // A cursor over a consistent view as of the call.
  virtual std::unique_ptr<Cursor> new_cursor() = 0;
  // Lets the engine finish its work after a load: flush, full compaction,
  // sync (what each adapter does is documented in --help).
  virtual void settle() = 0;
  // Default: /proc/self/io write_bytes of this (per-run) process.
  virtual BytesWritten bytes_written();
  // A new transaction; null when the store has none (LevelDB).
  virtual std::unique_ptr<Txn> begin_txn() { return nullptr; }
  // Engine counters worth reporting beside a run (Lightning DB: write
  // stalls, slowdowns, flushes, merges), as "name=value" words; empty when
  // the engine has none.
  virtual std::string counters() { return {}; }
};

// Names of the engines compiled into this binary, lightning first.
std::vector<std::string> compiled_engines();
// One line per engine: its settings, for --help and the report.
std::string engine_settings_help();
// Opens engine `name` in directory `dir` (which exists and is empty).
std::unique_ptr<Engine> open_engine(const std::string& name, const std::string& dir,
                                    const EngineSettings& settings);

// Factories defined by the adapters (each only when compiled).
// use_mmap: Config::use_mmap (the engine named "lightning-mmap").
std::unique_ptr<Engine> open_lightning(const std::string& dir, const EngineSettings& settings,
                                       bool use_mmap);
std::unique_ptr<Engine> open_rocksdb(const std::string& dir, const EngineSettings& settings);
std::unique_ptr<Engine> open_leveldb(const std::string& dir, const EngineSettings& settings);
std::unique_ptr<Engine> open_lmdb(const std::string& dir, const EngineSettings& settings);

}  // namespace bench
