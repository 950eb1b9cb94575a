// Keys, values and orders of keys for the workloads.
//
// Key id i (0 .. N-1 loaded, N.. inserted later) is stored under the decimal
// number 2*i zero-padded to the key size; "missing" keys use 2*i+1, so they
// fall between stored keys instead of past the end. Byte order = id order.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace bench {

class KeyFormat {
 public:
  explicit KeyFormat(std::size_t key_size) : size_(key_size) {}
  // Writes the key of id into *out (resized to the key size).
  void stored(std::uint64_t id, std::string* out) const { format(2 * id, out); }
  void missing(std::uint64_t id, std::string* out) const { format(2 * id + 1, out); }
  // Smallest key size that can hold every key of ids below max_id.
  static std::size_t min_size(std::uint64_t max_id);

 private:
  void format(std::uint64_t n, std::string* out) const;
  std::size_t size_;
};

// Values that compress about 2:1: every 32-byte stretch is 16 random bytes
// followed by 16 copies of one byte. A value is a slice of a 1 MiB buffer
// at a random offset.
class ValueSource {
 public:
  ValueSource(std::size_t value_size, std::uint64_t seed);
  std::string_view next(std::mt19937_64& rng) const;

 private:
  std::size_t size_;
  std::string buffer_;
};

// A pseudo-random permutation of 0 .. n-1 that needs no memory: an
// invertible mix on the next power of two, with cycle walking.
class Permutation {
 public:
  Permutation(std::uint64_t n, std::uint64_t seed);
  std::uint64_t at(std::uint64_t index) const;

 private:
  std::uint64_t mix(std::uint64_t x) const;
  std::uint64_t n_;
  int bits_;
  std::uint64_t mask_;
  std::uint64_t k1_, k2_;
};

}  // namespace bench
