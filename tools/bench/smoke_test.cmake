# Smoke test of lightning-bench (CTest, label "bench"):
#   cmake -DBENCH=<lightning-bench> -DWORK_DIR=<dir> -P smoke_test.cmake
# 1. every workload on every compiled engine with a tiny N: exit 0, the JSON
#    holds one result per (workload, engine) with the expected fields, and
#    the plot and Markdown files exist;
# 2. --repeat 3 reports three repeats;
# 3. bad flags exit non-zero with a usage message.
cmake_minimum_required(VERSION 3.25)

if(NOT BENCH OR NOT WORK_DIR)
  message(FATAL_ERROR "usage: cmake -DBENCH=<lightning-bench> -DWORK_DIR=<dir> -P smoke_test.cmake")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(json_get out json)
  string(JSON value ERROR_VARIABLE err GET "${json}" ${ARGN})
  if(err)
    message(FATAL_ERROR "JSON: missing ${ARGN}: ${err}")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

function(json_type out json)
  string(JSON value ERROR_VARIABLE err TYPE "${json}" ${ARGN})
  if(err)
    message(FATAL_ERROR "JSON: missing ${ARGN}: ${err}")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# ---- 1. Every workload on every engine ----
execute_process(
  COMMAND ${BENCH} --num 300 --ops 300 --sync-ops 20 --threads 2 --dir ${WORK_DIR}
          --json ${WORK_DIR}/out.json --plot ${WORK_DIR}/out.svg --markdown ${WORK_DIR}/out.md
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lightning-bench failed (${rc}):\n${out}\n${err}")
endif()
message(STATUS "table:\n${out}")

file(READ ${WORK_DIR}/out.json json)
json_get(engines "${json}" settings engines)
json_get(workloads "${json}" settings workloads)
string(JSON engine_count LENGTH "${json}" settings engines)
string(JSON workload_count LENGTH "${json}" settings workloads)
string(JSON result_count LENGTH "${json}" results)
math(EXPR expected "${engine_count} * ${workload_count}")
if(NOT workload_count EQUAL 21)
  message(FATAL_ERROR "expected 21 workloads by default, got ${workload_count}")
endif()
if(NOT result_count EQUAL expected)
  message(FATAL_ERROR "expected ${expected} results, got ${result_count}")
endif()
foreach(key cores ram_bytes kernel date_utc)
  json_get(unused "${json}" machine ${key})
endforeach()

set(seen "")
math(EXPR last "${result_count} - 1")
foreach(i RANGE ${last})
  json_get(engine "${json}" results ${i} engine)
  json_get(workload "${json}" results ${i} workload)
  set(where "results[${i}] (${workload} on ${engine})")
  json_type(error_type "${json}" results ${i} error)
  if(NOT error_type STREQUAL "NULL")
    json_get(error "${json}" results ${i} error)
    json_get(unsupported "${json}" results ${i} unsupported)
    # LevelDB has no transactions: the oltp workloads are "not supported"
    # there (not a failure); anything else is.
    if(unsupported AND engine STREQUAL "leveldb" AND workload MATCHES "^oltp")
      list(APPEND seen "${workload}/${engine}")
      continue()
    endif()
    message(FATAL_ERROR "${where} failed: ${error}")
  endif()
  foreach(field ops_per_sec mb_per_sec seconds ops threads disk_bytes_after_load
                disk_bytes_settled peak_rss_bytes user_bytes_written engine_bytes_written)
    json_type(type "${json}" results ${i} ${field})
    if(NOT type STREQUAL "NUMBER")
      message(FATAL_ERROR "${where}: ${field} is ${type}, not a number")
    endif()
  endforeach()
  foreach(field p50 p99 p99.9 max mean)
    json_type(type "${json}" results ${i} latency_us ${field})
    if(NOT type STREQUAL "NUMBER")
      message(FATAL_ERROR "${where}: latency_us.${field} is ${type}")
    endif()
  endforeach()
  json_get(ops_per_sec "${json}" results ${i} ops_per_sec)
  json_get(rss "${json}" results ${i} peak_rss_bytes)
  json_get(disk "${json}" results ${i} disk_bytes_settled)
  if(ops_per_sec LESS_EQUAL 0 OR rss LESS_EQUAL 0 OR disk LESS_EQUAL 0)
    message(FATAL_ERROR "${where}: ops_per_sec ${ops_per_sec}, rss ${rss}, disk ${disk}")
  endif()
  # Writes report a write amplification; pure reads report null.
  json_type(wamp_type "${json}" results ${i} write_amp)
  if(workload MATCHES "^(fill|overwrite|delete|oltp|ycsb_[abdef])")
    if(NOT wamp_type STREQUAL "NUMBER")
      message(FATAL_ERROR "${where}: write_amp is ${wamp_type}, expected a number")
    endif()
  elseif(workload MATCHES "^(readrandom|readrandom_mt|readmissing|seekrandom|scan|ycsb_c)$")
    if(NOT wamp_type STREQUAL "NULL")
      message(FATAL_ERROR "${where}: write_amp is ${wamp_type}, expected null")
    endif()
  endif()
  json_type(ratio_type "${json}" results ${i} ratio_vs_baseline)
  if(NOT ratio_type STREQUAL "NUMBER")
    message(FATAL_ERROR "${where}: ratio_vs_baseline is ${ratio_type}")
  endif()
  list(APPEND seen "${workload}/${engine}")
endforeach()
list(REMOVE_DUPLICATES seen)
list(LENGTH seen distinct)
if(NOT distinct EQUAL expected)
  message(FATAL_ERROR "results are not one per workload and engine: ${seen}")
endif()

file(READ ${WORK_DIR}/out.svg svg LIMIT 200)
if(NOT svg MATCHES "^<svg ")
  message(FATAL_ERROR "--plot did not write an SVG document")
endif()
file(READ ${WORK_DIR}/out.md md)
if(NOT md MATCHES "\\| workload \\| engine \\| ops/s \\|")
  message(FATAL_ERROR "--markdown did not write the table")
endif()

# ---- 2. Repeats: interleaved runs, the median reported ----
execute_process(
  COMMAND ${BENCH} --engines lightning --workloads readrandom --num 200 --repeat 3
          --dir ${WORK_DIR} --json ${WORK_DIR}/repeat.json
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "--repeat 3 failed (${rc}):\n${out}\n${err}")
endif()
file(READ ${WORK_DIR}/repeat.json json)
string(JSON repeats LENGTH "${json}" results 0 ops_per_sec_repeats)
string(JSON runs LENGTH "${json}" runs)
if(NOT repeats EQUAL 3 OR NOT runs EQUAL 3)
  message(FATAL_ERROR "--repeat 3 gave ${repeats} repeats and ${runs} runs")
endif()

# ---- 3. Bad flags: non-zero exit and a usage message on stderr ----
foreach(bad "--bogus" "--engines;nosuchdb" "--workloads;nosuchload" "--num;0"
            "--durability;sometimes" "--num" "--key-size;4;--num;100000")
  execute_process(COMMAND ${BENCH} ${bad} --dir ${WORK_DIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "'${bad}' was accepted")
  endif()
  if(NOT err MATCHES "Usage: lightning-bench")
    message(FATAL_ERROR "'${bad}' gave no usage message:\n${err}")
  endif()
endforeach()

file(GLOB leftovers ${WORK_DIR}/lightning-bench-*)
if(leftovers)
  message(FATAL_ERROR "temporary databases left behind: ${leftovers}")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
message(STATUS "lightning-bench smoke test passed")
