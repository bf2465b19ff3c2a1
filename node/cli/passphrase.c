/* Passphrase from the environment or the terminal. See passphrase.h. */
#include "node/cli/passphrase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

/* Reads one line from the terminal with echo off. Returns its length or -1. */
static long read_tty(char *buf, size_t cap, const char *prompt) {
    /* Separate streams for reading and writing: a stream opened "r+" may not switch
     * between input and output without repositioning. */
    FILE *tty = fopen("/dev/tty", "r");
    FILE *out = tty ? fopen("/dev/tty", "w") : NULL;
    if (!out) {
        if (tty)
            fclose(tty);
        fprintf(stderr, "error: no terminal to ask for the passphrase; set %s\n",
                CN_PASSPHRASE_ENV);
        return -1;
    }
    struct termios old, quiet;
    int fd = fileno(tty);
    int have_term = tcgetattr(fd, &old) == 0;
    if (have_term) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    fprintf(out, "%s", prompt);
    fflush(out);
    char *got = fgets(buf, (int)cap, tty);
    if (have_term)
        (void)tcsetattr(fd, TCSAFLUSH, &old);
    fprintf(out, "\n");
    fclose(out);
    fclose(tty);
    if (!got)
        return -1;
    size_t n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == cap - 1) {
        fprintf(stderr, "error: passphrase longer than %zu bytes\n", cap - 2);
        sodium_memzero(buf, cap);
        return -1;
    }
    buf[n] = '\0';
    return (long)n;
}

long cn_passphrase_get(char *buf, size_t cap, const char *prompt, int confirm) {
    const char *env = getenv(CN_PASSPHRASE_ENV);
    if (env) {
        size_t n = strlen(env);
        if (n == 0 || n >= cap) {
            fprintf(stderr, "error: %s must be 1..%zu bytes\n", CN_PASSPHRASE_ENV, cap - 1);
            return -1;
        }
        memcpy(buf, env, n + 1);
        return (long)n;
    }
    long n = read_tty(buf, cap, prompt);
    if (n < 0)
        return -1;
    if (n == 0) {
        fprintf(stderr, "error: empty passphrase\n");
        return -1;
    }
    if (confirm) {
        char again[CN_PASSPHRASE_MAX];
        long m = read_tty(again, sizeof again, "Repeat passphrase: ");
        int same = m == n && memcmp(again, buf, (size_t)n) == 0;
        sodium_memzero(again, sizeof again);
        if (!same) {
            fprintf(stderr, "error: passphrases do not match\n");
            sodium_memzero(buf, cap);
            return -1;
        }
    }
    return n;
}
