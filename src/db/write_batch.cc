#include "db/write_batch_internal.h"

#include "memtable/memtable.h"
#include "util/coding.h"
#include "util/escape.h"
#include "lightning/config.h"

namespace lightning {

Status check_key(std::string_view key) {
  if (key.empty()) return Status::invalid_argument("empty key: keys must be 1 byte to 64 KiB");
  if (key.size() > kMaxKeySize) {
    return Status::invalid_argument("key " + describe_key(key) + " is " + std::to_string(key.size()) +
                                    " bytes; the maximum is " + std::to_string(kMaxKeySize));
  }
  return Status::ok();
}

Status check_value(std::string_view key, std::string_view value) {
  if (value.size() > kMaxValueSize) {
    return Status::invalid_argument("value for key " + describe_key(key) + " is " +
                                    std::to_string(value.size()) + " bytes; the maximum is " +
                                    std::to_string(kMaxValueSize));
  }
  return Status::ok();
}

WriteBatch::WriteBatch() { rep_.assign(WriteBatchInternal::kHeaderSize, '\0'); }

Status WriteBatch::put(std::string_view key, std::string_view value) {
  LIGHTNING_RETURN_IF_ERROR(check_key(key));
  LIGHTNING_RETURN_IF_ERROR(check_value(key, value));
  if (count() == UINT32_MAX) return Status::invalid_argument("write batch holds 2^32-1 entries");
  rep_.push_back(static_cast<char>(ValueKind::kPut));
  put_length_prefixed(rep_, key);
  put_length_prefixed(rep_, value);
  encode_fixed32(rep_.data() + 8, count() + 1);
  return Status::ok();
}

Status WriteBatch::remove(std::string_view key) {
  LIGHTNING_RETURN_IF_ERROR(check_key(key));
  if (count() == UINT32_MAX) return Status::invalid_argument("write batch holds 2^32-1 entries");
  rep_.push_back(static_cast<char>(ValueKind::kDelete));
  put_length_prefixed(rep_, key);
  encode_fixed32(rep_.data() + 8, count() + 1);
  return Status::ok();
}

void WriteBatch::clear() { rep_.assign(WriteBatchInternal::kHeaderSize, '\0'); }

std::uint32_t WriteBatch::count() const { return decode_fixed32(rep_.data() + 8); }

namespace {

// Walks the entries of a rep; the one decoder of the batch format.
template <typename OnPut, typename OnDelete>
Status decode_entries(std::string_view rep, OnPut on_put, OnDelete on_delete) {
  if (rep.size() < WriteBatchInternal::kHeaderSize) {
    return Status::corruption("write batch is " + std::to_string(rep.size()) +
                              " bytes, shorter than its 12-byte header");
  }
  std::uint32_t expected = decode_fixed32(rep.data() + 8);
  std::string_view in = rep.substr(WriteBatchInternal::kHeaderSize);
  std::uint32_t found = 0;
  while (!in.empty()) {
    std::size_t entry_offset = rep.size() - in.size();
    auto kind = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    std::string_view key, value;
    if (!is_valid_value_kind(kind)) {
      return Status::corruption("write batch entry at offset " + std::to_string(entry_offset) +
                                " has unknown kind " + std::to_string(kind));
    }
    if (!get_length_prefixed(&in, &key) || key.empty() || key.size() > kMaxKeySize) {
      return Status::corruption("write batch entry at offset " + std::to_string(entry_offset) +
                                " has a bad key");
    }
    if (static_cast<ValueKind>(kind) == ValueKind::kPut) {
      if (!get_length_prefixed(&in, &value) || value.size() > kMaxValueSize) {
        return Status::corruption("write batch entry at offset " + std::to_string(entry_offset) +
                                  " has a bad value");
      }
      on_put(key, value);
    } else {
      on_delete(key);
    }
    ++found;
  }
  if (found != expected) {
    return Status::corruption("write batch header says " + std::to_string(expected) +
                              " entries but holds " + std::to_string(found));
  }
  return Status::ok();
}

}  // namespace

Status WriteBatch::iterate(Handler& handler) const {
  return decode_entries(
      rep_, [&](std::string_view k, std::string_view v) { handler.put(k, v); },
      [&](std::string_view k) { handler.remove(k); });
}

SequenceNumber WriteBatchInternal::sequence(const WriteBatch& b) { return decode_fixed64(b.rep_.data()); }

void WriteBatchInternal::set_sequence(WriteBatch& b, SequenceNumber seq) {
  encode_fixed64(b.rep_.data(), seq);
}

Status WriteBatchInternal::set_contents(WriteBatch& b, std::string_view payload) {
  LIGHTNING_RETURN_IF_ERROR(
      decode_entries(payload, [](std::string_view, std::string_view) {}, [](std::string_view) {}));
  b.rep_.assign(payload);
  return Status::ok();
}

WriteBatchInternal::InsertCounts WriteBatchInternal::insert_into(const WriteBatch& b,
                                                                 SequenceNumber seq,
                                                                 MemTable& mem) {
  InsertCounts counts;
  (void)decode_entries(
      b.rep_,
      [&](std::string_view k, std::string_view v) {
        mem.add(seq++, ValueKind::kPut, k, v);
        ++counts.puts;
        counts.user_bytes += k.size() + v.size();
      },
      [&](std::string_view k) {
        mem.add(seq++, ValueKind::kDelete, k, {});
        ++counts.removes;
        counts.user_bytes += k.size();
      });
  return counts;
}

}  // namespace lightning
