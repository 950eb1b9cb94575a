// Runner: each (engine, workload, repeat) runs in a forked child process.
//
// The child opens the engine in a fresh directory under --dir, runs the
// workload and sends its RunResult back over a pipe as JSON. A run in its
// own process has its own peak RSS and /proc/self/io counters, and nothing
// one engine leaves behind (threads, caches, heap) can slow down another.
// The parent creates and removes the directory, so a crash leaves nothing.
#pragma once

#include <string>

#include "options.h"
#include "workloads.h"

namespace bench {

// Never throws: a failed run comes back with RunResult::error set.
// REQUIRES: the calling process has a single thread (it forks).
RunResult run_in_child(const std::string& engine, const Workload& w, const BenchOptions& o,
                       int repeat);

}  // namespace bench
