#include "run/bloom.h"

#include <algorithm>
#include <cmath>

#include "util/coding.h"

namespace lightning::run {

namespace {
constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio

inline std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ULL;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ULL;
  x ^= x >> 32;
  return x;
}
}  // namespace

std::uint64_t key_hash(std::string_view key) {
  std::uint64_t h = kMul ^ (key.size() * 0xFF51AFD7ED558CCDULL);
  const char* p = key.data();
  std::size_t n = key.size();
  while (n >= 8) {
    h = mix(h ^ decode_fixed64(p)) * kMul;
    p += 8;
    n -= 8;
  }
  std::uint64_t tail = 0;
  for (std::size_t i = 0; i < n; ++i) tail |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[i])) << (8 * i);
  return mix(h ^ tail ^ (n << 59));
}

BloomBuilder::BloomBuilder(int bits_per_key)
    : bits_per_key_(std::clamp(bits_per_key, 1, 64)),
      probes_(std::clamp(static_cast<int>(std::lround(bits_per_key_ * 0.69314718056)), 1, 30)) {}

void BloomBuilder::finish(std::string* out) const {
  // At least 64 bits, so tiny filters do not have a huge false-positive rate.
  std::uint64_t bits = std::max<std::uint64_t>(64, hashes_.size() * static_cast<std::uint64_t>(bits_per_key_));
  const std::uint64_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  const std::size_t start = out->size();
  out->resize(start + bytes, '\0');
  char* array = out->data() + start;
  for (std::uint64_t h : hashes_) {
    const auto h1 = static_cast<std::uint32_t>(h);
    const auto h2 = static_cast<std::uint32_t>(h >> 32) | 1u;
    std::uint64_t pos = h1;
    for (int i = 0; i < probes_; ++i) {
      const std::uint64_t bit = pos % bits;
      array[bit / 8] = static_cast<char>(array[bit / 8] | (1 << (bit % 8)));
      pos += h2;
    }
  }
  out->push_back(static_cast<char>(probes_));
}

bool bloom_may_contain_hash(std::string_view filter, std::uint64_t h) {
  if (filter.size() < 2) return true;
  const int probes = static_cast<std::uint8_t>(filter.back());
  if (probes < 1 || probes > 30) return true;  // unknown encoding: no answer
  const std::uint64_t bits = (filter.size() - 1) * 8;
  const auto h1 = static_cast<std::uint32_t>(h);
  const auto h2 = static_cast<std::uint32_t>(h >> 32) | 1u;
  std::uint64_t pos = h1;
  for (int i = 0; i < probes; ++i) {
    const std::uint64_t bit = pos % bits;
    if ((static_cast<std::uint8_t>(filter[bit / 8]) & (1 << (bit % 8))) == 0) return false;
    pos += h2;
  }
  return true;
}

bool bloom_may_contain(std::string_view filter, std::string_view user_key) {
  return bloom_may_contain_hash(filter, key_hash(user_key));
}

}  // namespace lightning::run
