/* Line lexer shared by the assembler, the state files of `clearasm run` and the test vectors.
 *
 * Source is line-oriented: each line is split into at most CN_ASM_MAX_TOKS tokens and a
 * comment (from ';' to the end of the line) is dropped. Tokens are words (letters, digits,
 * '_' and '.', not starting with a digit), integers (decimal or 0x hex, an optional leading
 * '-', checked against int64; longer hex literals are kept as bytes), strings ("..." with
 * \n \t \\ \" \0 and \xNN escapes) and the single characters , : ( ) = + [ ].
 */
#ifndef CLEARNODE_CONTRACTS_ASM_LEXER_H
#define CLEARNODE_CONTRACTS_ASM_LEXER_H

#include <stddef.h>
#include <stdint.h>

#define CN_ASM_MAX_TOKS 48
#define CN_ASM_MAX_STR 1024 /* bytes of one string literal after escapes */

typedef enum {
    CN_ASM_TOK_WORD,
    CN_ASM_TOK_INT,
    CN_ASM_TOK_STR,
    CN_ASM_TOK_PUNCT
} cn_asm_tok_kind;

typedef struct {
    cn_asm_tok_kind kind;
    const char *text; /* into the line */
    uint32_t len;     /* of text */
    int64_t ival;     /* CN_ASM_TOK_INT */
    int is_hex;       /* CN_ASM_TOK_INT written as 0x... */
    int big;          /* hex literal beyond int64: only usable as bytes (ival is 0) */
    uint8_t *str;     /* CN_ASM_TOK_STR: decoded bytes (owned by the cn_asm_line) */
    uint32_t slen;
} cn_asm_tok;

typedef struct {
    cn_asm_tok tok[CN_ASM_MAX_TOKS];
    int n;
    uint8_t strbuf[CN_ASM_MAX_STR * 2];
    uint32_t strused;
} cn_asm_line;

/* Splits line[0..len) into tokens. Returns 1, or 0 with a reason in err (errlen bytes). */
int cn_asm_lex(const char *line, size_t len, cn_asm_line *out, char *err, size_t errlen);

/* Is token t the word (or punctuation) s? */
int cn_asm_tok_is(const cn_asm_tok *t, const char *s);

/* Copies a token's text into buf as a NUL-terminated string (truncated to cap-1). */
void cn_asm_tok_text(const cn_asm_tok *t, char *buf, size_t cap);

#endif
