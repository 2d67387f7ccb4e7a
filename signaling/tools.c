#include "tools.h"

#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "message.h"

int tools_passwd(FILE *in, FILE *out, FILE *err)
{
    struct termios old, quiet;
    int tty = isatty(fileno(in)) && tcgetattr(fileno(in), &old) == 0;
    if (tty) {
        fputs("password: ", err);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(in), TCSAFLUSH, &quiet);
    }
    char line[CONFIG_PASSWORD_MAX + 2];
    char *got = fgets(line, sizeof line, in);
    if (tty) {
        tcsetattr(fileno(in), TCSAFLUSH, &old);
        fputs("\n", err);
    }
    if (!got) {
        fputs("sobre passwd: no password given\n", err);
        return 1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || strlen(line) > CONFIG_PASSWORD_MAX) {
        fprintf(err, "sobre passwd: a password has 1 to %d bytes\n", CONFIG_PASSWORD_MAX);
        return 1;
    }
    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(line, hash, sizeof hash) != 0) {
        fputs("sobre passwd: cannot hash (no randomness?)\n", err);
        return 1;
    }
    fprintf(out, "%s\n", hash);
    return 0;
}

int tools_token(int argc, char **argv, FILE *out, FILE *err)
{
    const char *config_path = NULL;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-c")) {
        config_path = argv[i + 1];
        i += 2;
    }
    if (argc - i < 2 || argc - i > 4) {
        fputs("usage: sobre token [-c FILE] ROOM NAME [participant|listener|moderator] [HOURS]\n",
              err);
        return 2;
    }
    auth_token_t t = {.role = AUTH_ROLE_PARTICIPANT};
    const char *room = argv[i], *name = argv[i + 1];
    if (strlen(room) >= sizeof t.room || strlen(name) >= sizeof t.name || !*room || !*name ||
        message_utf8_length(name) > MESSAGE_NAME_MAX) {
        fputs("sobre token: ROOM and NAME must be 1 to 64 characters\n", err);
        return 2;
    }
    strcpy(t.room, room);
    strcpy(t.name, name);
    if (argc - i >= 3 && auth_role_parse(argv[i + 2], &t.role) != 0) {
        fprintf(err, "sobre token: unknown role \"%s\" (participant, listener, moderator)\n",
                argv[i + 2]);
        return 2;
    }
    long hours = 24;
    if (argc - i == 4) {
        char *end;
        hours = strtol(argv[i + 3], &end, 10);
        if (*end || hours < 1 || hours > 24 * 366) {
            fputs("sobre token: HOURS must be 1 to 8784\n", err);
            return 2;
        }
    }
    config_t *cfg = NULL;
    char cerr[CONFIG_ERROR_MAX];
    if (config_path ? config_load(config_path, &cfg, cerr) != 0 : !(cfg = config_default())) {
        fprintf(err, "sobre token: %s\n", cerr);
        return 1;
    }
    int rc = 1;
    char tok[AUTH_TOKEN_MAX];
    if (!cfg->token_secret) {
        fprintf(err, "sobre token: %s has no auth.token_secret\n",
                config_path ? config_path : "the embedded config");
    } else {
        t.expires = (long long)time(NULL) + hours * 3600;
        if (auth_token_mint(cfg->token_secret, &t, tok, sizeof tok) == 0) {
            fprintf(out, "%s\n", tok);
            rc = 0;
        } else {
            fputs("sobre token: ROOM or NAME does not fit in a token\n", err);
        }
    }
    config_free(cfg);
    return rc;
}
