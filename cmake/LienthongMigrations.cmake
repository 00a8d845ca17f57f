# lt_migrations(<name> DIR <dir> NAMESPACE <c++ namespace>)
#
# Embeds <dir>/NNNN_name.sql into a library lienthong::<name> whose header
# "<name>.h" declares, in NAMESPACE,
#   std::vector<lienthong::db::Migration> Migrations();
# The SQL is embedded byte for byte (its checksum is what Migrate records).
# Regenerated whenever a file in <dir> changes or is added.
set(LT_MIGRATIONS_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

if(CMAKE_SCRIPT_MODE_FILE)
  # Script mode: -DOUT_CC -DOUT_H -DNAME -DNS -DDIR
  file(GLOB sql_files "${DIR}/*.sql")
  list(SORT sql_files)
  set(arrays "")
  set(body "")
  set(seen "")
  foreach(f IN LISTS sql_files)
    get_filename_component(base ${f} NAME_WE)
    string(REGEX MATCH "^([0-9]+)_([A-Za-z0-9_]+)$" m "${base}")
    if(NOT m)
      message(FATAL_ERROR
        "migration file name must be NNNN_name.sql (letters, digits, _): ${f}")
    endif()
    math(EXPR version "${CMAKE_MATCH_1}")
    set(mname "${CMAKE_MATCH_2}")
    list(FIND seen ${version} dup)
    if(NOT dup EQUAL -1 OR version EQUAL 0)
      message(FATAL_ERROR "migration number ${version} is zero or used twice: ${f}")
    endif()
    list(APPEND seen ${version})
    # As bytes, not as a string literal: CRLF, backslashes and any quote
    # sequence reach Migrate exactly as they are in the file (checksum).
    file(READ ${f} hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string(APPEND arrays
      "const unsigned char kSql${version}[] = {${bytes}0x00};\n")
    string(APPEND body "      {${version}, \"${mname}\", "
      "std::string(reinterpret_cast<const char*>(kSql${version}), "
      "sizeof(kSql${version}) - 1)},\n")
  endforeach()
  file(WRITE ${OUT_H}.tmp "#pragma once\n#include <vector>\n#include \"libs/db/migrations.h\"\nnamespace ${NS} {\nstd::vector<lienthong::db::Migration> Migrations();\n}\n")
  file(WRITE ${OUT_CC}.tmp "#include \"${NAME}.h\"\n#include <string>\nnamespace {\n${arrays}}  // namespace\nnamespace ${NS} {\nstd::vector<lienthong::db::Migration> Migrations() {\n  return {\n${body}  };\n}\n}\n")
  execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT_H}.tmp ${OUT_H})
  execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT_CC}.tmp ${OUT_CC})
  return()
endif()

function(lt_migrations name)
  cmake_parse_arguments(ARG "" "DIR;NAMESPACE" "" ${ARGN})
  get_filename_component(dir ${ARG_DIR} ABSOLUTE)
  file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/*.sql")
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}_gen)
  file(MAKE_DIRECTORY ${out_dir})
  add_custom_command(
    OUTPUT ${out_dir}/${name}.cc ${out_dir}/${name}.h
    COMMAND ${CMAKE_COMMAND} -DOUT_CC=${out_dir}/${name}.cc
      -DOUT_H=${out_dir}/${name}.h -DNAME=${name} -DNS=${ARG_NAMESPACE}
      -DDIR=${dir} -P ${LT_MIGRATIONS_SCRIPT}
    DEPENDS ${sql_files} ${LT_MIGRATIONS_SCRIPT}
    COMMENT "embedding migrations ${name}"
    VERBATIM)
  add_library(lienthong_${name} STATIC ${out_dir}/${name}.cc)
  target_include_directories(lienthong_${name} PUBLIC ${out_dir})
  target_link_libraries(lienthong_${name} PUBLIC lienthong::db)
  add_library(lienthong::${name} ALIAS lienthong_${name})
endfunction()
