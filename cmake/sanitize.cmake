# DDB2S3_SANITIZE=ON: everything (library, ddb2s3, tests, examples, bench tools) compiled and linked with
# AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer; any finding ends the process.
# scripts/test builds this with clang 14 into build-asan and runs the suite there as well.
option(DDB2S3_SANITIZE "Build with -fsanitize=address,undefined (findings are fatal)" OFF)
if(NOT DDB2S3_SANITIZE)
  return()
endif()

set(DDB2S3_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
include(CheckCXXSourceCompiles)
list(JOIN DDB2S3_SANITIZE_FLAGS " " CMAKE_REQUIRED_FLAGS)
set(CMAKE_REQUIRED_LINK_OPTIONS ${DDB2S3_SANITIZE_FLAGS})
check_cxx_source_compiles("int main() { return 0; }" DDB2S3_SANITIZERS_LINK)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(NOT DDB2S3_SANITIZERS_LINK)
  message(FATAL_ERROR "DDB2S3_SANITIZE: ${CMAKE_CXX_COMPILER} cannot link -fsanitize=address,undefined "
                      "(clang 14 on Debian needs libclang-rt-14-dev: scripts/install-deps installs it)")
endif()
add_compile_options(${DDB2S3_SANITIZE_FLAGS})
add_link_options(${DDB2S3_SANITIZE_FLAGS})
# libstdc++'s own checks (operator[] past size(), front() of an empty container, ...): ASan misses an
# index past size() but within capacity, or inside a short string's buffer. Same ABI as without.
add_compile_definitions(_GLIBCXX_ASSERTIONS)

# Stack traces need llvm-symbolizer; its path is compiled into the default options because tests start
# the ddb2s3 binary with an exact environment (no PATH).
get_filename_component(_cxx_dir "${CMAKE_CXX_COMPILER}" REALPATH)
get_filename_component(_cxx_dir "${_cxx_dir}" DIRECTORY)
find_program(DDB2S3_SYMBOLIZER NAMES llvm-symbolizer llvm-symbolizer-14
             HINTS "${_cxx_dir}" /usr/lib/llvm-14/bin NO_CACHE)
if(NOT DDB2S3_SYMBOLIZER)
  message(WARNING "DDB2S3_SANITIZE: no llvm-symbolizer found: sanitizer stack traces will show addresses only")
  set(DDB2S3_SYMBOLIZER "")
endif()

# The runtimes' default options (cmake/sanitizer_options.cpp.in, see there), linked into every executable
# by ddb2s3_sanitize_executables(), which the top-level CMakeLists.txt calls once all targets exist.
configure_file(${CMAKE_CURRENT_LIST_DIR}/sanitizer_options.cpp.in ${CMAKE_BINARY_DIR}/generated/sanitizer_options.cpp
               @ONLY)
add_library(ddb2s3_sanitizer_options OBJECT ${CMAKE_BINARY_DIR}/generated/sanitizer_options.cpp)
function(ddb2s3_sanitize_executables)
  set(dirs ${CMAKE_SOURCE_DIR})
  while(dirs)
    list(POP_FRONT dirs dir)
    get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
    list(APPEND dirs ${subdirs})
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t IN LISTS targets)
      get_target_property(type ${t} TYPE)
      if(type STREQUAL "EXECUTABLE")
        target_link_libraries(${t} PRIVATE ddb2s3_sanitizer_options)
      endif()
    endforeach()
  endwhile()
endfunction()
