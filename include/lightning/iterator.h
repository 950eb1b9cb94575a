// Iterator: ordered traversal of a consistent view of the database.
//
// An iterator sees the database exactly as it was when it was created (later
// writes are invisible), in bytewise key order, within the bounds given by
// ReadOptions. Keys and values returned by key()/value() stay valid until the
// iterator is moved or destroyed.
//
// Thread safety: one iterator is used by one thread at a time; distinct
// iterators may be used concurrently with each other and with writers.
//
// Errors: if an operation fails (e.g. a corrupted block in later versions),
// valid() becomes false and status() says why. Iteration that merely reached
// the end has status() ok.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "lightning/snapshot.h"
#include "lightning/status.h"

namespace lightning {

struct ReadOptions {
  // Inclusive lower bound: the iterator never yields keys < lower_bound.
  std::optional<std::string> lower_bound;
  // Exclusive upper bound: the iterator never yields keys >= upper_bound.
  std::optional<std::string> upper_bound;
  // Read as of this snapshot (Database::snapshot()); null or empty: the
  // latest state. Used by new_iterator(), get() and batch_get() overloads
  // that take ReadOptions. A snapshot of another database: InvalidArgument
  // (iterators: status()).
  const Snapshot* snapshot = nullptr;
};

class Iterator {
 public:
  virtual ~Iterator() = default;

  virtual bool valid() const = 0;
  // Positions at the first key >= target (SeekGE).
  virtual void seek(std::string_view target) = 0;
  // Positions at the last key <= target (SeekLE).
  virtual void seek_for_prev(std::string_view target) = 0;
  virtual void first() = 0;
  virtual void last() = 0;
  // REQUIRES: valid()
  virtual void next() = 0;
  // REQUIRES: valid()
  virtual void prev() = 0;
  // REQUIRES: valid()
  virtual std::string_view key() const = 0;
  // REQUIRES: valid()
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

// A forward range usable in a range-for loop:
//   for (auto [k, v] : db.range("a", "m")) ...
// After the loop, status() tells whether iteration stopped on an error.
class Range {
 public:
  using Entry = std::pair<std::string_view, std::string_view>;

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const Entry*;
    using reference = Entry;

    iterator() = default;
    Entry operator*() const { return {it_->key(), it_->value()}; }
    iterator& operator++() {
      it_->next();
      if (!it_->valid()) it_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.it_ == b.it_; }

   private:
    friend class Range;
    explicit iterator(Iterator* it) : it_(it) {}
    Iterator* it_ = nullptr;
  };

  explicit Range(std::unique_ptr<Iterator> it) : it_(std::move(it)) {}
  // Positions the underlying iterator at the first entry (call once).
  iterator begin() {
    it_->first();
    return it_->valid() ? iterator(it_.get()) : iterator();
  }
  iterator end() { return iterator(); }
  Status status() const { return it_->status(); }

 private:
  std::unique_ptr<Iterator> it_;
};

}  // namespace lightning
