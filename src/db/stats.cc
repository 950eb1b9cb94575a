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
  return os.str();
}

}  // namespace lightning
