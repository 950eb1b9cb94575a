// Histogram: a log-linear latency histogram in the spirit of HdrHistogram.
//
// Values (nanoseconds) below 64 have a bucket each; above, every power of
// two is split into 64 equal buckets, so a reported percentile is within
// 1/64 (1.6%) of the true value. The exact maximum is kept separately.
// Recording is a few instructions; one histogram belongs to one thread and
// merge() combines them after the threads are joined.
#pragma once

#include <array>
#include <cstdint>

namespace bench {

class Histogram {
 public:
  void record(std::uint64_t nanos);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  double mean() const;
  // The value at quantile q (0 < q <= 1): the upper edge of the bucket that
  // holds it, capped at max(). 0 when empty.
  std::uint64_t percentile(double q) const;

 private:
  static constexpr int kSubBits = 6;  // 64 buckets per power of two
  static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;
  static int bucket_of(std::uint64_t v);
  static std::uint64_t upper_edge(int bucket);

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace bench
