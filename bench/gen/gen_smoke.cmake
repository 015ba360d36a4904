# Smoke test of syncmgr-gen (run by ctest; no timing asserted):
#   cmake -DGEN=path/to/syncmgr-gen -DDIR=scratch-dir -P gen_smoke.cmake
# Checks that the same arguments give byte-identical output, that the NDJSON has
# as many lines as the stats' "received", that the stats add up, and that day 0
# creates every listing.
cmake_minimum_required(VERSION 3.25)
file(MAKE_DIRECTORY "${DIR}")

function(run_gen out stats)
  execute_process(COMMAND "${GEN}" ${ARGN} --out "${out}" --stats-out "${stats}"
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "syncmgr-gen ${ARGN} failed (${rc}): ${err}")
  endif()
endfunction()

function(json_get var json key)
  string(JSON v GET "${json}" "${key}")
  set(${var} "${v}" PARENT_SCOPE)
endfunction()

set(n 5000)
foreach(day 0 1 3)
  run_gen("${DIR}/a${day}.ndjson" "${DIR}/a${day}.json" --n ${n} --day ${day} --seed 7)
  run_gen("${DIR}/b${day}.ndjson" "${DIR}/b${day}.json" --n ${n} --day ${day} --seed 7)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${DIR}/a${day}.ndjson"
                          "${DIR}/b${day}.ndjson" RESULT_VARIABLE same)
  if(NOT same EQUAL 0)
    message(FATAL_ERROR "day ${day}: two runs with the same arguments differ")
  endif()

  file(READ "${DIR}/a${day}.json" stats)
  foreach(k received created updated unchanged removed)
    json_get(${k} "${stats}" ${k})
  endforeach()
  # Count newlines by length difference (CMake lists would split on ';' and '[').
  file(READ "${DIR}/a${day}.ndjson" text)
  string(LENGTH "${text}" with)
  string(REPLACE "\n" "" text "${text}")
  string(LENGTH "${text}" without)
  math(EXPR count "${with} - ${without}")
  if(NOT count EQUAL received)
    message(FATAL_ERROR "day ${day}: ${count} lines, stats say received=${received}")
  endif()
  math(EXPR sum "${created} + ${updated} + ${unchanged}")
  if(NOT sum EQUAL received)
    message(FATAL_ERROR "day ${day}: created+updated+unchanged=${sum} != received=${received}")
  endif()
  if(day EQUAL 0 AND NOT created EQUAL n)
    message(FATAL_ERROR "day 0 created ${created}, want ${n}")
  endif()
  if(day GREATER 0 AND (created EQUAL 0 OR updated EQUAL 0 OR removed EQUAL 0))
    message(FATAL_ERROR "day ${day}: expected some created, updated and removed: ${stats}")
  endif()
endforeach()
file(REMOVE_RECURSE "${DIR}")
message(STATUS "syncmgr-gen smoke test passed")
