#include "config.h"
#include "hook_state.h"
#include "cleanup.h"
#include "json.h"
#include "json_field.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

int
hook_state_parse (const char *text, size_t length, struct hook_state *state, struct ward_error **err)
{
  struct json_document *doc = NULL;
  if (json_parse ("state", text, length, &doc, err) < 0)
    return -1;
  int64_t pid = 0;
  int ret = -1;
  if (doc->root->type != JSON_OBJECT)
    field_type_error (doc, doc->root, "(root)", "object", err);
  else if (field_string (doc, doc->root, NULL, "id", true, &state->id, err) == 0
           && field_string (doc, doc->root, NULL, "bundle", true, &state->bundle, err) == 0
           && field_int64 (doc, doc->root, NULL, "pid", true, &pid, NULL, err) == 0)
    {
      if (pid <= 0 || pid > INT32_MAX)
        ward_fail (err, 0, "state: pid: %lld is not a process", (long long)pid);
      else
        {
          state->pid = (pid_t)pid;
          ret = 0;
        }
    }
  json_document_free (doc);
  return ret;
}

/* Has `text` a whole JSON object at its start?  The state ends there: a
 * runtime may keep our stdin open after writing it (ward starts its hook
 * before the init, which then holds a copy of the pipe until it execs), so
 * the end of the object, not EOF, ends the read. */
static bool
object_complete (const char *text, size_t length)
{
  int depth = 0;
  bool in_string = false, escaped = false, started = false;
  for (size_t i = 0; i < length; i++)
    {
      char ch = text[i];
      if (in_string)
        {
          if (escaped)
            escaped = false;
          else if (ch == '\\')
            escaped = true;
          else if (ch == '"')
            in_string = false;
          continue;
        }
      if (ch == '"')
        in_string = true;
      else if (ch == '{' || ch == '[')
        depth++, started = true;
      else if (ch == '}' || ch == ']')
        {
          if (--depth == 0 && started)
            return true;
        }
    }
  return false;
}

int
hook_state_read (int fd, struct hook_state *state, struct ward_error **err)
{
  size_t capacity = 4096, length = 0;
  cleanup_free char *text = malloc (capacity);
  if (text == NULL)
    return ward_fail (err, ENOMEM, "state");
  for (;;)
    {
      if (length == capacity)
        {
          if (capacity >= HOOK_STATE_MAX)
            return ward_fail (err, EFBIG, "state on stdin: larger than %d bytes", HOOK_STATE_MAX);
          char *grown = realloc (text, capacity * 2);
          if (grown == NULL)
            return ward_fail (err, ENOMEM, "state");
          text = grown;
          capacity *= 2;
        }
      ssize_t n = read (fd, text + length, capacity - length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ward_fail (err, errno, "read the state on stdin");
      if (n == 0)
        break;
      length += (size_t)n;
      if (object_complete (text, length))
        break;
    }
  return hook_state_parse (text, length, state, err);
}

void
hook_state_clear (struct hook_state *state)
{
  free (state->id);
  free (state->bundle);
  *state = (struct hook_state){ 0 };
}
