# Runs gradcoverd --check-config on a bad file; passes only on exit code 2 with
# the offending key named on stderr. WRAPPER: an optional command line to run
# it under (valgrind).
separate_arguments(wrapper UNIX_COMMAND "${WRAPPER}")
execute_process(COMMAND ${wrapper} ${BIN} --config ${CFG} --check-config
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit code 2, got ${rc}: ${err}")
endif()
if(NOT err MATCHES "unknown key \"alerts.for_secs\"")
  message(FATAL_ERROR "message does not name the key: ${err}")
endif()
