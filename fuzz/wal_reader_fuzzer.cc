// Feeds arbitrary bytes to WalReader as a segment file. The reader must never
// crash, over-read or leak, and its answers must be self-consistent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "lightning/file_system.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

namespace {

using lightning::Result;
using lightning::Status;

// A ReadableFile over the fuzzer's buffer (no copy).
class BufferFile : public lightning::ReadableFile {
 public:
  BufferFile(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    if (offset >= size_) return std::size_t{0};
    const std::size_t n = std::min<std::size_t>(out.size(), size_ - offset);
    std::copy_n(reinterpret_cast<const std::byte*>(data_) + offset, n, out.data());
    return n;
  }
  Result<std::uint64_t> size() const override { return std::uint64_t{size_}; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

void check(bool ok) {
  if (!ok) std::abort();
}

void run(const std::uint8_t* data, std::size_t size, std::uint64_t expected_segment) {
  BufferFile file(data, size);
  lightning::wal::WalReader reader(file, "fuzz.wal");
  if (!reader.read_header(expected_segment).is_ok()) return;
  std::string record;
  std::uint64_t last_end = reader.good_end();
  for (;;) {
    const auto outcome = reader.next(&record);
    check(reader.good_end() <= size);
    check(reader.good_end() >= last_end);
    last_end = reader.good_end();
    if (outcome != lightning::wal::WalReader::Outcome::kRecord) {
      check(reader.next(&record) == outcome);  // finished readers stay finished
      if (outcome == lightning::wal::WalReader::Outcome::kCorruption) {
        check(!reader.status().is_ok());
      }
      break;
    }
    check(record.size() <= size);
    check(reader.record_offset() < reader.good_end());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // With the segment number the header claims (so fuzzing gets past the
  // header check when the input has a valid one) and with an arbitrary one.
  std::uint64_t claimed = 0;
  if (size >= lightning::wal::kSegmentHeaderSize) {
    claimed = lightning::decode_fixed64(reinterpret_cast<const char*>(data) + 16);
  }
  run(data, size, claimed);
  run(data, size, claimed + 1);

  // Most random inputs fail the header checksum; also try the body behind a
  // freshly sealed valid header so the fragment parser gets exercised.
  std::string sealed(reinterpret_cast<const char*>(data), size);
  if (sealed.size() < lightning::wal::kSegmentHeaderSize) {
    sealed.resize(lightning::wal::kSegmentHeaderSize, '\0');
  }
  lightning::encode_fixed64(sealed.data(), lightning::wal::kWalMagic);
  lightning::encode_fixed32(sealed.data() + 8, lightning::wal::kWalFormatVersion);
  sealed[12] = static_cast<char>(lightning::wal::kCodecNone);
  lightning::encode_fixed32(sealed.data() + 28,
                            lightning::crc32c::mask(lightning::crc32c::value(sealed.data(), 28)));
  run(reinterpret_cast<const std::uint8_t*>(sealed.data()), sealed.size(),
      lightning::decode_fixed64(sealed.data() + 16));
  return 0;
}
