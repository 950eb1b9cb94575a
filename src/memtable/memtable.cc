// Entry layout (one arena allocation per entry):
//
//   entry := varint32(internal_key_len) | internal_key | varint32(value_len) | value
//   internal_key := user_key | fixed64le(sequence << 8 | kind)    (dbformat.h)
//
// The skiplist stores a const char* to the start of each entry and orders
// entries by compare_internal_keys on their internal keys. Seek targets are
// encoded the same way (without the value part).
#include "memtable/memtable.h"

#include <atomic>
#include <cassert>
#include <cstring>
#include <limits>

#include "memtable/arena.h"
#include "memtable/skiplist.h"
#include "util/coding.h"

namespace lightning {

namespace {

// Decodes a varint32 written by encode_varint32 into memory we own, so no
// bounds are needed. Returns one past its last byte.
const char* decode_varint32_trusted(const char* p, std::uint32_t* v) {
  std::uint32_t result = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    auto byte = static_cast<std::uint32_t>(static_cast<unsigned char>(*p++));
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  *v = result;
  return p;
}

// The length-prefixed string at p; *end receives one past it.
std::string_view length_prefixed_at(const char* p, const char** end = nullptr) {
  std::uint32_t len;
  p = decode_varint32_trusted(p, &len);
  if (end != nullptr) *end = p + len;
  return {p, len};
}

struct EntryComparator {
  int operator()(const char* a, const char* b) const {
    return compare_internal_keys(length_prefixed_at(a), length_prefixed_at(b));
  }
};

using Table = SkipList<const char*, EntryComparator>;

// A seek target in entry format: varint32(len) | internal key.
std::string encode_target(std::string_view internal_key) {
  std::string out;
  put_length_prefixed(out, internal_key);
  return out;
}

class MemTableIterator final : public InternalIterator {
 public:
  MemTableIterator(std::shared_ptr<const MemTable> owner, const Table* table)
      : owner_(std::move(owner)), iter_(table) {}

  bool valid() const override { return iter_.valid(); }
  void seek(std::string_view internal_target) override {
    scratch_ = encode_target(internal_target);
    iter_.seek(scratch_.data());
  }
  void seek_for_prev(std::string_view internal_target) override {
    scratch_ = encode_target(internal_target);
    iter_.seek_for_prev(scratch_.data());
  }
  void seek_to_first() override { iter_.seek_to_first(); }
  void seek_to_last() override { iter_.seek_to_last(); }
  void next() override { iter_.next(); }
  void prev() override { iter_.prev(); }
  std::string_view key() const override { return length_prefixed_at(iter_.key()); }
  std::string_view value() const override {
    const char* after_key;
    length_prefixed_at(iter_.key(), &after_key);
    return length_prefixed_at(after_key);
  }
  Status status() const override { return Status::ok(); }

 private:
  std::shared_ptr<const MemTable> owner_;  // keeps the skiplist and arena alive
  Table::Iterator iter_;
  std::string scratch_;  // encoded seek target
};

}  // namespace

struct MemTable::Rep {
  explicit Rep(std::size_t arena_block_size) : arena(arena_block_size) {}
  Arena arena;  // declared first: destroyed after the table that points into it
  Table table{EntryComparator{}, &arena};
  std::atomic<std::uint64_t> entry_count{0};
};

MemTable::MemTable(std::size_t arena_block_size) : rep_(std::make_unique<Rep>(arena_block_size)) {}
MemTable::~MemTable() = default;

std::shared_ptr<MemTable> MemTable::create(std::size_t arena_block_size) {
  // The constructor is private, so std::make_shared cannot reach it.
  return std::shared_ptr<MemTable>(new MemTable(arena_block_size));
}

void MemTable::add(SequenceNumber seq, ValueKind kind, std::string_view key,
                   std::string_view value) {
  assert(seq <= kMaxSequenceNumber);
  if (kind == ValueKind::kDelete) value = {};
  const std::size_t ikey_len = key.size() + kInternalKeyTagSize;
  assert(ikey_len <= std::numeric_limits<std::uint32_t>::max());
  assert(value.size() <= std::numeric_limits<std::uint32_t>::max());
  const auto ikey_len32 = static_cast<std::uint32_t>(ikey_len);
  const auto value_len32 = static_cast<std::uint32_t>(value.size());
  const std::size_t total = static_cast<std::size_t>(varint_length(ikey_len32)) + ikey_len +
                            static_cast<std::size_t>(varint_length(value_len32)) + value.size();

  char* buf = rep_->arena.allocate(total);
  char* p = encode_varint32(buf, ikey_len32);
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  p += key.size();
  encode_fixed64(p, pack_tag(seq, kind));
  p += kInternalKeyTagSize;
  p = encode_varint32(p, value_len32);
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  assert(p + value.size() == buf + total);

  rep_->table.insert(buf);
  rep_->entry_count.fetch_add(1, std::memory_order_relaxed);
}

MemTable::LookupResult MemTable::get(std::string_view key, SequenceNumber snapshot,
                                     std::string* value) const {
  std::string_view view;
  LookupResult r = get_view(key, snapshot, &view);
  if (r == LookupResult::kFound && value != nullptr) value->assign(view);
  return r;
}

MemTable::LookupResult MemTable::get_view(std::string_view key, SequenceNumber snapshot,
                                          std::string_view* value) const {
  // The seek target in entry format; on the stack for ordinary key sizes so
  // that a lookup does not allocate.
  const std::size_t ikey_len = key.size() + kInternalKeyTagSize;
  char stack_buf[256];
  std::string heap_buf;
  char* target = stack_buf;
  if (ikey_len + 5 > sizeof stack_buf) {
    heap_buf.resize(ikey_len + 5);
    target = heap_buf.data();
  }
  char* p = encode_varint32(target, static_cast<std::uint32_t>(ikey_len));
  std::memcpy(p, key.data(), key.size());
  encode_fixed64(p + key.size(), pack_tag(snapshot, kValueKindForSeek));

  // The seek key sorts before every entry of `key` with sequence <= snapshot
  // and after every newer one, so the first entry at or after it is the
  // newest visible version if its user key matches.
  Table::Iterator it(&rep_->table);
  it.seek(target);
  if (!it.valid()) return LookupResult::kNotFound;

  const char* after_key;
  std::string_view ikey = length_prefixed_at(it.key(), &after_key);
  ParsedInternalKey parsed;
  bool ok = parse_internal_key(ikey, &parsed);
  assert(ok);
  (void)ok;
  if (parsed.user_key != key) return LookupResult::kNotFound;
  if (parsed.kind == ValueKind::kDelete) return LookupResult::kDeleted;
  *value = length_prefixed_at(after_key);
  return LookupResult::kFound;
}

std::unique_ptr<InternalIterator> MemTable::new_iterator() const {
  return std::make_unique<MemTableIterator>(shared_from_this(), &rep_->table);
}

std::size_t MemTable::approximate_memory_usage() const { return rep_->arena.memory_usage(); }

std::uint64_t MemTable::entry_count() const {
  return rep_->entry_count.load(std::memory_order_relaxed);
}

}  // namespace lightning
