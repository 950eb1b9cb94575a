// DatabaseImpl: the engine behind the Database interface: group-commit WAL,
// memtables, LSM run files and the copy-on-write B+tree page store.
//
// Threads:
//  - user threads call the public methods; writers queue in writers_ and the
//    writer at the front (the leader) commits a whole group: one WAL append,
//    one sync (Sync mode), then inserts the group into the active memtable
//    and publishes the new last sequence; when the memtable is full the
//    leader freezes it (memtable switch) and wakes the flush thread;
//  - the flush thread writes the frozen memtable to a run file, publishes
//    it with a meta-only commit (the run list; the tree is untouched),
//    installs a new Version, deletes the WAL segments the runs now cover and
//    asks the merge thread for a merge when one is due;
//  - the merge thread folds the runs into the B+tree (the tree writer) and
//    publishes the new tree with a tree commit; flushes go on meanwhile;
//  - in Periodic mode a sync thread fsyncs the WAL every wal_sync_interval.
//
// Lock order: tree_mu_ -> commit_mu_ -> version_mu_ -> current_mu_
// (innermost); the leader releases mu_ before it takes version_mu_ or
// wal_mu_; mu_ and wal_mu_ are never held together.
// Invariants:
//  1. Only the leader inserts into the active memtable (the skiplist's
//     single writer) and only the leader switches memtables.
//  2. last_sequence_ is stored (release) only after every entry up to it is
//     in the current version's memtables and its WAL record was appended (and
//     synced in Sync mode); readers load the version first, then
//     last_sequence_ (acquire).
//  3. Once bg_error_ is set it stays set: no write is accepted afterwards.
//  4. WAL segments below the durable meta slot's wal_floor hold only writes
//     that are in runs or the tree; they are deleted after the commit is
//     durable.
//  5. One tree writer at a time (tree_mu_): a merge, compact(), or
//     checkpoint()'s copy of the data file. Commits are serialized by
//     commit_mu_; under it, the current version's tree is the durable one.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "db/dbformat.h"
#include "db/transaction_state.h"
#include "db/version.h"
#include "lightning/database.h"
#include "lightning/file_system.h"
#include "memtable/memtable.h"
#include "pagestore/page_cache.h"
#include "pagestore/page_store.h"
#include "util/thread_annotations.h"
#include "wal/wal_writer.h"

namespace lightning {

// Arena block size of a memtable: 1/64 of its size, 4 KiB .. 1 MiB (large
// memtables get mapped blocks that return to the OS when dropped).
inline std::size_t arena_block_size(std::uint64_t memtable_size) {
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(memtable_size / 64, 4096, 1 << 20));
}

class DatabaseImpl final : public Database {
 public:
  static Result<std::unique_ptr<Database>> open(const std::string& path, const Config& config);
  ~DatabaseImpl() override;

  Status put(std::string_view key, std::string_view value) override;
  Status remove(std::string_view key) override;
  Status write(const WriteBatch& batch) override;
  Status batch_put(std::span<const std::pair<std::string_view, std::string_view>> pairs) override;
  Result<std::optional<std::string>> get(std::string_view key) override;
  Result<bool> contains(std::string_view key) override;
  Result<std::vector<std::optional<std::string>>> batch_get(
      std::span<const std::string_view> keys) override;
  std::unique_ptr<Iterator> new_iterator(const ReadOptions& options) override;
  Status sync() override;
  Stats stats() const override;
  Status flush_lsm() override;
  Status verify() override;
  Status compact() override;
  Status checkpoint(const std::string& dir) override;
  Result<bool> get(std::string_view key, std::string& value) override;
  Result<bool> get_pinned(std::string_view key, PinnedValue& value) override;
  Result<bool> get(const ReadOptions& options, std::string_view key, std::string& value) override;
  Result<std::vector<std::optional<std::string>>> batch_get(const ReadOptions& options,
                                                            std::span<const std::string_view> keys) override;
  Snapshot snapshot() override;
  Result<Transaction> transaction(IsolationLevel level) override;
  Result<TxId> begin_transaction(IsolationLevel level) override;
  Status put_tx(TxId id, std::string_view key, std::string_view value) override;
  Result<bool> get_tx(TxId id, std::string_view key, std::string& value) override;
  Status delete_tx(TxId id, std::string_view key) override;
  Status commit_transaction(TxId id) override;
  Status rollback_transaction(TxId id) override;
  using Database::get_tx;
  using Database::get;
  using Database::batch_get;

  // Tests only: callbacks at points of background work, so that a test can
  // hold a merge or observe a write stop deterministically. Called on the
  // thread doing the work; before_merge and fail_tree_write with tree_mu_
  // held (a hook must not wait for compact(), checkpoint() or flush_lsm()),
  // on_write_stop with no lock held.
  struct TestHooks {
    std::function<void()> before_merge;   // a merge with runs to fold starts
    std::function<void()> on_write_stop;  // a memtable switch waits for a merge
    // A tree writer (merge, compact()) wrote its pages and is about to
    // commit; a non-OK result fails it there (as a read error would).
    std::function<Status()> fail_tree_write;
  };
  void set_test_hooks(TestHooks hooks) EXCLUDES(hooks_mu_) {
    MutexLock l(hooks_mu_);
    hooks_ = std::move(hooks);
  }
  // Tests only: called by every read point between loading the version and
  // loading the sequence (to widen that window in a race test). A plain
  // function pointer: one relaxed load on the read path.
  void set_read_point_hook(void (*hook)()) { read_point_hook_.store(hook, std::memory_order_relaxed); }
  // Tests only: the destructor has started (background work is stopping).
  bool closing() const { return abandon_merge_.load(); }

 private:
  std::function<void()> test_hook(std::function<void()> TestHooks::*which) const EXCLUDES(hooks_mu_) {
    MutexLock l(hooks_mu_);
    return hooks_.*which;
  }
  std::function<Status()> test_hook_status(std::function<Status()> TestHooks::*which) const EXCLUDES(hooks_mu_) {
    MutexLock l(hooks_mu_);
    return hooks_.*which;
  }
  mutable Mutex hooks_mu_;
  TestHooks hooks_ GUARDED_BY(hooks_mu_);
  std::atomic<void (*)()> read_point_hook_{nullptr};

  // ---- transactions (transaction.cc) ----
  friend class Transaction;
  Result<std::shared_ptr<Transaction::State>> begin_state(IsolationLevel level);
  void finish_state(Transaction::State& st);
  Status txn_write(Transaction::State& st, std::string_view key, std::optional<std::string_view> value);
  Result<bool> txn_get(Transaction::State& st, std::string_view key, std::string& value);
  std::unique_ptr<Iterator> txn_iterator(const std::shared_ptr<Transaction::State>& st,
                                         const ReadOptions& options);
  Status txn_commit(Transaction::State& st);
  Status txn_rollback(Transaction::State& st);
  Result<std::shared_ptr<Transaction::State>> find_txn(TxId id, bool remove) EXCLUDES(txn_mu_);
  // Conflict if another commit wrote what st must not see changed (its
  // write set; at kSerializable also its reads and scanned ranges) since st
  // began: a write in v newer than st's snapshot, or a key in group_writes
  // (written by an earlier batch of the same commit group).
  Status validate_transaction(const Transaction::State& st, const Version& v,
                              const std::set<std::string, std::less<>>& group_writes);
  Result<bool> changed_since(const Version& v, SequenceNumber after, const std::optional<std::string>& lo,
                             const std::optional<std::string>& hi, bool point);

  struct Writer;
  struct Counters {
    std::atomic<std::uint64_t> puts{0}, removes{0}, gets{0}, writes{0}, user_bytes{0};
    std::atomic<std::uint64_t> wal_bytes{0}, wal_syncs{0}, wal_segments{0};
    std::atomic<std::uint64_t> groups{0}, max_group{0};
    std::atomic<std::uint64_t> records_replayed{0}, bytes_dropped{0};
    std::atomic<std::uint64_t> flushes{0}, flush_micros{0}, stalls{0}, stall_micros{0}, max_stall{0};
    std::atomic<std::uint64_t> slowdowns{0}, slowdown_micros{0};
    std::atomic<std::uint64_t> txn_committed{0}, txn_conflicts{0}, txn_rolled_back{0};
    std::atomic<std::uint64_t> wal_segments_deleted{0};
    std::atomic<std::uint64_t> run_bytes_written{0}, merges{0}, merge_micros{0};
  };

  DatabaseImpl(std::string dir, const Config& config, std::shared_ptr<FileSystem> fs);

  // ---- open / recovery (recovery.cc) ----
  Status open_directory();
  Status recover();
  // Replays segments into the active memtable, skipping writes the tree
  // already holds (sequence <= tree_sequence).
  Status replay_segments(const std::vector<std::uint64_t>& segments, SequenceNumber tree_sequence);
  Status set_aside_damaged(const std::vector<std::uint64_t>& segments, std::size_t damaged_index,
                           std::uint64_t good_end);
  Status truncate_segment(std::uint64_t number, std::uint64_t good_end);
  Status sync_segment(std::uint64_t number);

  // ---- write path ----
  // Commits batch through the group-commit queue.
  // Commits batch through the group-commit queue; a null batch is a flush
  // request (the leader freezes the active memtable).
  // txn: validated by the leader before the batch is written (a Conflict
  // leaves it out of the group and is returned); null for plain writes.
  Status commit(const WriteBatch* batch, TxnValidation* txn = nullptr) EXCLUDES(mu_);
  // Leader only: appends the group to the WAL, syncs per mode, rotates.
  Status write_group_to_wal(const std::vector<Writer*>& group, SequenceNumber first_seq)
      EXCLUDES(mu_, wal_mu_);
  Status start_new_segment() REQUIRES(wal_mu_);
  // Leader only: freezes the active memtable (waiting while an older frozen
  // one is still being flushed) and wakes the flush thread.
  Status switch_memtable() EXCLUDES(mu_, wal_mu_, version_mu_);
  void flush_loop(std::stop_token stop);
  struct FrozenMemTable {
    std::shared_ptr<MemTable> imm;
    SequenceNumber last_sequence = 0;  // newest entry in imm
    std::uint64_t wal_floor = 0;       // first WAL segment not holding imm's writes
  };
  Status flush_imm(FrozenMemTable frozen);
  // Commits `root` with the durable meta's sequence and floor and installs it.
  // The inner-page index of a tree (null if it cannot be built: reads then
  // go through the cache and report any damage themselves).
  std::shared_ptr<const pagestore::InnerIndex> build_inner_index(const pagestore::TreeRoot& root);
  Status publish_tree(const pagestore::TreeRoot& root, SequenceNumber last_sequence,
                      std::uint64_t wal_floor, bool drop_imm) REQUIRES(commit_mu_);
  // Commits (tree root, sequence, floor, run list) and installs a version
  // with that tree (reusing `tree` when the root is unchanged) and runs.
  // A non-null `tree` (the current one) makes it a meta-only commit, which
  // may run while the tree writer is between commits; a null one a tree
  // commit (the caller is the tree writer).
  Status publish(const pagestore::TreeRoot& root, std::shared_ptr<const TreeVersion> tree,
                 SequenceNumber last_sequence, std::uint64_t wal_floor, bool drop_imm,
                 const std::vector<RunRef>* runs, SequenceNumber tree_max_sequence = 0) REQUIRES(commit_mu_);
  // Writes a frozen memtable to a new run file (synced); returns it.
  Result<RunRef> write_run(const MemTable& imm);
  Result<std::shared_ptr<const run::RunReader>> open_run(std::uint64_t number);
  // Folds every run of the current version into the tree (no-op without
  // runs); runs flushed meanwhile stay. Aborted (nothing published) when
  // the database starts closing.
  Status merge_runs() REQUIRES(tree_mu_) EXCLUDES(commit_mu_);
  bool merge_due(const Version& v) const;
  void merge_loop(std::stop_token stop);
  // Asks the merge thread for a merge if one is due for the current version.
  void maybe_request_merge() EXCLUDES(version_mu_);
  // Stops a memtable switch while stop_runs runs exist (the merge in
  // progress must finish first). Leader only.
  Status wait_for_runs() EXCLUDES(version_mu_);
  // Delays the leader's group while slowdown_runs runs exist.
  void maybe_slow_down(std::size_t group_bytes);
  void record_stall(std::uint64_t micros);
  // Records a background (flush or merge) failure: wakes everyone waiting
  // for background work and poisons writes.
  void fail_background_work(const Status& s) EXCLUDES(version_mu_, mu_);
  Status delete_obsolete_segments(std::uint64_t floor);
  std::shared_ptr<const Version> current_version() const EXCLUDES(current_mu_) {
    MutexLock l(current_mu_);
    return current_;
  }
  void install_version(std::shared_ptr<const Version> v) EXCLUDES(current_mu_) {
    live_runs_.store(static_cast<std::uint32_t>(v->runs.size()), std::memory_order_relaxed);
    MutexLock l(current_mu_);
    current_ = std::move(v);
    installs_.fetch_add(1, std::memory_order_release);  // after current_ (see now())
  }
  // The current version and last sequence as one consistent read point:
  // every write up to the sequence is in the version. (Loading the two
  // separately is not enough: between the loads the leader may switch
  // memtables and publish writes that went into the new memtable only.)
  struct ReadPoint;
  ReadPoint now() const EXCLUDES(current_mu_);
  // The version and sequence a read with `options` uses: its snapshot's, or
  // the current ones. InvalidArgument for another database's snapshot.
  struct ReadPoint {
    std::shared_ptr<const Version> version;
    SequenceNumber sequence = 0;
  };
  Result<ReadPoint> read_point(const ReadOptions& options) const;
  struct SnapshotRecord {
    std::uint64_t owner;  // the database's instance id
    std::shared_ptr<const Version> version;  // reset when the database closes
    SequenceNumber sequence;
    std::chrono::steady_clock::time_point created;
  };
  // Live snapshots. Shared with every snapshot's pin, so that a snapshot
  // released after the database closed (a misuse) touches only this.
  struct SnapshotRegistry {
    Mutex mu;
    std::set<SnapshotRecord*> live GUARDED_BY(mu);
  };
  // A point read through one version (memtables, then the tree).
  Result<bool> get_from(const Version& v, SequenceNumber snapshot, std::string_view key,
                        std::string* value);
  Status sync_wal_locked() REQUIRES(wal_mu_);
  void record_background_error(const Status& s) EXCLUDES(mu_);
  Status check_writable() EXCLUDES(mu_);
  void periodic_sync_loop(std::stop_token stop);

  // ---- constant after open ----
  const std::string dir_;
  const Config config_;
  const std::shared_ptr<FileSystem> fs_;
  std::unique_ptr<FileLock> lock_;
  std::uint32_t marker_version_ = 0;  // format version found (or written) at open
  std::unique_ptr<PageCache> cache_;
  std::unique_ptr<pagestore::PageStore> store_;
  run::RunReadStats run_stats_;
  std::atomic<std::uint64_t> next_run_number_{1};

  // ---- versions ----
  // The current version. A plain mutex around the pointer copy: libstdc++'s
  // std::atomic<std::shared_ptr> is not understood by ThreadSanitizer, and
  // the critical section is a refcount increment.
  mutable Mutex current_mu_;
  std::shared_ptr<const Version> current_ GUARDED_BY(current_mu_);
  std::atomic<std::uint32_t> live_runs_{0};  // runs in the current version
  std::atomic<std::uint64_t> installs_{0};   // versions installed so far
  Mutex version_mu_;  // serializes version installs; guards the flush and
  // merge hand-offs (a frozen memtable in the current version is the flush
  // thread's work; merge_requested_ the merge thread's)
  CondVar version_cv_;  // a flush or merge finished / work appeared / stop
  bool stopping_ GUARDED_BY(version_mu_) = false;
  bool merge_requested_ GUARDED_BY(version_mu_) = false;
  // The first flush or merge failure (background work then stops).
  Status flush_error_ GUARDED_BY(version_mu_);
  // Set when closing: a merge in progress gives up (nothing is published).
  std::atomic<bool> abandon_merge_{false};
  std::jthread flush_thread_;
  std::jthread merge_thread_;
  // The tree writer (invariant 5).
  Mutex tree_mu_;
  // Serializes commits (a flush's meta-only commit, a merge's or compact()'s
  // tree commit) and checkpoint()'s copy.
  Mutex commit_mu_;

  // ---- commit queue ----
  mutable Mutex mu_;
  std::deque<Writer*> writers_ GUARDED_BY(mu_);
  Status bg_error_ GUARDED_BY(mu_);
  std::atomic<bool> has_bg_error_{false};  // fast-path mirror of !bg_error_.is_ok()
  // The memtable a replay or the leader inserts into (the current version's
  // mem); touched only by the leader (and open).
  std::shared_ptr<MemTable> active_mem_;
  // Next sequence to assign; touched only by the leader (and open).
  SequenceNumber next_sequence_ = 1;
  std::atomic<SequenceNumber> last_sequence_{0};

  // ---- WAL ----
  Mutex wal_mu_;
  std::unique_ptr<wal::WalWriter> wal_ GUARDED_BY(wal_mu_);
  std::uint64_t next_segment_number_ GUARDED_BY(wal_mu_) = 1;
  bool wal_dirty_ GUARDED_BY(wal_mu_) = false;  // appended since the last sync

  // ---- periodic sync thread ----
  Mutex timer_mu_;
  CondVar timer_cv_;
  std::jthread sync_thread_;

  mutable Counters counters_;

  // ---- transactions ----
  // True until the destructor starts; every transaction holds a copy.
  const std::shared_ptr<std::atomic<bool>> open_flag_ = std::make_shared<std::atomic<bool>>(true);
  // Runs a merge folded into the tree, kept (files included) while a
  // transaction that began before their newest write is open: validation
  // reads their sequence numbers, which the tree does not keep. Merges fold
  // runs in sequence order, so the entries are ordered by max_sequence.
  struct MergedRuns {
    SequenceNumber max_sequence;
    std::vector<RunRef> runs;
  };
  // Records a merge of `runs` (newest write max_sequence) before the tree
  // that holds them is installed.
  void remember_merged_runs(std::vector<RunRef> runs, SequenceNumber max_sequence) EXCLUDES(history_mu_);
  // Drops history no open transaction needs. REQUIRES: history_mu_ held.
  void trim_merge_history() REQUIRES(history_mu_);
  mutable Mutex history_mu_;  // a leaf lock
  std::deque<MergedRuns> merge_history_ GUARDED_BY(history_mu_);
  // Every tree entry newer than this is in a merge_history_ run.
  SequenceNumber history_floor_ GUARDED_BY(history_mu_) = 0;
  // Snapshots of the open kSnapshot / kSerializable transactions.
  std::multiset<SequenceNumber> txn_starts_ GUARDED_BY(history_mu_);
  std::atomic<std::uint32_t> active_txns_{0};
  Mutex txn_mu_;  // the id-style API's table
  std::map<TxId, std::shared_ptr<Transaction::State>> txns_ GUARDED_BY(txn_mu_);
  TxId next_txn_id_ GUARDED_BY(txn_mu_) = 1;

  // ---- snapshots ----
  const std::uint64_t instance_id_;  // unique per DatabaseImpl in this process
  const std::shared_ptr<SnapshotRegistry> snapshots_ = std::make_shared<SnapshotRegistry>();
};

}  // namespace lightning
