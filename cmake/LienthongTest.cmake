# lt_add_test(<name> SOURCES ... [DEPS ...] [INTEGRATION])
# One test binary per *_test.cc, registered with ctest under its own name.
# INTEGRATION tests (real PostgreSQL, real gRPC servers) carry the label
# `integration`, so `ctest -LE integration` is the quick loop.
function(lt_add_test name)
  cmake_parse_arguments(ARG "INTEGRATION" "TIMEOUT" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  lt_target_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  set(timeout 120)
  if(ARG_TIMEOUT)
    set(timeout ${ARG_TIMEOUT})
  endif()
  if(ARG_INTEGRATION)
    set_tests_properties(${name} PROPERTIES LABELS integration TIMEOUT ${timeout}
      ENVIRONMENT "LIENTHONG_SOURCE_DIR=${PROJECT_SOURCE_DIR};LIENTHONG_BINARY_DIR=${PROJECT_BINARY_DIR}")
  else()
    set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT ${timeout}
      ENVIRONMENT "LIENTHONG_SOURCE_DIR=${PROJECT_SOURCE_DIR};LIENTHONG_BINARY_DIR=${PROJECT_BINARY_DIR}")
  endif()
endfunction()
