/* A container's audit log: append-only JSON lines in <audit_dir>/<id>.jsonl,
 * one record a line, written whole by one write(2) on an O_APPEND file so
 * that several writers (ward, the hook's supervisor) never interleave
 * inside a record.  The log outlives the container: nothing here deletes it.
 *
 * Every record starts with the same four fields:
 *   time     RFC 3339, UTC, with nanoseconds
 *   id       the container's id
 *   event    "egress.installed", "dns.refused", ...
 *   blocked  true for an attempt that was refused, false otherwise
 * and the caller adds the event's own fields between audit_record_begin()
 * and audit_record_write(). */
#ifndef WARD_AUDIT_H
#define WARD_AUDIT_H

#include <stdbool.h>

#include "error.h"
#include "json_writer.h"

struct audit_log;

/* Open (creating it 0640, and `dir` 0750, if need be) the log of container
 * `id` in `dir` (NULL: WARD_AUDIT_DIR_DEFAULT). */
int audit_open (const char *dir, const char *id, struct audit_log **out, struct ward_error **err);

void audit_close (struct audit_log *log);

/* A writer holding the open record's common fields; add the event's own
 * with jw_key_*, then audit_record_write().  NULL when out of memory. */
struct json_writer *audit_record_begin (struct audit_log *log, const char *event, bool blocked);

/* Close the record, append it as one line and free the writer. */
int audit_record_write (struct audit_log *log, struct json_writer *w, struct ward_error **err);

/* The current time as RFC 3339 with nanoseconds ("2025-01-02T03:04:05.123456789Z"). */
void audit_time_rfc3339_ns (char *buf, size_t size);

#endif
