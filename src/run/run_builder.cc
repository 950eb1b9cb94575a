#include "run/run_builder.h"

#include <cassert>

#include "db/dbformat.h"
#include "util/coding.h"

namespace lightning::run {

RunBuilder::RunBuilder(WritableFile* file, const RunBuilderOptions& options)
    : file_(file), options_(options), data_(options.restart_interval), index_(1),
      bloom_(options.bloom_bits_per_key > 0 ? options.bloom_bits_per_key : 1) {
  props_.bloom_bits_per_key = static_cast<std::uint32_t>(std::max(0, options.bloom_bits_per_key));
}

Status RunBuilder::add(std::string_view internal_key, std::string_view value) {
  if (!status_.is_ok()) return status_;
  assert(!finished_);
  ParsedInternalKey parsed;
  if (!parse_internal_key(internal_key, &parsed)) {
    return Status::invalid_argument("run builder: malformed internal key");
  }
  if (props_.entries > 0 && compare_internal_keys(data_.empty() ? index_.last_key() : data_.last_key(),
                                                  internal_key) >= 0) {
    return Status::invalid_argument("run builder: keys out of order");
  }
  if (!has_last_user_key_ || parsed.user_key != last_user_key_) {
    if (options_.bloom_bits_per_key > 0) bloom_.add(parsed.user_key);
    if (!has_last_user_key_) props_.smallest_user_key.assign(parsed.user_key);
    last_user_key_.assign(parsed.user_key);
    has_last_user_key_ = true;
  }
  if (props_.entries == 0) {
    props_.min_sequence = props_.max_sequence = parsed.sequence;
  } else {
    props_.min_sequence = std::min(props_.min_sequence, parsed.sequence);
    props_.max_sequence = std::max(props_.max_sequence, parsed.sequence);
  }
  props_.entries++;
  if (parsed.kind == ValueKind::kDelete) props_.deletions++;
  // Cut the block before an entry that would take the stored block (payload,
  // a restart slot, trailer) past block_size, so blocks fit a page-pool
  // class in the cache; an entry larger than a block gets a block of its own.
  const std::size_t entry_max = internal_key.size() + value.size() + 3 * 5 + 4;
  if (!data_.empty() && data_.size_estimate() + entry_max + kBlockTrailerSize > options_.block_size) {
    LIGHTNING_RETURN_IF_ERROR(flush_data_block());
  }
  data_.add(internal_key, value);
  return Status::ok();
}

Status RunBuilder::write_block(std::string_view payload, BlockHandle* handle) {
  scratch_.clear();
  append_block(payload, &scratch_);
  handle->offset = offset_;
  handle->size = payload.size();
  Status s = file_->append(std::as_bytes(std::span(scratch_.data(), scratch_.size())));
  if (!s.is_ok()) {
    status_ = s;
    return s;
  }
  offset_ += scratch_.size();
  return Status::ok();
}

Status RunBuilder::flush_data_block() {
  if (data_.empty()) return Status::ok();
  const std::string last(data_.last_key());
  BlockHandle h;
  LIGHTNING_RETURN_IF_ERROR(write_block(data_.finish(), &h));
  props_.data_blocks++;
  props_.data_bytes += h.size + kBlockTrailerSize;
  std::string handle;
  put_varint64(handle, h.offset);
  put_varint64(handle, h.size);
  index_.add(last, handle);
  data_.reset();
  return Status::ok();
}

Status RunBuilder::finish() {
  if (!status_.is_ok()) return status_;
  assert(!finished_);
  finished_ = true;
  LIGHTNING_RETURN_IF_ERROR(flush_data_block());
  props_.largest_user_key = last_user_key_;
  Footer footer;
  std::string filter;
  if (options_.bloom_bits_per_key > 0) bloom_.finish(&filter);
  LIGHTNING_RETURN_IF_ERROR(write_block(filter, &footer.filter));
  std::string props;
  encode_properties(props_, &props);
  LIGHTNING_RETURN_IF_ERROR(write_block(props, &footer.props));
  LIGHTNING_RETURN_IF_ERROR(write_block(index_.finish(), &footer.index));
  char buf[kFooterSize];
  encode_footer(footer, buf);
  Status s = file_->append(std::as_bytes(std::span(buf)));
  if (!s.is_ok()) {
    status_ = s;
    return s;
  }
  offset_ += kFooterSize;
  return Status::ok();
}

}  // namespace lightning::run
