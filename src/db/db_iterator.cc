#include "db/db_iterator.h"

#include <string>
#include <utility>

namespace lightning {

namespace {

// Two directions, as in LevelDB's DBIter:
//  - forward: source_ is positioned at the entry that is the current value.
//  - reverse: source_ is positioned just before all entries of the current
//    key; the current key and value are copied into saved_key_/saved_value_.
class DbIterator final : public Iterator {
 public:
  DbIterator(std::unique_ptr<InternalIterator> source, SequenceNumber snapshot,
             const ReadOptions& options, std::shared_ptr<const void> keep_alive)
      : source_(std::move(source)),
        snapshot_(snapshot),
        lower_(options.lower_bound),
        upper_(options.upper_bound),
        keep_alive_(std::move(keep_alive)) {}

  bool valid() const override { return valid_; }
  std::string_view key() const override {
    return direction_ == Direction::kForward ? extract_user_key(source_->key())
                                             : std::string_view(saved_key_);
  }
  std::string_view value() const override {
    return direction_ == Direction::kForward ? source_->value() : std::string_view(saved_value_);
  }
  Status status() const override { return source_->status(); }

  void seek(std::string_view target) override {
    direction_ = Direction::kForward;
    std::string_view t = target;
    if (lower_ && t < *lower_) t = *lower_;
    seek_key_.clear();
    append_internal_key(seek_key_, t, snapshot_, kValueKindForSeek);
    source_->seek(seek_key_);
    find_next_user_entry(false);
  }

  void seek_for_prev(std::string_view target) override {
    if (upper_ && target >= *upper_) {
      last();
      return;
    }
    direction_ = Direction::kReverse;
    seek_key_.clear();
    // (target, seq 0, kDelete) is the largest internal key for target.
    append_internal_key(seek_key_, target, 0, ValueKind::kDelete);
    source_->seek_for_prev(seek_key_);
    find_prev_user_entry();
  }

  void first() override {
    if (lower_) {
      seek(*lower_);
      return;
    }
    direction_ = Direction::kForward;
    source_->seek_to_first();
    find_next_user_entry(false);
  }

  void last() override {
    direction_ = Direction::kReverse;
    if (upper_) {
      // (upper, max seq, kPut) is the smallest internal key for upper and is
      // never stored, so this lands on the last entry < upper.
      seek_key_.clear();
      append_internal_key(seek_key_, *upper_, kMaxSequenceNumber, ValueKind::kPut);
      source_->seek_for_prev(seek_key_);
    } else {
      source_->seek_to_last();
    }
    find_prev_user_entry();
  }

  void next() override {
    if (direction_ == Direction::kReverse) {
      // source_ is before all entries of saved_key_: step back into them,
      // then skip them below.
      direction_ = Direction::kForward;
      if (!source_->valid()) {
        source_->seek_to_first();
      } else {
        source_->next();
      }
    } else {
      saved_key_.assign(extract_user_key(source_->key()));
      source_->next();
    }
    find_next_user_entry(true);
  }

  void prev() override {
    if (direction_ == Direction::kForward) {
      // Move source_ before all entries of the current key.
      saved_key_.assign(extract_user_key(source_->key()));
      while (true) {
        source_->prev();
        if (!source_->valid()) break;
        if (extract_user_key(source_->key()) < std::string_view(saved_key_)) break;
      }
      direction_ = Direction::kReverse;
    }
    find_prev_user_entry();
  }

 private:
  enum class Direction { kForward, kReverse };

  bool visible(const ParsedInternalKey& k) const { return k.sequence <= snapshot_; }

  // Forward: advance to the first visible live entry; when skipping, keys
  // <= saved_key_ are passed over (already returned or deleted).
  void find_next_user_entry(bool skipping) {
    ParsedInternalKey k;
    for (; source_->valid(); source_->next()) {
      if (!parse_internal_key(source_->key(), &k) || !visible(k)) continue;
      if (skipping && k.user_key <= std::string_view(saved_key_)) continue;
      if (k.kind == ValueKind::kDelete) {
        saved_key_.assign(k.user_key);
        skipping = true;
        continue;
      }
      if (upper_ && k.user_key >= std::string_view(*upper_)) break;
      valid_ = true;
      return;
    }
    valid_ = false;
  }

  // Reverse: source_ is at the last entry of the candidate key (or before);
  // walk back collecting the newest visible version of one key.
  void find_prev_user_entry() {
    ValueKind kind = ValueKind::kDelete;
    ParsedInternalKey k;
    while (source_->valid()) {
      if (parse_internal_key(source_->key(), &k) && visible(k)) {
        if (kind != ValueKind::kDelete && k.user_key < std::string_view(saved_key_)) {
          break;  // passed the entries of the key we hold
        }
        kind = k.kind;
        if (kind == ValueKind::kDelete) {
          saved_key_.clear();
          saved_value_.clear();
        } else {
          saved_key_.assign(k.user_key);
          saved_value_.assign(source_->value());
        }
      }
      source_->prev();
    }
    if (kind == ValueKind::kDelete || (lower_ && saved_key_ < *lower_)) {
      valid_ = false;
      saved_key_.clear();
      saved_value_.clear();
      direction_ = Direction::kForward;
      return;
    }
    valid_ = true;
  }

  std::unique_ptr<InternalIterator> source_;
  const SequenceNumber snapshot_;
  const std::optional<std::string> lower_;
  const std::optional<std::string> upper_;
  std::shared_ptr<const void> keep_alive_;
  Direction direction_ = Direction::kForward;
  bool valid_ = false;
  std::string saved_key_;
  std::string saved_value_;
  std::string seek_key_;
};

}  // namespace

std::unique_ptr<Iterator> new_db_iterator(std::unique_ptr<InternalIterator> source,
                                          SequenceNumber snapshot, const ReadOptions& options,
                                          std::shared_ptr<const void> keep_alive) {
  return std::make_unique<DbIterator>(std::move(source), snapshot, options, std::move(keep_alive));
}

namespace {
class ErrorIterator final : public Iterator {
 public:
  explicit ErrorIterator(Status s) : status_(std::move(s)) {}
  bool valid() const override { return false; }
  void seek(std::string_view) override {}
  void seek_for_prev(std::string_view) override {}
  void first() override {}
  void last() override {}
  void next() override {}
  void prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  Status status_;
};
}  // namespace

std::unique_ptr<Iterator> new_error_iterator(Status status) {
  return std::make_unique<ErrorIterator>(std::move(status));
}

}  // namespace lightning
