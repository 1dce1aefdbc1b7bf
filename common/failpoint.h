/* failpoint.h - crash on purpose at a named point, for tests.
 *
 * With SIMPKI_FAILPOINT=NAME in the environment, sp_failpoint("NAME") ends
 * the process at once (_exit 137, as SIGKILL would, with no cleanup and no
 * flush), so a test can stop a service exactly between two steps and check
 * that a restart resumes. Without the variable it costs one getenv. Never
 * set it in production. */
#ifndef SP_FAILPOINT_H
#define SP_FAILPOINT_H

void sp_failpoint(const char *name);

#endif
