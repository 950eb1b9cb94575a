// DatabaseImpl: the engine behind the Database interface (this version: WAL +
// one memtable; the page store and LSM runs come later).
//
// Threads:
//  - user threads call the public methods; writers queue in writers_ and the
//    writer at the front (the leader) commits a whole group: one WAL append,
//    one sync (Sync mode), then inserts the group into the memtable and
//    publishes the new last sequence;
//  - in Periodic mode a sync thread fsyncs the WAL every wal_sync_interval.
//
// Lock order: mu_ and wal_mu_ are never held together.
// Invariants:
//  1. Only the leader inserts into mem_ (the skiplist's single writer).
//  2. last_sequence_ is stored (release) only after every entry up to it is
//     in mem_ and its WAL record was appended (and synced in Sync mode);
//     readers take it (acquire) as their snapshot.
//  3. Once bg_error_ is set it stays set: no write is accepted afterwards.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "db/dbformat.h"
#include "lightning/database.h"
#include "lightning/file_system.h"
#include "memtable/memtable.h"
#include "util/thread_annotations.h"
#include "wal/wal_writer.h"

namespace lightning {

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

 private:
  struct Writer;
  struct Counters {
    std::atomic<std::uint64_t> puts{0}, removes{0}, gets{0}, writes{0}, user_bytes{0};
    std::atomic<std::uint64_t> wal_bytes{0}, wal_syncs{0}, wal_segments{0};
    std::atomic<std::uint64_t> groups{0}, max_group{0};
    std::atomic<std::uint64_t> records_replayed{0}, bytes_dropped{0};
  };

  DatabaseImpl(std::string dir, const Config& config, std::shared_ptr<FileSystem> fs);

  // ---- open / recovery (recovery.cc) ----
  Status open_directory();
  Status recover();
  Status replay_segments(const std::vector<std::uint64_t>& segments);
  Status set_aside_damaged(const std::vector<std::uint64_t>& segments, std::size_t damaged_index,
                           std::uint64_t good_end);
  Status truncate_segment(std::uint64_t number, std::uint64_t good_end);
  Status sync_segment(std::uint64_t number);

  // ---- write path ----
  // Commits batch through the group-commit queue.
  Status commit(const WriteBatch& batch) EXCLUDES(mu_);
  // Leader only: appends the group to the WAL, syncs per mode, rotates.
  Status write_group_to_wal(const std::vector<Writer*>& group, SequenceNumber first_seq)
      EXCLUDES(mu_, wal_mu_);
  Status start_new_segment() REQUIRES(wal_mu_);
  Status sync_wal_locked() REQUIRES(wal_mu_);
  void record_background_error(const Status& s) EXCLUDES(mu_);
  Status check_writable() EXCLUDES(mu_);
  void periodic_sync_loop(std::stop_token stop);

  // ---- constant after open ----
  const std::string dir_;
  const Config config_;
  const std::shared_ptr<FileSystem> fs_;
  std::unique_ptr<FileLock> lock_;
  std::shared_ptr<MemTable> mem_;  // never replaced in this version

  // ---- commit queue ----
  mutable Mutex mu_;
  std::deque<Writer*> writers_ GUARDED_BY(mu_);
  Status bg_error_ GUARDED_BY(mu_);
  std::atomic<bool> has_bg_error_{false};  // fast-path mirror of !bg_error_.is_ok()
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
};

}  // namespace lightning
