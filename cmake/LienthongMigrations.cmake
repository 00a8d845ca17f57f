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
  set(body "")
  foreach(f IN LISTS sql_files)
    get_filename_component(base ${f} NAME_WE)
    string(REGEX MATCH "^([0-9]+)_(.*)$" m "${base}")
    if(NOT m)
      message(FATAL_ERROR "migration file name must be NNNN_name.sql: ${f}")
    endif()
    math(EXPR version "${CMAKE_MATCH_1}")
    set(mname "${CMAKE_MATCH_2}")
    file(READ ${f} sql)
    string(APPEND body "      {${version}, \"${mname}\", R\"lt_sql(${sql})lt_sql\"},\n")
  endforeach()
  file(WRITE ${OUT_H}.tmp "#pragma once\n#include <vector>\n#include \"libs/db/migrations.h\"\nnamespace ${NS} {\nstd::vector<lienthong::db::Migration> Migrations();\n}\n")
  file(WRITE ${OUT_CC}.tmp "#include \"${NAME}.h\"\nnamespace ${NS} {\nstd::vector<lienthong::db::Migration> Migrations() {\n  return {\n${body}  };\n}\n}\n")
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
