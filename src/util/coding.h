// Little-endian fixed-width and varint encodings used by every on-disk format.
//
// Fixed-width values are stored little-endian regardless of the host.
// Varints use 7 bits per byte, low groups first, high bit = "more follows"
// (at most 5 bytes for 32 bits, 10 for 64 bits).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace lightning {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

inline void encode_fixed32(char* dst, std::uint32_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  std::memcpy(dst, &v, sizeof v);
}
inline void encode_fixed64(char* dst, std::uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(dst, &v, sizeof v);
}
inline std::uint32_t decode_fixed32(const char* src) {
  std::uint32_t v;
  std::memcpy(&v, src, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}
inline std::uint64_t decode_fixed64(const char* src) {
  std::uint64_t v;
  std::memcpy(&v, src, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
inline void encode_fixed16(char* dst, std::uint16_t v) {
  dst[0] = static_cast<char>(v & 0xff);
  dst[1] = static_cast<char>(v >> 8);
}
inline std::uint16_t decode_fixed16(const char* src) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(src[0]) |
                                    (static_cast<unsigned char>(src[1]) << 8));
}

inline void put_fixed32(std::string& dst, std::uint32_t v) {
  char buf[4];
  encode_fixed32(buf, v);
  dst.append(buf, 4);
}
inline void put_fixed64(std::string& dst, std::uint64_t v) {
  char buf[8];
  encode_fixed64(buf, v);
  dst.append(buf, 8);
}

// Writes v as a varint at dst (room for 10 bytes); returns one past the end.
char* encode_varint64(char* dst, std::uint64_t v);
inline char* encode_varint32(char* dst, std::uint32_t v) { return encode_varint64(dst, v); }
void put_varint32(std::string& dst, std::uint32_t v);
void put_varint64(std::string& dst, std::uint64_t v);
int varint_length(std::uint64_t v);

// Parse from the front of *input, advancing it. False (input unchanged) if the
// bytes are truncated or the value overflows.
bool get_varint32(std::string_view* input, std::uint32_t* value);
bool get_varint64(std::string_view* input, std::uint64_t* value);
bool get_fixed32(std::string_view* input, std::uint32_t* value);
bool get_fixed64(std::string_view* input, std::uint64_t* value);
// varint32 length followed by that many bytes.
void put_length_prefixed(std::string& dst, std::string_view value);
bool get_length_prefixed(std::string_view* input, std::string_view* result);

}  // namespace lightning
