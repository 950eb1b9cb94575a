// Command line of lightning-bench (CLI11).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "engine.h"
#include "keys.h"
#include "options.h"
#include "workloads.h"

namespace bench {
namespace {

std::string footer() {
  std::string s = "\nWorkloads (default: all, in this order):\n";
  for (const Workload& w : all_workloads()) {
    s += "  " + std::string(w.name) +
         std::string(18 - std::min<std::size_t>(17, w.name.size()), ' ') +
         std::string(w.description) + "\n";
  }
  s += "\nEngines compiled into this binary, and their settings:\n" + engine_settings_help();
  s +=
      "\nEach (engine, workload, repeat) runs in a forked child in a fresh directory under --dir;\n"
      "runs are interleaved (A B C A B C ...) and the median of --repeat runs is reported.\n"
      "Read and update workloads first load N keys (untimed, key order, 1000 per batch)\n"
      "and settle the engine. Every operation's latency is measured with steady_clock.\n"
      "--quick: N=20000, sync-ops=300 (overridden by explicit flags): under a minute.\n";
  return s;
}

[[noreturn]] void usage_error(const CLI::App& app, const std::string& message) {
  std::cerr << "error: " << message << "\n\n" << app.help() << std::flush;
  std::exit(2);
}

}  // namespace

BenchOptions parse_command_line(int argc, char** argv) {
  BenchOptions o;
  const std::vector<std::string> engines = compiled_engines();
  std::vector<std::string> workloads;
  for (const Workload& w : all_workloads()) workloads.emplace_back(w.name);
  o.engines = engines;
  o.workloads = workloads;
  std::string durability = "nosync";

  CLI::App app{"lightning-bench: Lightning DB side by side with RocksDB, LevelDB and LMDB",
               "lightning-bench"};
  app.failure_message(CLI::FailureMessage::help);
  app.footer(footer());
  app.add_option("--engines", o.engines, "Engines to run, comma-separated (default: all compiled)")
      ->delimiter(',')
      ->check(CLI::IsMember(engines));
  app.add_option("--workloads", o.workloads, "Workloads to run, comma-separated (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(workloads));
  app.add_option("--num", o.num, "Keys in the data set (N)")
      ->capture_default_str()
      ->check(CLI::Range(1ull, 1ull << 40));
  app.add_option("--ops", o.ops, "Operations of the read/update/YCSB workloads (default: N)")
      ->check(CLI::Range(1ull, 1ull << 40));
  app.add_option("--sync-ops", o.sync_ops, "Puts of fillsync and fillsync_mt (1 fsync each)")
      ->capture_default_str()
      ->check(CLI::Range(1ull, 1ull << 40));
  app.add_option("--threads", o.threads, "Client threads of fillsync_mt, readrandom_mt and readwhilewriting")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--key-size", o.key_size, "Key size in bytes")
      ->capture_default_str()
      ->check(CLI::Range(4, 1024));
  app.add_option("--value-size", o.value_size, "Value size in bytes (compresses about 2:1)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--seed", o.seed, "Seed of every random choice")->capture_default_str();
  app.add_option("--durability", durability,
                 "sync: every commit fsynced before it returns; nosync: the OS decides "
                 "(fillsync* always sync)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sync", "nosync"}));
  app.add_option("--cache-mb", o.cache_mb,
                 "Page cache of Lightning DB, block cache of RocksDB and LevelDB, in MiB "
                 "(LMDB and lightning-mmap use the OS page cache)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--repeat", o.repeat, "Runs per engine and workload, interleaved; median reported")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  app.add_option("--baseline", o.baseline, "Engine the ratio column divides by")
      ->capture_default_str();
  app.add_option("--dir", o.dir, "Where the temporary databases go (default: system temp dir)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--json", o.json_path, "Write every result as JSON to FILE");
  app.add_option("--plot", o.plot_path, "Write a grouped bar chart of ops/s (SVG) to FILE");
  app.add_option("--markdown", o.markdown_path, "Write the table as Markdown to FILE");
  app.add_flag("--quick", o.quick, "Small run for `make run` (under a minute, all engines)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // --help prints and returns 0; errors print the usage
    std::exit(code == 0 ? 0 : 2);
  }

  o.sync = durability == "sync";
  if (o.quick) {
    if (app.count("--num") == 0) o.num = 20'000;
    if (app.count("--sync-ops") == 0) o.sync_ops = 300;
  }
  if (o.dir.empty()) o.dir = std::filesystem::temp_directory_path().string();
  if (std::find(o.engines.begin(), o.engines.end(), o.baseline) == o.engines.end()) {
    if (app.count("--baseline") > 0) usage_error(app, "--baseline must be one of --engines");
    o.baseline = o.engines.front();
  }
  const std::uint64_t max_id = std::max(o.num + o.op_count(), o.sync_ops);
  if (o.key_size < KeyFormat::min_size(max_id)) {
    usage_error(app, "--key-size " + std::to_string(o.key_size) + " is too small for " +
                         std::to_string(max_id) + " keys (need " +
                         std::to_string(KeyFormat::min_size(max_id)) + ")");
  }
  for (int i = 0; i < argc; ++i) o.command_line += (i > 0 ? " " : "") + std::string(argv[i]);
  return o;
}

}  // namespace bench
