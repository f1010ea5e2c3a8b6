/* Option parsing shared by the subcommands.  runc (urfave/cli) accepts
 * --flag value, --flag=value and -flag value; engines use all three. */
#ifndef WARD_OPTIONS_H
#define WARD_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>

#include "error.h"

/* getopt_long_only over argv (argv[0] = subcommand), "+" ordering so that a
 * container's own arguments after the id are left alone.  Calls `handle` for
 * each option; returns the index of the first operand, or -1 with *err set
 * ("create: unknown option --foo"). */
typedef int option_handler (void *ctx, int option, const char *value, struct ward_error **err);
int options_parse (const char *command, int argc, char **argv, const char *short_options,
                   const struct option *long_options, option_handler *handle, void *ctx,
                   struct ward_error **err);

/* For commands that take no options: refuses any, returns the index of
 * the first operand. */
int options_parse_none (const char *command, int argc, char **argv, struct ward_error **err);

/* Exactly `wanted` operands after options, else "<command>: expected ...". */
int options_expect_operands (const char *command, int argc, char **argv, int first, int wanted,
                             const char *usage, struct ward_error **err);

int options_parse_int (const char *command, const char *option, const char *value, int *out,
                       struct ward_error **err);
int options_parse_int64 (const char *command, const char *option, const char *value, long long *out,
                         struct ward_error **err);

#endif
