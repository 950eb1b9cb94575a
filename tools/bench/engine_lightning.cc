// Lightning DB through its public API only.
#include <lightning/lightning.h>

#include "engine.h"

namespace bench {
namespace {

void check(const lightning::Status& s, const char* what) {
  if (!s) throw BenchError(std::string("lightning ") + what + ": " + s.to_string());
}

class LightningCursor final : public Cursor {
 public:
  explicit LightningCursor(std::unique_ptr<lightning::Iterator> it) : it_(std::move(it)) {}
  ~LightningCursor() override = default;

  void seek(std::string_view target) override {
    it_->seek(target);
    check_status();
  }
  void first() override {
    it_->first();
    check_status();
  }
  bool valid() const override { return it_->valid(); }
  void next() override {
    it_->next();
    check_status();
  }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }

 private:
  void check_status() {
    if (!it_->valid()) check(it_->status(), "iterator");
  }
  std::unique_ptr<lightning::Iterator> it_;
};

// Snapshot isolation: first committer wins on the written keys, the
// guarantee RocksDB's optimistic transactions give.
class LightningTxn final : public Txn {
 public:
  explicit LightningTxn(lightning::Transaction t) : t_(std::move(t)) {}
  bool get(std::string_view key, std::string* value) override {
    auto r = t_.get(key, *value);
    if (!r) check(r.status(), "Transaction::get");
    return *r;
  }
  void put(std::string_view key, std::string_view value) override { check(t_.put(key, value), "Transaction::put"); }
  bool commit() override {
    lightning::Status s = t_.commit();
    if (s.is_conflict()) return false;
    check(s, "Transaction::commit");
    return true;
  }

 private:
  lightning::Transaction t_;
};

class LightningEngine final : public Engine {
 public:
  explicit LightningEngine(std::unique_ptr<lightning::Database> db) : db_(std::move(db)) {}
  ~LightningEngine() override = default;

  void put(std::string_view key, std::string_view value) override {
    check(db_->put(key, value), "put");
  }
  bool get(std::string_view key, std::string* value) override {
    auto r = db_->get(key);
    if (!r) check(r.status(), "get");
    if (!r->has_value()) return false;
    *value = std::move(**r);
    return true;
  }
  void remove(std::string_view key) override { check(db_->remove(key), "remove"); }
  void write_batch(std::span<const KeyValue> pairs) override {
    check(db_->batch_put(pairs), "batch_put");
  }
  std::unique_ptr<Cursor> new_cursor() override {
    return std::make_unique<LightningCursor>(db_->new_iterator());
  }
  // Like the peers' full compaction: the memtable is merged into the B+tree.
  void settle() override { check(db_->flush_lsm(), "flush_lsm"); }
  std::unique_ptr<Txn> begin_txn() override {
    auto t = db_->transaction(lightning::IsolationLevel::kSnapshot);
    if (!t) check(t.status(), "transaction");
    return std::make_unique<LightningTxn>(std::move(*t));
  }
  std::string counters() override {
    const auto st = db_->stats();
    return "write_stalls=" + std::to_string(st.write_stalls) +
           " max_write_stall_us=" + std::to_string(st.max_write_stall_micros) +
           " write_slowdowns=" + std::to_string(st.write_slowdowns) + " flushes=" + std::to_string(st.flushes) +
           " merges=" + std::to_string(st.merges) + " runs=" + std::to_string(st.runs);
  }
  BytesWritten bytes_written() override {
    auto st = db_->stats();
    return {st.bytes_written(), "Stats::bytes_written(): WAL + run files + data file"};
  }

 private:
  std::unique_ptr<lightning::Database> db_;
};

}  // namespace

std::unique_ptr<Engine> open_lightning(const std::string& dir, const EngineSettings& settings,
                                       bool use_mmap) {
  lightning::Config config;
  config.wal_sync_mode =
      settings.sync ? lightning::WalSyncMode::kSync : lightning::WalSyncMode::kNoSync;
  config.cache_size = settings.cache_mb << 20;  // the B+tree's page cache
  config.use_mmap = use_mmap;
  auto db = lightning::Database::open(dir, config);
  if (!db) check(db.status(), "open");
  return std::make_unique<LightningEngine>(std::move(*db));
}

}  // namespace bench
