/* Leveled logging to stderr: "2024-05-01T12:00:00.123Z info  message".
 * The level is process-wide and set once at start (node/config log.level). */
#ifndef CLEARNODE_NODE_UTIL_LOG_H
#define CLEARNODE_NODE_UTIL_LOG_H

enum { CN_LOGL_ERROR = 0, CN_LOGL_WARN, CN_LOGL_INFO, CN_LOGL_DEBUG };

void cn_log_set_level(int level);
int cn_log_enabled(int level);
void cn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CN_LOG_ERROR(...) cn_log(CN_LOGL_ERROR, __VA_ARGS__)
#define CN_LOG_WARN(...) cn_log(CN_LOGL_WARN, __VA_ARGS__)
#define CN_LOG_INFO(...) cn_log(CN_LOGL_INFO, __VA_ARGS__)
#define CN_LOG_DEBUG(...) \
    do { if (cn_log_enabled(CN_LOGL_DEBUG)) cn_log(CN_LOGL_DEBUG, __VA_ARGS__); } while (0)

#endif
