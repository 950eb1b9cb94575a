// A grouped bar chart of ops/s (log scale) per workload per engine, as a
// self-contained SVG document.
#pragma once

#include <string>
#include <vector>

#include "options.h"
#include "report.h"

namespace bench {

std::string render_svg(const std::vector<Summary>& summaries, const BenchOptions& options);

}  // namespace bench
