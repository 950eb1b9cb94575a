// Transactions (docs/transactions.md): the Transaction handle, the iterator
// that merges a write set over the database's view, the id-style API, and
// commit-time validation (called by the commit queue's leader).
#include <algorithm>

#include "db/db_impl.h"
#include "db/db_iterator.h"
#include "db/transaction_state.h"
#include "db/write_batch_internal.h"
#include "util/escape.h"

namespace lightning {

const char* isolation_level_name(IsolationLevel level) {
  switch (level) {
    case IsolationLevel::kReadCommitted:
      return "ReadCommitted";
    case IsolationLevel::kSnapshot:
      return "Snapshot";
    case IsolationLevel::kSerializable:
      return "Serializable";
  }
  return "?";
}

namespace {

Status finished_error() { return Status::invalid_argument("the transaction is already committed or rolled back"); }

// The smallest key greater than k.
std::string successor(std::string_view k) {
  std::string s(k);
  s.push_back('\0');
  return s;
}

// The write set of a transaction merged over an iterator of the database's
// view at the transaction's read point: the transaction's own writes win,
// its deletes hide keys. At kSerializable it records the key range it
// examined in the transaction's ScannedRange slot `slot`.
class TxnIterator final : public Iterator {
 public:
  using Writes = std::map<std::string, std::optional<std::string>, std::less<>>;

  TxnIterator(std::unique_ptr<Iterator> base, std::shared_ptr<Transaction::State> state, ReadOptions bounds,
              std::optional<std::size_t> slot)
      : base_(std::move(base)), state_(std::move(state)), lower_(std::move(bounds.lower_bound)),
        upper_(std::move(bounds.upper_bound)), slot_(slot), ws_(writes().end()) {}

  bool valid() const override { return valid_; }
  Status status() const override { return base_->status(); }
  std::string_view key() const override { return from_ws_ ? std::string_view(ws_->first) : base_->key(); }
  std::string_view value() const override {
    return from_ws_ ? std::string_view(*ws_->second) : base_->value();
  }

  void first() override {
    base_->first();
    ws_ = lower_ ? writes().lower_bound(*lower_) : writes().begin();
    forward_ = true;
    settle_forward();
    cover(std::nullopt, forward_end());
  }
  void seek(std::string_view target) override {
    base_->seek(target);
    std::string_view from = lower_ && target < *lower_ ? std::string_view(*lower_) : target;
    ws_ = writes().lower_bound(from);
    forward_ = true;
    settle_forward();
    cover(std::string(target), forward_end());
  }
  void last() override {
    base_->last();
    ws_ = upper_ ? last_below(*upper_) : last_element();
    forward_ = false;
    settle_backward();
    cover(backward_start(), std::nullopt);
  }
  void seek_for_prev(std::string_view target) override {
    base_->seek_for_prev(target);
    if (upper_ && target >= *upper_) {
      ws_ = last_below(*upper_);
    } else {
      ws_ = writes().upper_bound(target);
      step_back(ws_);
    }
    forward_ = false;
    settle_backward();
    cover(backward_start(), successor(target));
  }
  void next() override {
    std::string current(key());
    if (!forward_) {
      // Both sources to the first entry after the current key.
      base_->seek(current);
      if (base_->valid() && base_->key() == current) base_->next();
      ws_ = writes().upper_bound(current);
      forward_ = true;
    } else if (from_ws_) {
      ++ws_;  // the base is already past an equal key (settle_forward)
    } else {
      base_->next();
    }
    settle_forward();
    cover(std::move(current), forward_end());
  }
  void prev() override {
    std::string current(key());
    if (forward_) {
      base_->seek_for_prev(current);
      if (base_->valid() && base_->key() == current) base_->prev();
      ws_ = last_below(current);
      forward_ = false;
    } else if (from_ws_) {
      step_back(ws_);
    } else {
      base_->prev();
    }
    settle_backward();
    cover(backward_start(), successor(current));
  }

 private:
  const Writes& writes() const { return state_->writes; }
  // ws_ == end() stands for "no candidate" in both directions.
  void step_back(Writes::const_iterator& it) const {
    it = it == writes().begin() ? writes().end() : std::prev(it);
  }
  Writes::const_iterator last_below(std::string_view k) const {
    auto it = writes().lower_bound(k);
    step_back(it);
    return it;
  }
  Writes::const_iterator last_element() const {
    return writes().empty() ? writes().end() : std::prev(writes().end());
  }

  void settle_forward() {
    while (true) {
      const bool bv = base_->valid();
      const bool wv = ws_ != writes().end() && (!upper_ || ws_->first < *upper_);
      if (!bv && !wv) break;
      if (wv && (!bv || std::string_view(ws_->first) <= base_->key())) {
        if (bv && base_->key() == ws_->first) base_->next();  // shadowed by the write set
        if (!ws_->second.has_value()) {  // deleted by this transaction
          ++ws_;
          continue;
        }
        from_ws_ = true;
        valid_ = true;
        return;
      }
      from_ws_ = false;
      valid_ = true;
      return;
    }
    valid_ = false;
    from_ws_ = false;
  }
  void settle_backward() {
    while (true) {
      const bool bv = base_->valid();
      const bool wv = ws_ != writes().end() && (!lower_ || ws_->first >= *lower_);
      if (!bv && !wv) break;
      if (wv && (!bv || std::string_view(ws_->first) >= base_->key())) {
        if (bv && base_->key() == ws_->first) base_->prev();
        if (!ws_->second.has_value()) {
          step_back(ws_);
          continue;
        }
        from_ws_ = true;
        valid_ = true;
        return;
      }
      from_ws_ = false;
      valid_ = true;
      return;
    }
    valid_ = false;
    from_ws_ = false;
  }

  // The exclusive end of what a forward move examined: past the key it
  // stopped at, or everything (to the upper bound) when it ran off the end.
  std::optional<std::string> forward_end() const {
    if (valid_) return successor(key());
    return std::nullopt;
  }
  // The start of what a backward move examined.
  std::optional<std::string> backward_start() const {
    if (valid_) return std::string(key());
    return std::nullopt;
  }
  // Extends the scanned range by [lo, hi) (nullopt: unbounded), clamped to
  // the iterator's bounds (keys outside them are never examined).
  void cover(std::optional<std::string> lo, std::optional<std::string> hi) {
    if (!slot_) return;
    if (lower_ && (!lo || *lo < *lower_)) lo = lower_;
    if (upper_ && (!hi || *hi > *upper_)) hi = upper_;
    ScannedRange& r = state_->ranges[*slot_];
    if (!r.used) {
      r = {true, std::move(lo), std::move(hi)};
      return;
    }
    if (r.lo && (!lo || *lo < *r.lo)) r.lo = std::move(lo);
    if (r.hi && (!hi || *hi > *r.hi)) r.hi = std::move(hi);
  }

  std::unique_ptr<Iterator> base_;
  std::shared_ptr<Transaction::State> state_;
  std::optional<std::string> lower_, upper_;
  std::optional<std::size_t> slot_;
  Writes::const_iterator ws_;
  bool forward_ = true;
  bool from_ws_ = false;
  bool valid_ = false;
};

}  // namespace

// ---------------------------------------------------------------- handle

namespace {
// Why a handle cannot be used: empty, or its database was closed (a misuse
// the handle survives: closing marks every transaction's database gone).
Status unusable(const std::shared_ptr<Transaction::State>& st) {
  if (st == nullptr) return finished_error();
  if (!st->db_open->load(std::memory_order_acquire)) {
    return Status::invalid_argument("the transaction's database is closed");
  }
  return Status::ok();
}
bool live(const std::shared_ptr<Transaction::State>& st) {
  return st != nullptr && st->open && st->db_open->load(std::memory_order_acquire);
}
}  // namespace

Transaction::Transaction(Transaction&&) noexcept = default;
Transaction& Transaction::operator=(Transaction&& o) noexcept {
  if (this != &o) {
    if (live(state_)) (void)rollback();
    state_ = std::move(o.state_);
  }
  return *this;
}
Transaction::~Transaction() {
  if (live(state_)) (void)rollback();
}

Status Transaction::put(std::string_view key, std::string_view value) {
  LIGHTNING_RETURN_IF_ERROR(unusable(state_));
  return state_->db->txn_write(*state_, key, value);
}
Status Transaction::remove(std::string_view key) {
  LIGHTNING_RETURN_IF_ERROR(unusable(state_));
  return state_->db->txn_write(*state_, key, std::nullopt);
}
Result<bool> Transaction::get(std::string_view key, std::string& value) {
  LIGHTNING_RETURN_IF_ERROR(unusable(state_));
  return state_->db->txn_get(*state_, key, value);
}
Result<std::optional<std::string>> Transaction::get(std::string_view key) {
  std::string value;
  auto found = get(key, value);
  if (!found) return found.status();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}
std::unique_ptr<Iterator> Transaction::new_iterator(const ReadOptions& options) {
  if (Status s = unusable(state_); !s.is_ok()) return new_error_iterator(s);
  return state_->db->txn_iterator(state_, options);
}
Range Transaction::range(std::string_view begin, std::string_view end) {
  ReadOptions options;
  options.lower_bound = std::string(begin);
  options.upper_bound = std::string(end);
  return Range(new_iterator(options));
}
Range Transaction::prefix(std::string_view prefix) { return Range(new_iterator(prefix_read_options(prefix))); }
Status Transaction::commit() {
  LIGHTNING_RETURN_IF_ERROR(unusable(state_));
  return state_->db->txn_commit(*state_);
}
Status Transaction::rollback() {
  LIGHTNING_RETURN_IF_ERROR(unusable(state_));
  return state_->db->txn_rollback(*state_);
}
bool Transaction::active() const { return state_ != nullptr && state_->open; }
IsolationLevel Transaction::isolation() const {
  return state_ != nullptr ? state_->level : IsolationLevel::kReadCommitted;
}
std::uint64_t Transaction::start_sequence() const { return state_ != nullptr ? state_->snapshot.sequence() : 0; }
std::size_t Transaction::write_count() const { return state_ != nullptr ? state_->writes.size() : 0; }
std::uint64_t Transaction::commit_sequence() const { return state_ != nullptr ? state_->commit_sequence : 0; }

// ---------------------------------------------------------------- engine

Result<std::shared_ptr<Transaction::State>> DatabaseImpl::begin_state(IsolationLevel level) {
  switch (level) {
    case IsolationLevel::kReadCommitted:
    case IsolationLevel::kSnapshot:
    case IsolationLevel::kSerializable:
      break;
    default:
      return Status::invalid_argument("unknown isolation level " + std::to_string(static_cast<int>(level)));
  }
  LIGHTNING_RETURN_IF_ERROR(check_writable());
  if (active_txns_.fetch_add(1) >= config_.max_active_transactions) {
    active_txns_.fetch_sub(1);
    return Status::busy(std::to_string(config_.max_active_transactions) +
                        " transactions are open (Config::max_active_transactions)");
  }
  auto st = std::make_shared<Transaction::State>();
  st->db = this;
  st->db_open = open_flag_;
  st->level = level;
  if (level != IsolationLevel::kReadCommitted) {
    st->snapshot = snapshot();
    MutexLock l(history_mu_);
    txn_starts_.insert(st->snapshot.sequence());
  }
  return st;
}

Result<Transaction> DatabaseImpl::transaction(IsolationLevel level) {
  auto st = begin_state(level);
  if (!st) return st.status();
  return Transaction(std::move(*st));
}

void DatabaseImpl::finish_state(Transaction::State& st) {
  st.open = false;
  // The write set, reads and ranges stay until the state goes (an iterator
  // not yet destroyed still points into them); the pinned version goes now.
  if (st.snapshot.valid()) {
    MutexLock l(history_mu_);
    txn_starts_.erase(txn_starts_.find(st.snapshot.sequence()));
    trim_merge_history();
  }
  st.snapshot.reset();
  active_txns_.fetch_sub(1);
}

Status DatabaseImpl::txn_write(Transaction::State& st, std::string_view key, std::optional<std::string_view> value) {
  if (!st.open) return finished_error();
  LIGHTNING_RETURN_IF_ERROR(check_key(key));
  if (value) LIGHTNING_RETURN_IF_ERROR(check_value(key, *value));
  auto it = st.writes.find(key);
  if (it == st.writes.end()) {
    if (st.writes.size() >= config_.max_transaction_writes) {
      return Status::invalid_argument("transaction write set is full (" +
                                      std::to_string(config_.max_transaction_writes) +
                                      " keys, Config::max_transaction_writes) at key " + describe_key(key));
    }
    it = st.writes.emplace(std::string(key), std::nullopt).first;
  }
  if (value) {
    it->second = std::string(*value);
  } else {
    it->second.reset();
  }
  return Status::ok();
}

Result<bool> DatabaseImpl::txn_get(Transaction::State& st, std::string_view key, std::string& value) {
  if (!st.open) return finished_error();
  if (auto it = st.writes.find(key); it != st.writes.end()) {
    if (!it->second) return false;
    value = *it->second;
    return true;
  }
  ReadOptions options;
  if (st.snapshot.valid()) options.snapshot = &st.snapshot;
  auto found = get(options, key, value);
  if (found && st.level == IsolationLevel::kSerializable) st.reads.emplace_back(key);
  return found;
}

std::unique_ptr<Iterator> DatabaseImpl::txn_iterator(const std::shared_ptr<Transaction::State>& st,
                                                     const ReadOptions& options) {
  if (!st->open) return new_error_iterator(finished_error());
  if (options.snapshot != nullptr) {
    return new_error_iterator(Status::invalid_argument("a transaction's iterator reads at the transaction's snapshot"));
  }
  ReadOptions base = options;
  if (st->snapshot.valid()) base.snapshot = &st->snapshot;
  std::optional<std::size_t> slot;
  if (st->level == IsolationLevel::kSerializable) {
    slot = st->ranges.size();
    st->ranges.emplace_back();
  }
  return std::make_unique<TxnIterator>(new_iterator(base), st, options, slot);
}

Status DatabaseImpl::txn_rollback(Transaction::State& st) {
  if (!st.open) return finished_error();
  finish_state(st);
  counters_.txn_rolled_back.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Status DatabaseImpl::txn_commit(Transaction::State& st) {
  if (!st.open) return finished_error();
  Status s;
  if (st.writes.empty()) {
    // Read-only: nothing to write. At kSerializable its reads must still be
    // current (the read-only anomaly): validated here, at one point in time,
    // against the current version (a commit not yet visible in it
    // serializes after this one).
    if (st.level == IsolationLevel::kSerializable) {
      std::set<std::string, std::less<>> none;
      s = validate_transaction(st, *current_version(), none);
    }
  } else {
    WriteBatch batch;
    for (const auto& [k, v] : st.writes) {
      s = v ? batch.put(k, *v) : batch.remove(k);
      if (!s.is_ok()) break;
    }
    if (s.is_ok()) {
      TxnValidation validation{&st};
      s = commit(&batch, &validation);
      if (s.is_ok()) st.commit_sequence = validation.first_sequence;
    }
  }
  finish_state(st);
  if (s.is_ok()) {
    counters_.txn_committed.fetch_add(1, std::memory_order_relaxed);
  } else if (s.is_conflict()) {
    counters_.txn_conflicts.fetch_add(1, std::memory_order_relaxed);
  }
  return s;
}

// True if v holds a write with a sequence above `after` to a user key in
// [lo, hi) (nullopt: unbounded). `point`: the range is one key (lo), so run
// files whose bloom filter excludes it are skipped.
Result<bool> DatabaseImpl::changed_since(const Version& v, SequenceNumber after, const std::optional<std::string>& lo,
                                         const std::optional<std::string>& hi, bool point) {
  // The tree keeps no per-key sequence numbers: newer writes a merge folded
  // into it are found in the merged runs kept for open transactions; if
  // those no longer reach back to `after`, which keys changed is unknown
  // and the answer is conservatively yes.
  // Merged runs newer than `after` (empty when no merge happened since).
  std::vector<RunRef> merged;
  if (v.tree->max_sequence > after) {
    MutexLock l(history_mu_);
    if (history_floor_ > after) return true;
    for (const MergedRuns& m : merge_history_) {
      if (m.max_sequence > after) merged.insert(merged.end(), m.runs.begin(), m.runs.end());
    }
  }
  std::string target;
  if (lo) append_internal_key(target, *lo, kMaxSequenceNumber, kValueKindForSeek);
  auto newer = [&](InternalIterator& it) -> Result<bool> {
    lo ? it.seek(target) : it.seek_to_first();
    for (; it.valid(); it.next()) {
      ParsedInternalKey p;
      if (!parse_internal_key(it.key(), &p)) return Status::corruption("malformed internal key while validating");
      if (hi && p.user_key >= *hi) break;
      if (p.sequence > after) return true;
    }
    if (!it.status().is_ok()) return it.status();
    return false;
  };
  for (const MemTable* m : {v.mem.get(), v.imm.get()}) {
    if (m == nullptr || (m == v.imm.get() && v.imm_last_sequence <= after)) continue;
    auto it = m->new_iterator();
    auto r = newer(*it);
    if (!r || *r) return r;
  }
  const std::vector<RunRef>& merged_runs = merged;
  for (const std::vector<RunRef>* list : {&v.runs, &merged_runs}) {
    for (const RunRef& run : *list) {
      const run::RunProperties& props = run.reader->properties();
      if (props.max_sequence <= after) continue;
      if ((hi && props.smallest_user_key >= *hi) || (lo && props.largest_user_key < *lo)) continue;
      if (point && !run.reader->may_contain(*lo)) continue;
      auto it = run.reader->new_iterator();
      auto r = newer(*it);
      if (!r || *r) return r;
    }
  }
  return false;
}

Status DatabaseImpl::validate_transaction(const Transaction::State& st, const Version& v,
                                          const std::set<std::string, std::less<>>& group_writes) {
  const SequenceNumber start = st.snapshot.sequence();
  auto conflict_on = [&](std::string_view key, std::string_view what) -> Status {
    return Status::conflict(std::string(isolation_level_name(st.level)) + " transaction (snapshot " +
                            std::to_string(start) + "): " + std::string(what) + " " + describe_key(key) +
                            " was written by another commit since it began; retry it");
  };
  auto check_key_changed = [&](std::string_view key, std::string_view what) -> Status {
    if (group_writes.contains(key)) return conflict_on(key, what);
    auto r = changed_since(v, start, std::string(key), successor(key), /*point=*/true);
    if (!r) return r.status();
    return *r ? conflict_on(key, what) : Status::ok();
  };
  // First committer wins: the keys this transaction writes.
  for (const auto& [k, _] : st.writes) LIGHTNING_RETURN_IF_ERROR(check_key_changed(k, "key"));
  if (st.level != IsolationLevel::kSerializable) return Status::ok();
  // Serializable: what it read must still be what it read.
  for (const std::string& k : st.reads) LIGHTNING_RETURN_IF_ERROR(check_key_changed(k, "read key"));
  for (const ScannedRange& range : st.ranges) {
    if (!range.used) continue;
    auto in_group = range.lo ? group_writes.lower_bound(*range.lo) : group_writes.begin();
    bool hit = in_group != group_writes.end() && (!range.hi || *in_group < *range.hi);
    if (!hit) {
      auto r = changed_since(v, start, range.lo, range.hi, /*point=*/false);
      if (!r) return r.status();
      hit = *r;
    }
    if (hit) {
      return Status::conflict(std::string(isolation_level_name(st.level)) + " transaction (snapshot " +
                              std::to_string(start) + "): the range [" +
                              (range.lo ? describe_key(*range.lo) : std::string("-inf")) + ", " +
                              (range.hi ? describe_key(*range.hi) : std::string("+inf")) +
                              ") it scanned was written by another commit since it began (a phantom); retry it");
    }
  }
  return Status::ok();
}

void DatabaseImpl::remember_merged_runs(std::vector<RunRef> runs, SequenceNumber max_sequence) {
  MutexLock l(history_mu_);
  merge_history_.push_back({max_sequence, std::move(runs)});
  trim_merge_history();
}

void DatabaseImpl::trim_merge_history() {
  // A transaction that began at S needs the writes newer than S.
  const SequenceNumber oldest = txn_starts_.empty() ? kMaxSequenceNumber : *txn_starts_.begin();
  while (!merge_history_.empty() && merge_history_.front().max_sequence <= oldest) {
    history_floor_ = std::max(history_floor_, merge_history_.front().max_sequence);
    merge_history_.pop_front();  // the runs' files go when nothing else uses them
  }
}

// ---------------------------------------------------------------- id style

Result<TxId> DatabaseImpl::begin_transaction(IsolationLevel level) {
  auto st = begin_state(level);
  if (!st) return st.status();
  MutexLock l(txn_mu_);
  const TxId id = next_txn_id_++;
  txns_.emplace(id, std::move(*st));
  return id;
}

Result<std::shared_ptr<Transaction::State>> DatabaseImpl::find_txn(TxId id, bool remove) {
  MutexLock l(txn_mu_);
  auto it = txns_.find(id);
  if (it == txns_.end()) return Status::not_found("transaction " + std::to_string(id) + " is unknown or finished");
  std::shared_ptr<Transaction::State> st = it->second;
  if (remove) txns_.erase(it);
  return st;
}

Status DatabaseImpl::put_tx(TxId id, std::string_view key, std::string_view value) {
  auto st = find_txn(id, false);
  if (!st) return st.status();
  MutexLock l((*st)->mu);
  return txn_write(**st, key, value);
}

Status DatabaseImpl::delete_tx(TxId id, std::string_view key) {
  auto st = find_txn(id, false);
  if (!st) return st.status();
  MutexLock l((*st)->mu);
  return txn_write(**st, key, std::nullopt);
}

Result<bool> DatabaseImpl::get_tx(TxId id, std::string_view key, std::string& value) {
  auto st = find_txn(id, false);
  if (!st) return st.status();
  MutexLock l((*st)->mu);
  return txn_get(**st, key, value);
}

Status DatabaseImpl::commit_transaction(TxId id) {
  auto st = find_txn(id, true);
  if (!st) return st.status();
  MutexLock l((*st)->mu);
  if (!(*st)->open) return Status::not_found("transaction " + std::to_string(id) + " is unknown or finished");
  return txn_commit(**st);
}

Status DatabaseImpl::rollback_transaction(TxId id) {
  auto st = find_txn(id, true);
  if (!st) return st.status();
  MutexLock l((*st)->mu);
  if (!(*st)->open) return Status::not_found("transaction " + std::to_string(id) + " is unknown or finished");
  return txn_rollback(**st);
}

}  // namespace lightning
