#include "workloads.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine.h"
#include "histogram.h"
#include "keys.h"
#include "progress.h"
#include "system.h"
#include "zipf.h"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kBatchSize = 1000;  // fillbatch and the untimed load
constexpr std::size_t kSeekNexts = 100;     // seekrandom: seek + next 100
constexpr std::uint64_t kScanDivisor = 10;  // seekrandom/ycsb_e run ops/10 operations

constexpr std::array kWorkloads = {
    Workload{"fillseq", Kind::kFillSeq, false, false, "put N keys in key order"},
    Workload{"fillrandom", Kind::kFillRandom, false, false, "put N keys in random order"},
    Workload{"fillbatch", Kind::kFillBatch, false, false,
             "put N keys in random order, 1000 per atomic batch"},
    Workload{"fillsync", Kind::kFillSync, false, false,
             "put --sync-ops keys, each durable (fsync) before the next, 1 thread"},
    Workload{"fillsync_mt", Kind::kFillSyncMt, false, true,
             "fillsync with --threads writer threads"},
    Workload{"overwrite", Kind::kOverwrite, true, false, "put random existing keys"},
    Workload{"readrandom", Kind::kReadRandom, true, false, "get random existing keys"},
    Workload{"readrandom_mt", Kind::kReadRandomMt, true, true,
             "readrandom with --threads reader threads"},
    Workload{"readmissing", Kind::kReadMissing, true, false, "get random absent keys"},
    Workload{"readwhilewriting", Kind::kReadWhileWriting, true, true,
             "--threads readers get random keys while 1 thread overwrites"},
    Workload{"seekrandom", Kind::kSeekRandom, true, false,
             "seek to a random key + next 100 (ops/10 seeks)"},
    Workload{"scan", Kind::kScan, true, false, "one full forward scan (N entries)"},
    Workload{"deleterandom", Kind::kDeleteRandom, true, false, "remove random existing keys"},
    Workload{"oltp", Kind::kOltp, true, false,
             "--sync-ops transactions: read 4 random keys, update 2 of them, commit (durable; "
             "a conflict is retried and counted as an abort), 1 thread"},
    Workload{"oltp_mt", Kind::kOltpMt, true, true, "oltp with --threads threads"},
    Workload{"ycsb_a", Kind::kYcsbA, true, false, "YCSB A: 50% read, 50% update, zipfian"},
    Workload{"ycsb_b", Kind::kYcsbB, true, false, "YCSB B: 95% read, 5% update, zipfian"},
    Workload{"ycsb_c", Kind::kYcsbC, true, false, "YCSB C: 100% read, zipfian"},
    Workload{"ycsb_d", Kind::kYcsbD, true, false, "YCSB D: 95% read latest, 5% insert"},
    Workload{"ycsb_e", Kind::kYcsbE, true, false,
             "YCSB E: 95% scan of 1..100 entries, 5% insert (ops/10)"},
    Workload{"ycsb_f", Kind::kYcsbF, true, false, "YCSB F: 50% read, 50% read-modify-write"},
};

// What one client thread measured.
struct ThreadStats {
  Histogram latency;
  std::uint64_t ops = 0;
  std::uint64_t aborts = 0;      // oltp: refused commits
  std::uint64_t bytes = 0;       // key+value bytes moved (for MB/s)
  std::uint64_t user_bytes = 0;  // key+value bytes written
};

// State shared by the client threads of one run.
struct Context {
  Context(const BenchOptions& options, const Workload& workload, Engine& engine,
          std::uint64_t keys_in_set)
      : o(options),
        w(workload),
        db(engine),
        keys(options.key_size),
        values(options.value_size, options.seed),
        n(keys_in_set),
        next_insert(keys_in_set) {
    if (workload.kind >= Kind::kYcsbA) {  // O(n) set-up, kept out of the timed phase
      chooser.emplace(n);
      recency.emplace(n);
    }
  }

  const BenchOptions& o;
  const Workload& w;
  Engine& db;
  KeyFormat keys;
  ValueSource values;
  std::uint64_t n;                       // keys in the data set
  std::optional<ScrambledZipf> chooser;  // YCSB: which existing key
  std::optional<Zipf> recency;           // YCSB D: how far back from the newest key
  std::atomic<std::uint64_t> progress{0};
  std::atomic<std::uint64_t> next_insert;  // YCSB D/E: id of the next new key
  std::atomic<bool> stop{false};           // readwhilewriting: readers are done
};

// Runs op(i) count times, recording each latency. op returns the number of
// operations it performed (fillbatch: the batch size).
template <typename Op>
void timed_loop(Context& cx, ThreadStats& ts, std::uint64_t count, Op&& op) {
  auto prev = Clock::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t done = op(i);
    auto now = Clock::now();
    ts.latency.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - prev).count()));
    prev = now;
    ts.ops += done;
    if ((i & 63) == 63) cx.progress.fetch_add(64 * done, std::memory_order_relaxed);
  }
}

void put(Context& cx, ThreadStats& ts, const std::string& key, std::mt19937_64& rng) {
  std::string_view value = cx.values.next(rng);
  cx.db.put(key, value);
  ts.bytes += key.size() + value.size();
  ts.user_bytes += key.size() + value.size();
}

void get_existing(Context& cx, ThreadStats& ts, const std::string& key, std::string* value) {
  if (!cx.db.get(key, value)) throw BenchError("key " + key + " is missing after the load");
  ts.bytes += key.size() + value->size();
}

std::size_t scan_from(Cursor& cursor, const std::string& start, std::size_t limit,
                      ThreadStats& ts) {
  std::size_t seen = 0;
  for (cursor.seek(start); seen < limit && cursor.valid(); cursor.next()) {
    ts.bytes += cursor.key().size() + cursor.value().size();
    ++seen;
  }
  return seen;
}

void run_ycsb(Context& cx, ThreadStats& ts, std::uint64_t count, std::mt19937_64& rng) {
  const Kind kind = cx.w.kind;
  const ScrambledZipf& chooser = *cx.chooser;
  const Zipf& recency = *cx.recency;
  std::string key, value;
  auto insert = [&] {
    cx.keys.stored(cx.next_insert.fetch_add(1), &key);
    put(cx, ts, key, rng);
  };
  timed_loop(cx, ts, count, [&](std::uint64_t) -> std::uint64_t {
    const auto dice = rng() % 100;
    switch (kind) {
      case Kind::kYcsbA:
      case Kind::kYcsbB: {
        cx.keys.stored(chooser.next(rng), &key);
        if (dice < (kind == Kind::kYcsbA ? 50u : 95u)) {
          get_existing(cx, ts, key, &value);
        } else {
          put(cx, ts, key, rng);
        }
        break;
      }
      case Kind::kYcsbC:
        cx.keys.stored(chooser.next(rng), &key);
        get_existing(cx, ts, key, &value);
        break;
      case Kind::kYcsbD:
        if (dice < 95) {
          std::uint64_t newest = cx.next_insert.load() - 1;
          cx.keys.stored(newest - std::min(newest, recency.next(rng)), &key);
          get_existing(cx, ts, key, &value);
        } else {
          insert();
        }
        break;
      case Kind::kYcsbE:
        if (dice < 95) {
          cx.keys.stored(chooser.next(rng), &key);
          auto cursor = cx.db.new_cursor();
          scan_from(*cursor, key, 1 + rng() % kSeekNexts, ts);
        } else {
          insert();
        }
        break;
      case Kind::kYcsbF:
        cx.keys.stored(chooser.next(rng), &key);
        get_existing(cx, ts, key, &value);
        if (dice >= 50) put(cx, ts, key, rng);  // read-modify-write: a new value
        break;
      default:
        throw BenchError("not a YCSB workload");
    }
    return 1;
  });
}

// The timed work of client thread t (of threads), which owns ops [begin, end).
void run_client(Context& cx, ThreadStats& ts, int t, std::uint64_t begin, std::uint64_t end) {
  std::mt19937_64 rng(cx.o.seed * 1000003 + static_cast<std::uint64_t>(t));
  const std::uint64_t count = end - begin;
  std::string key, value;
  switch (cx.w.kind) {
    case Kind::kFillSeq:
      timed_loop(cx, ts, count, [&](std::uint64_t i) {
        cx.keys.stored(begin + i, &key);
        put(cx, ts, key, rng);
        return std::uint64_t{1};
      });
      break;
    case Kind::kFillRandom:
    case Kind::kFillSync:
    case Kind::kFillSyncMt:
    case Kind::kDeleteRandom: {
      Permutation order(cx.n, cx.o.seed);
      const bool remove = cx.w.kind == Kind::kDeleteRandom;
      timed_loop(cx, ts, count, [&](std::uint64_t i) {
        cx.keys.stored(order.at(begin + i), &key);
        if (remove) {
          cx.db.remove(key);
          ts.bytes += key.size();
          ts.user_bytes += key.size();
        } else {
          put(cx, ts, key, rng);
        }
        return std::uint64_t{1};
      });
      break;
    }
    case Kind::kFillBatch: {
      Permutation order(cx.n, cx.o.seed);
      std::vector<std::string> keys(kBatchSize);
      std::vector<KeyValue> batch;
      const std::uint64_t batches = (count + kBatchSize - 1) / kBatchSize;
      timed_loop(cx, ts, batches, [&](std::uint64_t b) {
        batch.clear();
        const std::uint64_t first = begin + b * kBatchSize;
        const std::uint64_t size = std::min(kBatchSize, end - first);
        for (std::uint64_t j = 0; j < size; ++j) {
          cx.keys.stored(order.at(first + j), &keys[j]);
          batch.emplace_back(keys[j], cx.values.next(rng));
          ts.bytes += keys[j].size() + batch.back().second.size();
        }
        cx.db.write_batch(batch);
        ts.user_bytes = ts.bytes;
        return size;
      });
      break;
    }
    case Kind::kOverwrite:
      timed_loop(cx, ts, count, [&](std::uint64_t) {
        cx.keys.stored(rng() % cx.n, &key);
        put(cx, ts, key, rng);
        return std::uint64_t{1};
      });
      break;
    case Kind::kReadRandom:
    case Kind::kReadRandomMt:
    case Kind::kReadWhileWriting:
      timed_loop(cx, ts, count, [&](std::uint64_t) {
        cx.keys.stored(rng() % cx.n, &key);
        get_existing(cx, ts, key, &value);
        return std::uint64_t{1};
      });
      break;
    case Kind::kReadMissing:
      timed_loop(cx, ts, count, [&](std::uint64_t) {
        cx.keys.missing(rng() % cx.n, &key);
        if (cx.db.get(key, &value)) throw BenchError("absent key " + key + " was found");
        return std::uint64_t{1};
      });
      break;
    case Kind::kSeekRandom: {
      auto cursor = cx.db.new_cursor();  // one per thread, as db_bench does
      timed_loop(cx, ts, count, [&](std::uint64_t) {
        cx.keys.stored(rng() % cx.n, &key);
        scan_from(*cursor, key, kSeekNexts + 1, ts);
        return std::uint64_t{1};
      });
      break;
    }
    case Kind::kScan: {
      auto cursor = cx.db.new_cursor();
      cursor->first();
      timed_loop(cx, ts, count, [&](std::uint64_t) {
        if (!cursor->valid()) throw BenchError("scan ended early");
        ts.bytes += cursor->key().size() + cursor->value().size();
        cursor->next();
        return std::uint64_t{1};
      });
      if (cursor->valid()) throw BenchError("scan found more than N entries");
      break;
    }
    case Kind::kOltp:
    case Kind::kOltpMt: {
      std::string keys[4];
      timed_loop(cx, ts, count, [&](std::uint64_t) {
        while (true) {
          auto txn = cx.db.begin_txn();
          if (txn == nullptr) throw BenchError("the engine has no transactions");
          for (std::string& k : keys) {
            cx.keys.stored(rng() % cx.n, &k);
            if (!txn->get(k, &value)) throw BenchError("existing key " + k + " was not found");
            ts.bytes += k.size() + value.size();
          }
          for (int i = 0; i < 2; ++i) {
            std::string_view v = cx.values.next(rng);
            txn->put(keys[i], v);
            ts.bytes += keys[i].size() + v.size();
            ts.user_bytes += keys[i].size() + v.size();
          }
          if (txn->commit()) break;
          ++ts.aborts;
        }
        return std::uint64_t{1};
      });
      break;
    }
    default:
      run_ycsb(cx, ts, count, rng);
  }
}

// readwhilewriting's writer: overwrites random keys until the readers finish.
void run_writer(Context& cx, ThreadStats& ts) {
  std::mt19937_64 rng(cx.o.seed ^ 0x777269746572ull);
  std::string key;
  while (!cx.stop.load(std::memory_order_relaxed)) {
    cx.keys.stored(rng() % cx.n, &key);
    put(cx, ts, key, rng);
    ++ts.ops;
  }
}

// Untimed: puts keys 0 .. n-1 in key order, 1000 per batch.
void load(Context& cx) {
  Progress progress("load", cx.n, cx.progress);
  std::mt19937_64 rng(cx.o.seed ^ 0x6c6f6164ull);
  std::vector<std::string> keys(kBatchSize);
  std::vector<KeyValue> batch;
  for (std::uint64_t first = 0; first < cx.n; first += kBatchSize) {
    batch.clear();
    for (std::uint64_t id = first; id < std::min(cx.n, first + kBatchSize); ++id) {
      std::string& key = keys[id - first];
      cx.keys.stored(id, &key);
      batch.emplace_back(key, cx.values.next(rng));
    }
    cx.db.write_batch(batch);
    cx.progress.fetch_add(batch.size(), std::memory_order_relaxed);
  }
  cx.progress.store(0);
}

double micros(std::uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

}  // namespace

std::span<const Workload> all_workloads() { return kWorkloads; }

const Workload* find_workload(std::string_view name) {
  for (const Workload& w : kWorkloads) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

std::uint64_t timed_ops(const Workload& w, const BenchOptions& o) {
  switch (w.kind) {
    case Kind::kFillSeq:
    case Kind::kFillRandom:
    case Kind::kFillBatch:
    case Kind::kScan:
      return o.num;
    case Kind::kFillSync:
    case Kind::kFillSyncMt:
    case Kind::kOltp:
    case Kind::kOltpMt:
      return o.sync_ops;
    case Kind::kDeleteRandom:
      return std::min(o.op_count(), o.num);
    case Kind::kSeekRandom:
    case Kind::kYcsbE:
      return std::max<std::uint64_t>(1, o.op_count() / kScanDivisor);
    default:
      return o.op_count();
  }
}

int client_threads(const Workload& w, const BenchOptions& o) {
  return w.multi_thread ? o.threads : 1;
}

bool uses_sync(const Workload& w, const BenchOptions& o) {
  return w.kind == Kind::kFillSync || w.kind == Kind::kFillSyncMt || w.kind == Kind::kOltp ||
         w.kind == Kind::kOltpMt || o.sync;
}

RunResult run_workload(const std::string& engine, const Workload& w, const BenchOptions& o,
                       const std::string& dir, int repeat) {
  EngineSettings settings;
  settings.sync = uses_sync(w, o);
  settings.cache_mb = o.cache_mb;
  settings.transactions = w.kind == Kind::kOltp || w.kind == Kind::kOltpMt;
  auto db = open_engine(engine, dir, settings);

  const bool sync_fill = w.kind == Kind::kFillSync || w.kind == Kind::kFillSyncMt;
  Context cx(o, w, *db, sync_fill ? o.sync_ops : o.num);

  RunResult r;
  r.engine = engine;
  r.workload = std::string(w.name);
  r.repeat = repeat;
  r.threads = client_threads(w, o);
  r.durability = settings.sync ? "sync" : "nosync";
  if (settings.transactions && db->begin_txn() == nullptr) {
    r.unsupported = true;
    r.error = "not supported: the engine has no transactions";
    return r;
  }

  if (w.needs_load) {
    load(cx);
    r.disk_bytes_loaded = directory_bytes(dir);
    db->settle();
    r.disk_bytes_settled = directory_bytes(dir);
  }

  // ---- Timed phase ----
  const std::uint64_t total = timed_ops(w, o);
  std::vector<ThreadStats> stats(static_cast<std::size_t>(r.threads));
  ThreadStats writer_stats;
  const BytesWritten before = db->bytes_written();
  double seconds = 0;
  // An exception must not escape a thread: the first one is rethrown here.
  std::mutex failure_mu;
  std::string failure;
  auto guarded = [&](auto&& body) {
    try {
      body();
    } catch (const std::exception& e) {
      std::lock_guard lock(failure_mu);
      if (failure.empty()) failure = e.what();
      cx.stop = true;
    }
  };
  {
    Progress progress(engine + " " + std::string(w.name), total, cx.progress);
    std::latch go(1);
    std::vector<std::jthread> clients;
    for (int t = 0; t < r.threads; ++t) {
      const auto threads = static_cast<std::uint64_t>(r.threads);
      std::uint64_t begin = total * static_cast<std::uint64_t>(t) / threads;
      std::uint64_t end = total * static_cast<std::uint64_t>(t + 1) / threads;
      clients.emplace_back([&, t, begin, end] {
        go.wait();
        guarded([&] { run_client(cx, stats[static_cast<std::size_t>(t)], t, begin, end); });
      });
    }
    std::jthread writer;
    if (w.kind == Kind::kReadWhileWriting) {
      writer = std::jthread([&] {
        go.wait();
        guarded([&] { run_writer(cx, writer_stats); });
      });
    }
    auto start = Clock::now();
    go.count_down();
    for (auto& c : clients) c.join();
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    cx.stop = true;
  }
  if (!failure.empty()) throw BenchError(failure);
  const BytesWritten after = db->bytes_written();
  r.counters = db->counters();

  ThreadStats all;
  for (const ThreadStats& ts : stats) {
    all.latency.merge(ts.latency);
    all.ops += ts.ops;
    all.bytes += ts.bytes;
    all.user_bytes += ts.user_bytes;
    all.aborts += ts.aborts;
  }
  r.aborts = all.aborts;
  r.ops = all.ops;
  r.seconds = seconds;
  r.ops_per_sec = seconds > 0 ? static_cast<double>(all.ops) / seconds : 0;
  r.mb_per_sec = seconds > 0 ? static_cast<double>(all.bytes) / seconds / 1e6 : 0;
  r.p50_us = micros(all.latency.percentile(0.50));
  r.p99_us = micros(all.latency.percentile(0.99));
  r.p999_us = micros(all.latency.percentile(0.999));
  r.max_us = micros(all.latency.max());
  r.mean_us = all.latency.mean() / 1000.0;
  r.background_writes = writer_stats.ops;
  r.user_bytes_written = all.user_bytes + writer_stats.user_bytes;
  r.engine_bytes_written = after.bytes - before.bytes;
  r.write_amp_source = after.source;
  if (r.user_bytes_written > 0) {
    r.write_amp =
        static_cast<double>(r.engine_bytes_written) / static_cast<double>(r.user_bytes_written);
  }

  if (!w.needs_load) {
    r.disk_bytes_loaded = directory_bytes(dir);
    db->settle();
    r.disk_bytes_settled = directory_bytes(dir);
  }
  db.reset();  // close before measuring the peak
  r.peak_rss_bytes = peak_rss_bytes();
  return r;
}

}  // namespace bench
