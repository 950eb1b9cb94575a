#include "plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace bench {
namespace {

constexpr double kLeft = 80, kRight = 20, kTop = 70, kBottom = 110, kHeight = 360;
constexpr double kBar = 12, kGroupPad = 18;

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string color_of(const std::string& engine, std::size_t index) {
  static const std::map<std::string, std::string> known = {{"lightning", "#e8a317"},
                                                           {"rocksdb", "#4e79a7"},
                                                           {"leveldb", "#59a14f"},
                                                           {"lmdb", "#e15759"}};
  if (auto it = known.find(engine); it != known.end()) return it->second;
  static const char* spare[] = {"#76b7b2", "#b07aa1", "#9c755f", "#bab0ab"};
  return spare[index % 4];
}

std::string decade_label(double v) {
  static const char* suffix[] = {"", "k", "M", "G", "T"};
  int e = static_cast<int>(std::lround(std::log10(v)));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%d%s", e % 3 == 0 ? 1 : (e % 3 == 1 ? 10 : 100),
                suffix[std::min(4, e / 3)]);
  return buf;
}

}  // namespace

std::string render_svg(const std::vector<Summary>& summaries, const BenchOptions& o) {
  const auto& engines = o.engines;
  std::vector<std::string> groups;
  double lo_value = 0, hi_value = 0;
  for (const Summary& s : summaries) {
    if (!s.error.empty() || s.median.ops_per_sec <= 0) continue;
    if (std::find(groups.begin(), groups.end(), s.workload) == groups.end())
      groups.push_back(s.workload);
    double v = s.median.ops_per_sec;
    lo_value = lo_value == 0 ? v : std::min(lo_value, v);
    hi_value = std::max(hi_value, v);
  }
  if (groups.empty()) lo_value = hi_value = 1;
  const double lo = std::pow(10.0, std::floor(std::log10(lo_value)));
  double hi = std::pow(10.0, std::ceil(std::log10(hi_value)));
  if (hi <= lo) hi = lo * 10;
  const double group_width = static_cast<double>(engines.size()) * kBar + kGroupPad;
  const double width =
      std::max(640.0, kLeft + static_cast<double>(groups.size()) * group_width + kRight);
  const double height = kTop + kHeight + kBottom;
  auto y_of = [&](double v) {
    return kTop + kHeight -
           (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) * kHeight;
  };

  std::string svg;
  char buf[512];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    svg += buf;
  };
  add("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height, width, height);
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  add("<text x=\"%.0f\" y=\"22\" font-size=\"16\" font-weight=\"bold\">lightning-bench: "
      "operations per second (log scale, higher is better)</text>\n",
      kLeft);
  std::snprintf(buf, sizeof buf,
                "N=%llu keys, %zu+%zu bytes, %s (fillsync*: sync), cache %zu MiB, median of %d",
                static_cast<unsigned long long>(o.num), o.key_size, o.value_size,
                o.sync ? "sync" : "nosync", o.cache_mb, o.repeat);
  std::string subtitle = buf;
  add("<text x=\"%.0f\" y=\"40\" fill=\"#555\">%s</text>\n", kLeft, escape(subtitle).c_str());

  // Legend, top right.
  double lx = width - kRight - static_cast<double>(engines.size()) * 95;
  for (std::size_t i = 0; i < engines.size(); ++i) {
    double x = lx + static_cast<double>(i) * 95;
    add("<rect x=\"%.1f\" y=\"50\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x,
        color_of(engines[i], i).c_str());
    add("<text x=\"%.1f\" y=\"60\">%s</text>\n", x + 16, escape(engines[i]).c_str());
  }

  // Decade grid lines and labels.
  for (double v = lo; v <= hi * 1.0001; v *= 10) {
    double y = y_of(v);
    add("<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", kLeft, y,
        width - kRight, y);
    add("<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", kLeft - 6, y + 4,
        decade_label(v).c_str());
  }
  add("<text transform=\"translate(18 %.0f) rotate(-90)\" text-anchor=\"middle\">ops/s</text>\n",
      kTop + kHeight / 2);

  // Bars.
  for (std::size_t g = 0; g < groups.size(); ++g) {
    double gx = kLeft + kGroupPad / 2 + static_cast<double>(g) * group_width;
    for (std::size_t e = 0; e < engines.size(); ++e) {
      for (const Summary& s : summaries) {
        if (s.workload != groups[g] || s.engine != engines[e] || !s.error.empty() ||
            s.median.ops_per_sec <= 0) {
          continue;
        }
        double x = gx + static_cast<double>(e) * kBar;
        double y = y_of(s.median.ops_per_sec);
        add("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
            "<title>%s %s: %.0f ops/s</title></rect>\n",
            x, y, kBar - 1, kTop + kHeight - y, color_of(engines[e], e).c_str(),
            escape(s.workload).c_str(), escape(s.engine).c_str(), s.median.ops_per_sec);
      }
    }
    double cx = gx + static_cast<double>(engines.size()) * kBar / 2;
    add("<text transform=\"translate(%.1f %.0f) rotate(-40)\" text-anchor=\"end\">%s</text>\n", cx,
        kTop + kHeight + 14, escape(groups[g]).c_str());
  }
  add("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", kLeft,
      kTop + kHeight, width - kRight, kTop + kHeight);
  add("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", kLeft, kTop,
      kLeft, kTop + kHeight);
  add("<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">workload</text>\n",
      kLeft + (width - kLeft - kRight) / 2, height - 8);
  svg += "</svg>\n";
  return svg;
}

}  // namespace bench
