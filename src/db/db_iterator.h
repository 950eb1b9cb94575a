// DbIterator: turns an InternalIterator (every version of every key) into the
// user-visible Iterator: only the newest version with sequence <= snapshot
// of each key, tombstones hidden, within [lower_bound, upper_bound).
#pragma once

#include <memory>

#include "db/dbformat.h"
#include "db/internal_iterator.h"
#include "lightning/iterator.h"

namespace lightning {

// `keep_alive` is held for the iterator's lifetime (the sources it reads).
std::unique_ptr<Iterator> new_db_iterator(std::unique_ptr<InternalIterator> source,
                                          SequenceNumber snapshot, const ReadOptions& options,
                                          std::shared_ptr<const void> keep_alive);
// An iterator that is never valid and reports `status` (which is not ok).
std::unique_ptr<Iterator> new_error_iterator(Status status);

}  // namespace lightning
