// Memtable switch, background flush into run files, merges of runs into the
// B+tree, and the maintenance calls built on them (flush_lsm, verify,
// checkpoint, compact).
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "db/db_impl.h"
#include "db/db_marker.h"
#include "db/filename.h"
#include "env/file_util.h"
#include "db/merging_iterator.h"
#include "pagestore/btree.h"
#include "run/run_builder.h"

namespace lightning {

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t micros_since(Clock::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

// The newest entry of every user key of an internal iterator (a memtable, or
// runs merged newest first), in key order: what a run or the tree must
// absorb (tombstones become deletes; the tree keeps no versions).
class NewestEntries final : public pagestore::ChangeSource {
 public:
  // abandon: when it becomes true the source ends early with Aborted (a
  // merge interrupted by close).
  explicit NewestEntries(std::unique_ptr<InternalIterator> it, const std::atomic<bool>* abandon = nullptr)
      : it_(std::move(it)), abandon_(abandon) {
    it_->seek_to_first();
    parse();
  }
  bool valid() const override { return status_.is_ok() && it_->valid(); }
  std::string_view internal_key() const { return it_->key(); }
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
  Status status() const override { return status_.is_ok() ? it_->status() : status_; }

 private:
  void parse() {
    if (abandon_ != nullptr && abandon_->load(std::memory_order_relaxed)) {
      status_ = Status::aborted("merge abandoned: the database is closing");
    } else if (it_->valid() && !parse_internal_key(it_->key(), &parsed_)) {
      status_ = Status::corruption("malformed internal key while flushing or merging");
    }
  }
  std::unique_ptr<InternalIterator> it_;
  const std::atomic<bool>* abandon_;
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
      while (current_version()->imm != nullptr && flush_error_.is_ok() && !stopping_) {
        version_cv_.wait(version_mu_);
      }
      record_stall(micros_since(start));
    }
    if (!flush_error_.is_ok()) return flush_error_;
    if (current_version()->imm != nullptr) return Status::aborted("database is closing");
  }
  // Then at most stop_runs - 1 runs, so that the flush of the memtable
  // frozen now makes at most stop_runs.
  LIGHTNING_RETURN_IF_ERROR(wait_for_runs());
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

void DatabaseImpl::record_stall(std::uint64_t micros) {
  counters_.stalls.fetch_add(1, std::memory_order_relaxed);
  counters_.stall_micros.fetch_add(micros, std::memory_order_relaxed);
  std::uint64_t cur = counters_.max_stall.load(std::memory_order_relaxed);
  while (micros > cur && !counters_.max_stall.compare_exchange_weak(cur, micros, std::memory_order_relaxed)) {
  }
}

Status DatabaseImpl::wait_for_runs() {
  const std::uint32_t stop = config_.effective_stop_runs();
  if (live_runs_.load(std::memory_order_relaxed) < stop) return Status::ok();
  // Stop: the runs must not pile up further. The merge thread was asked
  // for a merge by the flush that made them due; wait for it to finish.
  maybe_request_merge();
  if (auto hook = test_hook(&TestHooks::on_write_stop)) hook();
  MutexLock l(version_mu_);
  const auto start = Clock::now();
  while (current_version()->runs.size() >= stop && flush_error_.is_ok() && !stopping_) {
    version_cv_.wait(version_mu_);
  }
  record_stall(micros_since(start));
  if (!flush_error_.is_ok()) return flush_error_;
  if (stopping_) return Status::aborted("database is closing");
  return Status::ok();
}

void DatabaseImpl::maybe_slow_down(std::size_t group_bytes) {
  if (config_.slowdown_write_rate == 0 ||
      live_runs_.load(std::memory_order_relaxed) < config_.effective_slowdown_runs()) {
    return;
  }
  // Admit about slowdown_write_rate bytes per second: the merge gets the
  // machine while writes keep flowing.
  const auto delay = std::chrono::microseconds(
      std::max<std::uint64_t>(1, group_bytes * 1'000'000 / config_.slowdown_write_rate));
  const auto start = Clock::now();
  std::this_thread::sleep_for(delay);
  counters_.slowdowns.fetch_add(1, std::memory_order_relaxed);
  counters_.slowdown_micros.fetch_add(micros_since(start), std::memory_order_relaxed);
}

void DatabaseImpl::fail_background_work(const Status& s) {
  {
    MutexLock l(version_mu_);
    if (flush_error_.is_ok()) flush_error_ = s;
  }
  version_cv_.notify_all();
  record_background_error(s);
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
  return publish(root, nullptr, last_sequence, wal_floor, drop_imm, nullptr);
}

Status DatabaseImpl::publish(const pagestore::TreeRoot& root, std::shared_ptr<const TreeVersion> tree,
                             SequenceNumber last_sequence, std::uint64_t wal_floor, bool drop_imm,
                             const std::vector<RunRef>* runs, SequenceNumber tree_max_sequence) {
  pagestore::Meta next;
  next.root = root.root;
  next.tree_height = root.height;
  next.entry_count = root.entry_count;
  next.last_sequence = last_sequence;
  next.wal_floor = wal_floor;
  std::string run_list;
  if (runs != nullptr) {
    std::vector<RunListEntry> entries;
    for (const RunRef& r : *runs) entries.push_back(r.entry);
    run_list = encode_run_list(entries);
  }
  // The current tree again: a meta-only commit, which leaves a merge's
  // pages in flight alone.
  const auto scope = tree != nullptr ? pagestore::PageStore::CommitScope::kMetaOnly
                                     : pagestore::PageStore::CommitScope::kTree;
  LIGHTNING_RETURN_IF_ERROR(store_->commit(next, runs != nullptr ? &run_list : nullptr, scope));
  if (tree == nullptr) {
    auto fresh = std::make_shared<TreeVersion>();
    fresh->root = root;
    fresh->epoch = store_->durable_meta().epoch;
    fresh->ticket = store_->register_reader(fresh->epoch);
    fresh->inner = build_inner_index(root);
    fresh->max_sequence = std::max(tree_max_sequence, current_version()->tree->max_sequence);
    tree = std::move(fresh);
  }
  MutexLock l(version_mu_);
  auto nv = std::make_shared<Version>(*current_version());
  if (drop_imm) nv->imm = nullptr;
  nv->tree = std::move(tree);
  if (runs != nullptr) nv->runs = *runs;
  install_version(std::move(nv));
  return Status::ok();
}

Result<std::shared_ptr<const run::RunReader>> DatabaseImpl::open_run(std::uint64_t number) {
  run::RunReader::Options o;
  o.cache = cache_.get();
  o.file_id = number;  // the data file is file id 0; run numbers start at 1
  o.stats = &run_stats_;
  auto r = run::RunReader::open(*fs_, run_file_name(dir_, number), o);
  if (!r) return r.status();
  return std::shared_ptr<const run::RunReader>(std::move(*r));
}

Result<RunRef> DatabaseImpl::write_run(const MemTable& imm) {
  const std::uint64_t number = next_run_number_.fetch_add(1);
  const std::string path = run_file_name(dir_, number);
  auto file = fs_->new_writable_file(path, FileSystem::OpenMode::kCreateNew);
  if (!file) return file.status();
  run::RunBuilderOptions options;
  options.bloom_bits_per_key = static_cast<int>(config_.bloom_bits_per_key);
  run::RunBuilder builder(file->get(), options);
  NewestEntries entries(imm.new_iterator());
  for (; entries.valid(); entries.next()) {
    LIGHTNING_RETURN_IF_ERROR(builder.add(entries.internal_key(), entries.is_delete() ? std::string_view() : entries.value()));
  }
  LIGHTNING_RETURN_IF_ERROR(entries.status());
  LIGHTNING_RETURN_IF_ERROR(builder.finish());
  LIGHTNING_RETURN_IF_ERROR((*file)->sync());
  LIGHTNING_RETURN_IF_ERROR((*file)->close());
  LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  counters_.run_bytes_written.fetch_add(builder.file_size(), std::memory_order_relaxed);
  auto reader = open_run(number);
  if (!reader) return reader.status();
  return RunRef{RunListEntry{number, builder.file_size()}, std::move(*reader)};
}

bool DatabaseImpl::merge_due(const Version& v) const {
  if (v.runs.empty()) return false;
  if (v.runs.size() >= config_.max_runs) return true;
  std::uint64_t run_bytes = 0;
  for (const RunRef& r : v.runs) run_bytes += r.entry.file_size;
  const std::uint64_t tree_bytes = (store_->file_pages() - store_->free_pages()) * store_->page_size();
  return static_cast<double>(run_bytes) >= config_.merge_ratio * static_cast<double>(tree_bytes);
}

Status DatabaseImpl::merge_runs() {
  const auto start = Clock::now();
  std::shared_ptr<const Version> base = current_version();
  if (base->runs.empty()) return Status::ok();
  if (auto hook = test_hook(&TestHooks::before_merge)) hook();
  // Only the runs and the tree: holding the whole version would keep its
  // memtables alive for the length of the merge.
  const std::vector<RunRef> inputs = base->runs;
  const std::shared_ptr<const TreeVersion> tree = base->tree;
  base.reset();
  std::vector<std::unique_ptr<InternalIterator>> sources;
  for (const RunRef& r : inputs) sources.push_back(r.reader->new_iterator());
  NewestEntries changes(new_merging_iterator(std::move(sources)), &abandon_merge_);
  pagestore::MergeStats ms;
  // Every return before the commit gives the merge's pages back.
  pagestore::PageStore::TreeWrite tree_write(*store_);
  // The pages: no lock but the tree writer's; flushes commit meanwhile.
  auto root = pagestore::merge_into_tree(*store_, tree->root, changes, &ms);
  if (!root) return root.status().is_aborted() ? root.status() : root.status().with_context("merge");
  if (auto hook = test_hook_status(&TestHooks::fail_tree_write)) LIGHTNING_RETURN_IF_ERROR(hook());
  {
    MutexLock commit_guard(commit_mu_);
    // Runs flushed while this merge ran are newer than everything merged:
    // they stay, in front of the merged tree.
    std::set<std::uint64_t> merged;
    for (const RunRef& r : inputs) merged.insert(r.entry.number);
    std::vector<RunRef> remaining;
    // (A named pointer: a range-for over current_version()->runs would
    // destroy the temporary pointer, and with it perhaps the version, before
    // the loop runs.)
    const std::shared_ptr<const Version> now = current_version();
    for (const RunRef& r : now->runs) {
      if (!merged.contains(r.entry.number)) remaining.push_back(r);
    }
    // The newest durable sequence and floor (flush commits moved them on).
    const pagestore::Meta durable = store_->durable_meta();
    SequenceNumber merged_max = 0;
    for (const RunRef& r : inputs) merged_max = std::max(merged_max, r.reader->properties().max_sequence);
    // Before the tree that holds them is visible to a validating leader.
    remember_merged_runs(inputs, merged_max);
    Status s = publish(*root, nullptr, durable.last_sequence, durable.wal_floor, /*drop_imm=*/false, &remaining,
                       merged_max);
    if (!s.is_ok()) return s.with_context("merge commit");
    tree_write.committed();
  }
  version_cv_.notify_all();  // writers stopped on the run count may go on
  // The merged runs' files go once no version (reader, iterator) uses them.
  for (const RunRef& r : inputs) r.reader->delete_file_when_unused(fs_);
  counters_.merges.fetch_add(1, std::memory_order_relaxed);
  counters_.merge_micros.fetch_add(micros_since(start), std::memory_order_relaxed);
  return Status::ok();
}

void DatabaseImpl::maybe_request_merge() {
  if (!merge_due(*current_version())) return;
  {
    MutexLock l(version_mu_);
    merge_requested_ = true;
  }
  version_cv_.notify_all();
}

void DatabaseImpl::merge_loop(std::stop_token) {
  while (true) {
    {
      MutexLock l(version_mu_);
      while (!merge_requested_ && !stopping_) version_cv_.wait(version_mu_);
      if (stopping_) return;  // a merge not started yet is not needed for safety
      merge_requested_ = false;
    }
    Status s;
    {
      MutexLock tree_guard(tree_mu_);
      // Runs flushed during a merge may make the next one due at once.
      while (s.is_ok() && merge_due(*current_version()) && !abandon_merge_.load()) s = merge_runs();
    }
    if (s.is_aborted() && abandon_merge_.load()) return;  // closing
    if (!s.is_ok()) {
      fail_background_work(s);
      return;
    }
    version_cv_.notify_all();  // writers stopped on the run count may go on
  }
}

Status DatabaseImpl::compact() {
  LIGHTNING_RETURN_IF_ERROR(flush_lsm());
  MutexLock tree_guard(tree_mu_);
  MutexLock guard(commit_mu_);
  // Two rewrites: the first moves the tree into the holes below the old
  // pages; those old pages become free one commit later, and the second
  // rewrite packs the tree into the lowest pages. Two empty commits then
  // release the last freed pages and trim the free tail off the file.
  for (int pass = 0; pass < 4; ++pass) {
    const pagestore::Meta durable = store_->durable_meta();
    pagestore::TreeRoot root = current_version()->tree->root;
    // A failed rewrite must not leave its frees (pages of the live tree)
    // for the next tree commit to apply.
    pagestore::PageStore::TreeWrite tree_write(*store_);
    if (pass < 2) {
      auto rewritten = pagestore::rewrite_tree(*store_, root, nullptr);
      if (!rewritten) return rewritten.status().with_context("compact");
      root = *rewritten;
      if (auto hook = test_hook_status(&TestHooks::fail_tree_write)) LIGHTNING_RETURN_IF_ERROR(hook());
    }
    Status s = publish_tree(root, durable.last_sequence, durable.wal_floor, /*drop_imm=*/false);
    if (!s.is_ok()) {
      record_background_error(s);
      return s.with_context("compact commit");
    }
    tree_write.committed();
  }
  return Status::ok();
}

void DatabaseImpl::flush_loop(std::stop_token) {
  // The work indicator is the frozen memtable itself, not a flag: a flag
  // cleared after a flush could erase the request of a switch that happened
  // in between (a lost wakeup that left flush_lsm() waiting forever).
  while (true) {
    FrozenMemTable frozen;
    {
      MutexLock l(version_mu_);
      while (current_version()->imm == nullptr && !stopping_) version_cv_.wait(version_mu_);
      std::shared_ptr<const Version> v = current_version();
      if (v->imm == nullptr) return;  // stopping with nothing left to do
      // Only the memtable: holding the whole version would keep its runs
      // (and their files, once merged) alive past the flush.
      frozen = {v->imm, v->imm_last_sequence, v->imm_wal_floor};
    }
    Status s = flush_imm(std::move(frozen));
    if (!s.is_ok()) {
      fail_background_work(s);
      return;
    }
    version_cv_.notify_all();
    maybe_request_merge();
  }
}

Status DatabaseImpl::flush_imm(FrozenMemTable v) {
  const auto start = Clock::now();
  auto run = write_run(*v.imm);
  if (!run) return run.status().with_context("flush");
  {
    MutexLock commit_guard(commit_mu_);
    // The tree and runs as of now, under the lock (a merge or compact() may
    // have replaced them while the run was written). Not the whole version:
    // it holds the frozen memtable, which must be freed once it is in a run.
    std::vector<RunRef> runs{*run};
    std::shared_ptr<const TreeVersion> tree;
    {
      const std::shared_ptr<const Version> base = current_version();
      runs.insert(runs.end(), base->runs.begin(), base->runs.end());
      tree = base->tree;
    }
    LIGHTNING_RETURN_IF_ERROR(publish(tree->root, tree, v.last_sequence, v.wal_floor, /*drop_imm=*/true, &runs)
                                  .with_context("flush commit"));
  }
  // The memtable is in a run now: free it, so memory stays within two
  // memtables while writers fill the next one.
  v.imm.reset();
  counters_.flushes.fetch_add(1, std::memory_order_relaxed);
  counters_.flush_micros.fetch_add(micros_since(start), std::memory_order_relaxed);
  // The flush is durable; a failure to delete (or to sync the deletion of)
  // covered segments leaves files that the next open removes, but a failed
  // fsync still poisons the database like any other.
  LIGHTNING_RETURN_IF_ERROR(
      delete_obsolete_segments(v.wal_floor).with_context("deleting covered WAL segments"));
  version_cv_.notify_all();  // writers waiting for the frozen memtable may go on
  return Status::ok();
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
  {
    MutexLock l(version_mu_);
    while (current_version()->imm != nullptr && flush_error_.is_ok() && !stopping_) {
      version_cv_.wait(version_mu_);
    }
    LIGHTNING_RETURN_IF_ERROR(flush_error_);
  }
  // Then every run into the tree: after flush_lsm() the tree holds all data
  // (a background merge in progress finishes first).
  MutexLock tree_guard(tree_mu_);
  Status s = merge_runs();
  if (!s.is_ok() && !abandon_merge_.load()) fail_background_work(s);
  return s;
}

Status DatabaseImpl::verify() {
  auto v = current_version();
  // Every run: every block's checksum and the entries' order.
  for (const RunRef& r : v->runs) {
    auto it = r.reader->new_iterator();
    std::string previous;
    for (it->seek_to_first(); it->valid(); it->next()) {
      if (!previous.empty() && compare_internal_keys(previous, it->key()) >= 0) {
        return Status::corruption(r.reader->path() + ": entries out of order");
      }
      previous.assign(it->key());
    }
    LIGHTNING_RETURN_IF_ERROR(it->status());
  }
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
  // No commit and no tree write while the data file is copied: the copy
  // then holds one consistent pair of meta slots and every page they reach.
  MutexLock tree_guard(tree_mu_);
  MutexLock commit_guard(commit_mu_);
  constexpr auto kNew = FileSystem::OpenMode::kCreateNew;
  if (auto c = copy_file(*fs_, data_file_name(dir_), data_file_name(dir), kNew); !c) return c.status();
  // The runs the durable meta slot names (flush_lsm() merged them, but a
  // background flush may have written one since).
  std::vector<RunListEntry> runs;
  if (!decode_run_list(store_->run_list(), &runs)) return Status::corruption("checkpoint: malformed run list");
  for (const RunListEntry& r : runs) {
    if (auto c = copy_file(*fs_, run_file_name(dir_, r.number), run_file_name(dir, r.number), kNew); !c) {
      return c.status();
    }
  }
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
