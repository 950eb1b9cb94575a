// LMDB (liblmdb-dev): one B+tree in a 64 GiB memory map. Each put, remove or
// batch is one write transaction (LMDB has one writer at a time and no group
// commit). Point reads reuse a per-thread read transaction (reset/renew).
#include <lmdb.h>

#include <mutex>
#include <vector>

#include "engine.h"

namespace bench {
namespace {

constexpr std::size_t kMapSize = std::size_t{64} << 30;

void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw BenchError(std::string("lmdb ") + what + ": " + mdb_strerror(rc));
}

MDB_val val(std::string_view s) { return {s.size(), const_cast<char*>(s.data())}; }
std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

class LmdbCursor final : public Cursor {
 public:
  LmdbCursor(MDB_env* env, MDB_dbi dbi) {
    check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn_), "mdb_txn_begin");
    check(mdb_cursor_open(txn_, dbi, &cursor_), "mdb_cursor_open");
  }
  ~LmdbCursor() override {
    mdb_cursor_close(cursor_);
    mdb_txn_abort(txn_);
  }
  void seek(std::string_view target) override {
    key_ = val(target);
    move(MDB_SET_RANGE);
  }
  void first() override { move(MDB_FIRST); }
  bool valid() const override { return valid_; }
  void next() override { move(MDB_NEXT); }
  std::string_view key() const override { return view(key_); }
  std::string_view value() const override { return view(value_); }

 private:
  void move(MDB_cursor_op op) {
    int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
    valid_ = rc == MDB_SUCCESS;
    if (rc != MDB_NOTFOUND) check(rc, "mdb_cursor_get");
  }
  MDB_txn* txn_ = nullptr;
  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{}, value_{};
  bool valid_ = false;
};

// LMDB's write transaction: writers are serialized by LMDB's writer lock
// (held from begin to commit), so a commit never conflicts.
class LmdbTxn final : public Txn {
 public:
  LmdbTxn(MDB_env* env, MDB_dbi dbi) : dbi_(dbi) { check(mdb_txn_begin(env, nullptr, 0, &txn_), "mdb_txn_begin"); }
  ~LmdbTxn() override {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  bool get(std::string_view key, std::string* value) override {
    MDB_val k = val(key), v{};
    int rc = mdb_get(txn_, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "mdb_get");
    value->assign(view(v));
    return true;
  }
  void put(std::string_view key, std::string_view value) override {
    MDB_val k = val(key), v = val(value);
    check(mdb_put(txn_, dbi_, &k, &v, 0), "mdb_put");
  }
  bool commit() override {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    check(mdb_txn_commit(t), "mdb_txn_commit");
    return true;
  }

 private:
  MDB_dbi dbi_;
  MDB_txn* txn_ = nullptr;
};

class LmdbEngine final : public Engine {
 public:
  LmdbEngine(MDB_env* env, MDB_dbi dbi) : env_(env), dbi_(dbi) {}
  ~LmdbEngine() override {
    for (MDB_txn* txn : readers_) mdb_txn_abort(txn);
    mdb_env_close(env_);
  }

  void put(std::string_view key, std::string_view value) override {
    MDB_txn* txn = begin_write();
    MDB_val k = val(key), v = val(value);
    commit(txn, mdb_put(txn, dbi_, &k, &v, 0), "mdb_put");
  }
  bool get(std::string_view key, std::string* value) override {
    MDB_txn* txn = reader();
    check(mdb_txn_renew(txn), "mdb_txn_renew");
    MDB_val k = val(key), v{};
    int rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == MDB_SUCCESS) value->assign(view(v));
    mdb_txn_reset(txn);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "mdb_get");
    return true;
  }
  void remove(std::string_view key) override {
    MDB_txn* txn = begin_write();
    MDB_val k = val(key);
    int rc = mdb_del(txn, dbi_, &k, nullptr);
    commit(txn, rc == MDB_NOTFOUND ? MDB_SUCCESS : rc, "mdb_del");
  }
  void write_batch(std::span<const KeyValue> pairs) override {
    MDB_txn* txn = begin_write();
    int rc = MDB_SUCCESS;
    for (const auto& [key, value] : pairs) {
      MDB_val k = val(key), v = val(value);
      rc = mdb_put(txn, dbi_, &k, &v, 0);
      if (rc != MDB_SUCCESS) break;
    }
    commit(txn, rc, "mdb_put");
  }
  std::unique_ptr<Cursor> new_cursor() override { return std::make_unique<LmdbCursor>(env_, dbi_); }
  std::unique_ptr<Txn> begin_txn() override { return std::make_unique<LmdbTxn>(env_, dbi_); }
  void settle() override { check(mdb_env_sync(env_, 1), "mdb_env_sync"); }

 private:
  MDB_txn* begin_write() {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    return txn;
  }
  void commit(MDB_txn* txn, int rc, const char* what) {
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      check(rc, what);
    }
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  // This thread's read transaction (kept reset between reads), created on
  // first use and aborted when the engine closes.
  MDB_txn* reader() {
    thread_local const LmdbEngine* owner = nullptr;
    thread_local MDB_txn* txn = nullptr;
    if (owner != this) {
      check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
      mdb_txn_reset(txn);
      owner = this;
      std::lock_guard lock(mu_);
      readers_.push_back(txn);
    }
    return txn;
  }

  MDB_env* env_;
  MDB_dbi dbi_;
  std::mutex mu_;
  std::vector<MDB_txn*> readers_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<Engine> open_lmdb(const std::string& dir, const EngineSettings& settings) {
  MDB_env* env = nullptr;
  check(mdb_env_create(&env), "mdb_env_create");
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (!settings.sync) flags |= MDB_NOSYNC | MDB_NOMETASYNC;
  int rc = mdb_env_set_mapsize(env, kMapSize);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(env, 256);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(env, dir.c_str(), flags, 0644);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  if (rc == MDB_SUCCESS) rc = mdb_txn_begin(env, nullptr, 0, &txn);
  if (rc == MDB_SUCCESS) {
    rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    rc = rc == MDB_SUCCESS ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
  }
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env);
    check(rc, "open");
  }
  return std::make_unique<LmdbEngine>(env, dbi);
}

}  // namespace bench
