// FileSystem: the only way Lightning DB touches storage.
//
// Every file the engine reads or writes goes through this interface, so that
// tests can run the engine on an in-memory or a fault-injecting file system
// and so that embedders can route I/O elsewhere.
//
// Paths are plain strings joined with '/'. Errors come back as Status values
// whose message names the path (and offset where one applies).
//
// Thread safety: a FileSystem may be called from any number of threads at
// once. A single WritableFile / ReadableFile object is used by one thread at a
// time (the engine serializes access to each file it owns); RandomRWFile
// states its own rules.
//
// Durability contract (what the engine relies on):
//  - WritableFile::sync() returns ok only after every byte appended so far is
//    durable.
//  - A file created, renamed or removed is durable in its directory only
//    after sync_dir() on that directory returns ok.
//  - After a crash, a file holds a prefix of what was appended to it that is
//    at least as long as what was synced (the unsynced rest may be torn).
//  - RandomRWFile::sync() returns ok only after every write_at and truncate
//    so far is durable. After a crash, any unsynced write_at may have reached
//    the disk entirely, partly or not at all, in any order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/status.h"

namespace lightning {

// A file open for appending. Created by FileSystem::new_writable_file.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends data at the end of the file.
  virtual Status append(std::span<const std::byte> data) = 0;
  // Makes every appended byte durable (fdatasync on POSIX).
  virtual Status sync() = 0;
  // Closes the file; further calls fail. Does not sync. Destruction closes too.
  virtual Status close() = 0;
  // Bytes appended so far, including the size the file had when opened.
  virtual std::uint64_t size() const = 0;
};

// A file open for positioned reads. Created by FileSystem::open_readable.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to out.size() bytes at offset into out; returns how many bytes
  // were read (fewer only at end of file).
  virtual Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const = 0;
  // Current size of the file.
  virtual Result<std::uint64_t> size() const = 0;
};

// A file open for positioned reads and writes (the page store's data file).
// Created by FileSystem::open_random_rw.
//
// Thread safety: read_at and size may be called concurrently with each other
// and with write_at on disjoint byte ranges; write_at, sync and truncate are
// serialized by the caller; close runs with no other call in progress.
//
// Errors are sticky: once write_at, sync or truncate has failed, every later
// write_at, sync and truncate on this handle returns that same error (after a
// failed fdatasync the kernel may have dropped the dirty pages, so a retry
// that "succeeds" would lie). read_at keeps working. Reopen to start afresh.
class RandomRWFile {
 public:
  virtual ~RandomRWFile() = default;
  // Writes data at offset, extending the file (with zeros in any gap) if needed.
  virtual Status write_at(std::uint64_t offset, std::span<const std::byte> data) = 0;
  // Reads up to out.size() bytes at offset into out; returns how many bytes
  // were read (fewer only at end of file, 0 at or past it).
  virtual Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const = 0;
  // Makes every write_at and truncate so far durable (fdatasync).
  virtual Status sync() = 0;
  // Current size of the file.
  virtual Result<std::uint64_t> size() const = 0;
  // Shrinks or extends (zeros) the file; durable after sync().
  virtual Status truncate(std::uint64_t size) = 0;
  // Closes the file; further calls fail. Does not sync. Destruction closes too.
  virtual Status close() = 0;
  // A hint that [offset, offset + length) will be read soon (read-ahead).
  // May do nothing (the default, and the in-memory file systems); never
  // changes the file. Errors are not reported: a hint can only be ignored.
  virtual void prefetch(std::uint64_t offset, std::uint64_t length) const {
    (void)offset;
    (void)length;
  }
};

// A read-only memory mapping of a file's first size() bytes. Created by
// FileSystem::map_readonly; unmapped when destroyed.
//
// The mapping is shared: later writes to bytes inside it become visible.
// It may be longer than the file (address space reserved for growth): bytes
// past the end of the file become readable once the file grows over them.
// Touching a mapped byte that lies past the current end of the file (never
// written, or removed by a truncate) raises SIGBUS, as does a media error
// while the kernel reads a page in; the caller must only touch bytes it
// knows the file holds. Thread safety: every method may be called
// concurrently; data() is constant.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  // The mapped bytes; empty for an empty mapping.
  virtual std::span<const std::byte> data() const = 0;
  std::size_t size() const { return data().size(); }
  // A hint that [offset, offset + length) of the mapping will be read soon
  // (madvise WILLNEED). May do nothing; errors are not reported.
  virtual void prefetch(std::size_t offset, std::size_t length) const {
    (void)offset;
    (void)length;
  }
};

// An exclusive advisory lock on a file; released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  enum class OpenMode { kCreateOrTruncate, kCreateNew, kAppendExisting };

  // Opens path for appending. kCreateNew fails if the file exists;
  // kAppendExisting fails with NotFound if it does not.
  virtual Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                                  OpenMode mode) = 0;
  // Opens path for reading; NotFound if it does not exist.
  virtual Result<std::unique_ptr<ReadableFile>> open_readable(const std::string& path) = 0;
  // Opens path for positioned reads/writes; creates it (empty) when create is
  // true and it is missing; NotFound when create is false and it is missing.
  // A created file's directory entry is durable only after sync_dir().
  // The same file may also be opened with new_writable_file / open_readable.
  virtual Result<std::unique_ptr<RandomRWFile>> open_random_rw(const std::string& path,
                                                               bool create) = 0;
  // Maps the file at path read-only (see MappedRegion): max(file size,
  // length) bytes, so a length past the end reserves room for the file to
  // grow into. Optional: the default, and the in-memory file systems, return
  // NotSupported; callers must fall back to read_at. NotFound if path does
  // not exist.
  virtual Result<std::unique_ptr<MappedRegion>> map_readonly(const std::string& path,
                                                             std::uint64_t length = 0) {
    (void)length;
    return Status::not_supported(path + ": map_readonly is not supported by this file system");
  }

  virtual Result<bool> exists(const std::string& path) = 0;
  // Names (not paths) of the entries of dir, unsorted, without "." and "..".
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Creates dir if it is missing (not its parents); ok if it exists.
  virtual Status create_dir(const std::string& dir) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status rename_file(const std::string& from, const std::string& to) = 0;
  // Shrinks (or grows with zeros) a file to size bytes; durable after a sync
  // of the file (the engine reopens it for append and syncs).
  virtual Status truncate_file(const std::string& path, std::uint64_t size) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  // Takes an exclusive lock on path (creating it). Busy if another holder,
  // in this or another process, has it.
  virtual Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) = 0;
};

// The POSIX file system (open/write/pread/fdatasync/flock). Shared, never null.
std::shared_ptr<FileSystem> default_file_system();

// A new, empty, process-local in-memory file system. Everything is durable
// immediately and vanishes when the last reference goes away.
std::shared_ptr<FileSystem> new_in_memory_file_system();

}  // namespace lightning
