// Fuzzes the write-batch decoder (the payload of every WAL record): arbitrary
// bytes must be either rejected with Corruption or decode into entries that
// re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "db/write_batch_internal.h"

namespace {
class Rebuild : public lightning::WriteBatch::Handler {
 public:
  void put(std::string_view k, std::string_view v) override { (void)out.put(k, v); }
  void remove(std::string_view k) override { (void)out.remove(k); }
  lightning::WriteBatch out;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  lightning::WriteBatch batch;
  lightning::Status s = lightning::WriteBatchInternal::set_contents(batch, input);
  if (!s.is_ok()) {
    if (!s.is_corruption()) __builtin_trap();
    return 0;
  }
  Rebuild rebuild;
  if (!batch.iterate(rebuild).is_ok()) __builtin_trap();
  lightning::WriteBatchInternal::set_sequence(rebuild.out, lightning::WriteBatchInternal::sequence(batch));
  if (lightning::WriteBatchInternal::contents(rebuild.out) != input) {
    // Only the encoding of lengths may differ (non-minimal varints); counts must match.
    if (rebuild.out.count() != batch.count()) __builtin_trap();
  }
  return 0;
}
