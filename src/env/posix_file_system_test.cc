#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "env/file_system_conformance.h"
#include "lightning/file_system.h"
#include "testutil/testutil.h"

namespace lightning::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Posix, FileSystemConformance,
                         ::testing::Values(FileSystemFactory{"Posix", default_file_system, true}),
                         fs_factory_name);

TEST(PosixFileSystem, DefaultIsSharedSingleton) {
  EXPECT_NE(default_file_system(), nullptr);
  EXPECT_EQ(default_file_system().get(), default_file_system().get());
}

TEST(PosixFileSystem, ErrorsNameThePathAndReason) {
  TempDir dir;
  auto fs = default_file_system();
  auto r = fs->open_readable(dir.sub("missing"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.status().message(), "open " + dir.sub("missing") + ": No such file or directory");
}

TEST(PosixFileSystem, CreateDirOverFileIsError) {
  TempDir dir;
  auto fs = default_file_system();
  write_file(*fs, dir.sub("f"), "x");
  Status s = fs->create_dir(dir.sub("f"));
  EXPECT_TRUE(s.is_io_error()) << s.to_string();
  EXPECT_NE(s.message().find("not a directory"), std::string::npos) << s.to_string();
}

TEST(PosixFileSystem, SizeOfWritableIncludesExistingBytes) {
  TempDir dir;
  auto fs = default_file_system();
  write_file(*fs, dir.sub("f"), "12345");
  auto w = fs->new_writable_file(dir.sub("f"), FileSystem::OpenMode::kAppendExisting);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ((*w)->size(), 5u);
}

TEST(PosixFileSystem, LargeAppendAndPositionedRead) {
  TempDir dir;
  auto fs = default_file_system();
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  write_file(*fs, dir.sub("big"), big);
  EXPECT_EQ(read_all(*fs, dir.sub("big")), big);
}

// flock is held by the open file description, so the lock conflicts with a
// second process too (and the child sees Busy, not a silent success).
TEST(PosixFileSystem, LockConflictsAcrossProcesses) {
  TempDir dir;
  auto fs = default_file_system();
  auto lock = fs->lock_file(dir.sub("LOCK"));
  ASSERT_TRUE(lock.has_value());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child = default_file_system()->lock_file(dir.sub("LOCK"));
    ::_exit(!child.has_value() && child.status().is_busy() ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "child could take a lock the parent holds";
}

}  // namespace
}  // namespace lightning::testing
