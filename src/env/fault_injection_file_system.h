// FaultInjectionFileSystem: an in-memory file system for crash and I/O error
// tests. It keeps two images, like a disk with a volatile cache:
//  - the live image: what reads see (every append, create, rename, remove);
//  - the durable image: per file, the length that has been synced; per
//    directory, the set of entries as of the last sync_dir().
// drop_unsynced() simulates power loss: every file shrinks to its synced
// length (or keeps a torn prefix of the unsynced bytes, see DropMode) and every
// directory reverts to its durable entries. Files opened before the drop are
// dead afterwards: their operations fail with IOError.
//
// Error injection: fail_after(op, n, err) makes the n-th following operation
// of that kind (1 = the next one) fail with EIO or ENOSPC; a failing append
// may first write a prefix (torn write). Errors repeat for every later call of
// that kind until clear_faults() when `sticky` is set.
//
// Which calls each Op covers (and the counters count):
//  - kWrite: WritableFile::append (write_count counts every call, failed too).
//  - kSync: WritableFile::sync and sync_dir (sync_count counts both, failed
//    too). A failed sync makes nothing durable.
//  - kCreate: new_writable_file in kCreateOrTruncate or kCreateNew mode.
// Injected errors are IOError whose message names the operation and path and
// says "injected EIO" or "injected ENOSPC". Torn-write lengths come from an
// internal generator with a fixed seed, so runs are reproducible.
//
// Model details (shared with the in-memory file system, see mem_file.h):
// directories are durable as soon as create_dir returns; truncate_file and
// a kCreateOrTruncate reopen change only the live image until the file is
// synced; drop_unsynced does not release locks (they go with their FileLock).
// kTornWithGarbage never makes a file longer than its live size.
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
  // For kWrite, a failing append first stores a random prefix of its data
  // (a torn write) when torn_write is true.
  void fail_after(Op op, int n, Error err, bool sticky = false, bool torn_write = false);
  void clear_faults();

  enum class DropMode {
    kDropAll,          // every unsynced byte disappears
    kKeepTornPrefix,   // a random prefix of each file's unsynced bytes survives
    kTornWithGarbage,  // like kKeepTornPrefix, then a few random bytes
  };
  // Simulates power loss (see class comment). seed drives the random choices.
  void drop_unsynced(DropMode mode = DropMode::kDropAll, std::uint64_t seed = 0);

  // Counters for tests.
  std::uint64_t sync_count() const;
  std::uint64_t write_count() const;
  // Live size of path (NotFound -> 0).
  std::uint64_t live_size(const std::string& path) const;
  // Synced size of path.
  std::uint64_t synced_size(const std::string& path) const;
  // Direct byte access for corruption tests: overwrite bytes in the live and
  // durable image at offset (no-op outside the file).
  void corrupt_bytes(const std::string& path, std::uint64_t offset, std::string_view bytes);

  // FileSystem
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path,
                                                          OpenMode mode) override;
  Result<std::unique_ptr<ReadableFile>> open_readable(const std::string& path) override;
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
