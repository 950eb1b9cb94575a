#include "db/db_impl.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "db/db_iterator.h"
#include "db/merging_iterator.h"
#include "db/filename.h"
#include "db/write_batch_internal.h"
#include "util/coding.h"

namespace lightning {

namespace {
// A commit group stops growing past this many payload bytes (unless its first
// batch alone is larger), bounding the latency the first writer pays.
constexpr std::size_t kMaxGroupBytes = 4u << 20;

void update_max(std::atomic<std::uint64_t>& slot, std::uint64_t v) {
  std::uint64_t cur = slot.load(std::memory_order_relaxed);
  while (v > cur && !slot.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}
}  // namespace

struct DatabaseImpl::Writer {
  Writer(const WriteBatch* b, TxnValidation* t) : batch(b), txn(t) {}
  const WriteBatch* batch;
  TxnValidation* txn;  // a transaction's commit: validated by the leader
  Status status;
  bool done = false;
  bool rejected = false;  // failed validation: status says why; not written
  CondVar cv;
};

namespace {
// Collects the keys of a batch (the keys earlier members of a commit group
// write, which later transactions in the group must not have relied on).
class KeyCollector final : public WriteBatch::Handler {
 public:
  explicit KeyCollector(std::set<std::string, std::less<>>* keys) : keys_(keys) {}
  void put(std::string_view key, std::string_view) override { keys_->emplace(key); }
  void remove(std::string_view key) override { keys_->emplace(key); }

 private:
  std::set<std::string, std::less<>>* keys_;
};
}  // namespace

DatabaseImpl::DatabaseImpl(std::string dir, const Config& config, std::shared_ptr<FileSystem> fs)
    : dir_(std::move(dir)), config_(config), fs_(std::move(fs)),
      active_mem_(MemTable::create(arena_block_size(config.memtable_size))), instance_id_([] {
        static std::atomic<std::uint64_t> next{1};
        return next.fetch_add(1, std::memory_order_relaxed);
      }()) {}

DatabaseImpl::~DatabaseImpl() {
  open_flag_->store(false, std::memory_order_release);  // transactions still held (a misuse)
  // Snapshots still held (a misuse): drop what they pin now, while the page
  // store and cache still exist; releasing them later touches only the
  // registry, and reading through them fails.
  {
    MutexLock l(snapshots_->mu);
    for (SnapshotRecord* rec : snapshots_->live) rec->version.reset();
  }
  // A flush in progress (or requested) completes: its commit is atomic and
  // the WAL still covers it, so finishing is never needed for safety but
  // saves replaying it at the next open. A merge in progress is abandoned
  // (nothing of it is published; the runs it was folding stay listed and
  // the next open's merge thread picks them up).
  abandon_merge_.store(true);
  {
    MutexLock l(version_mu_);
    stopping_ = true;
  }
  version_cv_.notify_all();
  if (merge_thread_.joinable()) merge_thread_.join();
  if (flush_thread_.joinable()) flush_thread_.join();
  if (sync_thread_.joinable()) {
    {
      MutexLock l(timer_mu_);
      sync_thread_.request_stop();
    }
    timer_cv_.notify_all();
    sync_thread_.join();
  }
  MutexLock l(wal_mu_);
  if (wal_ != nullptr) {
    if (config_.wal_sync_mode != WalSyncMode::kNoSync && !has_bg_error_.load()) {
      (void)sync_wal_locked();  // best effort: nothing is left to report it to
    } else {
      (void)wal_->flush();
    }
    (void)wal_->close();
  }
}

// ---------------------------------------------------------------- writes

Status DatabaseImpl::put(std::string_view key, std::string_view value) {
  WriteBatch b;
  LIGHTNING_RETURN_IF_ERROR(b.put(key, value));
  return commit(&b);
}

Status DatabaseImpl::remove(std::string_view key) {
  WriteBatch b;
  LIGHTNING_RETURN_IF_ERROR(b.remove(key));
  return commit(&b);
}

Status DatabaseImpl::write(const WriteBatch& batch) {
  if (batch.empty()) return check_writable();
  return commit(&batch);
}

Status DatabaseImpl::batch_put(
    std::span<const std::pair<std::string_view, std::string_view>> pairs) {
  WriteBatch b;
  for (const auto& [k, v] : pairs) LIGHTNING_RETURN_IF_ERROR(b.put(k, v));
  if (b.empty()) return check_writable();
  return commit(&b);
}

Status DatabaseImpl::check_writable() {
  if (!has_bg_error_.load(std::memory_order_acquire)) return Status::ok();
  MutexLock l(mu_);
  return bg_error_;
}

void DatabaseImpl::record_background_error(const Status& s) {
  MutexLock l(mu_);
  if (bg_error_.is_ok()) {
    bg_error_ = Status::aborted("database " + dir_ +
                                " refuses writes after an earlier failure (reopen to recover): " +
                                s.to_string());
    has_bg_error_.store(true, std::memory_order_release);
  }
}

Status DatabaseImpl::commit(const WriteBatch* batch, TxnValidation* txn) {
  Writer self(batch, txn);
  std::vector<Writer*> group;
  SequenceNumber first_seq = 0;

  mu_.lock();
  writers_.push_back(&self);
  while (!self.done && &self != writers_.front()) self.cv.wait(mu_);
  if (self.done) {
    mu_.unlock();
    return self.status;
  }
  // This thread leads: take a group from the front of the queue. A flush
  // request (null batch) is always a group of its own.
  Status status = bg_error_;
  std::size_t bytes = 0;  // payload of the group
  if (status.is_ok() && batch != nullptr) {
    for (Writer* w : writers_) {
      if (w->batch == nullptr) break;
      std::size_t size = w->batch->byte_size();
      if (!group.empty() &&
          (group.size() >= config_.write_batch_size || bytes + size > kMaxGroupBytes)) {
        break;
      }
      group.push_back(w);
      bytes += size;
    }
  } else {
    group.push_back(&self);
  }
  mu_.unlock();

  if (status.is_ok() && batch == nullptr) {
    status = switch_memtable();
    if (!status.is_ok()) record_background_error(status);
  } else if (status.is_ok()) {
    maybe_slow_down(bytes);
    // Transactions are validated here, in commit order: against everything
    // committed before this group (the leader is the only writer, so the
    // current version holds it all) and against the earlier batches of this
    // group. Rejected ones are left out.
    std::vector<Writer*> accepted;
    const bool has_txn = std::any_of(group.begin(), group.end(), [](const Writer* w) { return w->txn != nullptr; });
    if (has_txn) {
      const std::shared_ptr<const Version> v = current_version();
      std::set<std::string, std::less<>> group_writes;
      KeyCollector collect(&group_writes);
      for (Writer* w : group) {
        if (w->txn != nullptr && w->txn->state->level != IsolationLevel::kReadCommitted) {
          Status valid = validate_transaction(*w->txn->state, *v, group_writes);
          if (!valid.is_ok()) {
            w->rejected = true;
            w->status = valid;
            continue;
          }
        }
        (void)w->batch->iterate(collect);
        accepted.push_back(w);
      }
    }
    const std::vector<Writer*>& written = has_txn ? accepted : group;
    first_seq = next_sequence_;
    status = written.empty() ? Status::ok() : write_group_to_wal(written, first_seq);
    if (status.is_ok() && !written.empty()) {
      // The leader is the memtable's single writer (invariant 1).
      SequenceNumber seq = first_seq;
      std::uint64_t puts = 0, removes = 0, bytes = 0;
      for (Writer* w : written) {
        if (w->txn != nullptr) w->txn->first_sequence = seq;
        auto counts = WriteBatchInternal::insert_into(*w->batch, seq, *active_mem_);
        seq += w->batch->count();
        puts += counts.puts;
        removes += counts.removes;
        bytes += counts.user_bytes;
      }
      next_sequence_ = seq;
      last_sequence_.store(seq - 1, std::memory_order_release);  // invariant 2
      counters_.puts.fetch_add(puts, std::memory_order_relaxed);
      counters_.removes.fetch_add(removes, std::memory_order_relaxed);
      counters_.user_bytes.fetch_add(bytes, std::memory_order_relaxed);
      counters_.writes.fetch_add(written.size(), std::memory_order_relaxed);
      counters_.groups.fetch_add(1, std::memory_order_relaxed);
      update_max(counters_.max_group, group.size());
      // A full memtable is frozen before leadership passes on: the next
      // group goes into the new one (and waits here if flushing is behind).
      if (active_mem_->approximate_memory_usage() >= config_.memtable_size) {
        Status sw = switch_memtable();
        if (!sw.is_ok()) record_background_error(sw);  // this group is durable already
      }
    } else if (!status.is_ok()) {
      record_background_error(status);
    }
  }

  mu_.lock();
  for (std::size_t i = 0; i < group.size(); ++i) {
    Writer* w = writers_.front();
    writers_.pop_front();
    if (w != &self) {
      if (!w->rejected) w->status = status;
      w->done = true;
      w->cv.notify_one();
    }
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  mu_.unlock();
  return self.rejected ? self.status : status;
}

Status DatabaseImpl::write_group_to_wal(const std::vector<Writer*>& group,
                                        SequenceNumber first_seq) {
  MutexLock l(wal_mu_);
  const std::uint64_t before = wal_->bytes_flushed();
  std::string payload;
  SequenceNumber seq = first_seq;
  Status s;
  for (Writer* w : group) {
    payload.assign(WriteBatchInternal::contents(*w->batch));
    encode_fixed64(payload.data(), seq);  // the batch header's sequence field
    seq += w->batch->count();
    s = wal_->add_record(payload);
    if (!s.is_ok()) break;
  }
  if (s.is_ok()) {
    if (config_.wal_sync_mode == WalSyncMode::kSync) {
      wal_dirty_ = true;
      s = sync_wal_locked();
    } else {
      s = wal_->flush();
      wal_dirty_ = true;
    }
  }
  counters_.wal_bytes.fetch_add(wal_->bytes_flushed() - before, std::memory_order_relaxed);
  if (s.is_ok() && wal_->size() >= config_.wal_segment_size) s = start_new_segment();
  return s;
}

Status DatabaseImpl::sync_wal_locked() {
  if (!wal_dirty_) return Status::ok();
  Status s = wal_->sync();
  counters_.wal_syncs.fetch_add(1, std::memory_order_relaxed);
  if (s.is_ok()) wal_dirty_ = false;
  return s;
}

Status DatabaseImpl::start_new_segment() {
  if (wal_ != nullptr) {
    // The old segment must be durable before a newer one can hold data, or a
    // crash could keep the newer writes and lose older ones (a hole).
    wal_dirty_ = true;
    LIGHTNING_RETURN_IF_ERROR(sync_wal_locked());
    LIGHTNING_RETURN_IF_ERROR(wal_->close());
    wal_.reset();
  }
  const std::uint64_t number = next_segment_number_++;
  const std::string path = wal_file_name(dir_, number);
  auto file = fs_->new_writable_file(path, FileSystem::OpenMode::kCreateNew);
  if (!file) return file.status();
  wal_ = std::make_unique<wal::WalWriter>(std::move(*file), path, number);
  // Header durable first, then the directory entry: a crash leaves either no
  // segment or a segment with a valid header (or a short torn one, see
  // docs/recovery.md).
  wal_dirty_ = true;
  LIGHTNING_RETURN_IF_ERROR(sync_wal_locked());
  LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  counters_.wal_segments.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Status DatabaseImpl::sync() {
  LIGHTNING_RETURN_IF_ERROR(check_writable());
  Status s;
  {
    MutexLock l(wal_mu_);
    s = sync_wal_locked();
  }
  if (!s.is_ok()) record_background_error(s);
  return s;
}

void DatabaseImpl::periodic_sync_loop(std::stop_token stop) {
  while (true) {
    {
      MutexLock l(timer_mu_);
      auto deadline = std::chrono::steady_clock::now() + config_.wal_sync_interval;
      while (!stop.stop_requested() && std::chrono::steady_clock::now() < deadline) {
        timer_cv_.wait_until(timer_mu_, deadline);
      }
      if (stop.stop_requested()) return;
    }
    if (has_bg_error_.load(std::memory_order_acquire)) continue;
    Status s;
    {
      MutexLock l(wal_mu_);
      s = sync_wal_locked();
    }
    if (!s.is_ok()) record_background_error(s);
  }
}

// ---------------------------------------------------------------- reads

Result<bool> DatabaseImpl::get_from(const Version& v, SequenceNumber snapshot, std::string_view key,
                                    std::string* value) {
  for (const MemTable* m : {v.mem.get(), v.imm.get()}) {
    if (m == nullptr) continue;
    switch (m->get(key, snapshot, value)) {
      case MemTable::LookupResult::kFound: return true;
      case MemTable::LookupResult::kDeleted: return false;
      case MemTable::LookupResult::kNotFound: break;
    }
  }
  std::string scratch;
  std::string* out = value != nullptr ? value : &scratch;
  for (const RunRef& r : v.runs) {
    auto found = r.reader->get(key, snapshot, out);
    if (!found) return found.status();
    if (*found == run::RunReader::Lookup::kFound) return true;
    if (*found == run::RunReader::Lookup::kDeleted) return false;
  }
  PageHandle pin;
  std::string_view view;
  auto found = pagestore::tree_get_pinned(*store_, v.tree->root, key, &pin, &view, out, v.tree->inner.get());
  if (found && *found && value != nullptr && view.data() != value->data()) value->assign(view);
  return found;
}

Result<DatabaseImpl::ReadPoint> DatabaseImpl::read_point(const ReadOptions& options) const {
  if (options.snapshot != nullptr && options.snapshot->valid()) {
    const auto* rec = static_cast<const SnapshotRecord*>(options.snapshot->pin_.get());
    if (rec->owner != instance_id_) return Status::invalid_argument("the snapshot belongs to another database");
    return ReadPoint{rec->version, rec->sequence};
  }
  return now();
}

DatabaseImpl::ReadPoint DatabaseImpl::now() const {
  while (true) {
    const std::uint64_t before = installs_.load(std::memory_order_acquire);
    auto v = current_version();  // first the version, then the sequence (invariant 2)
    if (auto* hook = read_point_hook_.load(std::memory_order_relaxed)) hook();
    const SequenceNumber seq = last_sequence_.load(std::memory_order_acquire);
    // No install in between: every write up to seq is in v (writes go into
    // a memtable only after the version holding it was installed).
    if (installs_.load(std::memory_order_acquire) == before) return ReadPoint{std::move(v), seq};
  }
}

Snapshot DatabaseImpl::snapshot() {
  ReadPoint point = now();
  auto* rec = new SnapshotRecord{instance_id_, std::move(point.version), point.sequence,
                                 std::chrono::steady_clock::now()};
  {
    MutexLock l(snapshots_->mu);
    snapshots_->live.insert(rec);
  }
  Snapshot s;
  s.sequence_ = rec->sequence;
  s.pin_ = std::shared_ptr<const void>(rec, [registry = snapshots_](const void* p) {
    auto* r = static_cast<SnapshotRecord*>(const_cast<void*>(p));
    std::shared_ptr<const Version> pinned;
    {
      MutexLock l(registry->mu);
      registry->live.erase(r);
      pinned = std::move(r->version);
    }
    delete r;
    // `pinned` (memtables, runs, tree ticket) is released here, outside the lock.
  });
  return s;
}

Result<bool> DatabaseImpl::get(const ReadOptions& options, std::string_view key, std::string& value) {
  LIGHTNING_RETURN_IF_ERROR(check_key(key));
  counters_.gets.fetch_add(1, std::memory_order_relaxed);
  auto rp = read_point(options);
  if (!rp) return rp.status();
  return get_from(*rp->version, rp->sequence, key, &value);
}

Result<std::vector<std::optional<std::string>>> DatabaseImpl::batch_get(
    const ReadOptions& options, std::span<const std::string_view> keys) {
  for (std::string_view k : keys) LIGHTNING_RETURN_IF_ERROR(check_key(k));
  counters_.gets.fetch_add(keys.size(), std::memory_order_relaxed);
  auto rp = read_point(options);
  if (!rp) return rp.status();
  std::vector<std::optional<std::string>> out(keys.size());
  std::string value;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto found = get_from(*rp->version, rp->sequence, keys[i], &value);
    if (!found) return found.status().with_context("batch_get key " + std::to_string(i));
    if (*found) out[i].emplace(std::move(value));
  }
  return out;
}

Result<std::optional<std::string>> DatabaseImpl::get(std::string_view key) {
  std::string value;
  auto found = get(key, value);
  if (!found) return found.status();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

Result<bool> DatabaseImpl::get(std::string_view key, std::string& value) {
  LIGHTNING_RETURN_IF_ERROR(check_key(key));
  counters_.gets.fetch_add(1, std::memory_order_relaxed);
  ReadPoint point = now();
  return get_from(*point.version, point.sequence, key, &value);
}

Result<bool> DatabaseImpl::get_pinned(std::string_view key, PinnedValue& out) {
  out.reset();
  LIGHTNING_RETURN_IF_ERROR(check_key(key));
  counters_.gets.fetch_add(1, std::memory_order_relaxed);
  ReadPoint point = now();
  std::shared_ptr<const Version> v = std::move(point.version);
  const SequenceNumber snapshot = point.sequence;
  for (const MemTable* m : {v->mem.get(), v->imm.get()}) {
    if (m == nullptr) continue;
    std::string_view view;
    switch (m->get_view(key, snapshot, &view)) {
      case MemTable::LookupResult::kFound:
        out.view_ = view;
        out.keep_alive_ = std::move(v);  // keeps the memtable (arena) alive
        return true;
      case MemTable::LookupResult::kDeleted:
        return false;
      case MemTable::LookupResult::kNotFound:
        break;
    }
  }
  for (const RunRef& r : v->runs) {
    auto in_run = r.reader->get(key, snapshot, &out.owned_);
    if (!in_run) return in_run.status();
    if (*in_run == run::RunReader::Lookup::kDeleted) return false;
    if (*in_run == run::RunReader::Lookup::kFound) {
      out.uses_owned_ = true;
      out.view_ = out.owned_;
      return true;
    }
  }
  PageHandle pin;
  std::string_view view;
  auto found = pagestore::tree_get_pinned(*store_, v->tree->root, key, &pin, &view, &out.owned_,
                                          v->tree->inner.get());
  if (!found || !*found) return found;
  if (pin.pinned()) {
    out.view_ = view;
    out.page_ = pin.detach();
    out.unpin_ = &PageHandle::unpin_detached;
  } else if (pin.valid()) {
    // Borrowed from the memory mapping: the version's reader ticket keeps
    // the page from being reused while the value is held.
    out.view_ = view;
    out.keep_alive_ = std::move(v);
  } else {
    out.uses_owned_ = true;
    out.view_ = out.owned_;
  }
  return true;
}

Result<bool> DatabaseImpl::contains(std::string_view key) {
  LIGHTNING_RETURN_IF_ERROR(check_key(key));
  counters_.gets.fetch_add(1, std::memory_order_relaxed);
  ReadPoint point = now();
  return get_from(*point.version, point.sequence, key, nullptr);
}

Result<std::vector<std::optional<std::string>>> DatabaseImpl::batch_get(
    std::span<const std::string_view> keys) {
  return batch_get(ReadOptions{}, keys);
}

std::unique_ptr<Iterator> DatabaseImpl::new_iterator(const ReadOptions& options) {
  auto rp = read_point(options);
  if (!rp) return new_error_iterator(rp.status());
  std::shared_ptr<const Version> v = std::move(rp->version);
  const SequenceNumber snapshot = rp->sequence;
  std::vector<std::unique_ptr<InternalIterator>> sources;
  sources.push_back(v->mem->new_iterator());
  if (v->imm != nullptr) sources.push_back(v->imm->new_iterator());
  for (const RunRef& r : v->runs) sources.push_back(r.reader->new_iterator());
  if (v->tree->root.height > 0) {
    sources.push_back(pagestore::new_tree_iterator(*store_, v->tree->root, config_.prefetch_enabled));
  }
  // The version keeps the memtables and the tree's pages alive.
  return new_db_iterator(new_merging_iterator(std::move(sources)), snapshot, options, v);
}

Stats DatabaseImpl::stats() const {
  Stats s;
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.puts = get(counters_.puts);
  s.removes = get(counters_.removes);
  s.gets = get(counters_.gets);
  s.writes = get(counters_.writes);
  s.user_bytes_written = get(counters_.user_bytes);
  s.wal_bytes_written = get(counters_.wal_bytes);
  s.wal_syncs = get(counters_.wal_syncs);
  s.wal_segments_created = get(counters_.wal_segments);
  s.commit_groups = get(counters_.groups);
  s.max_commit_group_size = get(counters_.max_group);
  s.wal_records_replayed = get(counters_.records_replayed);
  s.wal_bytes_dropped_at_recovery = get(counters_.bytes_dropped);
  auto v = current_version();
  s.memtable_bytes = v->mem->approximate_memory_usage() +
                     (v->imm != nullptr ? v->imm->approximate_memory_usage() : 0);
  s.last_sequence = last_sequence_.load(std::memory_order_acquire);
  s.write_stalls = get(counters_.stalls);
  s.write_stall_micros = get(counters_.stall_micros);
  s.max_write_stall_micros = get(counters_.max_stall);
  s.write_slowdowns = get(counters_.slowdowns);
  s.write_slowdown_micros = get(counters_.slowdown_micros);
  s.active_transactions = active_txns_.load(std::memory_order_relaxed);
  s.transactions_committed = get(counters_.txn_committed);
  s.transaction_conflicts = get(counters_.txn_conflicts);
  s.transactions_rolled_back = get(counters_.txn_rolled_back);
  s.flushes = get(counters_.flushes);
  s.flush_micros = get(counters_.flush_micros);
  s.wal_segments_deleted = get(counters_.wal_segments_deleted);
  s.data_bytes_written = store_->bytes_written();
  s.page_size = store_->page_size();
  s.data_file_bytes = store_->file_pages() * store_->page_size();
  s.data_free_bytes = store_->free_pages() * store_->page_size();
  s.tree_height = v->tree->root.height;
  s.tree_entries = v->tree->root.entry_count;
  s.tree_epoch = store_->durable_meta().epoch;
  PageCacheStats cs = cache_->stats();
  s.cache_hits = cs.hits;
  s.cache_misses = cs.misses;
  s.cache_usage_bytes = cs.usage_bytes;
  s.cache_capacity_bytes = cs.capacity_bytes;
  s.runs = v->runs.size();
  for (const RunRef& r : v->runs) s.run_bytes += r.entry.file_size;
  s.run_bytes_written = get(counters_.run_bytes_written);
  s.merges = get(counters_.merges);
  s.merge_micros = get(counters_.merge_micros);
  s.runs_probed = get(run_stats_.runs_probed);
  s.bloom_useful = get(run_stats_.bloom_useful);
  s.bloom_false_positives = get(run_stats_.bloom_false_positives);
  // Memtables and runs a snapshot holds that the current version does not.
  std::set<const void*> counted{v->mem.get(), v->imm.get()};
  for (const RunRef& r : v->runs) counted.insert(r.reader.get());
  {
    const auto now = std::chrono::steady_clock::now();
    MutexLock l(snapshots_->mu);
    s.snapshots = snapshots_->live.size();
    for (const SnapshotRecord* rec : snapshots_->live) {
      if (rec->version == nullptr) continue;
      const auto age = std::chrono::duration_cast<std::chrono::microseconds>(now - rec->created).count();
      s.oldest_snapshot_micros = std::max<std::uint64_t>(s.oldest_snapshot_micros, static_cast<std::uint64_t>(age));
      for (const MemTable* m : {rec->version->mem.get(), rec->version->imm.get()}) {
        if (m != nullptr && counted.insert(m).second) s.snapshot_pinned_bytes += m->approximate_memory_usage();
      }
      for (const RunRef& r : rec->version->runs) {
        if (counted.insert(r.reader.get()).second) s.snapshot_pinned_bytes += r.entry.file_size;
      }
    }
  }
  {
    // Merged runs kept for open transactions' validation.
    MutexLock l(history_mu_);
    for (const MergedRuns& m : merge_history_) {
      for (const RunRef& r : m.runs) {
        if (counted.insert(r.reader.get()).second) s.snapshot_pinned_bytes += r.entry.file_size;
      }
    }
  }
  s.prefetch_requests = store_->prefetch_requests();
  s.prefetch_bytes = store_->prefetch_bytes();
  s.mmap_reads = store_->uses_mmap();
  return s;
}

}  // namespace lightning
