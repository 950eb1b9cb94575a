// The POSIX FileSystem: open/write/pwrite/fdatasync/pread/flock/mmap.
//
// Error mapping: ENOENT -> NotFound; EWOULDBLOCK on flock -> Busy; everything
// else (EIO, ENOSPC, EEXIST from kCreateNew, EACCES, ...) -> IOError. Every
// message is "<operation> <path>[ at offset N]: <strerror(errno)>".
//
// A WritableFile whose append or sync failed is poisoned: later appends and
// syncs return the same error; so is a RandomRWFile whose write_at, sync or
// truncate failed. After a failed fdatasync the kernel may have
// dropped the dirty pages, so a retry that "succeeds" would lie.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "lightning/file_system.h"

namespace lightning {

namespace {

Status posix_error(std::string_view op, const std::string& path, int err) {
  std::string msg(op);
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOENT) return Status::not_found(msg);
  return Status::io_error(msg);
}

Status posix_error_at(std::string_view op, const std::string& path, std::uint64_t offset, int err) {
  return posix_error(op, path + " at offset " + std::to_string(offset), err);
}

// close() that retries nothing: on Linux the fd is released even on EINTR.
Status close_fd(int fd, const std::string& path) {
  if (::close(fd) != 0) return posix_error("close", path, errno);
  return Status::ok();
}

// pread until out is full or end of file, retrying EINTR and short reads.
Result<std::size_t> pread_fully(int fd, const std::string& path, std::uint64_t offset,
                                std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return posix_error_at("pread", path, offset + done, errno);
    }
    if (n == 0) break;  // end of file
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Result<std::uint64_t> fstat_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return posix_error("fstat", path, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

Status sync_fd(int fd, const std::string& path) {
#if defined(__APPLE__)
  const int rc = ::fcntl(fd, F_FULLFSYNC);
#else
  const int rc = ::fdatasync(fd);
#endif
  if (rc != 0) return posix_error("fdatasync", path, errno);
  return Status::ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, std::uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::span<const std::byte> data) override {
    if (fd_ < 0) return closed_error();
    if (!error_.is_ok()) return error_;
    const auto* p = reinterpret_cast<const char*>(data.data());
    std::size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = posix_error_at("write", path_, size_, errno);
        return error_;
      }
      if (n == 0) {  // not expected for regular files; never spin
        error_ = Status::io_error("write " + path_ + " at offset " + std::to_string(size_) +
                                  ": wrote 0 bytes");
        return error_;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
      size_ += static_cast<std::uint64_t>(n);
    }
    return Status::ok();
  }

  Status sync() override {
    if (fd_ < 0) return closed_error();
    if (!error_.is_ok()) return error_;
    error_ = sync_fd(fd_, path_);
    return error_;
  }

  Status close() override {
    if (fd_ < 0) return closed_error();
    const int fd = fd_;
    fd_ = -1;
    return close_fd(fd, path_);
  }

  std::uint64_t size() const override { return size_; }

 private:
  Status closed_error() const { return Status::invalid_argument(path_ + ": file is closed"); }

  int fd_;  // -1 once closed
  const std::string path_;
  std::uint64_t size_;
  Status error_;  // the first append/sync failure; sticky
};

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixReadableFile() override { ::close(fd_); }

  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    return pread_fully(fd_, path_, offset, out);
  }

  Result<std::uint64_t> size() const override { return fstat_size(fd_, path_); }

 private:
  const int fd_;
  const std::string path_;
};

class PosixRandomRWFile final : public RandomRWFile {
 public:
  PosixRandomRWFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixRandomRWFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    LIGHTNING_RETURN_IF_ERROR(check_writable());
    std::size_t done = 0;
    while (done < data.size()) {
      const std::uint64_t at = offset + done;
      const ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return poison(posix_error_at("pwrite", path_, at, errno));
      }
      if (n == 0) {  // not expected for regular files; never spin
        return poison(Status::io_error("pwrite " + path_ + " at offset " + std::to_string(at) +
                                       ": wrote 0 bytes"));
      }
      done += static_cast<std::size_t>(n);
    }
    return Status::ok();
  }

  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    if (fd_ < 0) return closed_error();
    return pread_fully(fd_, path_, offset, out);
  }

  Status sync() override {
    LIGHTNING_RETURN_IF_ERROR(check_writable());
    Status s = sync_fd(fd_, path_);
    return s.is_ok() ? s : poison(std::move(s));
  }

  void prefetch(std::uint64_t offset, std::uint64_t length) const override {
    if (fd_ >= 0) {
      (void)::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_WILLNEED);
    }
  }

  Result<std::uint64_t> size() const override {
    if (fd_ < 0) return closed_error();
    return fstat_size(fd_, path_);
  }

  Status truncate(std::uint64_t size) override {
    LIGHTNING_RETURN_IF_ERROR(check_writable());
    int rc;
    do {
      rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
      return poison(posix_error("ftruncate", path_ + " to " + std::to_string(size), errno));
    return Status::ok();
  }

  Status close() override {
    if (fd_ < 0) return closed_error();
    const int fd = fd_;
    fd_ = -1;
    return close_fd(fd, path_);
  }

 private:
  Status closed_error() const { return Status::invalid_argument(path_ + ": file is closed"); }
  Status check_writable() const { return fd_ < 0 ? closed_error() : error_; }
  Status poison(Status s) {
    error_ = s;
    return s;
  }

  int fd_;  // -1 once closed
  const std::string path_;
  Status error_;  // the first write_at/sync/truncate failure; sticky
};

class PosixMappedRegion final : public MappedRegion {
 public:
  PosixMappedRegion(void* addr, std::size_t size) : addr_(addr), size_(size) {}
  ~PosixMappedRegion() override {
    if (size_ > 0) ::munmap(addr_, size_);
  }
  std::span<const std::byte> data() const override {
    return {static_cast<const std::byte*>(addr_), size_};
  }
  void prefetch(std::size_t offset, std::size_t length) const override {
    if (offset >= size_) return;
    length = std::min(length, size_ - offset);
    // madvise wants a page-aligned start.
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t start = offset / page * page;
    (void)::madvise(static_cast<char*>(addr_) + start, length + (offset - start), MADV_WILLNEED);
  }

 private:
  void* const addr_;  // nullptr for an empty file (nothing mapped)
  const std::size_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing releases the flock

 private:
  const int fd_;
};

int open_retrying(const std::string& path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                          OpenMode mode) override {
    int flags = O_WRONLY | O_APPEND;
    switch (mode) {
      case OpenMode::kCreateOrTruncate:
        flags |= O_CREAT | O_TRUNC;
        break;
      case OpenMode::kCreateNew:
        flags |= O_CREAT | O_EXCL;
        break;
      case OpenMode::kAppendExisting:
        break;
    }
    const int fd = open_retrying(path, flags);
    if (fd < 0) return posix_error("open", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      Status s = posix_error("fstat", path, errno);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(fd, path, static_cast<std::uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<ReadableFile>> open_readable(const std::string& path) override {
    const int fd = open_retrying(path, O_RDONLY);
    if (fd < 0) return posix_error("open", path, errno);
    return std::unique_ptr<ReadableFile>(std::make_unique<PosixReadableFile>(fd, path));
  }

  Result<std::unique_ptr<RandomRWFile>> open_random_rw(const std::string& path,
                                                       bool create) override {
    const int fd = open_retrying(path, create ? O_RDWR | O_CREAT : O_RDWR);
    if (fd < 0) return posix_error("open", path, errno);
    return std::unique_ptr<RandomRWFile>(std::make_unique<PosixRandomRWFile>(fd, path));
  }

  // mmap(PROT_READ, MAP_SHARED) of the whole file; the fd is closed at once
  // (the mapping keeps the file alive).
  Result<std::unique_ptr<MappedRegion>> map_readonly(const std::string& path,
                                                     std::uint64_t length) override {
    const int fd = open_retrying(path, O_RDONLY);
    if (fd < 0) return posix_error("open", path, errno);
    Result<std::uint64_t> size = fstat_size(fd, path);
    if (!size) {
      ::close(fd);
      return size.status();
    }
    const std::uint64_t want = std::max(*size, length);
    if (want > std::numeric_limits<std::size_t>::max()) {
      ::close(fd);
      return Status::not_supported("mmap " + path + ": " + std::to_string(want) +
                                   " bytes do not fit the address space");
    }
    const auto len = static_cast<std::size_t>(want);
    void* addr = nullptr;
    if (len > 0) {
      addr = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
      if (addr == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return posix_error("mmap", path, err);
      }
    }
    ::close(fd);
    return std::unique_ptr<MappedRegion>(std::make_unique<PosixMappedRegion>(addr, len));
  }

  Result<bool> exists(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return posix_error("stat", path, errno);
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return posix_error("opendir", dir, errno);
    std::vector<std::string> names;
    while (true) {
      errno = 0;
      const dirent* e = ::readdir(d);
      if (e == nullptr) break;
      const std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return posix_error("readdir", dir, err);
    return names;
  }

  Status create_dir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status::ok();
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::ok();
    if (err == EEXIST) return Status::io_error("mkdir " + dir + ": exists and is not a directory");
    return posix_error("mkdir", dir, err);
  }

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return posix_error("unlink", path, errno);
    return Status::ok();
  }

  Status rename_file(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return posix_error("rename", from + " -> " + to, errno);
    }
    return Status::ok();
  }

  Status truncate_file(const std::string& path, std::uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return posix_error("truncate", path + " to " + std::to_string(size), errno);
    }
    return Status::ok();
  }

  Status sync_dir(const std::string& dir) override {
    const int fd = open_retrying(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return posix_error("open", dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = posix_error("fsync", dir, errno);
    ::close(fd);
    return s;
  }

  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    const int fd = open_retrying(path, O_RDWR | O_CREAT);
    if (fd < 0) return posix_error("open", path, errno);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::busy(path + ": is locked by another process or Database instance");
      }
      return posix_error("flock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }
};

}  // namespace

std::shared_ptr<FileSystem> default_file_system() {
  static const std::shared_ptr<FileSystem> fs = std::make_shared<PosixFileSystem>();
  return fs;
}

}  // namespace lightning
