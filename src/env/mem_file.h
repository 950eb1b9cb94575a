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
// Durability bookkeeping (used only by the fault-injecting subclass, which
// passes track_durability): each Inode keeps its durable bytes and the log of
// changes made since its last sync, so a simulated power loss can rebuild any
// state a real disk could be left in. The plain in-memory file system does
// not track (no copies, no log).
//
// Thread safety: every public method takes mu_; Inode contents are protected
// by the mu_ of the MemCore that owns them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/file_system.h"
#include "util/thread_annotations.h"

namespace lightning {

// One change to a file not yet made durable by a sync, in log order.
struct PendingOp {
  enum class Kind { kWrite, kResize };
  Kind kind = Kind::kWrite;
  std::uint64_t offset = 0;  // kWrite: where the bytes go; kResize: the new size
  std::string bytes;         // kWrite: the bytes written
  bool positioned = false;   // made through a RandomRWFile (write_at / truncate)
};

// One file's bytes. All fields but track_durability are protected by the
// owning MemCore::mu_.
//
// Invariant (when track_durability): applying `pending` in order to `durable`
// yields `data`. Otherwise durable and pending stay empty.
struct Inode {
  explicit Inode(bool track) : track_durability(track) {}

  const bool track_durability;
  std::string data;                // live bytes (what reads see)
  std::string durable;             // the bytes as of the last sync
  std::vector<PendingOp> pending;  // changes since the last sync, oldest first

  // Writes bytes at offset, zero-filling any gap; empty bytes change nothing.
  // Consecutive appends (positioned == false, contiguous) share one log entry.
  void write(std::uint64_t offset, std::string_view bytes, bool positioned);
  // Shrinks or grows (with zeros) the live bytes; the durable bytes stay.
  void resize(std::uint64_t size, bool positioned);
  // Makes the live bytes durable.
  void mark_synced();
  std::uint64_t durable_size() const;
  // True if some unsynced change came through a RandomRWFile.
  bool has_positioned_pending() const;
};

// Applies a write to image: zero-fills up to offset, then overwrites/extends.
void apply_write(std::string& image, std::uint64_t offset, std::string_view bytes);

using DirEntries = std::map<std::string, std::shared_ptr<Inode>>;

class MemCore : public std::enable_shared_from_this<MemCore> {
 public:
  // track_durability: keep Inode::durable / Inode::pending up to date.
  explicit MemCore(bool track_durability = false);
  virtual ~MemCore();
  MemCore(const MemCore&) = delete;
  MemCore& operator=(const MemCore&) = delete;

  // The FileSystem operations (same contracts as lightning::FileSystem).
  // REQUIRES: *this is owned by a shared_ptr (handles keep the core alive).
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                          FileSystem::OpenMode mode) EXCLUDES(mu_);
  Result<std::unique_ptr<ReadableFile>> open_readable(const std::string& path) EXCLUDES(mu_);
  Result<std::unique_ptr<RandomRWFile>> open_random_rw(const std::string& path, bool create)
      EXCLUDES(mu_);
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
  // unless a hook tears the write); write_at likewise at offset.
  Status append(Inode& inode, const std::string& path, std::uint64_t epoch,
                std::span<const std::byte> data, std::size_t* stored) EXCLUDES(mu_);
  Status write_at(Inode& inode, const std::string& path, std::uint64_t epoch, std::uint64_t offset,
                  std::span<const std::byte> data) EXCLUDES(mu_);
  Status truncate(Inode& inode, const std::string& path, std::uint64_t epoch, std::uint64_t size)
      EXCLUDES(mu_);
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
  // on_write (append or write_at, named by op) may lower *stored (initially
  // the data size) to tear a failing write.
  virtual Status on_create(const std::string& path) REQUIRES(mu_);
  virtual Status on_write(std::string_view op, const std::string& path, std::size_t* stored)
      REQUIRES(mu_);
  virtual Status on_sync(const std::string& path) REQUIRES(mu_);
  virtual Status on_sync_dir(const std::string& dir, const Dir& entries) REQUIRES(mu_);

  // Looks up the file at a normalized path; nullptr if absent.
  std::shared_ptr<Inode> find_file(const std::string& normalized) REQUIRES(mu_);
  std::shared_ptr<Inode> make_inode() const { return std::make_shared<Inode>(track_durability_); }

  const bool track_durability_;

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
