# lt_target_warnings(<target>): -Wall -Wextra -Werror on our own code only
# (generated protobuf code is compiled without -Werror).
function(lt_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror
    -Wno-missing-field-initializers)
endfunction()

# lt_library(<name> SOURCES ... [DEPS ...] [PUBLIC_DEPS ...])
# Defines lienthong_<name> with the alias lienthong::<name>.
function(lt_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PUBLIC_DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(lienthong_${name} STATIC ${ARG_SOURCES})
    target_include_directories(lienthong_${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(lienthong_${name} PUBLIC ${ARG_PUBLIC_DEPS}
      PRIVATE ${ARG_DEPS})
    lt_target_warnings(lienthong_${name})
  else()
    add_library(lienthong_${name} INTERFACE)
    target_include_directories(lienthong_${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(lienthong_${name} INTERFACE ${ARG_PUBLIC_DEPS})
  endif()
  add_library(lienthong::${name} ALIAS lienthong_${name})
endfunction()

# lt_binary(<name> SOURCES ... DEPS ...): an executable of ours.
function(lt_binary name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  # jemalloc replaces glibc's malloc (not under the sanitizers, which bring
  # their own allocator).
  if(NOT LIENTHONG_SANITIZE)
    target_link_libraries(${name} PRIVATE PkgConfig::JEMALLOC)
  endif()
  lt_target_warnings(${name})
endfunction()
