# lt_proto_library(<name> ROOT <dir> PROTOS <relative paths...> [GRPC] [DEPS ...])
# Generates C++ (and gRPC stubs when GRPC is given) at build time into the
# build tree; nothing generated is ever committed.
function(lt_proto_library name)
  cmake_parse_arguments(ARG "GRPC" "ROOT" "PROTOS;DEPS" ${ARGN})
  set(out_dir "${PROJECT_BINARY_DIR}/gen")
  file(MAKE_DIRECTORY "${out_dir}")
  set(srcs)
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" base "${proto}")
    set(outputs "${out_dir}/${base}.pb.cc" "${out_dir}/${base}.pb.h")
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND outputs "${out_dir}/${base}.grpc.pb.cc" "${out_dir}/${base}.grpc.pb.h")
      set(plugin_args --grpc_out=${out_dir} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${Protobuf_PROTOC_EXECUTABLE}
        -I${ARG_ROOT} -I/usr/include
        --cpp_out=${out_dir} ${plugin_args}
        ${ARG_ROOT}/${proto}
      DEPENDS ${ARG_ROOT}/${proto} ${Protobuf_PROTOC_EXECUTABLE}
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${outputs})
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC "${out_dir}")
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${ARG_DEPS})
  # Generated code: no -Werror, and keep it quiet.
  target_compile_options(${name} PRIVATE -w)
endfunction()
