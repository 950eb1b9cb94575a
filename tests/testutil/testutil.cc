#include "testutil/testutil.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace lightning::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "lightning-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  const char* keep = std::getenv("LIGHTNING_KEEP_TEST_DIRS");
  if (keep != nullptr && std::string(keep) == "1") return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::uint64_t test_seed() {
  std::uint64_t seed;
  if (const char* env = std::getenv("LIGHTNING_TEST_SEED"); env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed = std::random_device{}();
    seed = (seed << 32) ^ std::random_device{}();
  }
  std::cout << "[ seed     ] LIGHTNING_TEST_SEED=" << seed << std::endl;
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

std::string random_string(std::mt19937_64& rng, std::size_t n, char first, char last) {
  std::uniform_int_distribution<int> d(first, last);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(d(rng));
  return s;
}

}  // namespace lightning::testing
