#include "run/block.h"

#include <cassert>

#include "util/coding.h"

namespace lightning::run {

// ---------------- BlockBuilder ----------------

BlockBuilder::BlockBuilder(int restart_interval) : restart_interval_(restart_interval) {
  assert(restart_interval >= 1);
  reset();
}

void BlockBuilder::reset() {
  buffer_.clear();
  restarts_.clear();
  put_fixed32(restarts_, 0);  // the first entry is a restart point
  num_restarts_ = 1;
  counter_ = 0;
  finished_ = false;
  last_key_.clear();
}

void BlockBuilder::add(std::string_view key, std::string_view value) {
  assert(!finished_);
  std::size_t shared = 0;
  if (counter_ < restart_interval_) {
    const std::size_t n = std::min(last_key_.size(), key.size());
    while (shared < n && last_key_[shared] == key[shared]) ++shared;
  } else {
    put_fixed32(restarts_, static_cast<std::uint32_t>(buffer_.size()));
    ++num_restarts_;
    counter_ = 0;
  }
  const std::size_t unshared = key.size() - shared;
  put_varint32(buffer_, static_cast<std::uint32_t>(shared));
  put_varint32(buffer_, static_cast<std::uint32_t>(unshared));
  put_varint32(buffer_, static_cast<std::uint32_t>(value.size()));
  buffer_.append(key.substr(shared));
  buffer_.append(value);
  last_key_.resize(shared);
  last_key_.append(key.substr(shared));
  ++counter_;
}

std::string_view BlockBuilder::finish() {
  if (!finished_) {
    buffer_.append(restarts_);
    put_fixed32(buffer_, num_restarts_);
    finished_ = true;
  }
  return buffer_;
}

std::size_t BlockBuilder::size_estimate() const {
  return buffer_.size() + restarts_.size() + sizeof(std::uint32_t);
}

// ---------------- BlockReader ----------------

std::string BlockLocation::to_string() const {
  return (file != nullptr ? *file : std::string("run")) + " block at offset " + std::to_string(offset);
}

Result<BlockReader> BlockReader::open(std::string_view payload, BlockLocation where) {
  if (payload.size() < sizeof(std::uint32_t)) {
    return Status::corruption(where.to_string() + ": block of " + std::to_string(payload.size()) +
                              " bytes is too short");
  }
  if (payload.size() > UINT32_MAX) return Status::corruption(where.to_string() + ": block larger than 4 GiB");
  const std::uint32_t n = decode_fixed32(payload.data() + payload.size() - 4);
  const std::uint64_t max = (payload.size() - 4) / 4;
  if (n == 0 || n > max) {
    return Status::corruption(where.to_string() + ": block has a bad restart count " + std::to_string(n));
  }
  const auto restarts_offset = static_cast<std::uint32_t>(payload.size() - 4 - 4ull * n);
  return BlockReader(payload, restarts_offset, n, where);
}

namespace {

class BlockIterator final : public InternalIterator {
 public:
  BlockIterator(std::string_view data, std::uint32_t restarts_offset, std::uint32_t num_restarts,
                BlockLocation where, KeyCompare compare)
      : data_(data), restarts_(restarts_offset), num_restarts_(num_restarts), where_(where), compare_(compare) {}

  bool valid() const override { return current_ < restarts_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return status_; }

  void seek_to_first() override {
    seek_to_restart(0);
    parse_next();
  }

  void seek_to_last() override {
    seek_to_restart(num_restarts_ - 1);
    while (parse_next() && next_offset() < restarts_) {
    }
  }

  void next() override {
    assert(valid());
    parse_next();
  }

  void prev() override {
    assert(valid());
    const std::uint32_t original = current_;
    // The last restart point before the current entry, then forward to the
    // entry just before it.
    while (restart_point(restart_index_) >= original) {
      if (restart_index_ == 0) {
        invalidate();
        return;
      }
      --restart_index_;
    }
    seek_to_restart(restart_index_);
    while (parse_next() && next_offset() < original) {
    }
  }

  void seek(std::string_view target) override {
    if (!seek_restart_for(target)) return;
    // Forward to the first key >= target.
    while (parse_next()) {
      if (compare_(key_, target) >= 0) return;
    }
  }

  void seek_for_prev(std::string_view target) override {
    seek(target);
    if (!status_.is_ok()) return;
    if (!valid()) {
      seek_to_last();
      return;
    }
    while (valid() && compare_(key_, target) > 0) prev();
  }

 private:
  std::uint32_t restart_point(std::uint32_t i) const { return decode_fixed32(data_.data() + restarts_ + 4ull * i); }
  std::uint32_t next_offset() const { return static_cast<std::uint32_t>(value_.data() + value_.size() - data_.data()); }

  void invalidate() {
    current_ = restarts_;
    restart_index_ = num_restarts_;
    key_.clear();
    value_ = {};
  }

  void corrupt(const std::string& what) {
    if (status_.is_ok()) status_ = Status::corruption(where_.to_string() + ": " + what);
    invalidate();
  }

  // Positions before the entry at restart i: the next parse_next() reads it.
  void seek_to_restart(std::uint32_t i) {
    key_.clear();
    restart_index_ = i;
    const std::uint32_t off = restart_point(i);
    if (off > restarts_) return corrupt("restart point " + std::to_string(i) + " past the entries");
    value_ = data_.substr(off, 0);  // next_offset() == off
    current_ = off;
    pending_ = true;
  }

  // Binary search over restart points: the last restart whose key < target
  // (or the first one). Returns false on corruption.
  bool seek_restart_for(std::string_view target) {
    std::uint32_t lo = 0, hi = num_restarts_ - 1;
    while (lo < hi) {
      const std::uint32_t mid = (lo + hi + 1) / 2;
      std::string_view k;
      if (!key_at_restart(mid, &k)) {
        corrupt("bad entry at restart point " + std::to_string(mid));
        return false;
      }
      if (compare_(k, target) < 0) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    seek_to_restart(lo);
    return status_.is_ok();
  }

  bool key_at_restart(std::uint32_t i, std::string_view* key) const {
    const std::uint32_t off = restart_point(i);
    if (off >= restarts_) return false;
    std::string_view in = data_.substr(off, restarts_ - off);
    std::uint32_t shared, unshared, vlen;
    if (!get_varint32(&in, &shared) || !get_varint32(&in, &unshared) || !get_varint32(&in, &vlen)) return false;
    if (shared != 0 || in.size() < unshared) return false;
    *key = in.substr(0, unshared);
    return true;
  }

  // Decodes the entry at next_offset(); false (and invalid) at the end or
  // on corruption.
  bool parse_next() {
    const std::uint32_t off = pending_ ? current_ : next_offset();
    pending_ = false;
    current_ = off;
    if (off >= restarts_) {
      invalidate();
      return false;
    }
    std::string_view in = data_.substr(off, restarts_ - off);
    std::uint32_t shared, unshared, vlen;
    if (!get_varint32(&in, &shared) || !get_varint32(&in, &unshared) || !get_varint32(&in, &vlen) ||
        shared > key_.size() || in.size() < static_cast<std::uint64_t>(unshared) + vlen) {
      corrupt("bad entry at offset " + std::to_string(off));
      return false;
    }
    key_.resize(shared);
    key_.append(in.substr(0, unshared));
    value_ = in.substr(unshared, vlen);
    while (restart_index_ + 1 < num_restarts_ && restart_point(restart_index_ + 1) <= off) ++restart_index_;
    return true;
  }

  const std::string_view data_;
  const std::uint32_t restarts_;  // offset of the restart array = end of entries
  const std::uint32_t num_restarts_;
  const BlockLocation where_;
  const KeyCompare compare_;
  std::uint32_t current_ = restarts_;  // offset of the current entry; restarts_ = invalid
  std::uint32_t restart_index_ = 0;    // restart block of the current entry
  bool pending_ = false;               // positioned before current_ (not parsed yet)
  std::string key_;
  std::string_view value_;
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> BlockReader::new_iterator(KeyCompare compare) const {
  return std::make_unique<BlockIterator>(data_, restarts_offset_, num_restarts_, where_, compare);
}

}  // namespace lightning::run
