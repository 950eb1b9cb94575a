#include "keys.h"

#include <algorithm>
#include <bit>
#include <charconv>

namespace bench {

std::size_t KeyFormat::min_size(std::uint64_t max_id) {
  return std::to_string(2 * max_id + 1).size();
}

void KeyFormat::format(std::uint64_t n, std::string* out) const {
  out->assign(size_, '0');
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  auto len = static_cast<std::size_t>(end - digits);
  std::copy(digits, end, out->data() + (size_ - std::min(len, size_)));
}

ValueSource::ValueSource(std::size_t value_size, std::uint64_t seed) : size_(value_size) {
  std::mt19937_64 rng(seed ^ 0x76616c7565ull);
  std::size_t len = std::max<std::size_t>(1 << 20, 2 * value_size);
  buffer_.resize(len);
  for (std::size_t i = 0; i < len; i += 32) {
    auto fill = static_cast<char>(rng() & 0xff);
    for (std::size_t j = i; j < std::min(len, i + 32); ++j) {
      buffer_[j] = j - i < 16 ? static_cast<char>(rng() & 0xff) : fill;
    }
  }
}

std::string_view ValueSource::next(std::mt19937_64& rng) const {
  std::size_t offset = rng() % (buffer_.size() - size_ + 1);
  return std::string_view(buffer_).substr(offset, size_);
}

Permutation::Permutation(std::uint64_t n, std::uint64_t seed) : n_(n) {
  bits_ = std::max(2, static_cast<int>(std::bit_width(n <= 1 ? 1 : n - 1)));
  mask_ = bits_ >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits_) - 1;
  std::mt19937_64 rng(seed ^ 0x7065726dull);
  k1_ = rng() | 1;  // odd multipliers are invertible modulo 2^bits
  k2_ = rng() | 1;
}

std::uint64_t Permutation::mix(std::uint64_t x) const {
  const int shift = bits_ / 2 + 1;
  x = (x * k1_) & mask_;
  x ^= x >> shift;
  x = (x * k2_) & mask_;
  x ^= x >> shift;
  x = (x * k1_) & mask_;
  return x;
}

std::uint64_t Permutation::at(std::uint64_t index) const {
  std::uint64_t x = mix(index);
  while (x >= n_) x = mix(x);  // cycle walking stays inside 0 .. n-1
  return x;
}

}  // namespace bench
