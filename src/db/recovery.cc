// Opening a database directory and replaying its WAL (docs/recovery.md).
#include <algorithm>
#include <optional>

#include "db/db_impl.h"
#include "db/db_marker.h"
#include "db/filename.h"
#include "db/write_batch_internal.h"
#include "env/file_util.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"

namespace lightning {

namespace {
// A last segment whose header is invalid and that is no longer than a header
// was cut short while being created: the header is synced alone before any
// record is written, so such a file cannot hold a record.
constexpr std::uint64_t kMaxTornCreationSize = wal::kSegmentHeaderSize;
}  // namespace

Result<std::unique_ptr<Database>> DatabaseImpl::open(const std::string& path, const Config& config) {
  LIGHTNING_RETURN_IF_ERROR(config.validate());
  if (path.empty()) return Status::invalid_argument("database path is empty");
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto fs = config.file_system != nullptr ? config.file_system : default_file_system();
  std::unique_ptr<DatabaseImpl> db(new DatabaseImpl(dir, config, std::move(fs)));
  LIGHTNING_RETURN_IF_ERROR(db->open_directory());
  LIGHTNING_RETURN_IF_ERROR(db->recover());
  db->flush_thread_ = std::jthread([raw = db.get()](std::stop_token st) { raw->flush_loop(st); });
  db->merge_thread_ = std::jthread([raw = db.get()](std::stop_token st) { raw->merge_loop(st); });
  db->maybe_request_merge();  // runs left over from the last session
  if (config.wal_sync_mode == WalSyncMode::kPeriodic) {
    db->sync_thread_ = std::jthread([raw = db.get()](std::stop_token st) { raw->periodic_sync_loop(st); });
  }
  return std::unique_ptr<Database>(std::move(db));
}

Status DatabaseImpl::open_directory() {
  auto listing = fs_->list_dir(dir_);
  if (!listing) {
    if (!listing.status().is_not_found()) {
      return listing.status().with_context("cannot open database directory " + dir_);
    }
    if (!config_.create_if_missing) {
      return Status::invalid_argument("database " + dir_ + " does not exist and create_if_missing is false");
    }
    LIGHTNING_RETURN_IF_ERROR(fs_->create_dir(dir_));
    LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(parent_dir(dir_)));
  }
  bool had_lock_file = false;
  if (listing) {
    std::uint64_t unused = 0;
    had_lock_file = std::any_of(listing->begin(), listing->end(), [&](const std::string& name) {
      return parse_file_name(name, &unused) == FileType::kLock;
    });
  }
  auto lock = fs_->lock_file(lock_file_name(dir_));
  if (!lock) return lock.status().with_context("cannot open database " + dir_);
  lock_ = std::move(*lock);

  listing = fs_->list_dir(dir_);
  if (!listing) return listing.status();
  bool has_marker = false, has_wal = false, has_foreign = false;
  std::uint64_t number = 0;
  for (const auto& name : *listing) {
    switch (parse_file_name(name, &number)) {
      case FileType::kMarker: has_marker = true; break;
      case FileType::kWalSegment:
      case FileType::kRun:
      case FileType::kData: has_wal = true; break;
      case FileType::kLock:
      case FileType::kTempMarker:
      case FileType::kCorruptWal: break;
      case FileType::kUnknown: has_foreign = true; break;
    }
  }
  if (has_marker) {
    if (config_.error_if_exists) {
      return Status::invalid_argument("database " + dir_ + " already exists and error_if_exists is set");
    }
    auto version = check_marker(*fs_, dir_);
    if (!version) return version.status();
    marker_version_ = *version;
    return Status::ok();
  }
  if (has_wal) {
    return Status::corruption(dir_ + " holds database files (WAL, runs or DATA) but its LIGHTNING marker file is missing");
  }
  if (has_foreign) {
    // Leave a foreign directory as it was found.
    lock_.reset();
    if (!had_lock_file) (void)fs_->remove_file(lock_file_name(dir_));
    return Status::invalid_argument(dir_ + " is not a Lightning DB (no LIGHTNING marker file) and is not "
                                           "empty; refusing to create a database among other files");
  }
  if (!config_.create_if_missing) {
    return Status::invalid_argument(dir_ + " is not a Lightning DB (no LIGHTNING marker file) and "
                                           "create_if_missing is false");
  }
  if (auto e = fs_->exists(temp_marker_file_name(dir_)); e && *e) {
    LIGHTNING_RETURN_IF_ERROR(fs_->remove_file(temp_marker_file_name(dir_)));
  }
  marker_version_ = kDatabaseFormatVersion;
  return write_marker(*fs_, dir_);
}

Status DatabaseImpl::recover() {
  auto listing = fs_->list_dir(dir_);
  if (!listing) return listing.status();
  std::vector<std::uint64_t> segments;
  std::vector<std::uint64_t> run_files;
  std::uint64_t number = 0, max_number = 0;
  bool has_data = false;
  for (const auto& name : *listing) {
    FileType type = parse_file_name(name, &number);
    if (type == FileType::kWalSegment) segments.push_back(number);
    if (type == FileType::kRun) run_files.push_back(number);
    if (type == FileType::kWalSegment || type == FileType::kCorruptWal) {
      max_number = std::max(max_number, number);
    }
    if (type == FileType::kData) has_data = true;
  }
  std::sort(segments.begin(), segments.end());

  // The page store. A database always has one once its first WAL segment
  // exists (the data file is created first), so a missing data file next to
  // WAL segments means lost data, unless the database predates the page
  // store (marker format version 1).
  if (!has_data && !segments.empty() && marker_version_ >= 2) {
    return Status::corruption(data_file_name(dir_) + " is missing but the database holds WAL segments");
  }
  cache_ = std::make_unique<PageCache>(config_.cache_size);
  pagestore::PageStore::Options po;
  po.page_size = config_.page_size;
  po.cache = cache_.get();
  po.file_id = 0;
  po.create_if_missing = true;
  po.use_mmap = config_.use_mmap;
  // A new tree covers no WAL: its floor is the first segment that exists (a
  // database upgraded from format 1) or the first one that will be created.
  po.initial_wal_floor = segments.empty() ? max_number + 1 : segments.front();
  auto store = pagestore::PageStore::open(fs_, data_file_name(dir_), po);
  if (!store) return store.status();
  store_ = std::move(*store);
  if (marker_version_ < kDatabaseFormatVersion) LIGHTNING_RETURN_IF_ERROR(write_marker(*fs_, dir_));
  const pagestore::Meta meta = store_->durable_meta();

  // The segment at the floor is created (and synced) before the flush that
  // names it, and deleted only after a later commit raises the floor: it must
  // exist. If it does not, the meta slot in use is older than the WAL on disk
  // (e.g. the newest slot was damaged after its flush deleted the segments
  // the older tree still needs): opening would silently lose writes.
  const bool never_written = meta.epoch == 1 && segments.empty() && max_number == 0;
  if (meta.wal_floor > 0 && !never_written) {
    const bool floor_present =
        std::binary_search(segments.begin(), segments.end(), meta.wal_floor) ||
        std::any_of(listing->begin(), listing->end(), [&](const std::string& name) {
          std::uint64_t n = 0;
          return parse_file_name(name, &n) == FileType::kCorruptWal && n == meta.wal_floor;
        });
    if (!floor_present) {
      return Status::corruption(
          data_file_name(dir_) + ": meta slot epoch " + std::to_string(meta.epoch) +
          " needs WAL segment " + wal_file_name(dir_, meta.wal_floor) + ", which is missing" +
          (store_->recovered_from_fallback_slot() ? " (the newer meta slot is damaged)" : ""));
    }
  }

  // Segments below the floor hold only writes the tree already has (their
  // deletion after the flush may not have happened before a crash).
  std::vector<std::uint64_t> live;
  bool removed = false;
  for (std::uint64_t n : segments) {
    if (n < meta.wal_floor) {
      LIGHTNING_RETURN_IF_ERROR(fs_->remove_file(wal_file_name(dir_, n)));
      removed = true;
    } else {
      live.push_back(n);
    }
  }
  if (removed) LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  // The live runs (newest first), as the meta slot's run list names them.
  // Run files it does not name were written by a flush that did not commit
  // (or merged away before a crash removed them): delete them.
  std::vector<RunListEntry> run_list;
  if (!decode_run_list(store_->run_list(), &run_list)) {
    return Status::corruption(data_file_name(dir_) + ": the run list of meta slot epoch " +
                              std::to_string(meta.epoch) + " is malformed");
  }
  std::vector<RunRef> runs;
  std::uint64_t max_run = 0;
  for (const RunListEntry& e : run_list) {
    auto reader = open_run(e.number);
    if (!reader) {
      const std::string what = data_file_name(dir_) + ": meta slot epoch " + std::to_string(meta.epoch) +
                               " names run " + run_file_name(dir_, e.number);
      const std::string why = store_->recovered_from_fallback_slot() ? " (the newer meta slot is damaged)" : "";
      // A missing run means lost data (like a missing WAL segment).
      if (reader.status().is_not_found()) return Status::corruption(what + ", which is missing" + why);
      return reader.status().with_context(what + why);
    }
    if ((*reader)->file_size() != e.file_size) {
      return Status::corruption(run_file_name(dir_, e.number) + " has " + std::to_string((*reader)->file_size()) +
                                " bytes, the run list says " + std::to_string(e.file_size));
    }
    runs.push_back(RunRef{e, std::move(*reader)});
    max_run = std::max(max_run, e.number);
  }
  bool removed_runs = false;
  for (std::uint64_t n : run_files) {
    max_run = std::max(max_run, n);
    const bool listed = std::any_of(run_list.begin(), run_list.end(), [&](const RunListEntry& e) { return e.number == n; });
    if (!listed) {
      LIGHTNING_RETURN_IF_ERROR(fs_->remove_file(run_file_name(dir_, n)));
      removed_runs = true;
    }
  }
  if (removed_runs) LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  next_run_number_.store(max_run + 1);
  LIGHTNING_RETURN_IF_ERROR(replay_segments(live, meta.last_sequence));
  auto tree = std::make_shared<TreeVersion>();
  tree->root = {meta.root, meta.tree_height, meta.entry_count};
  tree->epoch = meta.epoch;
  tree->ticket = store_->register_reader(meta.epoch);
  tree->inner = build_inner_index(tree->root);
  tree->max_sequence = meta.last_sequence;  // at most; nothing began before it
  {
    MutexLock l(history_mu_);
    history_floor_ = meta.last_sequence;
  }
  auto v = std::make_shared<Version>();
  v->mem = active_mem_;
  v->runs = std::move(runs);
  v->tree = std::move(tree);
  install_version(std::move(v));

  MutexLock l(wal_mu_);
  next_segment_number_ = std::max(max_number + 1, meta.wal_floor);
  return start_new_segment();
}

Status DatabaseImpl::replay_segments(const std::vector<std::uint64_t>& segments,
                                     SequenceNumber tree_sequence) {
  struct Damage {
    std::size_t index;
    std::uint64_t good_end;
    Status status;
  };
  // A torn tail seen in segment `index`: harmless if nothing intact follows
  // it anywhere, damage in the middle otherwise.
  std::optional<Damage> torn;
  // Writes up to tree_sequence are in the tree already.
  SequenceNumber last = tree_sequence;
  WriteBatch batch;
  std::string record;

  auto publish = [&] {
    next_sequence_ = last + 1;
    last_sequence_.store(last, std::memory_order_release);
  };
  auto damaged = [&](const Damage& d) -> Status {
    if (config_.paranoid_checks) return d.status;
    // Point-in-time recovery: keep what was replayed up to the damage.
    publish();
    return set_aside_damaged(segments, d.index, d.good_end);
  };
  // Something intact or damaged follows an earlier torn tail: the torn tail
  // was damage in the middle, and it is the first damage of the history.
  auto torn_was_middle = [&](const std::string& later) -> Status {
    torn->status = Status::corruption(wal_file_name(dir_, segments[torn->index]) +
                                      ": damaged record at offset " + std::to_string(torn->good_end) +
                                      " is followed by more log in " + later);
    return damaged(*torn);
  };

  std::size_t replayed_segments = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string path = wal_file_name(dir_, segments[i]);
    auto file = fs_->open_readable(path);
    if (!file) return file.status();
    wal::WalReader reader(**file, path);
    if (Status hs = reader.read_header(segments[i]); !hs.is_ok()) {
      if (hs.is_not_supported() || hs.is_io_error()) return hs;  // never set aside
      if (i + 1 == segments.size() && reader.file_size() <= kMaxTornCreationSize) {
        // An interrupted segment creation: the header is synced alone before
        // any record is written, so this file cannot hold a record. It is
        // rewritten as a valid empty segment rather than deleted: the segment
        // may be a meta slot's wal_floor, which must keep existing.
        counters_.bytes_dropped.fetch_add(reader.file_size(), std::memory_order_relaxed);
        file->reset();
        if (torn) return torn_was_middle(path);
        auto out = fs_->new_writable_file(path, FileSystem::OpenMode::kCreateOrTruncate);
        if (!out) return out.status();
        wal::WalWriter empty(std::move(*out), path, segments[i]);
        LIGHTNING_RETURN_IF_ERROR(empty.sync());
        LIGHTNING_RETURN_IF_ERROR(empty.close());
        break;
      }
      if (torn) return torn_was_middle(path);
      return damaged({i, 0, hs});
    }
    replayed_segments = i + 1;
    bool segment_done = false;
    while (!segment_done) {
      switch (reader.next(&record)) {
        case wal::WalReader::Outcome::kRecord: {
          if (torn) return torn_was_middle(path);
          Status s = WriteBatchInternal::set_contents(batch, record);
          SequenceNumber seq = s.is_ok() ? WriteBatchInternal::sequence(batch) : 0;
          if (s.is_ok() && seq != 0 && seq + batch.count() - 1 <= tree_sequence) {
            break;  // already in the tree
          }
          // Sequences are dense: every batch starts right after the last one.
          if (s.is_ok() && (seq == 0 || (last != 0 && seq != last + 1) ||
                            seq > kMaxSequenceNumber - batch.count())) {
            s = Status::corruption("sequence number " + std::to_string(seq) + " does not follow " +
                                   std::to_string(last));
          }
          if (!s.is_ok()) {
            return damaged({i, reader.record_offset(),
                            s.with_context(path + ": record at offset " +
                                           std::to_string(reader.record_offset()))});
          }
          WriteBatchInternal::insert_into(batch, seq, *active_mem_);
          last = seq + batch.count() - 1;
          counters_.records_replayed.fetch_add(1, std::memory_order_relaxed);
          break;
        }
        case wal::WalReader::Outcome::kEnd:
          segment_done = true;
          break;
        case wal::WalReader::Outcome::kTornTail:
          if (torn) return torn_was_middle(path);
          torn = Damage{i, reader.good_end(), Status::ok()};
          counters_.bytes_dropped.fetch_add(reader.file_size() - reader.good_end(),
                                            std::memory_order_relaxed);
          segment_done = true;
          break;
        case wal::WalReader::Outcome::kCorruption:
          if (!reader.status().is_corruption()) return reader.status();  // I/O error
          if (torn) return torn_was_middle(path);
          return damaged({i, reader.good_end(), reader.status()});
      }
    }
  }
  if (torn) {
    LIGHTNING_RETURN_IF_ERROR(truncate_segment(segments[torn->index], torn->good_end));
  } else if (replayed_segments > 0) {
    // What was replayed may still sit only in the page cache (a write whose
    // fsync failed or never ran before the previous process died). It must be
    // durable before a newer segment can hold acknowledged writes (rule 3 of
    // docs/recovery.md).
    LIGHTNING_RETURN_IF_ERROR(sync_segment(segments[replayed_segments - 1]));
  }
  publish();
  return Status::ok();
}

Status DatabaseImpl::sync_segment(std::uint64_t number) {
  auto file = fs_->new_writable_file(wal_file_name(dir_, number), FileSystem::OpenMode::kAppendExisting);
  if (!file) return file.status();
  LIGHTNING_RETURN_IF_ERROR((*file)->sync());
  return (*file)->close();
}

Status DatabaseImpl::truncate_segment(std::uint64_t number, std::uint64_t good_end) {
  LIGHTNING_RETURN_IF_ERROR(fs_->truncate_file(wal_file_name(dir_, number), good_end));
  return sync_segment(number);
}

Status DatabaseImpl::set_aside_damaged(const std::vector<std::uint64_t>& segments,
                                       std::size_t damaged_index, std::uint64_t good_end) {
  // Keep a copy of the damaged segment for forensics, move every later
  // segment aside, and only then cut the damaged segment back to its intact
  // prefix: at every crash point the log on disk is either the old one or a
  // prefix of it, never a history with a hole.
  const std::uint64_t number = segments[damaged_index];
  const std::string path = wal_file_name(dir_, number);
  auto copied = copy_file(*fs_, path, corrupt_wal_file_name(dir_, number),
                          FileSystem::OpenMode::kCreateOrTruncate);
  if (!copied) return copied.status();
  counters_.bytes_dropped.fetch_add(*copied > good_end ? *copied - good_end : 0, std::memory_order_relaxed);
  for (std::size_t j = damaged_index + 1; j < segments.size(); ++j) {
    const std::string later = wal_file_name(dir_, segments[j]);
    if (auto f = fs_->open_readable(later); f) {
      if (auto n = (*f)->size(); n) counters_.bytes_dropped.fetch_add(*n, std::memory_order_relaxed);
    }
    LIGHTNING_RETURN_IF_ERROR(fs_->rename_file(later, corrupt_wal_file_name(dir_, segments[j])));
  }
  LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  if (good_end < wal::kSegmentHeaderSize) {
    LIGHTNING_RETURN_IF_ERROR(fs_->remove_file(path));
    return fs_->sync_dir(dir_);
  }
  return truncate_segment(number, good_end);
}
}  // namespace lightning
