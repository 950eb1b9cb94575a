// Stats: counters since the database was opened (not persisted).
#pragma once

#include <cstdint>
#include <string>

namespace lightning {

struct Stats {
  // User operations.
  std::uint64_t puts = 0;      // keys put (batch entries included)
  std::uint64_t removes = 0;   // keys removed (batch entries included)
  std::uint64_t gets = 0;      // point lookups (get, contains, batch_get keys)
  std::uint64_t writes = 0;    // write batches committed (put/remove count as one each)
  std::uint64_t user_bytes_written = 0;  // key + value bytes of committed writes

  // Write-ahead log.
  std::uint64_t wal_bytes_written = 0;  // framed bytes appended to WAL segments
  std::uint64_t wal_syncs = 0;          // fsyncs of WAL segments
  std::uint64_t wal_segments_created = 0;

  // Group commit: each group is one WAL append (and one sync in Sync mode).
  std::uint64_t commit_groups = 0;
  std::uint64_t max_commit_group_size = 0;  // batches in the largest group

  // Recovery (the last open).
  std::uint64_t wal_records_replayed = 0;
  std::uint64_t wal_bytes_dropped_at_recovery = 0;  // torn tail + (non-paranoid) damage

  // Memtables.
  std::uint64_t memtable_bytes = 0;  // arena bytes of the active + frozen memtables
  std::uint64_t last_sequence = 0;   // sequence number of the newest visible write
  // Backpressure (Config::slowdown_runs, stop_runs). A stall: a memtable
  // switch that waited for a flush (the previous frozen memtable) or for a
  // merge (stop_runs runs); the writes queued behind it waited as long.
  std::uint64_t write_stalls = 0;
  std::uint64_t write_stall_micros = 0;
  std::uint64_t max_write_stall_micros = 0;  // the longest single stall
  // Commit groups delayed because slowdown_runs runs existed.
  std::uint64_t write_slowdowns = 0;
  std::uint64_t write_slowdown_micros = 0;

  // Page store (B+tree).
  std::uint64_t flushes = 0;             // memtables written to run files
  std::uint64_t flush_micros = 0;        // time spent writing runs and committing
  std::uint64_t data_bytes_written = 0;  // pages + meta slots written to the data file
  std::uint64_t data_file_bytes = 0;     // size of the data file (high-water mark)
  std::uint64_t data_free_bytes = 0;     // reusable space inside it
  std::uint64_t tree_height = 0;
  std::uint64_t tree_entries = 0;
  std::uint64_t page_size = 0;
  std::uint64_t tree_epoch = 0;          // meta-slot commits so far
  std::uint64_t wal_segments_deleted = 0;

  // LSM runs.
  std::uint64_t runs = 0;                   // live run files
  std::uint64_t run_bytes = 0;              // their total size
  std::uint64_t run_bytes_written = 0;      // bytes of run files written by flushes
  std::uint64_t merges = 0;                 // merges of runs into the tree
  std::uint64_t merge_micros = 0;
  std::uint64_t runs_probed = 0;            // point lookups that read a run's data block
  std::uint64_t bloom_useful = 0;           // lookups a bloom filter answered "absent"
  std::uint64_t bloom_false_positives = 0;  // filter said "maybe", the key was absent

  // Snapshots (Database::snapshot()).
  std::uint64_t snapshots = 0;                // live snapshots
  std::uint64_t oldest_snapshot_micros = 0;   // age of the oldest one
  // Memtable and run-file bytes that live snapshots keep and the current
  // state no longer uses, including run files merged into the tree that are
  // kept for open transactions' validation (B+tree pages they keep from
  // reuse are not counted).
  std::uint64_t snapshot_pinned_bytes = 0;

  // Transactions.
  std::uint64_t active_transactions = 0;        // open now (both API styles)
  std::uint64_t transactions_committed = 0;     // commit() returned OK
  std::uint64_t transaction_conflicts = 0;      // commit() returned Conflict
  std::uint64_t transactions_rolled_back = 0;   // rollback() or destroyed open

  // Page cache.
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t cache_usage_bytes = 0;
  std::uint64_t cache_capacity_bytes = 0;
  // Read-ahead hints issued by iterators (Config::prefetch_enabled): requests
  // (runs of adjacent pages) and the bytes they cover.
  std::uint64_t prefetch_requests = 0;
  std::uint64_t prefetch_bytes = 0;
  bool mmap_reads = false;  // pages are read through a memory mapping (Config::use_mmap)

  // Every byte the engine wrote: WAL, run files (flushes) and the data file
  // (merges, commits).
  std::uint64_t bytes_written() const { return wal_bytes_written + run_bytes_written + data_bytes_written; }
  // Write amplification: bytes_written() per byte of user data written (0
  // before any write).
  double write_amplification() const {
    return user_bytes_written == 0 ? 0.0
                                   : static_cast<double>(bytes_written()) / static_cast<double>(user_bytes_written);
  }

  // Average batches per group (0 when no group ran).
  double average_commit_group_size() const {
    return commit_groups == 0 ? 0.0 : static_cast<double>(writes) / static_cast<double>(commit_groups);
  }
  // Multi-line "name value" text, for tools and logs.
  std::string to_string() const;
};

}  // namespace lightning
