#include "env/mem_file.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace lightning {

namespace {

Status no_such_file(const std::string& path) {
  return Status::not_found(path + ": no such file or directory");
}
Status is_a_directory(const std::string& path) {
  return Status::io_error(path + ": is a directory");
}
Status dead_handle(const std::string& path) {
  return Status::io_error(path + ": file handle opened before drop_unsynced (simulated crash)");
}

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<MemCore> core, std::shared_ptr<Inode> inode, std::string path,
                  std::uint64_t epoch, std::uint64_t size)
      : core_(std::move(core)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        epoch_(epoch),
        size_(size) {}

  Status append(std::span<const std::byte> data) override {
    if (closed_) return closed_error();
    std::size_t stored = 0;
    Status s = core_->append(*inode_, path_, epoch_, data, &stored);
    size_ += stored;
    return s;
  }
  Status sync() override {
    if (closed_) return closed_error();
    return core_->sync(*inode_, path_, epoch_);
  }
  Status close() override {
    if (closed_) return closed_error();
    closed_ = true;
    return core_->check_alive(path_, epoch_);
  }
  std::uint64_t size() const override { return size_; }

 private:
  Status closed_error() const { return Status::invalid_argument(path_ + ": file is closed"); }

  const std::shared_ptr<MemCore> core_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const std::uint64_t epoch_;
  std::uint64_t size_;
  bool closed_ = false;
};

class MemReadableFile final : public ReadableFile {
 public:
  MemReadableFile(std::shared_ptr<MemCore> core, std::shared_ptr<Inode> inode, std::string path,
                  std::uint64_t epoch)
      : core_(std::move(core)), inode_(std::move(inode)), path_(std::move(path)), epoch_(epoch) {}

  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    return core_->read(*inode_, path_, epoch_, offset, out);
  }
  Result<std::uint64_t> size() const override { return core_->size(*inode_, path_, epoch_); }

 private:
  const std::shared_ptr<MemCore> core_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const std::uint64_t epoch_;
};

// Errors from write_at / sync / truncate poison the handle (see RandomRWFile).
class MemRandomRWFile final : public RandomRWFile {
 public:
  MemRandomRWFile(std::shared_ptr<MemCore> core, std::shared_ptr<Inode> inode, std::string path,
                  std::uint64_t epoch)
      : core_(std::move(core)), inode_(std::move(inode)), path_(std::move(path)), epoch_(epoch) {}

  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    LIGHTNING_RETURN_IF_ERROR(check_writable());
    return poison_on_error(core_->write_at(*inode_, path_, epoch_, offset, data));
  }
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    if (closed_) return closed_error();
    return core_->read(*inode_, path_, epoch_, offset, out);
  }
  Status sync() override {
    LIGHTNING_RETURN_IF_ERROR(check_writable());
    return poison_on_error(core_->sync(*inode_, path_, epoch_));
  }
  Result<std::uint64_t> size() const override {
    if (closed_) return closed_error();
    return core_->size(*inode_, path_, epoch_);
  }
  Status truncate(std::uint64_t size) override {
    LIGHTNING_RETURN_IF_ERROR(check_writable());
    return poison_on_error(core_->truncate(*inode_, path_, epoch_, size));
  }
  Status close() override {
    if (closed_) return closed_error();
    closed_ = true;
    return core_->check_alive(path_, epoch_);
  }

 private:
  Status closed_error() const { return Status::invalid_argument(path_ + ": file is closed"); }
  Status check_writable() const { return closed_ ? closed_error() : error_; }
  Status poison_on_error(Status s) {
    if (!s.is_ok()) error_ = s;
    return s;
  }

  const std::shared_ptr<MemCore> core_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const std::uint64_t epoch_;
  bool closed_ = false;  // written only by close(), which runs alone
  Status error_;         // the first write_at/sync/truncate failure; sticky
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::shared_ptr<MemCore> core, std::string normalized)
      : core_(std::move(core)), normalized_(std::move(normalized)) {}
  ~MemFileLock() override { core_->unlock(normalized_); }

 private:
  const std::shared_ptr<MemCore> core_;
  const std::string normalized_;
};

}  // namespace

// ---- Inode ----

void apply_write(std::string& image, std::uint64_t offset, std::string_view bytes) {
  if (bytes.empty()) return;
  if (image.size() < offset + bytes.size()) image.resize(offset + bytes.size(), '\0');
  image.replace(offset, bytes.size(), bytes);
}

void Inode::write(std::uint64_t offset, std::string_view bytes, bool positioned) {
  if (bytes.empty()) return;
  apply_write(data, offset, bytes);
  if (!track_durability) return;
  if (!positioned && !pending.empty()) {
    PendingOp& last = pending.back();
    if (last.kind == PendingOp::Kind::kWrite && !last.positioned &&
        last.offset + last.bytes.size() == offset) {
      last.bytes.append(bytes);
      return;
    }
  }
  pending.push_back(PendingOp{.kind = PendingOp::Kind::kWrite,
                              .offset = offset,
                              .bytes = std::string(bytes),
                              .positioned = positioned});
}

void Inode::resize(std::uint64_t size, bool positioned) {
  data.resize(size, '\0');
  if (!track_durability) return;
  pending.push_back(PendingOp{
      .kind = PendingOp::Kind::kResize, .offset = size, .bytes = {}, .positioned = positioned});
}

void Inode::mark_synced() {
  if (!track_durability) return;
  // Replaying the log costs what was written since the last sync, not the
  // file size (a WAL synced after every record stays linear).
  for (const PendingOp& op : pending) {
    if (op.kind == PendingOp::Kind::kWrite) {
      apply_write(durable, op.offset, op.bytes);
    } else {
      durable.resize(op.offset, '\0');
    }
  }
  pending.clear();
}

std::uint64_t Inode::durable_size() const { return durable.size(); }

bool Inode::has_positioned_pending() const {
  return std::any_of(pending.begin(), pending.end(),
                     [](const PendingOp& op) { return op.positioned; });
}

// ---- MemCore: paths ----

MemCore::MemCore(bool track_durability) : track_durability_(track_durability) {
  MutexLock l(mu_);
  dirs_[""];
  dirs_["/"];
}

MemCore::~MemCore() = default;

std::string MemCore::normalize(std::string_view path) {
  const bool absolute = !path.empty() && path.front() == '/';
  std::string out = absolute ? "/" : "";
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (!part.empty() && part != ".") {
      if (!out.empty() && out.back() != '/') out += '/';
      out += part;
    }
    i = j + 1;
  }
  return out;
}

MemCore::Place MemCore::place(const std::string& normalized) {
  Place p;
  std::size_t slash = normalized.rfind('/');
  std::string parent;
  if (slash == std::string::npos) {
    p.name = normalized;
  } else {
    parent = slash == 0 ? "/" : normalized.substr(0, slash);
    p.name = normalized.substr(slash + 1);
  }
  auto it = dirs_.find(parent);
  if (it != dirs_.end()) p.dir = &it->second;
  return p;
}

std::shared_ptr<Inode> MemCore::find_file(const std::string& normalized) {
  Place p = place(normalized);
  if (p.dir == nullptr) return nullptr;
  auto it = p.dir->files.find(p.name);
  return it == p.dir->files.end() ? nullptr : it->second;
}

// ---- MemCore: hooks (the plain in-memory file system injects nothing) ----

Status MemCore::on_create(const std::string&) { return Status::ok(); }
Status MemCore::on_write(std::string_view, const std::string&, std::size_t*) {
  return Status::ok();
}
Status MemCore::on_sync(const std::string&) { return Status::ok(); }
Status MemCore::on_sync_dir(const std::string&, const Dir&) { return Status::ok(); }

// ---- MemCore: FileSystem operations ----

Result<std::unique_ptr<WritableFile>> MemCore::new_writable_file(const std::string& path,
                                                                 FileSystem::OpenMode mode) {
  MutexLock l(mu_);
  const std::string norm = normalize(path);
  if (dirs_.contains(norm)) return is_a_directory(path);
  Place p = place(norm);
  if (p.dir == nullptr) return no_such_file(path);
  std::shared_ptr<Inode> inode;
  if (auto it = p.dir->files.find(p.name); it != p.dir->files.end()) inode = it->second;
  switch (mode) {
    case FileSystem::OpenMode::kAppendExisting:
      if (!inode) return no_such_file(path);
      break;
    case FileSystem::OpenMode::kCreateNew:
      if (inode) return Status::io_error(path + ": already exists (kCreateNew)");
      [[fallthrough]];
    case FileSystem::OpenMode::kCreateOrTruncate:
      LIGHTNING_RETURN_IF_ERROR(on_create(path));
      if (inode) {
        inode->resize(0, /*positioned=*/false);
      } else {
        inode = make_inode();
        p.dir->files[p.name] = inode;
      }
      break;
  }
  const std::uint64_t size = inode->data.size();
  return std::unique_ptr<WritableFile>(
      std::make_unique<MemWritableFile>(shared_from_this(), inode, path, epoch_, size));
}

Result<std::unique_ptr<ReadableFile>> MemCore::open_readable(const std::string& path) {
  MutexLock l(mu_);
  const std::string norm = normalize(path);
  if (dirs_.contains(norm)) return is_a_directory(path);
  std::shared_ptr<Inode> inode = find_file(norm);
  if (!inode) return no_such_file(path);
  return std::unique_ptr<ReadableFile>(
      std::make_unique<MemReadableFile>(shared_from_this(), inode, path, epoch_));
}

Result<std::unique_ptr<RandomRWFile>> MemCore::open_random_rw(const std::string& path,
                                                              bool create) {
  MutexLock l(mu_);
  const std::string norm = normalize(path);
  if (dirs_.contains(norm)) return is_a_directory(path);
  Place p = place(norm);
  if (p.dir == nullptr) return no_such_file(path);
  std::shared_ptr<Inode> inode;
  if (auto it = p.dir->files.find(p.name); it != p.dir->files.end()) {
    inode = it->second;
  } else {
    if (!create) return no_such_file(path);
    LIGHTNING_RETURN_IF_ERROR(on_create(path));
    inode = make_inode();
    p.dir->files[p.name] = inode;
  }
  return std::unique_ptr<RandomRWFile>(
      std::make_unique<MemRandomRWFile>(shared_from_this(), inode, path, epoch_));
}

Result<bool> MemCore::exists(const std::string& path) {
  MutexLock l(mu_);
  const std::string norm = normalize(path);
  return dirs_.contains(norm) || find_file(norm) != nullptr;
}

Result<std::vector<std::string>> MemCore::list_dir(const std::string& dir) {
  MutexLock l(mu_);
  auto it = dirs_.find(normalize(dir));
  if (it == dirs_.end()) return no_such_file(dir);
  std::vector<std::string> names;
  for (const auto& [name, inode] : it->second.files) names.push_back(name);
  names.insert(names.end(), it->second.subdirs.begin(), it->second.subdirs.end());
  return names;
}

Status MemCore::create_dir(const std::string& dir) {
  MutexLock l(mu_);
  const std::string norm = normalize(dir);
  if (dirs_.contains(norm)) return Status::ok();
  Place p = place(norm);
  if (p.dir == nullptr) return Status::not_found(dir + ": parent directory does not exist");
  if (p.dir->files.contains(p.name)) {
    return Status::io_error(dir + ": exists and is not a directory");
  }
  p.dir->subdirs.insert(p.name);
  dirs_[norm];
  return Status::ok();
}

Status MemCore::remove_file(const std::string& path) {
  MutexLock l(mu_);
  const std::string norm = normalize(path);
  if (dirs_.contains(norm)) return is_a_directory(path);
  Place p = place(norm);
  if (p.dir == nullptr || p.dir->files.erase(p.name) == 0) return no_such_file(path);
  return Status::ok();
}

Status MemCore::rename_file(const std::string& from, const std::string& to) {
  MutexLock l(mu_);
  const std::string nfrom = normalize(from);
  const std::string nto = normalize(to);
  if (dirs_.contains(nfrom))
    return Status::io_error(from + ": renaming a directory is not supported");
  if (dirs_.contains(nto)) return is_a_directory(to);
  Place src = place(nfrom);
  if (src.dir == nullptr || !src.dir->files.contains(src.name)) return no_such_file(from);
  Place dst = place(nto);
  if (dst.dir == nullptr) return no_such_file(to);
  if (nfrom == nto) return Status::ok();
  std::shared_ptr<Inode> inode = src.dir->files[src.name];
  src.dir->files.erase(src.name);
  dst.dir->files[dst.name] = std::move(inode);
  return Status::ok();
}

Status MemCore::truncate_file(const std::string& path, std::uint64_t size) {
  MutexLock l(mu_);
  const std::string norm = normalize(path);
  if (dirs_.contains(norm)) return is_a_directory(path);
  std::shared_ptr<Inode> inode = find_file(norm);
  if (!inode) return no_such_file(path);
  inode->resize(size, /*positioned=*/false);
  return Status::ok();
}

Status MemCore::sync_dir(const std::string& dir) {
  MutexLock l(mu_);
  const std::string norm = normalize(dir);
  auto it = dirs_.find(norm);
  if (it == dirs_.end()) return no_such_file(dir);
  return on_sync_dir(norm, it->second);
}

Result<std::unique_ptr<FileLock>> MemCore::lock_file(const std::string& path) {
  MutexLock l(mu_);
  const std::string norm = normalize(path);
  if (dirs_.contains(norm)) return is_a_directory(path);
  Place p = place(norm);
  if (p.dir == nullptr) return no_such_file(path);
  if (!p.dir->files.contains(p.name)) p.dir->files[p.name] = make_inode();
  if (!locked_.insert(norm).second) {
    return Status::busy(path + ": is locked by another process or Database instance");
  }
  return std::unique_ptr<FileLock>(std::make_unique<MemFileLock>(shared_from_this(), norm));
}

// ---- MemCore: handle operations ----

Status MemCore::check_alive(const std::string& path, std::uint64_t epoch) {
  MutexLock l(mu_);
  if (epoch != epoch_) return dead_handle(path);
  return Status::ok();
}

Status MemCore::append(Inode& inode, const std::string& path, std::uint64_t epoch,
                       std::span<const std::byte> data, std::size_t* stored) {
  MutexLock l(mu_);
  *stored = 0;
  if (epoch != epoch_) return dead_handle(path);
  std::size_t n = data.size();
  Status s = on_write("append", path, &n);
  n = std::min(n, data.size());
  inode.write(inode.data.size(), {reinterpret_cast<const char*>(data.data()), n},
              /*positioned=*/false);
  *stored = n;
  return s;
}

Status MemCore::write_at(Inode& inode, const std::string& path, std::uint64_t epoch,
                         std::uint64_t offset, std::span<const std::byte> data) {
  MutexLock l(mu_);
  if (epoch != epoch_) return dead_handle(path);
  std::size_t n = data.size();
  Status s = on_write("write_at", path + " at offset " + std::to_string(offset), &n);
  n = std::min(n, data.size());
  inode.write(offset, {reinterpret_cast<const char*>(data.data()), n}, /*positioned=*/true);
  return s;
}

Status MemCore::truncate(Inode& inode, const std::string& path, std::uint64_t epoch,
                         std::uint64_t size) {
  MutexLock l(mu_);
  if (epoch != epoch_) return dead_handle(path);
  inode.resize(size, /*positioned=*/true);
  return Status::ok();
}

Status MemCore::sync(Inode& inode, const std::string& path, std::uint64_t epoch) {
  MutexLock l(mu_);
  if (epoch != epoch_) return dead_handle(path);
  LIGHTNING_RETURN_IF_ERROR(on_sync(path));
  inode.mark_synced();
  return Status::ok();
}

Result<std::size_t> MemCore::read(const Inode& inode, const std::string& path, std::uint64_t epoch,
                                  std::uint64_t offset, std::span<std::byte> out) {
  MutexLock l(mu_);
  if (epoch != epoch_) return dead_handle(path);
  if (offset >= inode.data.size()) return std::size_t{0};
  const std::size_t n = std::min<std::uint64_t>(out.size(), inode.data.size() - offset);
  std::memcpy(out.data(), inode.data.data() + offset, n);
  return n;
}

Result<std::uint64_t> MemCore::size(const Inode& inode, const std::string& path,
                                    std::uint64_t epoch) {
  MutexLock l(mu_);
  if (epoch != epoch_) return dead_handle(path);
  return std::uint64_t{inode.data.size()};
}

void MemCore::unlock(const std::string& normalized_path) {
  MutexLock l(mu_);
  locked_.erase(normalized_path);
}

}  // namespace lightning
