# The Debian package (SPEC §14): `cpack -G DEB` in the build directory makes
# gradcover_<version>_amd64.deb from the install rules of cmake/install.cmake,
# installed with prefix /usr, and the maintainer scripts of packaging/deb/.
# tests/package/ builds it, installs it into a scratch root and purges it.
include(${CMAKE_CURRENT_LIST_DIR}/install.cmake)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gradcover)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "gradcover maintainers <gradcover@localhost>" CACHE STRING
    "Maintainer field of the Debian package")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "graduate employment service-rate monitor (gradcoverd server and gradcover tool)")
set(CPACK_PACKAGE_DESCRIPTION
    "gradcoverd keeps each county's share of registered unemployed college graduates who received an employment service current in Redis, with the gap to target, the queue of graduates still waiting, alerts to the county's leaders, Prometheus metrics and a dashboard. gradcover is the operator's tool (API tokens).")
# Prefix /usr with DESTDIR staging: the install step then sees the package's
# real prefix, so the unit names /usr/sbin/gradcoverd and the configuration
# lands in /etc (cmake/install_run.cmake).
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Debian Policy 10.1: binaries are shipped stripped.
set(CPACK_STRIP_FILES ON)
# gradcover_<version>_amd64.deb (no Debian revision).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: the libraries the binaries are linked with, as dpkg-shlibdeps
# (dpkg-dev) finds them, and passwd for the postinst's groupadd/useradd.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
# Redis 7 for the ACL selectors and CLIENT TRACKING; it may run elsewhere.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-server (>= 5:7.0)")

# The package's configuration path: prefix /usr puts it in /etc.
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "/etc/gradcover/gradcover.json\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/deb/postinst ${CMAKE_SOURCE_DIR}/packaging/deb/prerm
    ${CMAKE_SOURCE_DIR}/packaging/deb/postrm ${CMAKE_BINARY_DIR}/packaging/conffiles)
# Maintainer scripts 0755, conffiles 0644, whatever the source files' modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
