// Progress: a one-line progress bar on stderr while a phase runs, redrawn
// every 200 ms by a background thread from a counter the workers bump.
// Does nothing when stderr is not a terminal (CI logs stay clean).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace bench {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total, const std::atomic<std::uint64_t>& done);
  ~Progress();  // stops the thread and clears the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  void draw() const;
  std::string label_;
  std::uint64_t total_;
  const std::atomic<std::uint64_t>& done_;
  std::jthread thread_;
};

}  // namespace bench
