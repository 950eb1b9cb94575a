// FaultInjectionFileSystem: an in-memory file system for crash and I/O error
// tests. It keeps two images, like a disk with a volatile cache:
//  - the live image: what reads see (every append, write_at, truncate,
//    create, rename, remove);
//  - the durable image: per file, its bytes as of its last successful sync
//    (WritableFile::sync or RandomRWFile::sync, whichever handle) and the log
//    of its changes since; per directory, the set of entries as of the last
//    sync_dir().
// drop_unsynced() simulates power loss: every directory reverts to its
// durable entries and every file to its durable bytes plus whatever part of
// its unsynced changes the DropMode lets survive (below). Files opened before
// the drop are dead afterwards: their operations fail with IOError.
//
// What survives a drop, per file (kDropAll: nothing unsynced, always):
//  - Appends only (every unsynced change came through WritableFile::append,
//    new_writable_file or truncate_file): the contract of file_system.h, a
//    prefix of the file. kKeepTornPrefix keeps a random prefix (possibly
//    empty, possibly all) of the unsynced tail; kTornWithGarbage keeps a
//    strict prefix followed by 1-8 random bytes, never past the live size.
//    If the file was shrunk below its durable size, nothing unsynced survives.
//  - Positioned (some unsynced change came through a RandomRWFile): the log
//    of unsynced changes is replayed in order over the durable bytes, and
//    each write_at (and each append in the log) lands whole, as a strict
//    prefix, or not at all, independently and at random; each truncate lands
//    or not. So any subset of the unsynced writes may survive, in any order,
//    and the last one to land on an overlapping range wins, as when a disk
//    writes back dirty pages in arbitrary order. With kTornWithGarbage a torn
//    write is followed by 1-8 random bytes inside its own range. Bytes that no
//    unsynced write touched keep their durable value. (Not modelled: one
//    write landing as a non-prefix subset of its pages; callers that care
//    about page-level tearing issue one write_at per page.)
// The choices come from drop_unsynced's seed only, so runs are reproducible.
//
// Error injection: fail_after(op, n, err) makes the n-th following operation
// of that kind (1 = the next one) fail with EIO or ENOSPC; a failing append or
// write_at may first store a prefix (torn write). Errors repeat for every
// later call of that kind until clear_faults() when `sticky` is set.
// Independently of that, a RandomRWFile whose write_at/sync/truncate failed is
// poisoned for good (as on POSIX, see file_system.h); a WritableFile is not.
//
// Which calls each Op covers (and the counters count):
//  - kWrite: WritableFile::append and RandomRWFile::write_at (write_count
//    counts every call, failed too).
//  - kSync: WritableFile::sync, RandomRWFile::sync and sync_dir (sync_count
//    counts all, failed too). A failed sync makes nothing durable.
//  - kCreate: new_writable_file in kCreateOrTruncate or kCreateNew mode, and
//    open_random_rw(create = true) of a missing file.
// RandomRWFile::truncate and truncate_file are never failed.
// Injected errors are IOError whose message names the operation and path (and
// the offset for write_at) and says "injected EIO" or "injected ENOSPC".
// Torn-write lengths come from an internal generator with a fixed seed, so
// runs are reproducible.
//
// Model details (shared with the in-memory file system, see mem_file.h):
// directories are durable as soon as create_dir returns; truncate_file,
// RandomRWFile::truncate and a kCreateOrTruncate reopen change only the live
// image until the file is synced; drop_unsynced does not release locks (they
// go with their FileLock). map_readonly is NotSupported.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "lightning/file_system.h"

namespace lightning {

class FaultInjectionFileSystem : public FileSystem {
 public:
  FaultInjectionFileSystem();
  ~FaultInjectionFileSystem() override;

  enum class Op { kWrite, kSync, kCreate };
  enum class Error { kEIO, kENOSPC };
  // The n-th (1-based) next operation of kind op fails with err. When sticky,
  // it and every later one of that kind fail until clear_faults().
  // For kWrite, a failing append or write_at first stores a random strict
  // prefix of its data (a torn write) when torn_write is true.
  void fail_after(Op op, int n, Error err, bool sticky = false, bool torn_write = false);
  void clear_faults();

  enum class DropMode {
    kDropAll,          // every unsynced byte disappears
    kKeepTornPrefix,   // some unsynced bytes survive (see the class comment)
    kTornWithGarbage,  // like kKeepTornPrefix, plus a few random bytes
  };
  // Simulates power loss (see class comment). seed drives the random choices.
  void drop_unsynced(DropMode mode = DropMode::kDropAll, std::uint64_t seed = 0);

  // Counters for tests.
  std::uint64_t sync_count() const;
  std::uint64_t write_count() const;
  // Live size of path (NotFound -> 0).
  std::uint64_t live_size(const std::string& path) const;
  // Durable size of path (as of its last sync; NotFound -> 0).
  std::uint64_t synced_size(const std::string& path) const;
  // Direct byte access for corruption tests: overwrite bytes at offset in the
  // live image, the durable image and every unsynced write covering them, so
  // the damage outlives drop_unsynced (clipped to each; no-op outside).
  void corrupt_bytes(const std::string& path, std::uint64_t offset, std::string_view bytes);

  // FileSystem
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                          OpenMode mode) override;
  Result<std::unique_ptr<ReadableFile>> open_readable(const std::string& path) override;
  Result<std::unique_ptr<RandomRWFile>> open_random_rw(const std::string& path,
                                                       bool create) override;
  Result<bool> exists(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  Status remove_file(const std::string& path) override;
  Status rename_file(const std::string& from, const std::string& to) override;
  Status truncate_file(const std::string& path, std::uint64_t size) override;
  Status sync_dir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace lightning
