// Several threads appending to their own files and reading them back, while
// another lists the directory; one RandomRWFile shared by a writer and
// readers of disjoint ranges: run under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "env/fault_injection_file_system.h"
#include "env/file_system_test_util.h"
#include "lightning/file_system.h"
#include "testutil/testutil.h"

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

// One writer fills pages [kPages/2, kPages) of a shared RandomRWFile (and
// syncs now and then) while readers re-read pages [0, kPages/2), written
// before the threads start, through the same handle: the RandomRWFile
// contract allows read_at concurrently with write_at on disjoint ranges.
void read_while_writing(FileSystem& fs, const std::string& dir) {
  constexpr std::size_t kPage = 256;
  constexpr int kPages = 64;
  constexpr int kReaders = 3;
  ASSERT_TRUE(fs.create_dir(dir).is_ok());
  auto opened = fs.open_random_rw(dir + "/data", /*create=*/true);
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  RandomRWFile& file = **opened;
  auto page = [](int i) { return std::string(kPage, static_cast<char>('A' + i % 26)); };
  for (int i = 0; i < kPages / 2; ++i) {
    ASSERT_TRUE(file.write_at(static_cast<std::uint64_t>(i) * kPage, as_bytes(page(i))).is_ok());
  }
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = kPages - 1; i >= kPages / 2; --i) {  // backwards: extends first, then fills
      ASSERT_TRUE(file.write_at(static_cast<std::uint64_t>(i) * kPage, as_bytes(page(i))).is_ok());
      if (i % 8 == 0) {
        ASSERT_TRUE(file.sync().is_ok());
      }
    }
  });
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::string buf(kPage, '\0');
      for (int round = 0; round < 20; ++round) {
        for (int i = r; i < kPages / 2; i += kReaders) {
          auto n = file.read_at(static_cast<std::uint64_t>(i) * kPage,
                                std::as_writable_bytes(std::span<char>(buf.data(), buf.size())));
          ASSERT_TRUE(n.has_value()) << n.status().to_string();
          ASSERT_EQ(*n, kPage);
          ASSERT_EQ(buf, page(i));
        }
        ASSERT_TRUE(file.size().has_value());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::string expected;
  for (int i = 0; i < kPages; ++i) expected += page(i);
  EXPECT_EQ(read_all(fs, dir + "/data"), expected);
}

TEST(MemFileSystemConcurrency, RandomRWReadWhileWritingDisjointRanges) {
  auto fs = new_in_memory_file_system();
  read_while_writing(*fs, "/db");
}

TEST(FaultInjectionFileSystemConcurrency, RandomRWReadWhileWritingDisjointRanges) {
  FaultInjectionFileSystem fs;
  read_while_writing(fs, "/db");
}

TEST(PosixFileSystemConcurrency, RandomRWReadWhileWritingDisjointRanges) {
  TempDir dir;
  read_while_writing(*default_file_system(), dir.path());
}

}  // namespace
}  // namespace lightning::testing
