/* tools: the operator's helpers behind `sobre passwd` (hash a room password for the
 * config file) and `sobre token` (mint a signed join token). Thread: main only. */
#ifndef SOBRE_TOOLS_H
#define SOBRE_TOOLS_H

#include <stdio.h>

/* Reads a password (one line; not echoed on a terminal) from in and prints its hash on
 * out. Returns the process exit status. */
int tools_passwd(FILE *in, FILE *out, FILE *err);

/* `sobre token [-c FILE] ROOM NAME [ROLE] [HOURS]`: prints a join token signed with the
 * config's auth.token_secret, valid HOURS hours (default 24), role participant by
 * default. argv[0] is "token". Returns the process exit status. */
int tools_token(int argc, char **argv, FILE *out, FILE *err);

/* `sobre status [-c FILE] [--names]`: asks the running server of that config for its
 * /status (on this host, over TLS when the config has tls, with metrics.token when
 * metrics.access is "token") and prints one line per room and per participant;
 * participants' names only with --names. argv[0] is "status". Returns the process exit
 * status: 0, 1 when the server cannot be asked or refuses, 2 for bad arguments. */
int tools_status(int argc, char **argv, FILE *out, FILE *err);

#endif
