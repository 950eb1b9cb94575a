#include "pagestore/page_store.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "env/file_util.h"
#include "pagestore/free_list_page.h"
#include "util/coding.h"

namespace lightning::pagestore {

PageStore::PageStore(std::shared_ptr<FileSystem> fs, std::string path, const Options& options)
    : fs_(std::move(fs)), path_(std::move(path)), cache_(options.cache), file_id_(options.file_id),
      page_size_(options.page_size), want_mmap_(options.use_mmap) {}

PageStore::~PageStore() {
  if (file_ != nullptr) (void)file_->close();
}

Result<std::unique_ptr<PageStore>> PageStore::open(std::shared_ptr<FileSystem> fs, std::string path,
                                                   const Options& options) {
  std::unique_ptr<PageStore> store(new PageStore(std::move(fs), std::move(path), options));
  auto exists = store->fs_->exists(store->path_);
  if (!exists) return exists.status();
  if (!*exists) {
    if (!options.create_if_missing) return Status::not_found(store->path_ + ": data file is missing");
    LIGHTNING_RETURN_IF_ERROR(store->create(options.initial_wal_floor));
  } else {
    auto file = store->fs_->open_random_rw(store->path_, false);
    if (!file) return file.status();
    store->file_ = std::move(*file);
    LIGHTNING_RETURN_IF_ERROR(store->load());
  }
  auto size = store->file_->size();
  if (!size) return size.status();
  store->file_pages_.store(*size / store->page_size_, std::memory_order_relaxed);
  if (store->want_mmap_) {
    MutexLock l(store->mu_);
    Status s = store->map_file(store->meta_.high_water);
    if (!s.is_ok()) return s.with_context("use_mmap");
  }
  return store;
}

Status PageStore::map_file(std::uint64_t min_pages) {
  const std::uint64_t pages = std::max<std::uint64_t>(2 * min_pages, (1ull << 20) / page_size_);
  auto region = fs_->map_readonly(path_, pages * page_size_);
  if (!region) return region.status();
  auto m = std::make_unique<Mapping>();
  m->pages = (*region)->size() / page_size_;
  m->region = std::move(*region);
  m->verified = std::make_unique<std::atomic<std::uint32_t>[]>(m->pages);  // zeroed
  map_.store(m.get(), std::memory_order_release);
  maps_.push_back(std::move(m));
  return Status::ok();
}

std::string PageStore::where(const PageRef& ref) const {
  return path_ + " page " + std::to_string(ref.page_id) + " (offset " +
         std::to_string(ref.page_id * page_size_) + ")";
}

Status PageStore::create(std::uint64_t initial_wal_floor) {
  auto file = fs_->open_random_rw(path_, true);
  if (!file) return file.status();
  file_ = std::move(*file);
  // Slot 0 stays zero (invalid); slot 1 holds epoch 1: an empty tree.
  Meta m;
  m.page_size = page_size_;
  m.epoch = 1;
  m.high_water = kMetaPages;
  m.wal_floor = initial_wal_floor;
  std::string zeros(page_size_, '\0');
  LIGHTNING_RETURN_IF_ERROR(file_->write_at(0, std::as_bytes(std::span(zeros))));
  LIGHTNING_RETURN_IF_ERROR(write_meta(m));
  LIGHTNING_RETURN_IF_ERROR(file_->sync());
  LIGHTNING_RETURN_IF_ERROR(fs_->sync_dir(parent_dir(path_)));
  MutexLock l(mu_);
  meta_ = m;
  free_ = std::make_unique<FreeSpace>(kMetaPages, kMetaPages);
  return Status::ok();
}

Status PageStore::load() {
  // Slot 0 is at offset 0; slot 1 at offset page_size, which is read from
  // slot 0 or, if slot 0 is damaged, found by trying every legal page size.
  std::byte buf[kMetaSize];
  std::optional<Meta> slots[2];
  Status errors[2];
  auto read_slot = [&](std::uint64_t offset, std::string_view name) -> Result<Meta> {
    auto n = file_->read_at(offset, buf);
    if (!n) return n.status();
    if (*n < kMetaSize) return Status::corruption(path_ + ": " + std::string(name) + " is truncated");
    return decode_meta(std::span(buf, kMetaSize), path_ + " " + std::string(name) + " at offset " +
                                                      std::to_string(offset));
  };
  if (auto a = read_slot(0, "meta slot 0"); a) {
    slots[0] = *a;
  } else {
    if (a.status().is_io_error() || a.status().is_not_supported()) return a.status();
    errors[0] = a.status();
  }
  for (std::uint32_t ps = 4096; ps <= 65536; ps *= 2) {
    if (slots[0] && slots[0]->page_size != ps) continue;
    auto b = read_slot(ps, "meta slot 1");
    if (b && b->page_size == ps) {
      slots[1] = *b;
      break;
    }
    if (!b && (b.status().is_io_error() || b.status().is_not_supported())) return b.status();
    if (!b) errors[1] = b.status();
  }
  if (!slots[0] && !slots[1]) {
    return Status::corruption(path_ + ": neither meta slot is valid (" + errors[0].message() + "; " +
                              (errors[1].is_ok() ? std::string("slot 1 not found") : errors[1].message()) + ")");
  }
  int pick = !slots[0] ? 1 : !slots[1] ? 0 : (slots[1]->epoch > slots[0]->epoch ? 1 : 0);
  if (slots[0] && slots[1] && slots[0]->page_size != slots[1]->page_size) {
    return Status::corruption(path_ + ": the meta slots disagree on the page size");
  }
  // A fallback: the slot not taken is damaged, not merely never written
  // (slot 0 of a store that has only its creation commit is all zeros).
  fallback_used_ = (!slots[0] || !slots[1]) && std::max(slots[0] ? slots[0]->epoch : 0,
                                                         slots[1] ? slots[1]->epoch : 0) > 1;
  Meta m = *slots[pick];
  if (meta_slot_for_epoch(m.epoch) != static_cast<std::uint64_t>(pick)) {
    return Status::corruption(path_ + ": meta slot " + std::to_string(pick) + " holds epoch " +
                              std::to_string(m.epoch) + " of the other slot's parity");
  }
  page_size_ = m.page_size;
  std::unique_ptr<FreeSpace> free_space;
  if (m.free_space.page_id != 0) {
    std::string image;
    LIGHTNING_RETURN_IF_ERROR(read_uncached(m.free_space, PageType::kFreeList, &image));
    std::string payload;
    LIGHTNING_RETURN_IF_ERROR(read_free_list_payload(image, m.free_space, path_, &payload));
    if (payload.size() < m.free_space_bytes) {
      return Status::corruption(path_ + ": free-space map at page " + std::to_string(m.free_space.page_id) +
                                " is shorter than the meta slot says");
    }
    auto decoded = FreeSpace::decode(std::string_view(payload).substr(0, m.free_space_bytes), kMetaPages,
                                     path_ + " page " + std::to_string(m.free_space.page_id));
    if (!decoded) return decoded.status();
    free_space = std::make_unique<FreeSpace>(std::move(*decoded));
  } else {
    free_space = std::make_unique<FreeSpace>(kMetaPages, m.high_water);
  }
  if (free_space->high_water() != m.high_water) {
    return Status::corruption(path_ + ": free-space map and meta slot disagree on the file size");
  }
  std::string run_list;
  if (m.runs.page_id != 0) {
    std::string image;
    LIGHTNING_RETURN_IF_ERROR(read_uncached(m.runs, PageType::kRunList, &image));
    LIGHTNING_RETURN_IF_ERROR(read_free_list_payload(image, m.runs, path_, &run_list));
    if (run_list.size() < m.runs_bytes) {
      return Status::corruption(path_ + ": run list at page " + std::to_string(m.runs.page_id) +
                                " is shorter than the meta slot says");
    }
    run_list.resize(m.runs_bytes);
  }
  MutexLock l(mu_);
  meta_ = m;
  free_ = std::move(free_space);
  free_space_ref_ = m.free_space;
  run_list_ = std::move(run_list);
  // After a restart no reader exists: everything pending may be released as
  // far as the two meta slots allow.
  free_->release(m.epoch, std::numeric_limits<std::uint64_t>::max());
  return Status::ok();
}

Meta PageStore::durable_meta() const {
  MutexLock l(mu_);
  return meta_;
}

std::string PageStore::run_list() const {
  MutexLock l(mu_);
  return run_list_;
}

std::uint64_t PageStore::page_count(const PageRef& ref) const {
  return (static_cast<std::uint64_t>(ref.length) + page_size_ - 1) / page_size_;
}

Result<PageHandle> PageStore::read_mapped(const Mapping& m, const PageRef& ref, PageType type) const {
  const std::uint64_t pages = ref.length / page_size_;
  const std::uint64_t limit = std::min(m.pages, file_pages_.load(std::memory_order_acquire));
  if (ref.page_id < kMetaPages || ref.length == 0 || ref.length % page_size_ != 0 ||
      ref.page_id > limit || pages > limit - ref.page_id) {
    return PageHandle();  // the checked read path reports what is wrong
  }
  const std::byte* p = m.region->data().data() + ref.page_id * page_size_;
  std::span<const std::byte> image(p, ref.length);
  std::atomic<std::uint32_t>& verified = m.verified[ref.page_id];
  // A verified checksum vouches for the bytes; the header's type and page
  // count must still match what this reference expects (same line).
  const auto* raw = reinterpret_cast<const char*>(p);
  const bool header_matches = static_cast<std::uint8_t>(raw[0]) == static_cast<std::uint8_t>(type) &&
                              decode_fixed32(raw + offsetof(PageHeader, page_count)) == pages;
  if (ref.crc == 0 || !header_matches || verified.load(std::memory_order_acquire) != ref.crc) {
    LIGHTNING_RETURN_IF_ERROR(verify_page(image, ref, type, where(ref)));
    verified.store(ref.crc, std::memory_order_release);
  }
  return PageHandle::borrowed(p, ref.length);
}

void PageStore::prefetch(std::span<const PageRef> refs) const {
  const Mapping* m = map_.load(std::memory_order_acquire);
  std::uint64_t start = 0, end = 0;  // the run of adjacent pages being gathered
  auto issue = [&] {
    if (end <= start) return;
    const std::uint64_t bytes = (end - start) * page_size_;
    if (m != nullptr && end <= m->pages) {
      m->region->prefetch(start * page_size_, bytes);
    } else {
      file_->prefetch(start * page_size_, bytes);
    }
    prefetch_requests_.fetch_add(1, std::memory_order_relaxed);
    prefetch_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  };
  for (const PageRef& ref : refs) {
    if (ref.page_id < kMetaPages || ref.length == 0) continue;
    if (m == nullptr && cache_->contains({file_id_, ref.page_id})) continue;
    const std::uint64_t first = ref.page_id;
    const std::uint64_t last = first + page_count(ref);
    if (first == end) {
      end = last;
    } else {
      issue();
      start = first;
      end = last;
    }
  }
  issue();
}

Result<PageHandle> PageStore::read(const PageRef& ref, PageType type) const {
  if (const Mapping* m = map_.load(std::memory_order_acquire); m != nullptr) {
    auto h = read_mapped(*m, ref, type);
    if (!h || h->valid()) return h;
  }
  PageCacheKey key{file_id_, ref.page_id};
  if (PageHandle h = cache_->lookup(key); h.valid()) return h;
  LIGHTNING_RETURN_IF_ERROR(check_ref(ref));
  // Read straight into the buffer the cache will own: one allocation, no copy.
  PageBuffer data = cache_->allocate(ref.length);
  LIGHTNING_RETURN_IF_ERROR(read_checked(ref, type, std::span(data.get(), ref.length)));
  return cache_->insert(key, std::move(data), ref.length);
}

Status PageStore::check_ref(const PageRef& ref) const {
  if (ref.page_id < kMetaPages || ref.length == 0 || ref.length % page_size_ != 0) {
    return Status::corruption(where(ref) + ": invalid page reference (length " + std::to_string(ref.length) + ")");
  }
  return Status::ok();
}

Status PageStore::read_checked(const PageRef& ref, PageType type, std::span<std::byte> out) const {
  auto n = file_->read_at(ref.page_id * page_size_, out);
  if (!n) return n.status();
  if (*n != ref.length) {
    return Status::corruption(where(ref) + ": file ends after " + std::to_string(*n) + " of " +
                              std::to_string(ref.length) + " bytes");
  }
  return verify_page(out, ref, type, where(ref));
}

Status PageStore::read_uncached(const PageRef& ref, PageType type, std::string* image) const {
  LIGHTNING_RETURN_IF_ERROR(check_ref(ref));
  image->resize(ref.length);
  return read_checked(ref, type, std::as_writable_bytes(std::span(image->data(), image->size())));
}

PageStore::ReaderTicket& PageStore::ReaderTicket::operator=(ReaderTicket&& o) noexcept {
  if (this != &o) {
    reset();
    store_ = o.store_;
    epoch_ = o.epoch_;
    o.store_ = nullptr;
  }
  return *this;
}

void PageStore::ReaderTicket::reset() {
  if (store_ != nullptr) store_->unregister_reader(epoch_);
  store_ = nullptr;
}

PageStore::ReaderTicket PageStore::register_reader(std::uint64_t epoch) const {
  MutexLock l(mu_);
  ++readers_[epoch];
  return ReaderTicket(this, epoch);
}

void PageStore::unregister_reader(std::uint64_t epoch) const {
  MutexLock l(mu_);
  auto it = readers_.find(epoch);
  if (it != readers_.end() && --it->second == 0) {
    readers_.erase(it);
    release_needed_ = true;
  }
}

Extent PageStore::allocate(std::uint64_t pages) {
  MutexLock l(mu_);
  if (release_needed_) {
    // A reader left since the last release: pending extents may be free now.
    std::uint64_t oldest = readers_.empty() ? std::numeric_limits<std::uint64_t>::max() : readers_.begin()->first;
    free_->release(meta_.epoch, oldest);
    release_needed_ = false;
  }
  Extent e = free_->allocate(pages);
  tree_allocs_.push_back(e);
  return e;
}

void PageStore::abandon_tree_writes() {
  MutexLock l(mu_);
  for (const Extent& e : tree_allocs_) free_->unallocate(e);
  tree_allocs_.clear();
  tree_frees_.clear();
}

std::uint64_t PageStore::pending_tree_pages() const {
  MutexLock l(mu_);
  std::uint64_t pages = 0;
  for (const Extent& e : tree_allocs_) pages += e.pages;
  return pages;
}

Status PageStore::write(std::uint64_t page_id, std::string image, bool cache) {
  const std::uint64_t end = page_id + (image.size() + page_size_ - 1) / page_size_;
  {
    MutexLock l(mu_);
    if (!error_.is_ok()) return error_;
    if (!maps_.empty()) {
      // Nobody reads a page while it is being rewritten (it is free); the
      // next read of it through any mapping must verify the new image.
      for (const auto& m : maps_) {
        for (std::uint64_t p = page_id; p < std::min(end, m->pages); ++p) {
          m->verified[p].store(0, std::memory_order_relaxed);
        }
      }
      // Keep the file inside the mapping. If mapping more fails (address
      // space), pages past the mapping are read through the page cache.
      if (end > maps_.back()->pages) (void)map_file(end);
    }
  }
  Status s = file_->write_at(page_id * page_size_, std::as_bytes(std::span(image.data(), image.size())));
  if (!s.is_ok()) return poison(s);
  bytes_written_.fetch_add(image.size(), std::memory_order_relaxed);
  // Raise (never lower: a tree write and a commit's write may race).
  std::uint64_t seen = file_pages_.load(std::memory_order_relaxed);
  while (end > seen && !file_pages_.compare_exchange_weak(seen, end, std::memory_order_release)) {
  }
  if (!cache || uses_mmap()) {
    cache_->erase({file_id_, page_id});  // a stale image of a reused page
    return Status::ok();
  }
  PageBuffer data = cache_->allocate(image.size());
  std::memcpy(data.get(), image.data(), image.size());
  cache_->insert({file_id_, page_id}, std::move(data), image.size());
  return Status::ok();
}

void PageStore::free(const PageRef& ref) {
  if (ref.page_id == 0) return;
  MutexLock l(mu_);
  tree_frees_.push_back({ref.page_id, page_count(ref)});
}

Status PageStore::poison(Status s) {
  MutexLock l(mu_);
  if (error_.is_ok()) error_ = s;
  return s;
}

Status PageStore::write_meta(const Meta& m) {
  char buf[kMetaSize];
  encode_meta(m, buf);
  const std::uint64_t offset = meta_slot_for_epoch(m.epoch) * page_size_;
  Status s = file_->write_at(offset, std::as_bytes(std::span(buf)));
  if (s.is_ok()) bytes_written_.fetch_add(kMetaSize, std::memory_order_relaxed);
  return s;
}

Status PageStore::commit(Meta next, const std::string* run_list, CommitScope scope) {
  std::string payload;
  Extent map_extent;
  Extent runs_extent{0, 0};
  const bool tree = scope == CommitScope::kTree;
  {
    MutexLock l(mu_);
    if (!error_.is_ok()) return error_;
    next.epoch = meta_.epoch + 1;
    if (!tree) {
      next.root = meta_.root;
      next.tree_height = meta_.tree_height;
      next.entry_count = meta_.entry_count;
    } else {
      // The tree writer's frees take effect from this commit on; its
      // allocations are referenced by the tree it publishes.
      for (const Extent& e : tree_frees_) free_->free(e, next.epoch);
      tree_frees_.clear();
      tree_allocs_.clear();
    }
    next.page_size = page_size_;
    next.runs = meta_.runs;
    next.runs_bytes = meta_.runs_bytes;
    if (run_list != nullptr) {
      // A new list replaces the old one's extent from this commit on.
      if (meta_.runs.page_id != 0) free_->free({meta_.runs.page_id, page_count(meta_.runs)}, next.epoch);
      next.runs = PageRef{};
      next.runs_bytes = 0;
      if (!run_list->empty()) runs_extent = free_->allocate(free_list_pages(page_size_, run_list->size()));
    }
    // The previous map is replaced by this commit.
    if (free_space_ref_.page_id != 0) {
      free_->free({free_space_ref_.page_id, page_count(free_space_ref_)}, next.epoch);
    }
    free_->trim_tail();
    // The map must describe the space after its own extent was taken out:
    // allocate, re-encode, and grow the extent until the encoding fits.
    std::uint64_t want = 1;
    while (true) {
      map_extent = free_->allocate(want);
      if (tree || tree_allocs_.empty()) {
        free_->encode(&payload);
      } else {
        // Nothing durable references the tree writer's pending pages: the
        // map this commit writes calls them free (a crash before the tree
        // writer's own commit must not leak them).
        FreeSpace with_pending = *free_;
        for (const Extent& e : tree_allocs_) with_pending.unallocate(e);
        with_pending.encode(&payload);
      }
      std::uint64_t need = free_list_pages(page_size_, payload.size());
      if (need <= map_extent.pages) break;
      free_->unallocate(map_extent);  // never written: reusable at once
      want = need + 1;
    }
    next.high_water = free_->high_water();
  }
  Status s;
  if (runs_extent.pages > 0) {
    std::string runs_image;
    next.runs = build_free_list(*run_list, runs_extent.start, runs_extent.pages, page_size_, &runs_image,
                                PageType::kRunList);
    next.runs_bytes = static_cast<std::uint32_t>(run_list->size());
    s = write(runs_extent.start, std::move(runs_image), /*cache=*/false);
  }
  std::string image;
  PageRef map_ref = build_free_list(payload, map_extent.start, map_extent.pages, page_size_, &image);
  if (s.is_ok()) s = write(map_extent.start, std::move(image), /*cache=*/false);
  if (s.is_ok()) s = file_->sync();
  next.free_space = map_ref;
  next.free_space_bytes = payload.size();
  if (s.is_ok()) s = write_meta(next);
  if (s.is_ok()) s = file_->sync();
  if (!s.is_ok()) return poison(s);
  Status t;
  {
    MutexLock l(mu_);
    meta_ = next;
    free_space_ref_ = map_ref;
    if (run_list != nullptr) run_list_ = *run_list;
    std::uint64_t oldest = readers_.empty() ? std::numeric_limits<std::uint64_t>::max() : readers_.begin()->first;
    free_->release(meta_.epoch, oldest);
    // Pages past the high-water mark are referenced by neither meta slot
    // nor allocated by a tree writer. Under mu_: a page the tree writer
    // allocates past it (a meta-only commit runs beside the tree writer)
    // is allocated, and so written, only after the truncate.
    const std::uint64_t high_water = free_->high_water();
    auto size = file_->size();
    if (size && *size > high_water * page_size_) {
      // Nothing reachable lies past the high-water mark: no reader touches
      // the mapped pages the truncate removes.
      file_pages_.store(high_water, std::memory_order_release);
      t = file_->truncate(high_water * page_size_);
    }
  }
  if (!t.is_ok()) return poison(t);
  return Status::ok();
}

std::uint64_t PageStore::file_pages() const {
  MutexLock l(mu_);
  return free_->high_water();
}

std::uint64_t PageStore::free_pages() const {
  MutexLock l(mu_);
  return free_->free_pages();
}

}  // namespace lightning::pagestore
