/* log: one line per event on stderr (journald-friendly). Thread: any (each line is
 * written with a single write). */
#ifndef SOBRE_LOG_H
#define SOBRE_LOG_H

typedef enum { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level_t;

/* Lines above `level` are dropped. Default LOG_INFO. Call before starting threads. */
void log_set_level(log_level_t level);
int log_enabled(log_level_t level);

void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__);                               \
    } while (0)

#endif
