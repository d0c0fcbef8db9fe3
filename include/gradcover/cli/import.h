/* `gradcover import`: the education bureau's CSV of graduates, each row
 * checked by the registration's own rules (domain/validate.c) and sent to
 * gradcoverd's POST /api/v1/graduates, so that national-ID claims, counts,
 * alerts and the audit trail are exactly those of the API (docs/operations.md,
 * "Importing graduates"). */
#ifndef GRADCOVER_CLI_IMPORT_H
#define GRADCOVER_CLI_IMPORT_H

/* Runs the command: argv[0] is "import", its options and the file follow.
 * config_path: the global --config (may be NULL: then the command's own).
 * Returns the exit code: 0 every row registered or already there (with
 * --check: every row valid), 1 rows rejected or the server unreachable or
 * refusing the token, 2 bad command line, configuration or file. */
int import_command(const char *config_path, int argc, char **argv);

#endif
