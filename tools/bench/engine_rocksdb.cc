// RocksDB (librocksdb-dev) with production settings: block-based table,
// bloom filter 10 bits/key, LZ4, LRU block cache of --cache-mb.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/optimistic_transaction_db.h>
#include <rocksdb/utilities/transaction.h>
#include <rocksdb/write_batch.h>

#include "engine.h"

namespace bench {
namespace {

void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) throw BenchError(std::string("rocksdb ") + what + ": " + s.ToString());
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

class RocksCursor final : public Cursor {
 public:
  explicit RocksCursor(rocksdb::Iterator* it) : it_(it) {}
  ~RocksCursor() override = default;
  void seek(std::string_view target) override { it_->Seek(slice(target)); }
  void first() override { it_->SeekToFirst(); }
  bool valid() const override {
    if (!it_->Valid()) check(it_->status(), "iterator");
    return it_->Valid();
  }
  void next() override { it_->Next(); }
  std::string_view key() const override { return view(it_->key()); }
  std::string_view value() const override { return view(it_->value()); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

// An optimistic transaction with a snapshot: reads at the snapshot, and
// commit fails (Busy) if a written key was committed by someone else since.
class RocksTxn final : public Txn {
 public:
  explicit RocksTxn(rocksdb::Transaction* t) : t_(t) { read_.snapshot = t_->GetSnapshot(); }
  bool get(std::string_view key, std::string* value) override {
    auto s = t_->Get(read_, slice(key), value);
    if (s.IsNotFound()) return false;
    check(s, "Transaction::Get");
    return true;
  }
  void put(std::string_view key, std::string_view value) override {
    check(t_->Put(slice(key), slice(value)), "Transaction::Put");
  }
  bool commit() override {
    auto s = t_->Commit();
    if (s.IsBusy() || s.IsTryAgain()) return false;
    check(s, "Transaction::Commit");
    return true;
  }

 private:
  std::unique_ptr<rocksdb::Transaction> t_;
  rocksdb::ReadOptions read_;
};

class RocksEngine final : public Engine {
 public:
  // txn_db: the same database opened as an OptimisticTransactionDB (owns db),
  // or null.
  RocksEngine(rocksdb::DB* db, rocksdb::OptimisticTransactionDB* txn_db,
              std::shared_ptr<rocksdb::Statistics> stats, bool sync)
      : db_(txn_db != nullptr ? txn_db : db), txn_db_(txn_db), stats_(std::move(stats)) {
    write_.sync = sync;
  }
  std::unique_ptr<Txn> begin_txn() override {
    if (txn_db_ == nullptr) return nullptr;
    rocksdb::OptimisticTransactionOptions options;
    options.set_snapshot = true;
    return std::make_unique<RocksTxn>(txn_db_->BeginTransaction(write_, options));
  }
  ~RocksEngine() override { (void)db_->Close(); }

  void put(std::string_view key, std::string_view value) override {
    check(db_->Put(write_, slice(key), slice(value)), "Put");
  }
  bool get(std::string_view key, std::string* value) override {
    auto s = db_->Get(rocksdb::ReadOptions(), slice(key), value);
    if (s.IsNotFound()) return false;
    check(s, "Get");
    return true;
  }
  void remove(std::string_view key) override { check(db_->Delete(write_, slice(key)), "Delete"); }
  void write_batch(std::span<const KeyValue> pairs) override {
    rocksdb::WriteBatch batch;
    for (const auto& [k, v] : pairs) check(batch.Put(slice(k), slice(v)), "WriteBatch::Put");
    check(db_->Write(write_, &batch), "Write");
  }
  std::unique_ptr<Cursor> new_cursor() override {
    return std::make_unique<RocksCursor>(db_->NewIterator(rocksdb::ReadOptions()));
  }
  void settle() override {
    check(db_->Flush(rocksdb::FlushOptions()), "Flush");
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    check(db_->CompactRange(options, nullptr, nullptr), "CompactRange");
  }
  BytesWritten bytes_written() override {
    std::uint64_t bytes = stats_->getTickerCount(rocksdb::WAL_FILE_BYTES) +
                          stats_->getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
                          stats_->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
    return {bytes, "rocksdb statistics: WAL + flush + compaction bytes"};
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::OptimisticTransactionDB* txn_db_;  // db_ itself, when opened so
  std::shared_ptr<rocksdb::Statistics> stats_;
  rocksdb::WriteOptions write_;
};

}  // namespace

std::unique_ptr<Engine> open_rocksdb(const std::string& dir, const EngineSettings& settings) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kLZ4Compression;
  options.write_buffer_size = 64 << 20;
  options.max_background_jobs = 2;
  options.statistics = rocksdb::CreateDBStatistics();
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(settings.cache_mb << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (settings.transactions) {
    rocksdb::OptimisticTransactionDB* txn_db = nullptr;
    check(rocksdb::OptimisticTransactionDB::Open(options, dir, &txn_db), "OptimisticTransactionDB::Open");
    return std::make_unique<RocksEngine>(nullptr, txn_db, options.statistics, settings.sync);
  }
  rocksdb::DB* db = nullptr;
  check(rocksdb::DB::Open(options, dir, &db), "Open");
  return std::make_unique<RocksEngine>(db, nullptr, options.statistics, settings.sync);
}

}  // namespace bench
