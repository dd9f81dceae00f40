# cmake -DPROBE=path -DMODE=m -DEXPECT=regex -P expect_finding.cmake: runs the probe in an empty
# environment and passes when it exits 99 (the sanitized build's exit code for a finding) with EXPECT
# and a symbolized frame of probe.cpp in its output.
execute_process(COMMAND env -i ${PROBE} ${MODE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT rc EQUAL 99)
  message(FATAL_ERROR "${MODE}: exit ${rc}, expected 99 (a sanitizer finding):\n${all}")
endif()
if(NOT all MATCHES "${EXPECT}")
  message(FATAL_ERROR "${MODE}: no '${EXPECT}' in:\n${all}")
endif()
if(NOT all MATCHES "#[0-9]+ 0x[0-9a-f]+ in [^\n]*probe\\.cpp:[0-9]+")
  message(FATAL_ERROR "${MODE}: no symbolized stack frame in probe.cpp in:\n${all}")
endif()
message(STATUS "${MODE}: exit 99 with '${EXPECT}' and a symbolized stack trace")
