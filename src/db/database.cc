#include "db/db_impl.h"
#include "lightning/database.h"

namespace lightning {

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const Config& config) {
  return DatabaseImpl::open(path, config);
}

Result<std::optional<std::string>> Database::get(const ReadOptions& options, std::string_view key) {
  std::string value;
  auto found = get(options, key, value);
  if (!found) return found.status();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

Range Database::range(std::string_view begin, std::string_view end) {
  ReadOptions options;
  options.lower_bound = std::string(begin);
  options.upper_bound = std::string(end);
  return Range(new_iterator(options));
}

ReadOptions prefix_read_options(std::string_view prefix) {
  ReadOptions options;
  if (!prefix.empty()) {
    options.lower_bound = std::string(prefix);
    // The smallest key greater than every key with this prefix: drop trailing
    // 0xff bytes and increment the last remaining byte.
    std::string upper(prefix);
    while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
    if (!upper.empty()) {
      upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
      options.upper_bound = std::move(upper);
    }
  }
  return options;
}

Range Database::prefix(std::string_view prefix) { return Range(new_iterator(prefix_read_options(prefix))); }

Result<std::optional<std::string>> Database::get_tx(TxId id, std::string_view key) {
  std::string value;
  auto found = get_tx(id, key, value);
  if (!found) return found.status();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

}  // namespace lightning
