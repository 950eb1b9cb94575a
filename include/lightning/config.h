// Config: how a database is opened. Every field here is read by the engine;
// Database::open validates them all and rejects nonsense with InvalidArgument
// naming the field.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "lightning/status.h"

namespace lightning {

class FileSystem;

// Hard limits, checked on every write.
inline constexpr std::size_t kMaxKeySize = 64 * 1024;                // bytes, inclusive
inline constexpr std::size_t kMaxValueSize = 256 * 1024 * 1024;     // bytes, inclusive

enum class WalSyncMode : std::uint8_t {
  // A write returns only after the WAL bytes of its commit group are fsynced.
  // A crash loses no acknowledged write. The default.
  kSync = 0,
  // Writes return after the WAL append; a timer thread fsyncs every
  // Config::wal_sync_interval. A crash loses at most that window (always a
  // suffix of the acknowledged writes, never a hole).
  kPeriodic = 1,
  // The operating system decides when bytes reach the disk. A process crash
  // loses nothing; a machine crash loses an unbounded suffix.
  kNoSync = 2,
};

struct Config {
  // ---- Behaviour ----
  // Create the database directory and files if missing.
  bool create_if_missing = true;
  // Fail with InvalidArgument if the database already exists.
  bool error_if_exists = false;
  // On open, a damaged WAL record that is followed by intact records (damage in
  // the middle, not a torn tail) fails the open with Corruption when true.
  // When false, recovery keeps the intact prefix before the damage, drops the
  // rest (moving the damaged files aside as *.corrupt) and reports the dropped
  // bytes in Stats::wal_bytes_dropped_at_recovery.
  bool paranoid_checks = true;
  // Storage to use; null means default_file_system() (POSIX).
  std::shared_ptr<FileSystem> file_system;

  // ---- Durability and performance ----
  WalSyncMode wal_sync_mode = WalSyncMode::kSync;
  // Period of the sync timer in kPeriodic mode (1 ms .. 60 s). Read only then.
  std::chrono::milliseconds wal_sync_interval{100};
  // Maximum number of write batches (one WAL record each) that one commit
  // group may carry: the leader appends and syncs them together. 1 .. 65536.
  std::uint32_t write_batch_size = 1024;
  // A WAL segment is closed and a new one started once it reaches this size.
  // 64 KiB .. 4 GiB.
  std::uint64_t wal_segment_size = 64ull << 20;
  // Bytes of write buffer: once the active memtable reaches this size it is
  // frozen and flushed into the B+tree in the background while writers go on
  // into a new one. 64 KiB .. 4 GiB.
  std::uint64_t memtable_size = 64ull << 20;
  // Bytes of B+tree pages kept in memory by the page cache (64 shards).
  // 0 .. 1 TiB; 0 disables caching (every read goes to the file).
  std::uint64_t cache_size = 128ull << 20;
  // B+tree page size for a NEW database: a power of two, 4 KiB .. 64 KiB.
  // An existing database keeps the page size it was created with
  // (Stats::page_size reports it).
  std::uint32_t page_size = 4096;
  // Read B+tree pages straight from a read-only memory mapping of the data
  // file instead of copying them into the page cache (the way LMDB reads).
  // Point reads then take no lock and copy nothing; the operating system's
  // page cache holds the pages (they count in the process's resident memory
  // as shared file pages, not against cache_size). Every page's checksum is
  // still verified, on its first read through the mapping and after it is
  // rewritten. Trade-off: a media error while the kernel pages a mapped page
  // in raises SIGBUS (the process dies) instead of returning an IOError.
  // Requires a file system whose map_readonly is supported (the POSIX one);
  // otherwise open fails with NotSupported.
  bool use_mmap = false;
  // Iterators that move through consecutive leaves (after four leaf
  // boundaries in a row in one direction) ask the operating system to read
  // the next leaves ahead (posix_fadvise / madvise WILLNEED; a window of 8
  // leaves growing to 32, skipping leaves already in the page cache).
  // Stats::prefetch_requests counts them.
  bool prefetch_enabled = true;

  // ---- LSM runs (docs/architecture.md, "Flush and merge") ----
  // A full memtable is flushed to a sorted run file (on the flush thread);
  // runs are merged into the B+tree on the merge thread when their total
  // size reaches merge_ratio times the tree's size, or when there are
  // max_runs of them. Flushes continue while a merge runs, so runs may
  // outnumber max_runs until it finishes; the backpressure fields below
  // bound them.
  // Bloom filter bits per key in run files; 0 = no filter. 0 .. 64.
  std::uint32_t bloom_bits_per_key = 10;
  // 0.01 .. 100. Larger: fewer, bigger merges (lower write amplification,
  // more runs to probe per read).
  double merge_ratio = 2.0;
  // 1 .. 64. 1 starts a merge after every flush.
  std::uint32_t max_runs = 24;
  // Backpressure (Stats::write_slowdowns, write_stalls). While at least
  // slowdown_runs runs exist, each commit group is delayed so that writes
  // are admitted at about slowdown_write_rate bytes per second (the merge
  // gets the machine); at stop_runs runs the next memtable switch waits
  // until the merge in progress finishes. 0 picks the default:
  // slowdown_runs = max_runs * 3 / 2, stop_runs = max_runs * 2. Set
  // explicitly: max_runs < slowdown_runs <= stop_runs <= 256.
  std::uint32_t slowdown_runs = 0;
  std::uint32_t stop_runs = 0;
  // Bytes per second admitted during a slowdown; 0 disables the slowdown
  // stage (writes then only stop). At most 16 GiB/s.
  std::uint64_t slowdown_write_rate = 16ull << 20;
  // The effective triggers (the defaults above resolved).
  std::uint32_t effective_slowdown_runs() const {
    if (slowdown_runs != 0) return slowdown_runs;
    return max_runs * 3 / 2 > max_runs ? max_runs * 3 / 2 : max_runs + 1;
  }
  std::uint32_t effective_stop_runs() const {
    if (stop_runs != 0) return stop_runs;
    return max_runs * 2 > effective_slowdown_runs() ? max_runs * 2 : effective_slowdown_runs();
  }

  // ---- Transactions (docs/transactions.md) ----
  // Open transactions at most (RAII and id style together); one more is
  // Busy. 1 .. 1,000,000.
  std::uint32_t max_active_transactions = 1024;
  // Keys one transaction may write; one more is InvalidArgument. 1 .. 2^24.
  std::uint32_t max_transaction_writes = 1u << 20;

  // Checks every field; InvalidArgument naming the first bad one.
  Status validate() const;

  // ---- Presets ----
  // The defaults: Sync durability, 1024-batch groups, 64 MiB segments.
  static Config balanced();
  // A 1 GiB page cache and 16 KiB pages (fewer, wider inner levels).
  static Config read_optimized();
  // Periodic sync every 100 ms (bounded loss window), 4096-batch groups,
  // 256 MiB segments, 256 MiB memtables (fewer, larger flushes).
  static Config write_optimized();
  // Small commit groups (64), 4 MiB WAL segments, 4 MiB memtables, 8 MiB
  // page cache.
  static Config low_memory();
  // Sync mode, paranoid recovery, 256-batch groups (shorter tail latency for
  // the first writer of a group).
  static Config max_durability();
};

}  // namespace lightning
