// BenchOptions: everything the command line sets (cli.cc parses it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct BenchOptions {
  std::vector<std::string> engines;    // in run order
  std::vector<std::string> workloads;  // in run order
  std::uint64_t num = 1'000'000;       // keys in the data set
  std::uint64_t ops = 0;               // operations of read/update workloads; 0 = num
  std::uint64_t sync_ops = 20'000;     // puts of fillsync and fillsync_mt
  int threads = 4;                     // client threads of fillsync_mt, readrandom_mt and readwhilewriting
  std::size_t key_size = 16;
  std::size_t value_size = 100;
  std::uint64_t seed = 301;
  bool sync = false;  // --durability sync|nosync (fillsync* always sync)
  std::size_t cache_mb = 128;
  int repeat = 1;
  std::string baseline = "lightning";
  std::string dir;  // where temporary databases go
  std::string json_path, plot_path, markdown_path;
  bool quick = false;
  std::string command_line;  // as typed, for the reports

  std::uint64_t op_count() const { return ops == 0 ? num : ops; }
};

// Parses argv. On --help prints usage and exits 0; on a bad flag prints the
// error and the usage to stderr and exits 2.
BenchOptions parse_command_line(int argc, char** argv);

}  // namespace bench
