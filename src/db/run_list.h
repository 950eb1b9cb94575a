// The run list: which run files are live, newest first, as stored in the
// data file's run-list extent (docs/format/datafile.md, docs/format/run.md).
//
//   run_list := count varint32 | (number varint64 | file_size varint64)[count]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lightning {

struct RunListEntry {
  std::uint64_t number = 0;     // NNNNNN.run
  std::uint64_t file_size = 0;  // checked at open
  friend bool operator==(const RunListEntry&, const RunListEntry&) = default;
};

std::string encode_run_list(const std::vector<RunListEntry>& runs);
// False on a malformed list (truncated, trailing bytes, duplicate numbers).
bool decode_run_list(std::string_view in, std::vector<RunListEntry>* runs);

}  // namespace lightning
