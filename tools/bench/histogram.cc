#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bench {

int Histogram::bucket_of(std::uint64_t v) {
  if (v < (std::uint64_t{1} << kSubBits)) return static_cast<int>(v);
  int exp = static_cast<int>(std::bit_width(v)) - 1;  // >= kSubBits
  int sub = static_cast<int>((v >> (exp - kSubBits)) & ((1u << kSubBits) - 1));
  return ((exp - kSubBits + 1) << kSubBits) + sub;
}

std::uint64_t Histogram::upper_edge(int bucket) {
  if (bucket < (1 << kSubBits)) return static_cast<std::uint64_t>(bucket);
  int exp = (bucket >> kSubBits) + kSubBits - 1;
  std::uint64_t sub = static_cast<std::uint64_t>(bucket & ((1 << kSubBits) - 1));
  std::uint64_t low = (std::uint64_t{1} << exp) + (sub << (exp - kSubBits));
  return low + (std::uint64_t{1} << (exp - kSubBits)) - 1;
}

void Histogram::record(std::uint64_t nanos) {
  ++counts_[static_cast<std::size_t>(bucket_of(nanos))];
  ++count_;
  max_ = std::max(max_, nanos);
  sum_ += static_cast<long double>(nanos);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_edge(static_cast<int>(i)), max_);
  }
  return max_;
}

}  // namespace bench
