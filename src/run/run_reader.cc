#include "run/run_reader.h"

#include <cstring>

#include "run/block.h"
#include "run/bloom.h"
#include "util/coding.h"

namespace lightning::run {

namespace {
int compare_ikeys(std::string_view a, std::string_view b) { return compare_internal_keys(a, b); }

// Internal keys must carry a tag; anything shorter sorts by bytes (a
// damaged block then fails its checks instead of crashing the comparator).
int safe_compare(std::string_view a, std::string_view b) {
  if (a.size() < kInternalKeyTagSize || b.size() < kInternalKeyTagSize) return a.compare(b);
  return compare_ikeys(a, b);
}
}  // namespace

bool decode_block_handle(std::string_view in, BlockHandle* h) {
  return get_varint64(&in, &h->offset) && get_varint64(&in, &h->size) && in.empty();
}

RunReader::RunReader(std::string path, const Options& options)
    : path_(std::move(path)), cache_(options.cache), file_id_(options.file_id), stats_(options.stats) {}

RunReader::~RunReader() {
  if (cache_ != nullptr) cache_->erase_file(file_id_);
  file_.reset();
  // A failed removal leaves an orphan that the next open removes.
  if (delete_with_ != nullptr) (void)delete_with_->remove_file(path_);
}

Result<std::shared_ptr<RunReader>> RunReader::open(FileSystem& fs, const std::string& path, const Options& options) {
  std::shared_ptr<RunReader> r(new RunReader(path, options));
  auto file = fs.open_readable(path);
  if (!file) return file.status();
  r->file_ = std::move(*file);
  auto size = r->file_->size();
  if (!size) return size.status();
  r->file_size_ = *size;
  if (*size < kFooterSize) return Status::corruption(path + ": file too short for a run footer");
  char buf[kFooterSize];
  auto n = r->file_->read_at(*size - kFooterSize, std::as_writable_bytes(std::span(buf)));
  if (!n) return n.status();
  auto footer = decode_footer(std::string_view(buf, *n), *size, path);
  if (!footer) return footer.status();

  auto props = r->read_raw(footer->props);
  if (!props) return props.status();
  if (!decode_properties(*props, &r->props_)) {
    return Status::corruption(path + ": bad properties block at offset " + std::to_string(footer->props.offset));
  }
  auto index = r->read_raw(footer->index);
  if (!index) return index.status();
  r->index_ = std::move(*index);
  const BlockLocation where{&r->path_, footer->index.offset};
  if (auto b = BlockReader::open(r->index_, where); !b) return b.status();
  auto filter = r->read_raw(footer->filter);
  if (!filter) return filter.status();
  r->filter_ = std::move(*filter);
  return r;
}

Status RunReader::read_stored(const BlockHandle& handle, std::span<std::byte> out) const {
  const std::string where = path_ + " block at offset " + std::to_string(handle.offset);
  if (handle.offset > file_size_ || handle.size + kBlockTrailerSize > file_size_ - handle.offset) {
    return Status::corruption(where + ": block extends past the end of the file");
  }
  auto n = file_->read_at(handle.offset, out.first(handle.size + kBlockTrailerSize));
  if (!n) return n.status();
  if (*n != handle.size + kBlockTrailerSize) return Status::corruption(where + ": file ends inside the block");
  return check_block(std::string_view(reinterpret_cast<const char*>(out.data()), *n), where).status();
}

Result<std::string> RunReader::read_raw(const BlockHandle& handle) const {
  if (handle.size > file_size_) {
    return Status::corruption(path_ + " block at offset " + std::to_string(handle.offset) +
                              ": block extends past the end of the file");
  }
  std::string stored(handle.size + kBlockTrailerSize, '\0');
  LIGHTNING_RETURN_IF_ERROR(read_stored(handle, std::as_writable_bytes(std::span(stored.data(), stored.size()))));
  stored.resize(handle.size);
  return stored;
}

Result<PageHandle> RunReader::read_block(const BlockHandle& handle) const {
  const PageCacheKey key{file_id_, handle.offset};
  if (PageHandle h = cache_->lookup(key); h.valid()) {
    // Two handles at one offset with different sizes: a damaged index.
    if (h.data().size() != handle.size + kBlockTrailerSize) {
      return Status::corruption(path_ + " block at offset " + std::to_string(handle.offset) +
                                ": the index gives two sizes for this block");
    }
    return h;
  }
  if (handle.size > file_size_) {
    return Status::corruption(path_ + " block at offset " + std::to_string(handle.offset) +
                              ": block extends past the end of the file");
  }
  const std::size_t stored_size = handle.size + kBlockTrailerSize;
  PageBuffer buf = cache_->allocate(stored_size);
  LIGHTNING_RETURN_IF_ERROR(read_stored(handle, std::span(buf.get(), stored_size)));
  return cache_->insert(key, std::move(buf), stored_size);
}

Result<BlockReader> RunReader::open_block(const BlockHandle& handle, PageHandle* pin) const {
  auto block = read_block(handle);
  if (!block) return block.status();
  *pin = std::move(*block);
  return BlockReader::open(std::string_view(reinterpret_cast<const char*>(pin->data().data()), handle.size),
                           BlockLocation{&path_, handle.offset});
}

bool RunReader::may_contain(std::string_view user_key) const {
  if (props_.entries == 0) return false;
  if (user_key < props_.smallest_user_key || user_key > props_.largest_user_key) return false;
  return filter_.empty() || bloom_may_contain(filter_, user_key);
}

Result<RunReader::Lookup> RunReader::get(std::string_view user_key, SequenceNumber snapshot,
                                         std::string* value) const {
  if (props_.entries == 0 || user_key < props_.smallest_user_key || user_key > props_.largest_user_key) {
    return Lookup::kNotFound;
  }
  if (!filter_.empty() && !bloom_may_contain(filter_, user_key)) {
    if (stats_ != nullptr) stats_->bloom_useful.fetch_add(1, std::memory_order_relaxed);
    return Lookup::kNotFound;
  }
  if (stats_ != nullptr) stats_->runs_probed.fetch_add(1, std::memory_order_relaxed);
  std::string target;
  append_internal_key(target, user_key, std::min(snapshot, kMaxSequenceNumber), kValueKindForSeek);
  auto found = [&]() -> Result<Lookup> {
    auto index = BlockReader::open(index_, BlockLocation{&path_, 0});
    if (!index) return index.status();
    auto it = index->new_iterator(&safe_compare);
    it->seek(target);
    if (!it->valid()) {
      if (!it->status().is_ok()) return it->status();
      return Lookup::kNotFound;
    }
    BlockHandle h;
    if (!decode_block_handle(it->value(), &h)) {
      return Status::corruption(path_ + ": bad block handle in the index");
    }
    PageHandle pin;
    auto reader = open_block(h, &pin);
    if (!reader) return reader.status();
    auto bit = reader->new_iterator(&safe_compare);
    bit->seek(target);
    if (!bit->valid()) {
      if (!bit->status().is_ok()) return bit->status();
      return Lookup::kNotFound;
    }
    ParsedInternalKey parsed;
    if (!parse_internal_key(bit->key(), &parsed)) {
      return Status::corruption(path_ + " block at offset " + std::to_string(h.offset) + ": malformed key");
    }
    if (parsed.user_key != user_key) return Lookup::kNotFound;
    if (parsed.kind == ValueKind::kDelete) return Lookup::kDeleted;
    if (value != nullptr) value->assign(bit->value());
    return Lookup::kFound;
  }();
  if (found && *found == Lookup::kNotFound && !filter_.empty() && stats_ != nullptr) {
    stats_->bloom_false_positives.fetch_add(1, std::memory_order_relaxed);
  }
  return found;
}

namespace {

// index iterator -> data block iterator, both directions.
class RunIterator final : public InternalIterator {
 public:
  explicit RunIterator(std::shared_ptr<const RunReader> run) : run_(std::move(run)) {
    auto index = BlockReader::open(run_->index_block(), BlockLocation{&run_->path(), 0});
    if (!index) {
      status_ = index.status();
    } else {
      index_ = index->new_iterator(&safe_compare);
    }
  }

  bool valid() const override { return data_ != nullptr && data_->valid(); }
  std::string_view key() const override { return data_->key(); }
  std::string_view value() const override { return data_->value(); }
  Status status() const override {
    if (!status_.is_ok()) return status_;
    if (index_ != nullptr && !index_->status().is_ok()) return index_->status();
    if (data_ != nullptr) return data_->status();
    return Status::ok();
  }

  void seek_to_first() override {
    if (!index_) return;
    index_->seek_to_first();
    load_block();
    if (data_) data_->seek_to_first();
    skip_forward();
  }
  void seek_to_last() override {
    if (!index_) return;
    index_->seek_to_last();
    load_block();
    if (data_) data_->seek_to_last();
    skip_backward();
  }
  void seek(std::string_view target) override {
    if (!index_) return;
    index_->seek(target);
    load_block();
    if (data_) data_->seek(target);
    skip_forward();
  }
  void seek_for_prev(std::string_view target) override {
    if (!index_) return;
    index_->seek(target);  // the block that may hold the last key <= target...
    if (!index_->valid()) {
      if (!index_->status().is_ok()) return drop_block();
      index_->seek_to_last();  // ...or, past every block's last key, the last block
    }
    load_block();
    if (data_) data_->seek_for_prev(target);
    skip_backward();
  }
  void next() override {
    data_->next();
    skip_forward();
  }
  void prev() override {
    data_->prev();
    skip_backward();
  }

 private:
  void drop_block() {
    data_.reset();
    pin_.reset();
  }

  // Opens the block the index iterator points at (none if it is invalid).
  void load_block() {
    drop_block();
    if (!index_->valid()) return;
    BlockHandle h;
    if (!decode_block_handle(index_->value(), &h)) {
      status_ = Status::corruption(run_->path() + ": bad block handle in the index");
      return;
    }
    auto reader = run_->open_block(h, &pin_);
    if (!reader) {
      status_ = reader.status();
      pin_.reset();
      return;
    }
    data_ = reader->new_iterator(&safe_compare);
  }

  bool ok() const { return status_.is_ok() && (data_ == nullptr || data_->status().is_ok()); }

  // Past the end of a block: the next non-empty block.
  void skip_forward() {
    while (ok() && data_ != nullptr && !data_->valid()) {
      index_->next();
      load_block();
      if (data_) data_->seek_to_first();
    }
    check_key();
  }
  void skip_backward() {
    while (ok() && data_ != nullptr && !data_->valid()) {
      index_->prev();
      load_block();
      if (data_) data_->seek_to_last();
    }
    check_key();
  }
  // Data-block keys are internal keys: shorter than a tag is damage (and
  // would make internal-key comparisons read outside the key).
  void check_key() {
    if (ok() && data_ != nullptr && data_->valid() && data_->key().size() < kInternalKeyTagSize) {
      status_ = Status::corruption(run_->path() + ": a data block holds a key shorter than its tag");
    }
    if (!ok()) data_invalidate();
  }
  // Keeps the error but makes valid() false.
  void data_invalidate() {
    if (data_ != nullptr && !data_->status().is_ok() && status_.is_ok()) status_ = data_->status();
    drop_block();
  }

  std::shared_ptr<const RunReader> run_;
  std::unique_ptr<InternalIterator> index_;
  PageHandle pin_;  // the current data block
  std::unique_ptr<InternalIterator> data_;
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> RunReader::new_iterator() const {
  return std::make_unique<RunIterator>(shared_from_this());
}

}  // namespace lightning::run
