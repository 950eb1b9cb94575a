// Report: turns the runs into the terminal table, --json, --markdown and
// (plot.h) --plot. Runs of one workload and engine are reduced to their
// median run by ops/s; the ratio column divides by the baseline engine's
// median for the same workload.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "options.h"
#include "system.h"
#include "workloads.h"

namespace bench {

nlohmann::json result_to_json(const RunResult& r);
RunResult result_from_json(const nlohmann::json& j);  // throws on a missing field

// The median of the repeats of one workload on one engine.
struct Summary {
  std::string workload, engine;
  RunResult median;                 // the run with the median ops/s
  std::vector<double> ops_per_sec;  // every successful repeat, in run order
  std::optional<double> ratio;      // median ops/s / baseline's median ops/s
  std::string error;                // set when every repeat failed
};

class Report {
 public:
  Report(const BenchOptions& options, Machine machine);

  void add(RunResult run);
  bool any_failed() const { return failed_ > 0; }

  // The table, one workload at a time, in the order of the options.
  void print_header(std::FILE* out) const;
  void print_workload(std::FILE* out, const std::string& workload) const;
  void print_footer(std::FILE* out) const;

  std::vector<Summary> summaries() const;
  nlohmann::json to_json() const;
  std::string to_markdown() const;

 private:
  Summary summarize(const std::string& workload, const std::string& engine) const;
  std::vector<std::string> footer_lines() const;

  const BenchOptions& options_;
  Machine machine_;
  std::vector<RunResult> runs_;
  int failed_ = 0;
};

}  // namespace bench
