# Installing ddb2s3 as a tool: `cmake --install` puts bin/ddb2s3 (root CMakeLists.txt), the Python package
# (python/CMakeLists.txt, component python), the man page share/man/man1/ddb2s3.1 (made here at build time
# with help2man from the built binary) and share/doc/ddb2s3/README.md. `cpack -G DEB` (scripts/package)
# packs the same files under /usr, with the Debian runtime libraries the binary and the extension link
# (dpkg-shlibdeps) and python3 as dependencies.
include(GNUInstallDirs)

# The man page: not in a sanitized or fuzz build (such a binary is not shipped) nor when cross-compiling
# (the binary must run here).
find_program(DDB2S3_HELP2MAN help2man)
set(ddb2s3_man_default OFF)
if(DDB2S3_HELP2MAN AND NOT DDB2S3_SANITIZE AND NOT DDB2S3_FUZZ AND NOT CMAKE_CROSSCOMPILING)
  set(ddb2s3_man_default ON)
endif()
option(DDB2S3_MAN "Make the man page ddb2s3.1 with help2man (needs help2man)" ${ddb2s3_man_default})
if(DDB2S3_MAN)
  if(NOT DDB2S3_HELP2MAN)
    message(FATAL_ERROR "DDB2S3_MAN=ON needs help2man (scripts/install-deps installs it)")
  endif()
  set(ddb2s3_man ${CMAKE_BINARY_DIR}/man/ddb2s3.1)
  add_custom_command(
    OUTPUT ${ddb2s3_man}
    COMMAND ${CMAKE_COMMAND} -DDDB2S3=$<TARGET_FILE:ddb2s3> -DHELP2MAN=${DDB2S3_HELP2MAN} -DOUT=${ddb2s3_man}
            -P ${CMAKE_SOURCE_DIR}/cmake/man_page.cmake
    DEPENDS ddb2s3 ${CMAKE_SOURCE_DIR}/cmake/man_page.cmake
    COMMENT "Making the man page ddb2s3.1 from ddb2s3 --help (help2man)"
    VERBATIM)
  add_custom_target(ddb2s3_man ALL DEPENDS ${ddb2s3_man})
  install(FILES ${ddb2s3_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "ddb2s3: no man page (DDB2S3_MAN=OFF: no help2man, or a sanitized build)")
endif()
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package, prefix /usr, installed through DESTDIR so that the install step sees the prefix /usr
# itself (the Python package then goes to /usr/lib/python3/dist-packages: python/CMakeLists.txt).
set(CPACK_GENERATOR DEB)
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_NAME ddb2s3)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ddb2s3_VERSION_ARCH.deb
set(DDB2S3_PACKAGE_MAINTAINER "ddb2s3 maintainers <maintainers@ddb2s3.invalid>" CACHE STRING
    "The Maintainer field of the .deb")
set(CPACK_PACKAGE_CONTACT "${DDB2S3_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "copy an Amazon DynamoDB table to Amazon S3 (tool and Python module)")
# The extended description (CPack puts the summary above it and indents it).
set(CPACK_PACKAGE_DESCRIPTION
    "ddb2s3 scans a DynamoDB table (in parallel segments, or one segment per machine of an array job)
and writes its items to S3 or a local directory as gzip/zstd JSON lines with manifests; it also
starts and follows DynamoDB's point-in-time exports. A native re-creation of Apache Airflow's
DynamoDBToS3Operator, with a Python module (import ddb2s3) and a drop-in Airflow operator.")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # libcurl4, libssl3, libisal2, ... from the ELF files (dpkg-dev)
set(CPACK_STRIP_FILES ON)
# The extension is built for one Python version (_native.cpython-3XX-...so): that python3 (also the
# package's only non-ELF need). dpkg-shlibdeps' findings are appended to these.
if(TARGET ddb2s3_python)
  get_target_property(ddb2s3_py_suffix ddb2s3_python SUFFIX)  # pybind11's, e.g. .cpython-311-x86_64-linux-gnu.so
  if(ddb2s3_py_suffix MATCHES "cpython-3([0-9]+)")
    math(EXPR ddb2s3_py_next "${CMAKE_MATCH_1} + 1")
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3 (>= 3.${CMAKE_MATCH_1}~), python3 (<< 3.${ddb2s3_py_next})")
  else()
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3")
  endif()
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-boto3")  # items to process_func as boto3's own Binary type
else()
  message(STATUS "ddb2s3: a .deb made from this build holds no Python package (DDB2S3_PYTHON=OFF)")
endif()
include(CPack)
