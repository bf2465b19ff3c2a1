/* The line lexer (lexer.h). It never reads past the given length and reports the first bad
 * character, unterminated string or out-of-range integer by column. */
#include "contracts/asm/lexer.h"

#include <stdio.h>
#include <string.h>

static int is_word_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}

static int is_word_char(char c) { return is_word_start(c) || (c >= '0' && c <= '9'); }

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses an integer at s[i..len): decimal or 0x hex magnitude with an optional '-'.
 * The magnitude may reach 2^63 only when negative; a longer hex literal sets *big.
 * Returns the index after it or 0. */
static size_t lex_int(const char *s, size_t i, size_t len, int64_t *out, int *is_hex,
                      int *big) {
    int neg = 0;
    if (s[i] == '-') {
        neg = 1;
        i++;
    }
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    unsigned base = 10;
    *is_hex = 0;
    if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        *is_hex = 1;
        i += 2;
    }
    size_t start = i;
    *big = 0;
    for (; i < len; i++) {
        int d = base == 16 ? hexval(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (d < 0)
            break;
        if (v > (limit - (unsigned)d) / base) {
            if (base == 10 || neg)
                return 0;
            *big = 1; /* a long hex literal: usable as bytes, not as an integer */
        }
        v = v * base + (unsigned)d;
    }
    if (*big)
        v = 0;
    if (i == start || (i < len && is_word_char(s[i])))
        return 0;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return i;
}

int cn_asm_lex(const char *s, size_t len, cn_asm_line *out, char *err, size_t errlen) {
    out->n = 0;
    out->strused = 0;
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == ';' || c == '\n' || c == '\r')
            break;
        if (c == ' ' || c == '\t') {
            i++;
            continue;
        }
        if (out->n >= CN_ASM_MAX_TOKS) {
            snprintf(err, errlen, "too many tokens on one line");
            return 0;
        }
        cn_asm_tok *t = &out->tok[out->n];
        memset(t, 0, sizeof *t);
        t->text = s + i;
        if (is_word_start(c)) {
            size_t j = i;
            while (j < len && is_word_char(s[j]))
                j++;
            t->kind = CN_ASM_TOK_WORD;
            t->len = (uint32_t)(j - i);
            i = j;
        } else if ((c >= '0' && c <= '9') || (c == '-' && i + 1 < len && s[i + 1] >= '0' &&
                                               s[i + 1] <= '9')) {
            size_t j = lex_int(s, i, len, &t->ival, &t->is_hex, &t->big);
            if (!j) {
                snprintf(err, errlen, "column %zu: bad or out-of-range integer", i + 1);
                return 0;
            }
            t->kind = CN_ASM_TOK_INT;
            t->len = (uint32_t)(j - i);
            i = j;
        } else if (c == '"') {
            size_t j = i + 1;
            t->kind = CN_ASM_TOK_STR;
            t->str = out->strbuf + out->strused;
            for (;;) {
                if (j >= len || s[j] == '\n') {
                    snprintf(err, errlen, "column %zu: unterminated string", i + 1);
                    return 0;
                }
                char ch = s[j++];
                if (ch == '"')
                    break;
                if (ch == '\\') {
                    if (j >= len) {
                        snprintf(err, errlen, "column %zu: unterminated string", i + 1);
                        return 0;
                    }
                    char e = s[j++];
                    if (e == 'n')
                        ch = '\n';
                    else if (e == 't')
                        ch = '\t';
                    else if (e == '0')
                        ch = '\0';
                    else if (e == '\\' || e == '"')
                        ch = e;
                    else if (e == 'x' && j + 1 < len && hexval(s[j]) >= 0 && hexval(s[j + 1]) >= 0) {
                        ch = (char)(hexval(s[j]) * 16 + hexval(s[j + 1]));
                        j += 2;
                    } else {
                        snprintf(err, errlen, "column %zu: bad escape in string", j);
                        return 0;
                    }
                }
                if (t->slen >= CN_ASM_MAX_STR || out->strused >= sizeof out->strbuf) {
                    snprintf(err, errlen, "column %zu: string too long", i + 1);
                    return 0;
                }
                t->str[t->slen++] = (uint8_t)ch;
                out->strused++;
            }
            t->len = (uint32_t)(j - i);
            i = j;
        } else if (strchr(",:()=+[]", c) && c != '\0') {
            t->kind = CN_ASM_TOK_PUNCT;
            t->len = 1;
            i++;
        } else {
            snprintf(err, errlen, "column %zu: unexpected character '%c'", i + 1,
                     (c >= 32 && c < 127) ? c : '?');
            return 0;
        }
        out->n++;
    }
    return 1;
}

int cn_asm_tok_is(const cn_asm_tok *t, const char *s) {
    size_t n = strlen(s);
    return (t->kind == CN_ASM_TOK_WORD || t->kind == CN_ASM_TOK_PUNCT) && t->len == n &&
           memcmp(t->text, s, n) == 0;
}

void cn_asm_tok_text(const cn_asm_tok *t, char *buf, size_t cap) {
    size_t n = t->len < cap - 1 ? t->len : cap - 1;
    memcpy(buf, t->text, n);
    buf[n] = '\0';
}
