#include "env/file_util.h"

#include <vector>

namespace lightning {

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<std::uint64_t> copy_file(FileSystem& fs, const std::string& from, const std::string& to,
                                FileSystem::OpenMode mode) {
  auto in = fs.open_readable(from);
  if (!in) return in.status();
  auto out = fs.new_writable_file(to, mode);
  if (!out) return out.status();
  std::vector<std::byte> buf(1 << 20);
  std::uint64_t offset = 0;
  while (true) {
    auto n = (*in)->read_at(offset, buf);
    if (!n) return n.status();
    if (*n == 0) break;
    LIGHTNING_RETURN_IF_ERROR((*out)->append(std::span(buf.data(), *n)));
    offset += *n;
  }
  LIGHTNING_RETURN_IF_ERROR((*out)->sync());
  LIGHTNING_RETURN_IF_ERROR((*out)->close());
  return offset;
}

}  // namespace lightning
