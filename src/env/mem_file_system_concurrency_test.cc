// Several threads appending to their own files and reading them back, while
// another lists the directory: run under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "env/fault_injection_file_system.h"
#include "env/file_system_test_util.h"

namespace lightning::testing {
namespace {

constexpr int kThreads = 4;
constexpr int kAppends = 200;

void hammer(FileSystem& fs) {
  ASSERT_TRUE(fs.create_dir("/db").is_ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&fs, t] {
      const std::string path = "/db/f" + std::to_string(t);
      auto w = fs.new_writable_file(path, FileSystem::OpenMode::kCreateNew);
      ASSERT_TRUE(w.has_value());
      auto r = fs.open_readable(path);
      ASSERT_TRUE(r.has_value());
      const std::string record = "rec" + std::to_string(t) + ";";
      for (int i = 0; i < kAppends; ++i) {
        ASSERT_TRUE((*w)->append(as_bytes(record)).is_ok());
        if (i % 50 == 0) {
          ASSERT_TRUE((*w)->sync().is_ok());
        }
        std::string buf(record.size(), '\0');
        auto n = (*r)->read_at(static_cast<std::uint64_t>(i) * record.size(),
                               std::as_writable_bytes(std::span<char>(buf.data(), buf.size())));
        ASSERT_TRUE(n.has_value());
        ASSERT_EQ(buf, record);
      }
      ASSERT_EQ(*(*r)->size(), record.size() * kAppends);
    });
  }
  threads.emplace_back([&fs] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(fs.list_dir("/db").has_value());
      ASSERT_TRUE(fs.sync_dir("/db").is_ok());
    }
  });
  for (auto& th : threads) th.join();
  auto names = fs.list_dir("/db");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(names->size(), static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    std::string expected;
    for (int i = 0; i < kAppends; ++i) expected += "rec" + std::to_string(t) + ";";
    EXPECT_EQ(read_all(fs, "/db/f" + std::to_string(t)), expected);
  }
}

TEST(MemFileSystemConcurrency, AppendAndReadDistinctFiles) {
  auto fs = new_in_memory_file_system();
  hammer(*fs);
}

TEST(FaultInjectionFileSystemConcurrency, AppendAndReadDistinctFiles) {
  FaultInjectionFileSystem fs;
  hammer(fs);
  EXPECT_EQ(fs.write_count(), static_cast<std::uint64_t>(kThreads * kAppends));
}

TEST(FaultInjectionFileSystemConcurrency, DropWhileOthersWrite) {
  FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.create_dir("/db").is_ok());
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&fs, t] {
      auto w = fs.new_writable_file("/db/f" + std::to_string(t), FileSystem::OpenMode::kCreateNew);
      ASSERT_TRUE(w.has_value());
      for (int i = 0; i < kAppends; ++i) {
        Status s = (*w)->append(as_bytes("x"));
        if (!s.is_ok()) {
          ASSERT_TRUE(s.is_io_error()) << s.to_string();  // dead after the drop
          return;
        }
      }
    });
  }
  fs.drop_unsynced(FaultInjectionFileSystem::DropMode::kKeepTornPrefix, 1);
  for (auto& th : writers) th.join();
  fs.drop_unsynced();
  auto names = fs.list_dir("/db");
  ASSERT_TRUE(names.has_value());
  EXPECT_TRUE(names->empty()) << "/db was never synced, so no file in it survives";
}

}  // namespace
}  // namespace lightning::testing
