// What the tool needs from the operating system: sizes, memory, I/O counters,
// temporary directories and a description of the machine.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

// Sum of the apparent sizes (st_size) of the regular files under dir.
std::uint64_t directory_bytes(const std::string& dir);
// Peak resident set size of this process in bytes (getrusage ru_maxrss).
std::uint64_t peak_rss_bytes();
// write_bytes of /proc/self/io: bytes this process caused to be sent to the
// storage layer (pages dirtied), all threads. 0 if unavailable.
std::uint64_t proc_write_bytes();

// A new empty directory base/lightning-bench-XXXXXX; throws BenchError.
std::string make_temp_dir(const std::string& base);
void remove_tree(const std::string& dir);

struct Machine {
  unsigned cores = 0;
  std::uint64_t ram_bytes = 0;
  std::string cpu;       // /proc/cpuinfo "model name"
  std::string kernel;    // uname -sr
  std::string fs_type;   // file system of the benchmark directory
  std::string date_utc;  // ISO 8601
};
Machine describe_machine(const std::string& bench_dir);

}  // namespace bench
