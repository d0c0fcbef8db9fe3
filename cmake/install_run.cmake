# Runs at install time (from cmake/install.cmake), when CMAKE_INSTALL_PREFIX
# is the real one: `cmake --install --prefix`, or /usr under cpack. Installs
#  - the systemd unit, deploy/gradcoverd.service with the binary's and the
#    configuration's paths filled in, into /lib/systemd/system for prefix /usr
#    and <prefix>/lib/systemd/system otherwise (systemd also reads
#    /usr/local/lib/systemd/system), or GC_SYSTEMD_UNIT_DIR when set;
#  - the configuration, deploy/gradcover.example.json, as
#    <sysconfdir>/gradcover/gradcover.json, mode 0640, only when there is none
#    yet: a reinstall never overwrites an edited one (in the package dpkg's
#    conffile handling takes over).

# <prefix>/<dir> for a relative GNUInstallDirs dir, with its rule for the
# configuration directory: /etc for the prefixes / and /usr, /etc/opt/X for
# /opt/X.
function(gc_full_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(full "${dir}")
  elseif(dir STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/(usr/?)?$")
    set(full "/etc")
  elseif(dir STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/opt/(.+)$")
    set(full "/etc/opt/${CMAKE_MATCH_1}")
  else()
    set(full "${CMAKE_INSTALL_PREFIX}/${dir}")
  endif()
  string(REGEX REPLACE "/+" "/" full "${full}")
  string(REGEX REPLACE "(.)/$" "\\1" full "${full}")
  set(${out} "${full}" PARENT_SCOPE)
endfunction()

gc_full_dir(SBINDIR "${GC_SBINDIR}")
gc_full_dir(SYSCONFDIR "${GC_SYSCONFDIR}")
gc_full_dir(DOCDIR "${GC_DOCDIR}")
if(GC_SYSTEMD_UNIT_DIR)
  set(unit_dir "${GC_SYSTEMD_UNIT_DIR}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/(usr/?)?$")
  set(unit_dir "/lib/systemd/system")
else()
  gc_full_dir(unit_dir "lib/systemd/system")
endif()
set(CONFIG_FILE "${SYSCONFDIR}/gradcover/gradcover.json")

# The unit: @SBINDIR@, @CONFIG_FILE@ and @DOCDIR@ of deploy/gradcoverd.service.
# One work directory per destination, so that two installs from one build
# tree at once (cpack and `cmake --install`) do not write the same file.
string(MD5 dest_hash "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}|${unit_dir}")
set(unit "${GC_WORK_DIR}/${dest_hash}/gradcoverd.service")
configure_file("${GC_SOURCE_DIR}/deploy/gradcoverd.service" "${unit}" @ONLY)
file(INSTALL "${unit}" DESTINATION "${unit_dir}"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The configuration: it holds token hashes, webhook secrets and the Redis
# password, so never world-readable (the package's postinst gives the group
# to gradcover; by hand: chgrp gradcover).
if(EXISTS "$ENV{DESTDIR}${CONFIG_FILE}")
  message(STATUS "Keeping: $ENV{DESTDIR}${CONFIG_FILE} (the new example is in "
                 "${DOCDIR}/examples/gradcover.example.json)")
else()
  file(INSTALL "${GC_SOURCE_DIR}/deploy/gradcover.example.json"
       DESTINATION "${SYSCONFDIR}/gradcover" RENAME gradcover.json
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
endif()
