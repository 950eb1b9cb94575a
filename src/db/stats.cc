#include <sstream>

#include "lightning/stats.h"

namespace lightning {

std::string Stats::to_string() const {
  std::ostringstream os;
  auto row = [&](const char* name, auto v) { os << name << ' ' << v << '\n'; };
  row("puts", puts);
  row("removes", removes);
  row("gets", gets);
  row("writes", writes);
  row("user_bytes_written", user_bytes_written);
  row("wal_bytes_written", wal_bytes_written);
  row("wal_syncs", wal_syncs);
  row("wal_segments_created", wal_segments_created);
  row("commit_groups", commit_groups);
  row("max_commit_group_size", max_commit_group_size);
  row("average_commit_group_size", average_commit_group_size());
  row("wal_records_replayed", wal_records_replayed);
  row("wal_bytes_dropped_at_recovery", wal_bytes_dropped_at_recovery);
  row("memtable_bytes", memtable_bytes);
  row("last_sequence", last_sequence);
  row("write_stalls", write_stalls);
  row("write_stall_micros", write_stall_micros);
  row("max_write_stall_micros", max_write_stall_micros);
  row("write_slowdowns", write_slowdowns);
  row("write_slowdown_micros", write_slowdown_micros);
  row("flushes", flushes);
  row("flush_micros", flush_micros);
  row("data_bytes_written", data_bytes_written);
  row("data_file_bytes", data_file_bytes);
  row("data_free_bytes", data_free_bytes);
  row("tree_height", tree_height);
  row("tree_entries", tree_entries);
  row("page_size", page_size);
  row("tree_epoch", tree_epoch);
  row("wal_segments_deleted", wal_segments_deleted);
  row("runs", runs);
  row("run_bytes", run_bytes);
  row("run_bytes_written", run_bytes_written);
  row("merges", merges);
  row("merge_micros", merge_micros);
  row("runs_probed", runs_probed);
  row("bloom_useful", bloom_useful);
  row("bloom_false_positives", bloom_false_positives);
  row("snapshots", snapshots);
  row("oldest_snapshot_micros", oldest_snapshot_micros);
  row("snapshot_pinned_bytes", snapshot_pinned_bytes);
  row("active_transactions", active_transactions);
  row("transactions_committed", transactions_committed);
  row("transaction_conflicts", transaction_conflicts);
  row("transactions_rolled_back", transactions_rolled_back);
  row("cache_hits", cache_hits);
  row("cache_misses", cache_misses);
  row("cache_usage_bytes", cache_usage_bytes);
  row("cache_capacity_bytes", cache_capacity_bytes);
  row("prefetch_requests", prefetch_requests);
  row("prefetch_bytes", prefetch_bytes);
  row("mmap_reads", mmap_reads ? 1 : 0);
  row("write_amplification", write_amplification());
  return os.str();
}

}  // namespace lightning
