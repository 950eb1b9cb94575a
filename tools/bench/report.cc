#include "report.h"

#include <lightning/version.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace bench {

// ---- JSON of one run ----

nlohmann::json result_to_json(const RunResult& r) {
  return {
      {"engine", r.engine},
      {"workload", r.workload},
      {"repeat", r.repeat},
      {"threads", r.threads},
      {"durability", r.durability},
      {"ops", r.ops},
      {"seconds", r.seconds},
      {"ops_per_sec", r.ops_per_sec},
      {"mb_per_sec", r.mb_per_sec},
      {"latency_us",
       {{"p50", r.p50_us},
        {"p99", r.p99_us},
        {"p99.9", r.p999_us},
        {"max", r.max_us},
        {"mean", r.mean_us}}},
      {"disk_bytes_after_load", r.disk_bytes_loaded},
      {"disk_bytes_settled", r.disk_bytes_settled},
      {"peak_rss_bytes", r.peak_rss_bytes},
      {"user_bytes_written", r.user_bytes_written},
      {"engine_bytes_written", r.engine_bytes_written},
      {"write_amp", r.write_amp ? nlohmann::json(*r.write_amp) : nlohmann::json(nullptr)},
      {"write_amp_source", r.write_amp_source},
      {"background_writes", r.background_writes},
      {"aborts", r.aborts},
      {"counters", r.counters},
      {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
      {"unsupported", r.unsupported},
  };
}

RunResult result_from_json(const nlohmann::json& j) {
  RunResult r;
  j.at("engine").get_to(r.engine);
  j.at("workload").get_to(r.workload);
  j.at("repeat").get_to(r.repeat);
  if (j.contains("unsupported")) j.at("unsupported").get_to(r.unsupported);
  if (!j.at("error").is_null()) {
    j.at("error").get_to(r.error);
    return r;
  }
  j.at("threads").get_to(r.threads);
  j.at("durability").get_to(r.durability);
  j.at("ops").get_to(r.ops);
  j.at("seconds").get_to(r.seconds);
  j.at("ops_per_sec").get_to(r.ops_per_sec);
  j.at("mb_per_sec").get_to(r.mb_per_sec);
  const auto& lat = j.at("latency_us");
  lat.at("p50").get_to(r.p50_us);
  lat.at("p99").get_to(r.p99_us);
  lat.at("p99.9").get_to(r.p999_us);
  lat.at("max").get_to(r.max_us);
  lat.at("mean").get_to(r.mean_us);
  j.at("disk_bytes_after_load").get_to(r.disk_bytes_loaded);
  j.at("disk_bytes_settled").get_to(r.disk_bytes_settled);
  j.at("peak_rss_bytes").get_to(r.peak_rss_bytes);
  j.at("user_bytes_written").get_to(r.user_bytes_written);
  j.at("engine_bytes_written").get_to(r.engine_bytes_written);
  if (!j.at("write_amp").is_null()) r.write_amp = j.at("write_amp").get<double>();
  j.at("write_amp_source").get_to(r.write_amp_source);
  j.at("background_writes").get_to(r.background_writes);
  if (j.contains("aborts")) j.at("aborts").get_to(r.aborts);
  if (j.contains("counters")) j.at("counters").get_to(r.counters);
  return r;
}

namespace {

// 1234567 -> "1,234,567"; small values keep 1-2 decimals.
std::string number(double v) {
  char buf[64];
  if (std::fabs(v) >= 1000) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    std::string s = buf, out;
    int digits = 0;
    for (auto it = s.rbegin(); it != s.rend(); ++it) {
      if (digits > 0 && digits % 3 == 0 && *it != '-') out.push_back(',');
      out.push_back(*it);
      ++digits;
    }
    return {out.rbegin(), out.rend()};
  }
  std::snprintf(buf, sizeof buf,
                std::fabs(v) >= 100 ? "%.0f" : (std::fabs(v) >= 10 ? "%.1f" : "%.2f"), v);
  return buf;
}

std::string mib(std::uint64_t bytes) { return number(static_cast<double>(bytes) / (1 << 20)); }

std::string ratio_text(const std::optional<double>& ratio) {
  if (!ratio) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", *ratio);
  return buf;
}

// The cells of one table row (terminal and Markdown share them).
std::vector<std::string> cells(const Summary& s) {
  const RunResult& r = s.median;
  if (!s.error.empty() && s.median.unsupported) return {s.workload, s.engine, s.error};
  if (!s.error.empty()) return {s.workload, s.engine, "FAILED: " + s.error};
  return {s.workload,
          s.engine,
          number(r.ops_per_sec),
          ratio_text(s.ratio),
          number(r.mb_per_sec),
          number(r.p50_us),
          number(r.p99_us),
          number(r.p999_us),
          number(r.max_us),
          mib(r.disk_bytes_loaded),
          mib(r.disk_bytes_settled),
          mib(r.peak_rss_bytes),
          r.write_amp ? number(*r.write_amp) : "-"};
}

std::vector<std::string> headers(const std::string& baseline) {
  return {"workload", "engine", "ops/s",    "vs " + baseline, "MB/s",    "p50 us", "p99 us",
          "p99.9 us", "max us", "disk MiB", "settled MiB",    "RSS MiB", "W-amp"};
}

constexpr int kWidths[] = {17, 15, 12, 13, 8, 9, 9, 10, 10, 9, 12, 8, 6};

void print_row(std::FILE* out, const std::vector<std::string>& row) {
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i < 2 || row.size() < 13) {
      std::fprintf(out, "%-*s", kWidths[i], row[i].c_str());
    } else {
      std::fprintf(out, "%*s", kWidths[i], row[i].c_str());
    }
  }
  std::fprintf(out, "\n");
}

}  // namespace

// ---- Report ----

Report::Report(const BenchOptions& options, Machine machine)
    : options_(options), machine_(std::move(machine)) {}

void Report::add(RunResult run) {
  if (!run.error.empty() && !run.unsupported) ++failed_;
  runs_.push_back(std::move(run));
}

Summary Report::summarize(const std::string& workload, const std::string& engine) const {
  Summary s;
  s.workload = workload;
  s.engine = engine;
  std::vector<const RunResult*> ok;
  for (const RunResult& r : runs_) {
    if (r.workload != workload || r.engine != engine) continue;
    if (r.error.empty()) {
      ok.push_back(&r);
      s.ops_per_sec.push_back(r.ops_per_sec);
    } else {
      s.error = r.error;
      s.median.unsupported = r.unsupported;
    }
  }
  if (ok.empty()) {
    if (s.error.empty()) s.error = "not run";
    return s;
  }
  s.error.clear();
  // The median run; for an even count, the faster of the two middle runs.
  std::sort(ok.begin(), ok.end(),
            [](const RunResult* a, const RunResult* b) { return a->ops_per_sec < b->ops_per_sec; });
  s.median = *ok[ok.size() / 2];
  return s;
}

std::vector<Summary> Report::summaries() const {
  std::vector<Summary> out;
  for (const std::string& w : options_.workloads) {
    std::optional<double> base;
    Summary b = summarize(w, options_.baseline);
    if (b.error.empty() && b.median.ops_per_sec > 0) base = b.median.ops_per_sec;
    for (const std::string& e : options_.engines) {
      Summary s = summarize(w, e);
      if (s.error.empty() && base) s.ratio = s.median.ops_per_sec / *base;
      out.push_back(std::move(s));
    }
  }
  return out;
}

void Report::print_header(std::FILE* out) const {
  std::fprintf(out,
               "lightning-bench: N=%llu keys, %zu-byte keys, %zu-byte values, ops=%llu, "
               "sync-ops=%llu, threads=%d, durability=%s, cache=%zu MiB, repeat=%d (median)\n",
               static_cast<unsigned long long>(options_.num), options_.key_size,
               options_.value_size, static_cast<unsigned long long>(options_.op_count()),
               static_cast<unsigned long long>(options_.sync_ops), options_.threads,
               options_.sync ? "sync" : "nosync", options_.cache_mb, options_.repeat);
  print_row(out, headers(options_.baseline));
  std::fflush(out);
}

void Report::print_workload(std::FILE* out, const std::string& workload) const {
  for (const Summary& s : summaries()) {
    if (s.workload == workload) print_row(out, cells(s));
  }
  std::fflush(out);
}

std::vector<std::string> Report::footer_lines() const {
  std::vector<std::string> lines;
  auto all = summaries();
  auto find = [&](const std::string& w, const std::string& e) -> const Summary* {
    for (const Summary& s : all) {
      if (s.workload == w && s.engine == e && s.error.empty()) return &s;
    }
    return nullptr;
  };
  // Group commit: fillsync_mt against fillsync.
  std::string group =
      "fillsync_mt (" + std::to_string(options_.threads) + " threads) vs fillsync (1 thread):";
  bool any = false;
  for (const std::string& e : options_.engines) {
    const Summary* one = find("fillsync", e);
    const Summary* many = find("fillsync_mt", e);
    if (one == nullptr || many == nullptr || one->median.ops_per_sec <= 0) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s %.2fx", e.c_str(),
                  many->median.ops_per_sec / one->median.ops_per_sec);
    group += buf;
    any = true;
  }
  if (any) lines.push_back(group);
  // Engine counters of runs in which writers stalled or were slowed (all
  // counters are in the JSON).
  for (const Summary& s : all) {
    if (!s.error.empty() || s.median.counters.empty()) continue;
    const std::string& c = s.median.counters;
    if (c.find("write_stalls=0 ") != std::string::npos && c.find("write_slowdowns=0 ") != std::string::npos) continue;
    lines.push_back(s.workload + " on " + s.engine + ": " + c);
  }
  // Transactions: refused commits per committed transaction.
  for (const char* w : {"oltp", "oltp_mt"}) {
    std::string line = std::string(w) + " aborts (conflicts retried) per committed transaction:";
    any = false;
    for (const std::string& e : options_.engines) {
      const Summary* s = find(w, e);
      if (s == nullptr || s->median.ops == 0) continue;
      char buf[64];
      std::snprintf(buf, sizeof buf, " %s %.4f", e.c_str(),
                    static_cast<double>(s->median.aborts) / static_cast<double>(s->median.ops));
      line += buf;
      any = true;
    }
    if (any) lines.push_back(line);
  }
  // Geometric mean of the ratios over the workloads every engine completed.
  std::string geo = "geometric mean of ops/s vs " + options_.baseline + ":";
  any = false;
  for (const std::string& e : options_.engines) {
    double log_sum = 0;
    int count = 0;
    for (const Summary& s : all) {
      if (s.engine == e && s.ratio && *s.ratio > 0) {
        log_sum += std::log(*s.ratio);
        ++count;
      }
    }
    if (count == 0) continue;
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s %.2fx (%d workloads)", e.c_str(), std::exp(log_sum / count),
                  count);
    geo += buf;
    any = true;
  }
  if (any) lines.push_back(geo);
  return lines;
}

void Report::print_footer(std::FILE* out) const {
  for (const std::string& line : footer_lines()) std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
}

nlohmann::json Report::to_json() const {
  nlohmann::json results = nlohmann::json::array();
  for (const Summary& s : summaries()) {
    nlohmann::json j;
    if (s.error.empty()) {
      j = result_to_json(s.median);
      j.erase("repeat");
    } else {
      j = {{"workload", s.workload},
           {"engine", s.engine},
           {"error", s.error},
           {"unsupported", s.median.unsupported}};
    }
    j["ratio_vs_baseline"] = s.ratio ? nlohmann::json(*s.ratio) : nlohmann::json(nullptr);
    j["ops_per_sec_repeats"] = s.ops_per_sec;
    results.push_back(std::move(j));
  }
  nlohmann::json runs = nlohmann::json::array();
  for (const RunResult& r : runs_) runs.push_back(result_to_json(r));
  return {
      {"tool", "lightning-bench"},
      {"lightning_version", lightning::version_string()},
      {"command", options_.command_line},
      {"machine",
       {{"cores", machine_.cores},
        {"ram_bytes", machine_.ram_bytes},
        {"cpu", machine_.cpu},
        {"kernel", machine_.kernel},
        {"file_system", machine_.fs_type},
        {"date_utc", machine_.date_utc}}},
      {"settings",
       {{"engines", options_.engines},
        {"workloads", options_.workloads},
        {"num", options_.num},
        {"ops", options_.op_count()},
        {"sync_ops", options_.sync_ops},
        {"threads", options_.threads},
        {"key_size", options_.key_size},
        {"value_size", options_.value_size},
        {"seed", options_.seed},
        {"durability", options_.sync ? "sync" : "nosync"},
        {"cache_mb", options_.cache_mb},
        {"repeat", options_.repeat},
        {"baseline", options_.baseline}}},
      {"results", std::move(results)},
      {"runs", std::move(runs)},
      {"summary", footer_lines()},
  };
}

std::string Report::to_markdown() const {
  std::string md;
  md += "<!-- generated by lightning-bench --markdown; regenerate, do not edit -->\n";
  md += "Command: `" + options_.command_line + "`  \n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "Machine: %u cores (%s), %.1f GiB RAM, %s, %s file system; %s  \n",
                machine_.cores, machine_.cpu.c_str(),
                static_cast<double>(machine_.ram_bytes) / (1ull << 30), machine_.kernel.c_str(),
                machine_.fs_type.c_str(), machine_.date_utc.c_str());
  md += buf;
  std::snprintf(buf, sizeof buf,
                "Settings: N=%llu keys of %zu bytes, %zu-byte values, ops=%llu, sync-ops=%llu, "
                "threads=%d, durability=%s, cache=%zu MiB, median of %d\n\n",
                static_cast<unsigned long long>(options_.num), options_.key_size,
                options_.value_size, static_cast<unsigned long long>(options_.op_count()),
                static_cast<unsigned long long>(options_.sync_ops), options_.threads,
                options_.sync ? "sync" : "nosync", options_.cache_mb, options_.repeat);
  md += buf;
  auto head = headers(options_.baseline);
  md += "|";
  for (const auto& h : head) md += " " + h + " |";
  md += "\n|";
  for (std::size_t i = 0; i < head.size(); ++i) md += i < 2 ? "---|" : "---:|";
  md += "\n";
  for (const Summary& s : summaries()) {
    auto row = cells(s);
    row.resize(head.size());
    md += "|";
    for (const auto& c : row) md += " " + c + " |";
    md += "\n";
  }
  md += "\n";
  for (const std::string& line : footer_lines()) md += line + "  \n";
  return md;
}

}  // namespace bench
