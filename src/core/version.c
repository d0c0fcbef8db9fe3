/* The --version line of both binaries; the strings themselves are generated
 * at build time (cmake/version.cmake). */
#include "gradcover/core/version.h"

void gc_version_print(FILE *f, const char *program)
{
    if (gc_git_commit[0])
        fprintf(f, "%s %s (git %s)\n", program, gc_version, gc_git_commit);
    else
        fprintf(f, "%s %s\n", program, gc_version);
}
