#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace bench {

Progress::Progress(std::string label, std::uint64_t total, const std::atomic<std::uint64_t>& done)
    : label_(std::move(label)), total_(std::max<std::uint64_t>(total, 1)), done_(done) {
  if (::isatty(STDERR_FILENO) == 0) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (true) {
      // Wakes on stop_requested() at once, else after 200 ms.
      (void)cv.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
      if (stop.stop_requested()) break;
      draw();
    }
  });
}

Progress::~Progress() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Progress::draw() const {
  constexpr int kWidth = 30;
  double fraction = std::min(1.0, static_cast<double>(done_.load(std::memory_order_relaxed)) /
                                      static_cast<double>(total_));
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K  %-32s [%s] %3d%%", label_.c_str(), bar.c_str(),
               static_cast<int>(fraction * 100));
  std::fflush(stderr);
}

}  // namespace bench
