// LevelDB (libleveldb-dev): bloom filter 10 bits/key, Snappy, LRU block
// cache of --cache-mb, otherwise LevelDB's defaults.
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include "engine.h"

namespace bench {
namespace {

void check(const leveldb::Status& s, const char* what) {
  if (!s.ok()) throw BenchError(std::string("leveldb ") + what + ": " + s.ToString());
}

leveldb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const leveldb::Slice& s) { return {s.data(), s.size()}; }

class LevelCursor final : public Cursor {
 public:
  explicit LevelCursor(leveldb::Iterator* it) : it_(it) {}
  ~LevelCursor() override = default;
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
  std::unique_ptr<leveldb::Iterator> it_;
};

class LevelEngine final : public Engine {
 public:
  LevelEngine(leveldb::DB* db, std::unique_ptr<leveldb::Cache> cache,
              std::unique_ptr<const leveldb::FilterPolicy> filter, bool sync)
      : cache_(std::move(cache)), filter_(std::move(filter)), db_(db) {
    write_.sync = sync;
  }
  ~LevelEngine() override = default;

  void put(std::string_view key, std::string_view value) override {
    check(db_->Put(write_, slice(key), slice(value)), "Put");
  }
  bool get(std::string_view key, std::string* value) override {
    auto s = db_->Get(leveldb::ReadOptions(), slice(key), value);
    if (s.IsNotFound()) return false;
    check(s, "Get");
    return true;
  }
  void remove(std::string_view key) override { check(db_->Delete(write_, slice(key)), "Delete"); }
  void write_batch(std::span<const KeyValue> pairs) override {
    leveldb::WriteBatch batch;
    for (const auto& [k, v] : pairs) batch.Put(slice(k), slice(v));
    check(db_->Write(write_, &batch), "Write");
  }
  std::unique_ptr<Cursor> new_cursor() override {
    return std::make_unique<LevelCursor>(db_->NewIterator(leveldb::ReadOptions()));
  }
  void settle() override { db_->CompactRange(nullptr, nullptr); }

 private:
  // Declared before db_: the database must close before its cache and filter go.
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
  leveldb::WriteOptions write_;
};

}  // namespace

std::unique_ptr<Engine> open_leveldb(const std::string& dir, const EngineSettings& settings) {
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(settings.cache_mb << 20));
  std::unique_ptr<const leveldb::FilterPolicy> filter(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options options;
  options.create_if_missing = true;
  options.compression = leveldb::kSnappyCompression;
  options.block_cache = cache.get();
  options.filter_policy = filter.get();
  leveldb::DB* db = nullptr;
  check(leveldb::DB::Open(options, dir, &db), "Open");
  return std::make_unique<LevelEngine>(db, std::move(cache), std::move(filter), settings.sync);
}

}  // namespace bench
