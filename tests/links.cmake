# compress_test decodes gzip with zlib (an independent implementation from ISA-L).
find_package(ZLIB REQUIRED)
target_link_libraries(compress_test PRIVATE ZLIB::ZLIB)
# scan_test and cli_test read data files back with zlib and libzstd (independent of the code under test);
# cli_test runs the ddb2s3 binary, so it is built first.
if(TARGET scan_test)
  target_link_libraries(scan_test PRIVATE ZLIB::ZLIB PkgConfig::ZSTD OpenSSL::Crypto)
endif()
if(TARGET cli_test)
  target_link_libraries(cli_test PRIVATE ZLIB::ZLIB PkgConfig::ZSTD OpenSSL::Crypto)
  add_dependencies(cli_test ddb2s3)
endif()
# example_test runs examples/copy_table.cpp's binary and creates its table with the DynamoDB client.
if(TARGET example_test)
  target_link_libraries(example_test PRIVATE ddb2s3_dynamodb ddb2s3_credentials)
  add_dependencies(example_test example_copy_table)
endif()
# bench_smoke_test runs the ddb2s3 binary and the benchmark tools (bench/).
if(TARGET ddb2s3-sim)
  add_dependencies(bench_smoke_test ddb2s3 ddb2s3-sim ddb2s3-raw-fetch)
endif()
# pitr_cli_test runs the ddb2s3 binary against the export test server.
if(TARGET pitr_cli_test)
  add_dependencies(pitr_cli_test ddb2s3)
endif()
# The export test server (support/export_server.cpp) parses requests with simdjson: compile it with
# simdjson's own definitions, as the code under test is.
target_link_libraries(ddb2s3_test_support PUBLIC simdjson::simdjson)
# support/aws_fixtures.cpp gives tests fixed keys through the credentials module's static_credentials().
target_link_libraries(ddb2s3_test_support PUBLIC ddb2s3_credentials)
# cli_help_test runs the ddb2s3 binary.
if(TARGET cli_help_test)
  add_dependencies(cli_help_test ddb2s3)
endif()
# client_test and dynamodb_test compute x-amz-crc32 for their fake servers with zlib, independently of ISA-L.
foreach(t client_test dynamodb_test)
  if(TARGET ${t})
    target_link_libraries(${t} PRIVATE ZLIB::ZLIB)
  endif()
endforeach()
# scan_verify_test runs the ddb2s3 binary (verify) besides the library; its fixtures read data files with zlib.
if(TARGET scan_verify_test)
  target_link_libraries(scan_verify_test PRIVATE ZLIB::ZLIB PkgConfig::ZSTD OpenSSL::Crypto)
  add_dependencies(scan_verify_test ddb2s3)
endif()
# cli_faults_test runs the ddb2s3 binary against the simulator and fault servers of its own.
if(TARGET cli_faults_test)
  add_dependencies(cli_faults_test ddb2s3)
  if(TARGET ddb2s3-sim)
    add_dependencies(cli_faults_test ddb2s3-sim)
  endif()
endif()
# scan_resume_test runs the ddb2s3 binary against the simulator (and s3rver), and reads gzip back with zlib.
if(TARGET scan_resume_test)
  target_link_libraries(scan_resume_test PRIVATE ZLIB::ZLIB PkgConfig::ZSTD)
  add_dependencies(scan_resume_test ddb2s3)
  if(TARGET ddb2s3-sim)
    add_dependencies(scan_resume_test ddb2s3-sim)
  endif()
endif()
# scan_rate_test runs the ddb2s3 binary (one process or two sharing a scan) against the simulator.
# It reads JSON with the scan test helpers (support/scan_fixtures.cpp), which decompress with zlib and libzstd.
if(TARGET scan_rate_test)
  target_link_libraries(scan_rate_test PRIVATE ZLIB::ZLIB PkgConfig::ZSTD OpenSSL::Crypto)
  if(TARGET ddb2s3-sim)
    add_dependencies(scan_rate_test ddb2s3 ddb2s3-sim)
  endif()
endif()
# cli_segment_auto_test runs the ddb2s3 binary as an array job's tasks; it reads the data files with zlib.
if(TARGET cli_segment_auto_test)
  target_link_libraries(cli_segment_auto_test PRIVATE ZLIB::ZLIB PkgConfig::ZSTD OpenSSL::Crypto)
  add_dependencies(cli_segment_auto_test ddb2s3)
endif()
# The export test server writes the exports' output (support/export_server.cpp): it scans with the DynamoDB
# client, writes with the S3 client and gzip (zlib), and keys items by pitr's canonical JSON.
target_link_libraries(ddb2s3_test_support PUBLIC ddb2s3_pitr ddb2s3_s3 ZLIB::ZLIB)
# pitr_merge_test reads the merged data files back with the scan test helpers (zlib, libzstd).
if(TARGET pitr_merge_test)
  target_link_libraries(pitr_merge_test PRIVATE ddb2s3_scan ZLIB::ZLIB PkgConfig::ZSTD OpenSSL::Crypto)
endif()
if(TARGET pitr_merge_test)
  add_dependencies(pitr_merge_test ddb2s3)  # runs the ddb2s3 binary (merge)
endif()
# pitr_chain_test scans a base (scan) and reads snapshots back (zlib); its CLI test runs the ddb2s3 binary.
if(TARGET pitr_chain_test)
  target_link_libraries(pitr_chain_test PRIVATE ddb2s3_scan ZLIB::ZLIB PkgConfig::ZSTD OpenSSL::Crypto)
  add_dependencies(pitr_chain_test ddb2s3)
endif()
