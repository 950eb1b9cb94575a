// The workloads and the code that runs one of them on one engine.
//
// run_workload() is what a forked child executes: open the engine in an
// empty directory, load the data set when the workload needs one (untimed),
// run the timed phase on its client threads, settle, and measure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "options.h"

namespace bench {

enum class Kind {
  kFillSeq,
  kFillRandom,
  kFillBatch,
  kFillSync,
  kFillSyncMt,
  kOverwrite,
  kReadRandom,
  kReadRandomMt,
  kReadMissing,
  kReadWhileWriting,
  kSeekRandom,
  kScan,
  kDeleteRandom,
  kOltp,
  kOltpMt,
  // The YCSB kinds stay last: Context tests kind >= kYcsbA.
  kYcsbA,
  kYcsbB,
  kYcsbC,
  kYcsbD,
  kYcsbE,
  kYcsbF,
};

struct Workload {
  std::string_view name;
  Kind kind;
  bool needs_load;    // loads num keys (untimed) before the timed phase
  bool multi_thread;  // runs --threads client threads (else one)
  std::string_view description;
};

std::span<const Workload> all_workloads();
const Workload* find_workload(std::string_view name);

// Operations the timed phase performs (what ops/s counts).
std::uint64_t timed_ops(const Workload& w, const BenchOptions& o);
int client_threads(const Workload& w, const BenchOptions& o);
bool uses_sync(const Workload& w, const BenchOptions& o);

// One measured run (the figures of one engine x workload x repeat).
struct RunResult {
  std::string engine, workload;
  int repeat = 0;
  int threads = 1;
  std::string durability;  // "sync" or "nosync"
  std::uint64_t ops = 0;
  double seconds = 0, ops_per_sec = 0, mb_per_sec = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
  std::uint64_t disk_bytes_loaded = 0;   // right after the data set was written
  std::uint64_t disk_bytes_settled = 0;  // after Engine::settle()
  std::uint64_t peak_rss_bytes = 0;
  std::uint64_t user_bytes_written = 0;  // key+value of puts, keys of removes (timed phase)
  std::uint64_t engine_bytes_written = 0;
  std::optional<double> write_amp;  // engine / user bytes; none without writes
  std::string write_amp_source;
  std::uint64_t background_writes = 0;  // readwhilewriting: puts of the writer thread
  std::uint64_t aborts = 0;             // oltp: commits refused (conflicts), retried
  std::string counters;                 // Engine::counters() after the timed phase
  std::string error;                    // empty when the run succeeded
  bool unsupported = false;  // the engine cannot run the workload (error says why): not a failure
};

// Runs w on engine `engine` in the empty directory dir. Throws BenchError.
RunResult run_workload(const std::string& engine, const Workload& w, const BenchOptions& o,
                       const std::string& dir, int repeat);

}  // namespace bench
