/* The version a binary was built as: CMake's project version and, for a build
 * from a git checkout, the commit (generated at build time, cmake/version.cmake). */
#ifndef GRADCOVER_CORE_VERSION_H
#define GRADCOVER_CORE_VERSION_H

#include <stdio.h>

extern const char gc_version[];    /* "0.1.0" */
extern const char gc_git_commit[]; /* "1a2b3c4d5e6f", "…-dirty", or "" outside a checkout */

/* Prints "<program> <version>[ (git <commit>)]\n" to f: the --version line. */
void gc_version_print(FILE *f, const char *program);

#endif
