/* The options `create` and `run` share: run is create + start + wait. */
#ifndef WARD_CREATE_OPTIONS_H
#define WARD_CREATE_OPTIONS_H

#include "container.h"
#include "error.h"

enum
{
  OPT_BUNDLE = 'b',
  OPT_PID_FILE = 1000,
  OPT_CONSOLE_SOCKET,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_PRESERVE_FDS,
};

/* Entries for a struct option table. */
#define CREATE_OPTIONS                                                                                       \
  { "bundle", required_argument, NULL, OPT_BUNDLE }, { "pid-file", required_argument, NULL, OPT_PID_FILE },  \
      { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },                                     \
      { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },                                                       \
      { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },                                           \
  {                                                                                                          \
    "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS                                                \
  }

/* option_handler for the options above; ctx is a struct create_options. */
int create_parse_option (void *ctx, int option, const char *value, struct ward_error **err);

#endif
