// FaultInjectionFileSystem: MemCore (mem_file.h) plus a durable image and
// fault hooks. Durable image: each Inode's durable bytes plus its log of
// unsynced changes (Inode::durable / Inode::pending) and, per directory, the
// entries as of its last sync_dir (durable_). Directories themselves count as
// durable once created.
#include "env/fault_injection_file_system.h"

#include <algorithm>
#include <array>
#include <random>
#include <set>
#include <string_view>

#include "env/mem_file.h"

namespace lightning {

struct FaultInjectionFileSystem::State final : MemCore {
  using MemCore::mu_;  // the accessors below lock it directly

  struct Fault {
    bool armed = false;
    bool firing = false;  // a sticky fault that has triggered
    int countdown = 0;    // operations left until the fault triggers
    Error err = Error::kEIO;
    bool sticky = false;
    bool torn_write = false;
  };

  State() : MemCore(/*track_durability=*/true), rng_(0x5eed) {}

  // Counts one operation of kind op; returns the injected error if it fails.
  Status check(Op op, const std::string& what, const std::string& path, bool* torn) REQUIRES(mu_) {
    Fault& f = faults_[static_cast<std::size_t>(op)];
    if (!f.armed) return Status::ok();
    if (!f.firing && --f.countdown > 0) return Status::ok();
    if (f.sticky) {
      f.firing = true;
    } else {
      f.armed = false;
    }
    if (torn != nullptr) *torn = f.torn_write;
    const std::string_view name = f.err == Error::kEIO
                                      ? "injected EIO (Input/output error)"
                                      : "injected ENOSPC (No space left on device)";
    return Status::io_error(what + " " + path + ": " + std::string(name));
  }

  Status on_create(const std::string& path) REQUIRES(mu_) override {
    return check(Op::kCreate, "create", path, nullptr);
  }
  Status on_write(std::string_view op, const std::string& path, std::size_t* stored)
      REQUIRES(mu_) override {
    ++writes_;
    bool torn = false;
    Status s = check(Op::kWrite, std::string(op), path, &torn);
    if (!s.is_ok()) {
      // A torn write keeps a strict prefix (possibly empty) of the data.
      *stored = torn && *stored > 0
                    ? std::uniform_int_distribution<std::size_t>(0, *stored - 1)(rng_)
                    : 0;
    }
    return s;
  }
  Status on_sync(const std::string& path) REQUIRES(mu_) override {
    ++syncs_;
    return check(Op::kSync, "sync", path, nullptr);
  }
  Status on_sync_dir(const std::string& dir, const Dir& entries) REQUIRES(mu_) override {
    ++syncs_;
    LIGHTNING_RETURN_IF_ERROR(check(Op::kSync, "sync_dir", dir.empty() ? "." : dir, nullptr));
    durable_[dir] = entries.files;
    return Status::ok();
  }

  void fail_after(Op op, int n, Error err, bool sticky, bool torn_write) EXCLUDES(mu_) {
    MutexLock l(mu_);
    faults_[static_cast<std::size_t>(op)] = Fault{.armed = true,
                                                  .firing = false,
                                                  .countdown = std::max(n, 1),
                                                  .err = err,
                                                  .sticky = sticky,
                                                  .torn_write = torn_write};
  }

  void clear_faults() EXCLUDES(mu_) {
    MutexLock l(mu_);
    faults_ = {};
  }

  // Reduces one file to what a power loss leaves of it (see the header).
  static void crash_inode(Inode& inode, DropMode mode, std::mt19937_64& rng) {
    if (mode == DropMode::kDropAll) {
      inode.data = inode.durable;
    } else if (inode.has_positioned_pending()) {
      inode.data = crash_positioned(inode, mode == DropMode::kTornWithGarbage, rng);
    } else {
      crash_appended(inode, mode, rng);
    }
    inode.pending.clear();
    inode.durable = inode.data;
  }

  // Appends (and truncate_file) only: a prefix of the unsynced tail survives,
  // unless the file was shrunk below its durable size, then nothing does.
  static void crash_appended(Inode& inode, DropMode mode, std::mt19937_64& rng) {
    const bool shrunk =
        std::any_of(inode.pending.begin(), inode.pending.end(), [&](const auto& op) {
          return op.kind == PendingOp::Kind::kResize && op.offset < inode.durable.size();
        });
    if (shrunk) {
      inode.data = inode.durable;
      return;
    }
    // Not shrunk: every change landed at or past the durable end, so the
    // durable bytes are a prefix of the live ones.
    const std::uint64_t synced = inode.durable.size();
    const std::uint64_t unsynced = inode.data.size() - synced;
    std::uint64_t keep = 0;
    std::string garbage;
    if (unsynced > 0 && mode == DropMode::kKeepTornPrefix) {
      keep = std::uniform_int_distribution<std::uint64_t>(0, unsynced)(rng);
    } else if (unsynced > 0 && mode == DropMode::kTornWithGarbage) {
      keep = std::uniform_int_distribution<std::uint64_t>(0, unsynced - 1)(rng);
      const std::uint64_t max_garbage = std::min<std::uint64_t>(8, unsynced - keep);
      garbage.resize(std::uniform_int_distribution<std::uint64_t>(1, max_garbage)(rng));
      for (char& c : garbage) c = static_cast<char>(rng());
    }
    inode.data.resize(synced + keep);
    inode.data += garbage;
  }

  // Some change came through a RandomRWFile: replay the log over the durable
  // bytes, each write landing whole, as a strict prefix (then up to 8 garbage
  // bytes inside its range when garbage is set) or not at all; each resize
  // lands or not.
  static std::string crash_positioned(const Inode& inode, bool garbage, std::mt19937_64& rng) {
    std::string image = inode.durable;
    for (const PendingOp& op : inode.pending) {
      if (op.kind == PendingOp::Kind::kResize) {
        if (rng() % 2 == 0) image.resize(op.offset, '\0');
        continue;
      }
      switch (rng() % 3) {
        case 0:  // lost
          break;
        case 1:  // landed whole
          apply_write(image, op.offset, op.bytes);
          break;
        default: {  // torn (Inode::write logs no empty writes)
          const std::size_t len = op.bytes.size();
          const std::size_t keep = std::uniform_int_distribution<std::size_t>(0, len - 1)(rng);
          std::string landed = op.bytes.substr(0, keep);
          if (garbage) {
            const std::size_t max_garbage = std::min<std::size_t>(8, len - keep);
            const std::size_t n = std::uniform_int_distribution<std::size_t>(1, max_garbage)(rng);
            for (std::size_t i = 0; i < n; ++i) landed += static_cast<char>(rng());
          }
          apply_write(image, op.offset, landed);
          break;
        }
      }
    }
    return image;
  }

  void drop_unsynced(DropMode mode, std::uint64_t seed) EXCLUDES(mu_) {
    MutexLock l(mu_);
    std::mt19937_64 rng(seed);
    std::set<const Inode*> done;  // an inode may be durable under two names
    for (auto& [path, dir] : dirs_) {
      DirEntries restored;
      if (auto it = durable_.find(path); it != durable_.end()) restored = it->second;
      const std::set<std::string>& subdirs = dir.subdirs;
      std::erase_if(restored, [&subdirs](const auto& e) { return subdirs.contains(e.first); });
      for (auto& [name, inode] : restored) {
        if (done.insert(inode.get()).second) crash_inode(*inode, mode, rng);
      }
      dir.files = std::move(restored);
    }
    ++epoch_;
  }

  std::shared_ptr<Inode> lookup(const std::string& path) REQUIRES(mu_) {
    return find_file(normalize(path));
  }

  std::array<Fault, 3> faults_ GUARDED_BY(mu_);
  std::map<std::string, DirEntries> durable_ GUARDED_BY(mu_);  // dir -> entries at last sync_dir
  std::mt19937_64 rng_ GUARDED_BY(mu_);                        // torn-write lengths
  std::uint64_t syncs_ GUARDED_BY(mu_) = 0;
  std::uint64_t writes_ GUARDED_BY(mu_) = 0;
};

FaultInjectionFileSystem::FaultInjectionFileSystem() : state_(std::make_shared<State>()) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::fail_after(Op op, int n, Error err, bool sticky, bool torn_write) {
  state_->fail_after(op, n, err, sticky, torn_write);
}

void FaultInjectionFileSystem::clear_faults() { state_->clear_faults(); }

void FaultInjectionFileSystem::drop_unsynced(DropMode mode, std::uint64_t seed) {
  state_->drop_unsynced(mode, seed);
}

std::uint64_t FaultInjectionFileSystem::sync_count() const {
  MutexLock l(state_->mu_);
  return state_->syncs_;
}

std::uint64_t FaultInjectionFileSystem::write_count() const {
  MutexLock l(state_->mu_);
  return state_->writes_;
}

std::uint64_t FaultInjectionFileSystem::live_size(const std::string& path) const {
  MutexLock l(state_->mu_);
  std::shared_ptr<Inode> inode = state_->lookup(path);
  return inode ? inode->data.size() : 0;
}

std::uint64_t FaultInjectionFileSystem::synced_size(const std::string& path) const {
  MutexLock l(state_->mu_);
  std::shared_ptr<Inode> inode = state_->lookup(path);
  return inode ? inode->durable_size() : 0;
}

void FaultInjectionFileSystem::corrupt_bytes(const std::string& path, std::uint64_t offset,
                                             std::string_view bytes) {
  MutexLock l(state_->mu_);
  std::shared_ptr<Inode> inode = state_->lookup(path);
  if (!inode) return;
  // Overwrites the part of [offset, offset + bytes.size()) that lies inside
  // s, which holds the file's bytes from file offset base on.
  auto overwrite = [&](std::string& s, std::uint64_t base) {
    const std::uint64_t begin = std::max(offset, base);
    const std::uint64_t end = std::min<std::uint64_t>(offset + bytes.size(), base + s.size());
    if (begin >= end) return;
    s.replace(begin - base, end - begin, bytes.substr(begin - offset, end - begin));
  };
  overwrite(inode->data, 0);
  overwrite(inode->durable, 0);
  // Damage to the medium outlives a crash whichever unsynced writes land.
  for (PendingOp& op : inode->pending) {
    if (op.kind == PendingOp::Kind::kWrite) overwrite(op.bytes, op.offset);
  }
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::new_writable_file(
    const std::string& path, OpenMode mode) {
  return state_->new_writable_file(path, mode);
}
Result<std::unique_ptr<ReadableFile>> FaultInjectionFileSystem::open_readable(
    const std::string& path) {
  return state_->open_readable(path);
}
Result<std::unique_ptr<RandomRWFile>> FaultInjectionFileSystem::open_random_rw(
    const std::string& path, bool create) {
  return state_->open_random_rw(path, create);
}
Result<bool> FaultInjectionFileSystem::exists(const std::string& path) {
  return state_->exists(path);
}
Result<std::vector<std::string>> FaultInjectionFileSystem::list_dir(const std::string& dir) {
  return state_->list_dir(dir);
}
Status FaultInjectionFileSystem::create_dir(const std::string& dir) {
  return state_->create_dir(dir);
}
Status FaultInjectionFileSystem::remove_file(const std::string& path) {
  return state_->remove_file(path);
}
Status FaultInjectionFileSystem::rename_file(const std::string& from, const std::string& to) {
  return state_->rename_file(from, to);
}
Status FaultInjectionFileSystem::truncate_file(const std::string& path, std::uint64_t size) {
  return state_->truncate_file(path, size);
}
Status FaultInjectionFileSystem::sync_dir(const std::string& dir) { return state_->sync_dir(dir); }
Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::lock_file(const std::string& path) {
  return state_->lock_file(path);
}

}  // namespace lightning
