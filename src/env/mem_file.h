// MemCore: the in-memory file and directory model shared by the in-memory
// file system (mem_file_system.cc) and the fault-injecting one
// (fault_injection_file_system.cc). Internal; not part of the public API.
//
// Model:
//  - An Inode holds one file's bytes. Directory entries and open handles hold
//    shared_ptrs to it, so (as on POSIX) a handle keeps working after its file
//    is renamed or removed, and readers see bytes appended after they opened.
//  - Directories are real: a file can only be created in an existing
//    directory, create_dir does not create parents. The roots "/" (absolute
//    paths) and "" (relative paths) always exist. Directories are never
//    removed (the FileSystem interface has no remove_dir).
//  - Paths are normalized: repeated '/', trailing '/' and "." components are
//    ignored. ".." is an ordinary name. Messages quote the caller's path.
//  - Rename of a directory is not supported (IOError).
//
// Durability bookkeeping lives in each Inode (synced length, see below) so the
// fault-injecting subclass can simulate power loss; the plain in-memory file
// system ignores it.
//
// Thread safety: every public method takes mu_; Inode contents are protected
// by the mu_ of the MemCore that owns them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/file_system.h"
#include "util/thread_annotations.h"

namespace lightning {

// One file's bytes. All fields are protected by the owning MemCore::mu_.
//
// Invariant: when durable_override is empty, the durable contents are
// data[0, synced) and synced <= data.size(); otherwise the durable contents
// are *durable_override (a shrinking truncate happened since the last sync).
struct Inode {
  std::string data;                             // live bytes (what reads see)
  std::uint64_t synced = 0;                     // durable prefix of data
  std::optional<std::string> durable_override;  // durable bytes after a shrink

  // Shrinks or grows (with zeros) the live bytes; the durable bytes stay.
  void resize(std::uint64_t size);
  // Makes the live bytes durable.
  void mark_synced();
  std::uint64_t durable_size() const;
};

using DirEntries = std::map<std::string, std::shared_ptr<Inode>>;

class MemCore : public std::enable_shared_from_this<MemCore> {
 public:
  MemCore();
  virtual ~MemCore();
  MemCore(const MemCore&) = delete;
  MemCore& operator=(const MemCore&) = delete;

  // The FileSystem operations (same contracts as lightning::FileSystem).
  // REQUIRES: *this is owned by a shared_ptr (handles keep the core alive).
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                          FileSystem::OpenMode mode) EXCLUDES(mu_);
  Result<std::unique_ptr<ReadableFile>> open_readable(const std::string& path) EXCLUDES(mu_);
  Result<bool> exists(const std::string& path) EXCLUDES(mu_);
  Result<std::vector<std::string>> list_dir(const std::string& dir) EXCLUDES(mu_);
  Status create_dir(const std::string& dir) EXCLUDES(mu_);
  Status remove_file(const std::string& path) EXCLUDES(mu_);
  Status rename_file(const std::string& from, const std::string& to) EXCLUDES(mu_);
  Status truncate_file(const std::string& path, std::uint64_t size) EXCLUDES(mu_);
  Status sync_dir(const std::string& dir) EXCLUDES(mu_);
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) EXCLUDES(mu_);

  // Used by the handles. `epoch` is the epoch_ at open time: a handle from an
  // older epoch is dead (IOError). append stores *stored bytes (all of data
  // unless a hook tears the write).
  Status append(Inode& inode, const std::string& path, std::uint64_t epoch,
                std::span<const std::byte> data, std::size_t* stored) EXCLUDES(mu_);
  Status sync(Inode& inode, const std::string& path, std::uint64_t epoch) EXCLUDES(mu_);
  Status check_alive(const std::string& path, std::uint64_t epoch) EXCLUDES(mu_);
  Result<std::size_t> read(const Inode& inode, const std::string& path, std::uint64_t epoch,
                           std::uint64_t offset, std::span<std::byte> out) EXCLUDES(mu_);
  Result<std::uint64_t> size(const Inode& inode, const std::string& path, std::uint64_t epoch)
      EXCLUDES(mu_);
  void unlock(const std::string& normalized_path) EXCLUDES(mu_);

  // "a//b/./c/" -> "a/b/c"; "/" and "" are the two roots.
  static std::string normalize(std::string_view path);

 protected:
  struct Dir {
    DirEntries files;
    std::set<std::string> subdirs;
  };

  // Hooks for the fault-injecting subclass, called with mu_ held before the
  // operation takes effect; a non-ok Status fails the operation.
  // on_append may lower *stored (initially data size) to tear a failing write.
  virtual Status on_create(const std::string& path) REQUIRES(mu_);
  virtual Status on_append(const std::string& path, std::size_t* stored) REQUIRES(mu_);
  virtual Status on_sync(const std::string& path) REQUIRES(mu_);
  virtual Status on_sync_dir(const std::string& dir, const Dir& entries) REQUIRES(mu_);

  // Looks up the file at a normalized path; nullptr if absent.
  std::shared_ptr<Inode> find_file(const std::string& normalized) REQUIRES(mu_);

  Mutex mu_;
  std::map<std::string, Dir> dirs_ GUARDED_BY(mu_);  // normalized dir path -> entries
  std::set<std::string> locked_ GUARDED_BY(mu_);     // normalized paths of held locks
  std::uint64_t epoch_ GUARDED_BY(mu_) = 0;          // bumped by a simulated crash

 private:
  // The directory holding the normalized path, and the entry name in it.
  struct Place {
    Dir* dir = nullptr;  // nullptr if the parent directory does not exist
    std::string name;
  };
  Place place(const std::string& normalized) REQUIRES(mu_);
};

}  // namespace lightning
