/* `ward verify`'s report: a table for people (holes first), or one JSON
 * document for pipelines. */
#ifndef WARD_VERIFY_REPORT_H
#define WARD_VERIFY_REPORT_H

#include <stdio.h>

#include "error.h"
#include "verify_probes.h"

struct verify_summary
{
  const char *policy; /* the policy the containers ran under */
  const char *netns;  /* the namespace joined, or NULL */
  const char *note;   /* something the reader should know, or NULL */
};

void verify_report_table (FILE *out, const struct verify_summary *s, const struct verify_results *r);

int verify_report_json (FILE *out, const struct verify_summary *s, const struct verify_results *r,
                        struct ward_error **err);

#endif
