# Install rules: everything in its FHS place (GNUInstallDirs), relative to the
# prefix chosen at install time, so one build tree serves a plain
# `cmake --install` (prefix /usr/local) and the Debian package (prefix /usr,
# cmake/package.cmake). Test binaries have no install rule and are never
# installed.
include(GNUInstallDirs)

# The daemon is a system binary that only systemd and administrators start:
# sbin. The operator's tool is an ordinary command: bin.
install(TARGETS gradcoverd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS gradcover RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Documentation, with docs/ kept as a subdirectory so README's links work.
file(GLOB GC_DOC_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md
     ${CMAKE_SOURCE_DIR}/docs/*.png)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${GC_DOC_FILES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

# The deploy/ files an administrator copies and adapts (nothing reads them at
# run time, hence doc/examples rather than share/gradcover).
install(FILES
        ${CMAKE_SOURCE_DIR}/deploy/gradcover.example.json
        ${CMAKE_SOURCE_DIR}/deploy/redis.conf
        ${CMAKE_SOURCE_DIR}/deploy/redis-users.acl
        ${CMAKE_SOURCE_DIR}/deploy/nginx.conf
        ${CMAKE_SOURCE_DIR}/deploy/gradcover-proxy.conf
        ${CMAKE_SOURCE_DIR}/deploy/prometheus.yml
        ${CMAKE_SOURCE_DIR}/deploy/gradcover.rules.yml
        ${CMAKE_SOURCE_DIR}/deploy/gradcover.rules.test.yml
        ${CMAKE_SOURCE_DIR}/deploy/alertmanager.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

set(GC_SYSTEMD_UNIT_DIR "" CACHE PATH
    "Where to install gradcoverd.service (default: /lib/systemd/system for prefix /usr, else <prefix>/lib/systemd/system)")

# The systemd unit (made from deploy/gradcoverd.service) and the live
# configuration depend on the prefix, which is only known at install time:
# cmake/install_run.cmake works them out then.
install(CODE "
  set(GC_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
  set(GC_WORK_DIR \"${CMAKE_BINARY_DIR}/install-generated\")
  set(GC_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")
  set(GC_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(GC_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  set(GC_SYSTEMD_UNIT_DIR \"${GC_SYSTEMD_UNIT_DIR}\")
  include(\"${CMAKE_SOURCE_DIR}/cmake/install_run.cmake\")")
