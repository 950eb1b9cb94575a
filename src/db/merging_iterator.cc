#include "db/merging_iterator.h"

#include "db/dbformat.h"

namespace lightning {

namespace {

// Linear scan over the children to pick the smallest/largest: the number of
// sources is small (memtables + tree), so a heap would not pay off.
class MergingIterator final : public InternalIterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children)
      : children_(std::move(children)) {}

  bool valid() const override { return current_ != nullptr; }

  void seek_to_first() override {
    for (auto& c : children_) c->seek_to_first();
    direction_ = Direction::kForward;
    find_smallest();
  }
  void seek_to_last() override {
    for (auto& c : children_) c->seek_to_last();
    direction_ = Direction::kReverse;
    find_largest();
  }
  void seek(std::string_view target) override {
    for (auto& c : children_) c->seek(target);
    direction_ = Direction::kForward;
    find_smallest();
  }
  void seek_for_prev(std::string_view target) override {
    for (auto& c : children_) c->seek_for_prev(target);
    direction_ = Direction::kReverse;
    find_largest();
  }

  void next() override {
    // Make every other child point at the first entry after key().
    if (direction_ != Direction::kForward) {
      std::string current_key(key());
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->seek(current_key);
        if (c->valid() && compare_internal_keys(current_key, c->key()) == 0) c->next();
      }
      direction_ = Direction::kForward;
    }
    current_->next();
    find_smallest();
  }

  void prev() override {
    // Make every other child point at the last entry before key().
    if (direction_ != Direction::kReverse) {
      std::string current_key(key());
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->seek(current_key);
        if (c->valid()) {
          c->prev();  // the entry before the first one >= key()
        } else {
          c->seek_to_last();  // every entry is < key()
        }
      }
      direction_ = Direction::kReverse;
    }
    current_->prev();
    find_largest();
  }

  std::string_view key() const override { return current_->key(); }
  std::string_view value() const override { return current_->value(); }
  Status status() const override {
    for (const auto& c : children_) {
      Status s = c->status();
      if (!s.is_ok()) return s;
    }
    return Status::ok();
  }

 private:
  enum class Direction { kForward, kReverse };

  void find_smallest() { find(-1); }
  void find_largest() { find(+1); }

  // Points current_ at the child whose key compares with `sign` against all
  // others (-1: smallest, +1: largest).
  void find(int sign) {
    current_ = nullptr;
    for (auto& c : children_) {
      if (!c->valid()) {
        // A child that stopped on an error ends the merge: continuing with
        // the others would silently skip its entries.
        if (!c->status().is_ok()) {
          current_ = nullptr;
          return;
        }
        continue;
      }
      if (current_ == nullptr || sign * compare_internal_keys(c->key(), current_->key()) > 0) {
        current_ = c.get();
      }
    }
  }

  std::vector<std::unique_ptr<InternalIterator>> children_;
  InternalIterator* current_ = nullptr;
  Direction direction_ = Direction::kForward;
};

}  // namespace

std::unique_ptr<InternalIterator> new_merging_iterator(
    std::vector<std::unique_ptr<InternalIterator>> children) {
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace lightning
