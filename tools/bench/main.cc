// lightning-bench: runs the same workloads on Lightning DB and its peers
// (RocksDB, LevelDB, LMDB) in one run on one machine and prints ratios.
// See --help and docs/benchmarks.md.
#include <cstdio>
#include <fstream>

#include "options.h"
#include "plot.h"
#include "report.h"
#include "runner.h"
#include "system.h"
#include "workloads.h"

namespace {

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::fprintf(stderr, "error: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::BenchOptions o = bench::parse_command_line(argc, argv);
  bench::Report report(o, bench::describe_machine(o.dir));
  report.print_header(stdout);

  // Interleaved: every engine once per repeat, so drift hits all alike.
  for (const std::string& name : o.workloads) {
    const bench::Workload& w = *bench::find_workload(name);
    for (int r = 0; r < o.repeat; ++r) {
      for (const std::string& engine : o.engines) {
        bench::RunResult run = bench::run_in_child(engine, w, o, r);
        if (!run.error.empty() && !run.unsupported) {
          std::fprintf(stderr, "%s %s (repeat %d) failed: %s\n", engine.c_str(), name.c_str(),
                       r + 1, run.error.c_str());
        }
        report.add(std::move(run));
      }
    }
    report.print_workload(stdout, name);
  }
  report.print_footer(stdout);

  bool ok = !report.any_failed();
  if (!o.json_path.empty()) ok &= write_file(o.json_path, report.to_json().dump(2) + "\n");
  if (!o.plot_path.empty()) ok &= write_file(o.plot_path, bench::render_svg(report.summaries(), o));
  if (!o.markdown_path.empty()) ok &= write_file(o.markdown_path, report.to_markdown());
  return ok ? 0 : 1;
}
