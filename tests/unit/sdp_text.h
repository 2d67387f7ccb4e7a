/* Helpers the SDP tests share: reading a fixture file, and counting lines of SDP text. */
#ifndef SOBRE_SDP_TEXT_H
#define SOBRE_SDP_TEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the file `dir` `name` ".sdp" into dst (cap bytes, NUL-terminated); exits when it
 * cannot be opened. Returns its length. */
static inline size_t load_sdp(const char *dir, const char *name, char *dst, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s.sdp", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    size_t n = fread(dst, 1, cap - 1, f);
    fclose(f);
    dst[n] = '\0';
    return n;
}

/* How many times sdp holds this exact line (CRLF-terminated). */
static inline int count_line(const char *sdp, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = sdp; (p = strstr(p, line)) != NULL; p += len)
        if ((p == sdp || p[-1] == '\n') && p[len] == '\r' && p[len + 1] == '\n') n++;
    return n;
}

/* How many lines of sdp start with prefix. */
static inline int count_prefix(const char *sdp, const char *prefix)
{
    int n = 0;
    for (const char *p = sdp; (p = strstr(p, prefix)) != NULL; p++)
        if (p == sdp || p[-1] == '\n') n++;
    return n;
}

#endif
