// DatabaseImpl: the engine behind the Database interface: group-commit WAL,
// memtables, and the copy-on-write B+tree page store (LSM run files come
// later).
//
// Threads:
//  - user threads call the public methods; writers queue in writers_ and the
//    writer at the front (the leader) commits a whole group: one WAL append,
//    one sync (Sync mode), then inserts the group into the active memtable
//    and publishes the new last sequence; when the memtable is full the
//    leader freezes it (memtable switch) and wakes the flush thread;
//  - the flush thread merges the frozen memtable into the B+tree, publishes
//    the new tree with a meta-slot commit, installs a new Version and deletes
//    the WAL segments the tree now covers;
//  - in Periodic mode a sync thread fsyncs the WAL every wal_sync_interval.
//
// Lock order: checkpoint_mu_ -> version_mu_ -> current_mu_ (innermost);
// the leader releases mu_ before it takes version_mu_ or wal_mu_; mu_ and
// wal_mu_ are never held together.
// Invariants:
//  1. Only the leader inserts into the active memtable (the skiplist's
//     single writer) and only the leader switches memtables.
//  2. last_sequence_ is stored (release) only after every entry up to it is
//     in the current version's memtables and its WAL record was appended (and
//     synced in Sync mode); readers load the version first, then
//     last_sequence_ (acquire).
//  3. Once bg_error_ is set it stays set: no write is accepted afterwards.
//  4. WAL segments below the durable meta slot's wal_floor hold only writes
//     that are in the tree; they are deleted after the commit is durable.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "db/dbformat.h"
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
  using Database::get;
  using Database::batch_get;

 private:
  struct Writer;
  struct Counters {
    std::atomic<std::uint64_t> puts{0}, removes{0}, gets{0}, writes{0}, user_bytes{0};
    std::atomic<std::uint64_t> wal_bytes{0}, wal_syncs{0}, wal_segments{0};
    std::atomic<std::uint64_t> groups{0}, max_group{0};
    std::atomic<std::uint64_t> records_replayed{0}, bytes_dropped{0};
    std::atomic<std::uint64_t> flushes{0}, flush_micros{0}, stalls{0}, stall_micros{0};
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
  Status commit(const WriteBatch* batch) EXCLUDES(mu_);
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
                      std::uint64_t wal_floor, bool drop_imm) REQUIRES(checkpoint_mu_);
  // Commits (tree root, sequence, floor, run list) and installs a version
  // with that tree (reusing `tree` when the root is unchanged) and runs.
  Status publish(const pagestore::TreeRoot& root, std::shared_ptr<const TreeVersion> tree,
                 SequenceNumber last_sequence, std::uint64_t wal_floor, bool drop_imm,
                 const std::vector<RunRef>* runs) REQUIRES(checkpoint_mu_);
  // Writes the frozen memtable of v to a new run file (synced); returns it.
  Result<RunRef> write_run(const MemTable& imm) REQUIRES(checkpoint_mu_);
  Result<std::shared_ptr<const run::RunReader>> open_run(std::uint64_t number);
  // Folds every run of the current version into the tree (no-op without runs).
  Status merge_runs_locked() REQUIRES(checkpoint_mu_);
  bool merge_due(const Version& v) const;
  Status delete_obsolete_segments(std::uint64_t floor);
  std::shared_ptr<const Version> current_version() const EXCLUDES(current_mu_) {
    MutexLock l(current_mu_);
    return current_;
  }
  void install_version(std::shared_ptr<const Version> v) EXCLUDES(current_mu_) {
    MutexLock l(current_mu_);
    current_ = std::move(v);
  }
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
  Mutex version_mu_;  // serializes version installs; guards the flush hand-off
  // (a frozen memtable in the current version is the flush thread's work)
  CondVar version_cv_;  // a flush finished / an imm appeared / stop
  bool stopping_ GUARDED_BY(version_mu_) = false;
  Status flush_error_ GUARDED_BY(version_mu_);
  std::jthread flush_thread_;
  // Serializes changes to the tree (a flush's merge + commit, compact()) with
  // checkpoint()'s copy of the data file.
  Mutex checkpoint_mu_;

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

  // ---- snapshots ----
  const std::uint64_t instance_id_;  // unique per DatabaseImpl in this process
  const std::shared_ptr<SnapshotRegistry> snapshots_ = std::make_shared<SnapshotRegistry>();
};

}  // namespace lightning
