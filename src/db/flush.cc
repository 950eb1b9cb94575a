// Memtable switch, background flush into the B+tree, and the maintenance
// calls built on them (flush_lsm, verify, checkpoint).
#include <chrono>

#include "db/db_impl.h"
#include "db/db_marker.h"
#include "db/filename.h"
#include "env/file_util.h"
#include "pagestore/btree.h"

namespace lightning {

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t micros_since(Clock::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

// The newest entry of every key in a frozen memtable, in key order: what the
// tree must absorb (tombstones become deletes; the tree keeps no versions).
class MemTableChanges final : public pagestore::ChangeSource {
 public:
  explicit MemTableChanges(const MemTable& mem) : it_(mem.new_iterator()) {
    it_->seek_to_first();
    parse();
  }
  bool valid() const override { return it_->valid(); }
  std::string_view key() const override { return parsed_.user_key; }
  bool is_delete() const override { return parsed_.kind == ValueKind::kDelete; }
  std::string_view value() const override { return it_->value(); }
  void next() override {
    // Skip the older versions of the current key.
    std::string current(parsed_.user_key);
    do {
      it_->next();
    } while (it_->valid() && extract_user_key(it_->key()) == std::string_view(current));
    parse();
  }
  Status status() const override { return status_; }

 private:
  void parse() {
    if (it_->valid() && !parse_internal_key(it_->key(), &parsed_)) {
      status_ = Status::corruption("memtable holds a malformed internal key");
    }
  }
  std::unique_ptr<InternalIterator> it_;
  ParsedInternalKey parsed_;
  Status status_;
};

}  // namespace

Status DatabaseImpl::switch_memtable() {
  if (active_mem_->entry_count() == 0) return Status::ok();
  {
    // Backpressure: at most one frozen memtable; wait for its flush.
    MutexLock l(version_mu_);
    if (current_version()->imm != nullptr) {
      const auto start = Clock::now();
      counters_.stalls.fetch_add(1, std::memory_order_relaxed);
      while (current_version()->imm != nullptr && flush_error_.is_ok() && !stopping_) {
        version_cv_.wait(version_mu_);
      }
      counters_.stall_micros.fetch_add(micros_since(start), std::memory_order_relaxed);
    }
    if (!flush_error_.is_ok()) return flush_error_;
    if (current_version()->imm != nullptr) return Status::aborted("database is closing");
  }
  // Writes after the switch go to a new segment: once the frozen memtable is
  // in the tree, every older segment can go.
  std::uint64_t floor = 0;
  {
    MutexLock l(wal_mu_);
    LIGHTNING_RETURN_IF_ERROR(start_new_segment());
    floor = wal_->segment_number();
  }
  std::shared_ptr<MemTable> fresh = MemTable::create(arena_block_size(config_.memtable_size));
  {
    MutexLock l(version_mu_);
    auto v = std::make_shared<Version>(*current_version());
    v->imm = active_mem_;
    v->imm_last_sequence = next_sequence_ - 1;
    v->imm_wal_floor = floor;
    v->mem = fresh;
    install_version(std::move(v));
  }
  version_cv_.notify_all();
  active_mem_ = std::move(fresh);
  return Status::ok();
}

std::shared_ptr<const pagestore::InnerIndex> DatabaseImpl::build_inner_index(
    const pagestore::TreeRoot& root) {
  // Reads through a memory mapping reach every page without the cache.
  if (store_->uses_mmap()) return nullptr;
  auto index = pagestore::InnerIndex::build(*store_, root, config_.cache_size / 4);
  return index ? std::move(*index) : nullptr;
}

Status DatabaseImpl::publish_tree(const pagestore::TreeRoot& root, SequenceNumber last_sequence,
                                  std::uint64_t wal_floor, bool drop_imm) {
  pagestore::Meta next;
  next.root = root.root;
  next.tree_height = root.height;
  next.entry_count = root.entry_count;
  next.last_sequence = last_sequence;
  next.wal_floor = wal_floor;
  LIGHTNING_RETURN_IF_ERROR(store_->commit(next));
  auto tree = std::make_shared<TreeVersion>();
  tree->root = root;
  tree->epoch = store_->durable_meta().epoch;
  tree->ticket = store_->register_reader(tree->epoch);
  tree->inner = build_inner_index(root);
  MutexLock l(version_mu_);
  auto nv = std::make_shared<Version>(*current_version());
  if (drop_imm) nv->imm = nullptr;
  nv->tree = std::move(tree);
  install_version(std::move(nv));
  return Status::ok();
}

Status DatabaseImpl::compact() {
  LIGHTNING_RETURN_IF_ERROR(flush_lsm());
  MutexLock guard(checkpoint_mu_);
  // Two rewrites: the first moves the tree into the holes below the old
  // pages; those old pages become free one commit later, and the second
  // rewrite packs the tree into the lowest pages. Two empty commits then
  // release the last freed pages and trim the free tail off the file.
  for (int pass = 0; pass < 4; ++pass) {
    const pagestore::Meta durable = store_->durable_meta();
    pagestore::TreeRoot root = current_version()->tree->root;
    if (pass < 2) {
      auto rewritten = pagestore::rewrite_tree(*store_, root, nullptr);
      if (!rewritten) return rewritten.status().with_context("compact");
      root = *rewritten;
    }
    Status s = publish_tree(root, durable.last_sequence, durable.wal_floor, /*drop_imm=*/false);
    if (!s.is_ok()) {
      record_background_error(s);
      return s.with_context("compact commit");
    }
  }
  return Status::ok();
}

void DatabaseImpl::flush_loop(std::stop_token) {
  // The work indicator is the frozen memtable itself, not a flag: a flag
  // cleared after a flush could erase the request of a switch that happened
  // in between (a lost wakeup that left flush_lsm() waiting forever).
  while (true) {
    std::shared_ptr<const Version> v;
    {
      MutexLock l(version_mu_);
      while (current_version()->imm == nullptr && !stopping_) version_cv_.wait(version_mu_);
      v = current_version();
      if (v->imm == nullptr) return;  // stopping with nothing left to do
    }
    Status s = flush_imm(v);
    if (!s.is_ok()) {
      {
        MutexLock l(version_mu_);
        flush_error_ = s;
      }
      version_cv_.notify_all();
      record_background_error(s);
      return;
    }
    version_cv_.notify_all();
  }
}

Status DatabaseImpl::flush_imm(const std::shared_ptr<const Version>& v) {
  const auto start = Clock::now();
  MutexLock checkpoint_guard(checkpoint_mu_);
  // The tree as of now, under the lock: compact() may have replaced (and
  // freed) the tree `v` was taken with while this flush waited.
  const std::shared_ptr<const TreeVersion> base = current_version()->tree;
  MemTableChanges changes(*v->imm);
  pagestore::MergeStats ms;
  auto root = pagestore::merge_into_tree(*store_, base->root, changes, &ms);
  if (!root) return root.status().with_context("flush");
  LIGHTNING_RETURN_IF_ERROR(
      publish_tree(*root, v->imm_last_sequence, v->imm_wal_floor, /*drop_imm=*/true).with_context("flush commit"));
  counters_.flushes.fetch_add(1, std::memory_order_relaxed);
  counters_.flush_micros.fetch_add(micros_since(start), std::memory_order_relaxed);
  // The flush is durable; a failure to delete (or to sync the deletion of)
  // covered segments leaves files that the next open removes, but a failed
  // fsync still poisons the database like any other.
  return delete_obsolete_segments(v->imm_wal_floor).with_context("deleting covered WAL segments");
}

Status DatabaseImpl::delete_obsolete_segments(std::uint64_t floor) {
  auto listing = fs_->list_dir(dir_);
  if (!listing) return listing.status();
  bool removed = false;
  std::uint64_t number = 0;
  for (const auto& name : *listing) {
    if (parse_file_name(name, &number) == FileType::kWalSegment && number < floor) {
      LIGHTNING_RETURN_IF_ERROR(fs_->remove_file(dir_ + "/" + name));
      removed = true;
      counters_.wal_segments_deleted.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return removed ? fs_->sync_dir(dir_) : Status::ok();
}

Status DatabaseImpl::flush_lsm() {
  LIGHTNING_RETURN_IF_ERROR(check_writable());
  LIGHTNING_RETURN_IF_ERROR(commit(nullptr));
  MutexLock l(version_mu_);
  while (current_version()->imm != nullptr && flush_error_.is_ok() && !stopping_) {
    version_cv_.wait(version_mu_);
  }
  return flush_error_;
}

Status DatabaseImpl::verify() {
  auto v = current_version();
  std::uint64_t pages = 0;
  return pagestore::verify_tree(*store_, v->tree->root, &pages);
}

Status DatabaseImpl::checkpoint(const std::string& dir) {
  if (dir.empty()) return Status::invalid_argument("checkpoint directory is empty");
  if (auto e = fs_->exists(dir); !e || *e) {
    return e ? Status::invalid_argument("checkpoint directory " + dir + " already exists") : e.status();
  }
  LIGHTNING_RETURN_IF_ERROR(flush_lsm());
  LIGHTNING_RETURN_IF_ERROR(fs_->create_dir(dir));
  // No flush may commit while the data file is copied: the copy then holds
  // one consistent pair of meta slots and every page they reach.
  MutexLock checkpoint_guard(checkpoint_mu_);
  constexpr auto kNew = FileSystem::OpenMode::kCreateNew;
  if (auto c = copy_file(*fs_, data_file_name(dir_), data_file_name(dir), kNew); !c) return c.status();
  // The WAL written since the last flush (a segment still being appended is
  // copied as far as it got: recovery treats a cut record as a torn tail).
  const std::uint64_t floor = store_->durable_meta().wal_floor;
  auto listing = fs_->list_dir(dir_);
  if (!listing) return listing.status();
  std::uint64_t number = 0;
  for (const auto& name : *listing) {
    if (parse_file_name(name, &number) == FileType::kWalSegment && number >= floor) {
      if (auto c = copy_file(*fs_, dir_ + "/" + name, dir + "/" + name, kNew); !c) return c.status();
    }
  }
  LIGHTNING_RETURN_IF_ERROR(write_marker(*fs_, dir));
  LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(dir));
  return fs_->sync_dir(parent_dir(dir));
}

}  // namespace lightning
