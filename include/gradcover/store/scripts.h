/* The Lua scripts embedded at build time (see cmake/embed.cmake). */
#ifndef GRADCOVER_STORE_SCRIPTS_H
#define GRADCOVER_STORE_SCRIPTS_H

#include <stddef.h>

struct gc_script {
    const char *name; /* file name without .lua */
    const char *source;
    size_t len;
};

extern const struct gc_script gc_scripts[];
extern const size_t gc_nscripts;

#endif
