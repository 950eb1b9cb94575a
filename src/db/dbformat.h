// Internal keys: how a user key, a sequence number and an entry kind are
// packed into one sortable string.
//
//   internal_key := user_key | fixed64le( sequence << 8 | kind )
//
// Order: user key ascending (bytewise), then sequence descending, then kind
// descending, so that for one user key the newest entry comes first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/coding.h"

namespace lightning {

using SequenceNumber = std::uint64_t;
// Sequence numbers use 56 bits; the low 8 bits of the packed tag hold the kind.
inline constexpr SequenceNumber kMaxSequenceNumber = (SequenceNumber{1} << 56) - 1;

// DO NOT CHANGE the values: embedded in WAL records and (later) run files.
enum class ValueKind : std::uint8_t {
  kDelete = 0,  // tombstone
  kPut = 1,
};
// The kind used when seeking: sorts before every kind of the same sequence.
inline constexpr ValueKind kValueKindForSeek = ValueKind::kPut;

inline bool is_valid_value_kind(std::uint8_t k) { return k <= 1; }

inline constexpr std::size_t kInternalKeyTagSize = 8;

inline std::uint64_t pack_tag(SequenceNumber seq, ValueKind kind) {
  return (seq << 8) | static_cast<std::uint8_t>(kind);
}

inline void append_internal_key(std::string& out, std::string_view user_key, SequenceNumber seq,
                                ValueKind kind) {
  out.append(user_key);
  put_fixed64(out, pack_tag(seq, kind));
}

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueKind kind = ValueKind::kPut;
};

// False if ikey is too short or carries an unknown kind.
inline bool parse_internal_key(std::string_view ikey, ParsedInternalKey* out) {
  if (ikey.size() < kInternalKeyTagSize) return false;
  std::uint64_t tag = decode_fixed64(ikey.data() + ikey.size() - kInternalKeyTagSize);
  auto kind = static_cast<std::uint8_t>(tag & 0xff);
  if (!is_valid_value_kind(kind)) return false;
  out->user_key = ikey.substr(0, ikey.size() - kInternalKeyTagSize);
  out->sequence = tag >> 8;
  out->kind = static_cast<ValueKind>(kind);
  return true;
}

inline std::string_view extract_user_key(std::string_view ikey) {
  return ikey.substr(0, ikey.size() - kInternalKeyTagSize);
}

// Three-way comparison of internal keys (<0, 0, >0).
inline int compare_internal_keys(std::string_view a, std::string_view b) {
  int r = extract_user_key(a).compare(extract_user_key(b));
  if (r != 0) return r;
  std::uint64_t ta = decode_fixed64(a.data() + a.size() - kInternalKeyTagSize);
  std::uint64_t tb = decode_fixed64(b.data() + b.size() - kInternalKeyTagSize);
  if (ta > tb) return -1;
  if (ta < tb) return 1;
  return 0;
}

}  // namespace lightning
