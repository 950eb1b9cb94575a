// Bloom filters over user keys, one per run file (docs/format/run.md).
//
//   filter := bits[m / 8] | num_probes u8        (m = bytes * 8)
//
// A key is hashed once (key_hash: 64 bits); probe i tests bit
// (h1 + i * h2) mod m, with h1 the low and h2 the high 32 bits of the hash
// (h2 forced odd) — the Kirsch-Mitzenmacher double-hashing scheme. With b
// bits per key the builder uses k = round(b * ln 2) probes (1 .. 30), the
// count that minimises the false-positive rate (~0.6185^b).
//
// Thread safety: BloomBuilder is single-threaded; may_contain() is a pure
// function of its arguments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lightning::run {

// 64-bit hash of a user key (stable: filters on disk depend on it).
std::uint64_t key_hash(std::string_view key);

class BloomBuilder {
 public:
  // REQUIRES: 1 <= bits_per_key <= 64.
  explicit BloomBuilder(int bits_per_key);
  void add(std::string_view user_key) { hashes_.push_back(key_hash(user_key)); }
  std::size_t keys() const { return hashes_.size(); }
  // Appends the filter for every key added so far to *out.
  void finish(std::string* out) const;
  int num_probes() const { return probes_; }

 private:
  int bits_per_key_;
  int probes_;
  std::vector<std::uint64_t> hashes_;
};

// False only if user_key was certainly not added to the filter. A filter
// that is malformed (too short, unknown probe count) answers true: it can
// make reads slower, never wrong.
bool bloom_may_contain(std::string_view filter, std::string_view user_key);
bool bloom_may_contain_hash(std::string_view filter, std::uint64_t hash);

}  // namespace lightning::run
