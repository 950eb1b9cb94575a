// Zipfian key chooser of YCSB (Gray et al., "Quickly generating
// billion-record synthetic databases"), constant 0.99: item 0 is the most
// popular. ScrambledZipf spreads the popular items over the key space with
// an FNV-1a hash, as YCSB's ScrambledZipfianGenerator does.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace bench {

class Zipf {
 public:
  explicit Zipf(std::uint64_t items, double theta = 0.99) : items_(items), theta_(theta) {
    double zeta2 = 0;
    for (std::uint64_t i = 1; i <= items; ++i) {
      zetan_ += 1.0 / std::pow(static_cast<double>(i), theta);
      if (i == 2) zeta2 = zetan_;
    }
    if (items < 2) zeta2 = zetan_;
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(items), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
  }

  // A value in 0 .. items-1.
  std::uint64_t next(std::mt19937_64& rng) const {
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return items_ > 1 ? 1 : 0;
    auto v = static_cast<std::uint64_t>(static_cast<double>(items_) *
                                        std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return v < items_ ? v : items_ - 1;
  }

  std::uint64_t items() const { return items_; }

 private:
  std::uint64_t items_;
  double theta_;
  double zetan_ = 0, alpha_ = 0, eta_ = 0;
};

class ScrambledZipf {
 public:
  explicit ScrambledZipf(std::uint64_t items) : zipf_(items) {}
  std::uint64_t next(std::mt19937_64& rng) const { return fnv1a(zipf_.next(rng)) % zipf_.items(); }

 private:
  static std::uint64_t fnv1a(std::uint64_t v) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
    return h;
  }
  Zipf zipf_;
};

}  // namespace bench
