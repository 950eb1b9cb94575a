// The in-memory FileSystem: a thin adapter over MemCore (see mem_file.h).
// Nothing is ever lost: every byte and directory entry counts as durable the
// moment it is written, so sync() and sync_dir() only check their argument.
#include <memory>

#include "env/mem_file.h"
#include "lightning/file_system.h"

namespace lightning {

namespace {

class MemFileSystem final : public FileSystem {
 public:
  MemFileSystem() : core_(std::make_shared<MemCore>()) {}

  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                          OpenMode mode) override {
    return core_->new_writable_file(path, mode);
  }
  Result<std::unique_ptr<ReadableFile>> open_readable(const std::string& path) override {
    return core_->open_readable(path);
  }
  Result<std::unique_ptr<RandomRWFile>> open_random_rw(const std::string& path,
                                                       bool create) override {
    return core_->open_random_rw(path, create);
  }
  Result<bool> exists(const std::string& path) override { return core_->exists(path); }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    return core_->list_dir(dir);
  }
  Status create_dir(const std::string& dir) override { return core_->create_dir(dir); }
  Status remove_file(const std::string& path) override { return core_->remove_file(path); }
  Status rename_file(const std::string& from, const std::string& to) override {
    return core_->rename_file(from, to);
  }
  Status truncate_file(const std::string& path, std::uint64_t size) override {
    return core_->truncate_file(path, size);
  }
  Status sync_dir(const std::string& dir) override { return core_->sync_dir(dir); }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    return core_->lock_file(path);
  }

 private:
  const std::shared_ptr<MemCore> core_;  // shared with open handles and locks
};

}  // namespace

std::shared_ptr<FileSystem> new_in_memory_file_system() {
  return std::make_shared<MemFileSystem>();
}

}  // namespace lightning
