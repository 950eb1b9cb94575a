// Shared helpers for Lightning DB tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace lightning::testing {

// A fresh, empty directory under the system temp dir, removed (recursively)
// when the object is destroyed. Set LIGHTNING_KEEP_TEST_DIRS=1 to keep it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The seed for a randomized test: LIGHTNING_TEST_SEED if set, else a fresh
// random one. Always printed (and recorded as a gtest property) so that a
// failure can be reproduced with LIGHTNING_TEST_SEED=<seed>.
std::uint64_t test_seed();

// A random string of length n over a small alphabet (for keys that collide).
std::string random_string(std::mt19937_64& rng, std::size_t n, char first = 'a', char last = 'z');

}  // namespace lightning::testing
