#include "util/coding.h"

namespace lightning {

char* encode_varint64(char* dst, std::uint64_t v) {
  auto* p = reinterpret_cast<unsigned char*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}

void put_varint32(std::string& dst, std::uint32_t v) { put_varint64(dst, v); }

void put_varint64(std::string& dst, std::uint64_t v) {
  char buf[10];
  char* end = encode_varint64(buf, v);
  dst.append(buf, static_cast<std::size_t>(end - buf));
}

int varint_length(std::uint64_t v) {
  int len = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++len;
  }
  return len;
}

bool get_varint64(std::string_view* input, std::uint64_t* value) {
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < input->size() && i < 10; ++i) {
    auto byte = static_cast<std::uint64_t>(static_cast<unsigned char>((*input)[i]));
    if (i == 9 && byte > 1) return false;  // more than 64 bits
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      input->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

bool get_varint32(std::string_view* input, std::uint32_t* value) {
  std::string_view copy = *input;
  std::uint64_t v = 0;
  if (!get_varint64(&copy, &v) || v > 0xffffffffu || input->size() - copy.size() > 5) return false;
  *value = static_cast<std::uint32_t>(v);
  *input = copy;
  return true;
}

bool get_fixed32(std::string_view* input, std::uint32_t* value) {
  if (input->size() < 4) return false;
  *value = decode_fixed32(input->data());
  input->remove_prefix(4);
  return true;
}

bool get_fixed64(std::string_view* input, std::uint64_t* value) {
  if (input->size() < 8) return false;
  *value = decode_fixed64(input->data());
  input->remove_prefix(8);
  return true;
}

void put_length_prefixed(std::string& dst, std::string_view value) {
  put_varint32(dst, static_cast<std::uint32_t>(value.size()));
  dst.append(value);
}

bool get_length_prefixed(std::string_view* input, std::string_view* result) {
  std::string_view copy = *input;
  std::uint32_t len = 0;
  if (!get_varint32(&copy, &len) || copy.size() < len) return false;
  *result = copy.substr(0, len);
  copy.remove_prefix(len);
  *input = copy;
  return true;
}

}  // namespace lightning
