/* Replays inputs through a fuzz target's LLVMFuzzerTestOneInput without
 * libFuzzer, so that the committed corpus is a regression test in every
 * build (any sanitizer or none). Arguments: files, or directories whose files
 * are all replayed. Fails when a target aborts, or when nothing was replayed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *more = realloc(buf, cap *= 2);
            if (!more)
                free(buf);
            buf = more;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    /* Exactly len bytes, so that a read past the input is caught. */
    uint8_t *data = malloc(len ? len : 1);
    if (!data) {
        free(buf);
        return -1;
    }
    memcpy(data, buf, len);
    free(buf);
    if (getenv("GC_FUZZ_VERBOSE"))
        fprintf(stderr, "%s\n", path);
    fuzz_input_name = path;
    LLVMFuzzerTestOneInput(data, len);
    fuzz_input_name = NULL;
    free(data);
    return 0;
}

static int skip_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(argv[i]) < 0)
                return 1;
            n++;
            continue;
        }
        struct dirent **names;
        int k = scandir(argv[i], &names, skip_hidden, alphasort);
        if (k < 0)
            return 1;
        for (int j = 0; j < k; j++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
            if (replay_file(path) < 0)
                return 1;
            n++;
            free(names[j]);
        }
        free(names);
    }
    printf("replayed %d inputs\n", n);
    return n > 0 ? 0 : 1;
}
