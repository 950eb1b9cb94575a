// Decodes arbitrary bytes as varints, fixed-width values and length-prefixed
// strings; every successful decode must re-encode to the bytes it consumed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/coding.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  std::string_view in = all;
  while (!in.empty()) {
    const auto selector = static_cast<unsigned char>(in.front()) % 5;
    in.remove_prefix(1);
    const std::string_view before = in;
    bool ok = false;
    std::string reencoded;
    switch (selector) {
      case 0: {
        std::uint32_t v = 0;
        ok = lightning::get_varint32(&in, &v);
        if (ok) lightning::put_varint32(reencoded, v);
        break;
      }
      case 1: {
        std::uint64_t v = 0;
        ok = lightning::get_varint64(&in, &v);
        if (ok) lightning::put_varint64(reencoded, v);
        break;
      }
      case 2: {
        std::uint32_t v = 0;
        ok = lightning::get_fixed32(&in, &v);
        if (ok) lightning::put_fixed32(reencoded, v);
        break;
      }
      case 3: {
        std::uint64_t v = 0;
        ok = lightning::get_fixed64(&in, &v);
        if (ok) lightning::put_fixed64(reencoded, v);
        break;
      }
      case 4: {
        std::string_view s;
        ok = lightning::get_length_prefixed(&in, &s);
        if (ok) {
          check(s.data() >= before.data() && s.data() + s.size() <= before.data() + before.size());
          lightning::put_length_prefixed(reencoded, s);
        }
        break;
      }
    }
    if (!ok) {
      check(in.data() == before.data() && in.size() == before.size());  // input unchanged
      if (!in.empty()) in.remove_prefix(1);                             // skip a byte and go on
      continue;
    }
    const std::size_t consumed = before.size() - in.size();
    // Varints decode non-canonical (over-long) forms too, so compare lengths
    // only for the canonical re-encoding: never longer than what was read.
    check(reencoded.size() <= consumed);
    if (selector == 2 || selector == 3) check(before.substr(0, consumed) == reencoded);
  }
  return 0;
}
