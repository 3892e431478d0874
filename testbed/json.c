/*
 * The little JSON the trace needs: writing one flat object per line with correctly escaped
 * strings (names and summaries come off the wire and may hold anything), and reading the
 * members of such a line back for the charts.
 */
#include "testbed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(tb_buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 256;
	b->data = realloc(b->data, b->cap);
	if (!b->data)
		abort();
}

void tb_buf_printf(tb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the well-formed UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : 0;
	if (s[0] >= 0xf5)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong three- and four-byte forms, surrogates, and code points past U+10FFFF */
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

void tb_buf_json_str(tb_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	tb_buf_printf(b, "\"");
	while (*p) {
		if (*p == '"' || *p == '\\') {
			tb_buf_printf(b, "\\%c", *p++);
		} else if (*p == '\n') {
			tb_buf_printf(b, "\\n");
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			tb_buf_printf(b, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			tb_buf_printf(b, "%c", *p++);
		} else {
			size_t n = utf8_sequence(p);
			if (n) {
				tb_buf_printf(b, "%.*s", (int)n, (const char *)p);
				p += n;
			} else {  /* not UTF-8: the replacement character keeps the line valid JSON */
				tb_buf_printf(b, "\\ufffd");
				p++;
			}
		}
	}
	tb_buf_printf(b, "\"");
}

void tb_buf_hex(tb_buf *b, const uint8_t *d, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	reserve(b, 2 * len);
	for (size_t i = 0; i < len; i++) {
		b->data[b->len++] = digits[d[i] >> 4];
		b->data[b->len++] = digits[d[i] & 15];
	}
	b->data[b->len] = 0;
}

void tb_buf_free(tb_buf *b)
{
	free(b->data);
	*b = (tb_buf){0};
}

/* ---- reading ------------------------------------------------------------------------------- */

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Parses the string at p (at its opening quote) into out (when given); returns the end. */
static const char *read_string(const char *p, char *out, size_t len)
{
	size_t o = 0;
	for (p++; *p && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			c = *++p;
			if (c == 'n')
				c = '\n';
			else if (c == 'u') {  /* the recorder escapes only control bytes and U+FFFD this way */
				unsigned v = 0;
				if (sscanf(p + 1, "%4x", &v) == 1)
					p += 4;
				c = v < 0x80 ? (char)v : '?';
			} else if (!c) {
				return NULL;
			}
		}
		if (out && o + 1 < len)
			out[o++] = c;
	}
	if (out && len)
		out[o] = 0;
	return *p == '"' ? p + 1 : NULL;
}

/* Finds the value of member key in the object on this line; NULL when absent. */
static const char *member(const char *line, const char *key)
{
	char name[64];
	const char *p = skip_space(line);
	if (*p++ != '{')
		return NULL;
	for (;;) {
		p = skip_space(p);
		if (*p != '"' || !(p = read_string(p, name, sizeof name)))
			return NULL;
		p = skip_space(p);
		if (*p++ != ':')
			return NULL;
		p = skip_space(p);
		if (!strcmp(name, key))
			return p;
		if (*p == '"')
			p = read_string(p, NULL, 0);
		else
			p += strcspn(p, ",}");
		if (!p)
			return NULL;
		p = skip_space(p);
		if (*p++ != ',')
			return NULL;
	}
}

int tb_json_str(const char *line, const char *key, char *out, size_t len)
{
	const char *v = member(line, key);
	return v && *v == '"' && read_string(v, out, len) ? 0 : -1;
}

int tb_json_u64(const char *line, const char *key, uint64_t *out)
{
	const char *v = member(line, key);
	if (!v || *v < '0' || *v > '9')
		return -1;
	*out = strtoull(v, NULL, 10);
	return 0;
}
