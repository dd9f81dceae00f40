# Makes the man page ddb2s3.1 with help2man from the built binary: its --help and --version (name,
# synopsis, description, options), then one section per subcommand made from `ddb2s3 COMMAND --help` (by
# help2man too), then SEE ALSO. Run by the build (cmake/package.cmake):
#   cmake -DDDB2S3=path/to/ddb2s3 -DHELP2MAN=path/to/help2man -DOUT=path/to/ddb2s3.1 -P man_page.cmake

foreach(var DDB2S3 HELP2MAN OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "man_page.cmake: -D${var}=... is needed")
  endif()
endforeach()

# help2man of one command line: the page's text, or a fatal error with what help2man said.
function(help2man_page out_var program)
  execute_process(COMMAND ${HELP2MAN} --no-info ${ARGN} ${program}
                  OUTPUT_VARIABLE page ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR page STREQUAL "")
    message(FATAL_ERROR "help2man ${program} failed (${rc}): ${err}")
  endif()
  set(${out_var} "${page}" PARENT_SCOPE)
endfunction()

execute_process(COMMAND ${DDB2S3} --version OUTPUT_VARIABLE version_line RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT version_line MATCHES "^ddb2s3 ([^\n]+)")
  message(FATAL_ERROR "${DDB2S3} --version failed (${rc}): ${version_line}")
endif()
set(version "${CMAKE_MATCH_1}")

help2man_page(main "${DDB2S3}" --name "copy an Amazon DynamoDB table to Amazon S3")

# The subcommands, as `ddb2s3 --help` lists them ("  scan   Scan a table...", up to the blank line).
execute_process(COMMAND ${DDB2S3} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT help MATCHES "\nSubcommands:\n(.*)")
  message(FATAL_ERROR "${DDB2S3} --help lists no subcommands (${rc})")
endif()
string(REGEX REPLACE "\n\n.*" "\n" listed "${CMAKE_MATCH_1}")
string(REGEX MATCHALL "(^|\n)  [a-z][a-z-]*" commands "${listed}")

set(sections "")
foreach(command IN LISTS commands)
  string(STRIP "${command}" command)
  # help2man runs "PROGRAM --help" through the shell: the subcommand rides along as a word of PROGRAM.
  help2man_page(page "${DDB2S3} ${command}" --version-string "${version}" --name "${command}")
  # Its synopsis and everything from DESCRIPTION on; its own OPTIONS heading becomes a subsection.
  if(NOT page MATCHES "\n\\.SH SYNOPSIS\n(.*)\n\\.SH DESCRIPTION\n(.*)$")
    message(FATAL_ERROR "help2man's page of '${command}' has no SYNOPSIS or DESCRIPTION:\n${page}")
  endif()
  set(synopsis "${CMAKE_MATCH_1}")
  set(body "${CMAKE_MATCH_2}")
  string(REPLACE "\n.SH OPTIONS\n" "\n.SS \"Options:\"\n" body "${body}")
  string(APPEND sections ".SH \"ddb2s3 ${command}\"\n${synopsis}\n.PP\n${body}")
endforeach()

set(see_also [=[.SH "SEE ALSO"
README.md in share/doc/ddb2s3 under the install prefix (/usr/share/doc/ddb2s3/README.md from the
Debian package): the output layout, the Python module and the Airflow operator, running on many machines
(\fB\-\-segment auto\fR), and the benchmarks.
]=])
file(WRITE "${OUT}.tmp" "${main}${sections}${see_also}")
file(RENAME "${OUT}.tmp" "${OUT}")
