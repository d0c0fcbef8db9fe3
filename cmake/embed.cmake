# gc_embed(OUTPUT file PRELUDE lua FILES a.lua b.lua ...)
# Turns each Lua script into a C string (the shared prelude prepended) and a
# table `gc_scripts[]` of {name, source, length}; runs at build time so that an
# edited script is rebuilt without re-running CMake.
function(gc_embed)
  cmake_parse_arguments(E "" "OUTPUT;PRELUDE" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUT=${E_OUTPUT} -DPRELUDE=${E_PRELUDE}
            "-DFILES=${E_FILES}" -P ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${E_FILES} ${E_PRELUDE} ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding Lua scripts"
    VERBATIM)
endfunction()

# gc_embed_asset(OUTPUT file SYMBOL name FILE path)
# Embeds one file (the dashboard page) as `const char name[]` and
# `const size_t name_len`, regenerated whenever the file changes.
function(gc_embed_asset)
  cmake_parse_arguments(E "" "OUTPUT;SYMBOL;FILE" "" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUT=${E_OUTPUT} -DSYMBOL=${E_SYMBOL} -DIN=${E_FILE}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_asset.cmake
    DEPENDS ${E_FILE} ${CMAKE_SOURCE_DIR}/cmake/embed_asset.cmake
    COMMENT "Embedding ${E_FILE}"
    VERBATIM)
endfunction()
