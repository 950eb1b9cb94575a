#include <string>

#include "lightning/config.h"

namespace lightning {

namespace {
Status bad_field(const char* field, const std::string& why) {
  return Status::invalid_argument(std::string("Config::") + field + " " + why);
}
}  // namespace

Status Config::validate() const {
  switch (wal_sync_mode) {
    case WalSyncMode::kSync:
    case WalSyncMode::kPeriodic:
    case WalSyncMode::kNoSync:
      break;
    default:
      return bad_field("wal_sync_mode", "is not one of kSync, kPeriodic, kNoSync (got " +
                                            std::to_string(static_cast<int>(wal_sync_mode)) + ")");
  }
  if (wal_sync_mode == WalSyncMode::kPeriodic &&
      (wal_sync_interval.count() < 1 || wal_sync_interval.count() > 60'000)) {
    return bad_field("wal_sync_interval", "must be 1 ms .. 60000 ms in kPeriodic mode (got " +
                                              std::to_string(wal_sync_interval.count()) + " ms)");
  }
  if (write_batch_size < 1 || write_batch_size > 65536) {
    return bad_field("write_batch_size",
                     "must be 1 .. 65536 batches per commit group (got " +
                         std::to_string(write_batch_size) + ")");
  }
  if (wal_segment_size < (64u << 10) || wal_segment_size > (4ull << 30)) {
    return bad_field("wal_segment_size", "must be 64 KiB .. 4 GiB (got " +
                                             std::to_string(wal_segment_size) + " bytes)");
  }
  if (memtable_size < (64u << 10) || memtable_size > (4ull << 30)) {
    return bad_field("memtable_size", "must be 64 KiB .. 4 GiB (got " + std::to_string(memtable_size) +
                                          " bytes)");
  }
  if (cache_size > (1ull << 40)) {
    return bad_field("cache_size", "must be at most 1 TiB (got " + std::to_string(cache_size) + " bytes)");
  }
  if (page_size < 4096 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return bad_field("page_size", "must be a power of two from 4096 to 65536 (got " +
                                      std::to_string(page_size) + ")");
  }
  if (bloom_bits_per_key > 64) {
    return bad_field("bloom_bits_per_key", "must be 0 .. 64 (got " + std::to_string(bloom_bits_per_key) + ")");
  }
  if (!(merge_ratio >= 0.01 && merge_ratio <= 100)) {
    return bad_field("merge_ratio", "must be 0.01 .. 100 (got " + std::to_string(merge_ratio) + ")");
  }
  if (max_runs < 1 || max_runs > 64) {
    return bad_field("max_runs", "must be 1 .. 64 (got " + std::to_string(max_runs) + ")");
  }
  if (slowdown_runs != 0 && (slowdown_runs <= max_runs || slowdown_runs > 256)) {
    return bad_field("slowdown_runs", "must be 0 (default) or max_runs+1 .. 256 (got " +
                                          std::to_string(slowdown_runs) + ", max_runs " +
                                          std::to_string(max_runs) + ")");
  }
  if (stop_runs != 0 && (stop_runs < effective_slowdown_runs() || stop_runs > 256)) {
    return bad_field("stop_runs", "must be 0 (default) or slowdown_runs .. 256 (got " +
                                      std::to_string(stop_runs) + ", slowdown_runs " +
                                      std::to_string(effective_slowdown_runs()) + ")");
  }
  if (slowdown_write_rate > (16ull << 30)) {
    return bad_field("slowdown_write_rate", "must be at most 16 GiB/s (got " +
                                                std::to_string(slowdown_write_rate) + ")");
  }
  if (max_active_transactions < 1 || max_active_transactions > 1'000'000) {
    return bad_field("max_active_transactions", "must be 1 .. 1000000 (got " +
                                                    std::to_string(max_active_transactions) + ")");
  }
  if (max_transaction_writes < 1 || max_transaction_writes > (1u << 24)) {
    return bad_field("max_transaction_writes", "must be 1 .. 16777216 (got " +
                                                   std::to_string(max_transaction_writes) + ")");
  }
  if (error_if_exists && !create_if_missing) {
    return bad_field("error_if_exists",
                     "is set while create_if_missing is not: the open could never succeed");
  }
  return Status::ok();
}

Config Config::balanced() { return Config{}; }

Config Config::read_optimized() {
  Config c;
  c.cache_size = 1ull << 30;
  c.page_size = 16384;
  return c;
}

Config Config::write_optimized() {
  Config c;
  c.wal_sync_mode = WalSyncMode::kPeriodic;
  c.wal_sync_interval = std::chrono::milliseconds(100);
  c.write_batch_size = 4096;
  c.wal_segment_size = 256ull << 20;
  c.memtable_size = 256ull << 20;
  return c;
}

Config Config::low_memory() {
  Config c;
  c.write_batch_size = 64;
  c.wal_segment_size = 4ull << 20;
  c.memtable_size = 4ull << 20;
  c.cache_size = 8ull << 20;
  return c;
}

Config Config::max_durability() {
  Config c;
  c.wal_sync_mode = WalSyncMode::kSync;
  c.paranoid_checks = true;
  c.write_batch_size = 256;
  return c;
}

}  // namespace lightning
