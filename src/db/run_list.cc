#include "db/run_list.h"

#include <set>

#include "util/coding.h"

namespace lightning {

std::string encode_run_list(const std::vector<RunListEntry>& runs) {
  std::string out;
  if (runs.empty()) return out;  // no runs: no extent at all
  put_varint32(out, static_cast<std::uint32_t>(runs.size()));
  for (const RunListEntry& r : runs) {
    put_varint64(out, r.number);
    put_varint64(out, r.file_size);
  }
  return out;
}

bool decode_run_list(std::string_view in, std::vector<RunListEntry>* runs) {
  runs->clear();
  if (in.empty()) return true;
  std::uint32_t count = 0;
  if (!get_varint32(&in, &count) || count > in.size()) return false;
  std::set<std::uint64_t> seen;
  for (std::uint32_t i = 0; i < count; ++i) {
    RunListEntry r;
    if (!get_varint64(&in, &r.number) || !get_varint64(&in, &r.file_size)) return false;
    if (!seen.insert(r.number).second) return false;
    runs->push_back(r);
  }
  return in.empty();
}

}  // namespace lightning
