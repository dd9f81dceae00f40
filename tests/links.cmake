# compress_test decodes gzip with zlib (an independent implementation from ISA-L).
find_package(ZLIB REQUIRED)
target_link_libraries(compress_test PRIVATE ZLIB::ZLIB)
