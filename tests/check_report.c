/*
 * check_report.c — the run outputs (lib/report): JUnit XML checked for
 * well-formedness by a small XML reader here (no libxml2) and read back,
 * the terminal summary, and the HTML report — its content, its escaping,
 * no network asset, and the page as headless Chromium renders it (the
 * `chromium` package; this test fails without it). Inputs: the
 * hand-written traces of fixtures/traces/ and a real simulated call run
 * on the session engine.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/chromium.h"
#include "support/harness.h"

/* ------------------------------------------------------------------ */
/* A small XML reader: checks well-formedness (XML 1.0: one root, tags
 * that match, quoted attributes without '<', known entities and valid
 * character references, valid UTF-8, only allowed characters) and keeps
 * elements with their decoded attributes and text. */

struct xattr {
	char *name, *value;
};

struct xel {
	char *name;
	struct xattr attrs[16];
	size_t n_attrs;
	struct xel *kids[256];
	size_t n_kids;
	char *text;              /* decoded character data of this element */
	size_t text_len;
};

struct xparser {
	const char *p, *end;
	char error[160];
};

static void xel_free(struct xel *e)
{
	if (!e)
		return;
	free(e->name);
	for (size_t i = 0; i < e->n_attrs; i++) {
		free(e->attrs[i].name);
		free(e->attrs[i].value);
	}
	for (size_t i = 0; i < e->n_kids; i++)
		xel_free(e->kids[i]);
	free(e->text);
	free(e);
}

static bool xfail(struct xparser *x, const char *what)
{
	if (!x->error[0])
		snprintf(x->error, sizeof(x->error), "%s at offset %td: %.20s", what,
			 x->p - (x->end - strlen(x->end)), x->p);
	return false;
}

/* Decode one UTF-8 character; 0 on invalid. */
static size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t len;
	unsigned c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, *cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, *cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, *cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

static bool xml_char(unsigned cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;
}

static void append(char **buf, size_t *len, const char *s, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void append_cp(char **buf, size_t *len, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
		u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	append(buf, len, u, n);
}

/* Character data up to `stop` ('<', or the attribute's quote), decoded. */
static bool xchars(struct xparser *x, char stop, char **buf, size_t *len)
{
	while (x->p < x->end && *x->p != stop) {
		unsigned cp;
		size_t n;

		if (stop != '<' && *x->p == '<')
			return xfail(x, "'<' in an attribute value");
		if (*x->p == '&') {
			const char *semi = memchr(x->p, ';', (size_t)(x->end - x->p));
			static const struct { const char *ent; char c; } ents[] = {
				{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
				{ "&quot;", '"' }, { "&apos;", '\'' },
			};
			bool known = false;

			if (!semi || semi - x->p > 12)
				return xfail(x, "'&' that starts no reference");
			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
				if ((size_t)(semi - x->p + 1) == strlen(ents[i].ent) &&
				    !strncmp(x->p, ents[i].ent, strlen(ents[i].ent))) {
					append(buf, len, &ents[i].c, 1);
					known = true;
				}
			if (!known) {
				char *endp;
				unsigned long v;

				if (x->p[1] != '#')
					return xfail(x, "unknown entity");
				v = x->p[2] == 'x' ? strtoul(x->p + 3, &endp, 16)
						   : strtoul(x->p + 2, &endp, 10);
				if (endp != semi || !xml_char((unsigned)v))
					return xfail(x, "bad character reference");
				append_cp(buf, len, (unsigned)v);
			}
			x->p = semi + 1;
			continue;
		}
		n = utf8_char((const unsigned char *)x->p, (size_t)(x->end - x->p), &cp);
		if (!n)
			return xfail(x, "invalid UTF-8");
		if (!xml_char(cp))
			return xfail(x, "a character XML forbids");
		append(buf, len, x->p, n);
		x->p += n;
	}
	return true;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == ':' || c == '.';
}

static char *xname(struct xparser *x)
{
	const char *s = x->p;

	while (x->p < x->end && name_char(*x->p))
		x->p++;
	if (x->p == s || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.') {
		xfail(x, "expected a name");
		return NULL;
	}
	return strndup(s, (size_t)(x->p - s));
}

static void xspace(struct xparser *x)
{
	while (x->p < x->end && strchr(" \t\r\n", *x->p))
		x->p++;
}

/* Skip comments and processing instructions; false on a bad one. */
static bool xmisc(struct xparser *x)
{
	for (;;) {
		const char *e;

		xspace(x);
		if (!strncmp(x->p, "<!--", 4))
			e = strstr(x->p + 4, "-->"), e = e ? e + 3 : NULL;
		else if (!strncmp(x->p, "<?", 2))
			e = strstr(x->p + 2, "?>"), e = e ? e + 2 : NULL;
		else
			return true;
		if (!e)
			return xfail(x, "unterminated comment or declaration");
		x->p = e;
	}
}

static struct xel *xelement(struct xparser *x, int depth)
{
	struct xel *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	if (depth > 64 || *x->p != '<') {
		xfail(x, "expected an element");
		goto fail;
	}
	x->p++;
	if (!(e->name = xname(x)))
		goto fail;
	for (;;) {
		struct xattr *a;
		char q;
		size_t len = 0;

		xspace(x);
		if (!strncmp(x->p, "/>", 2)) {
			x->p += 2;
			return e;
		}
		if (*x->p == '>') {
			x->p++;
			break;
		}
		if (e->n_attrs == 16) {
			xfail(x, "too many attributes");
			goto fail;
		}
		a = &e->attrs[e->n_attrs++];
		if (!(a->name = xname(x)))
			goto fail;
		for (size_t i = 0; i + 1 < e->n_attrs; i++)
			if (!strcmp(e->attrs[i].name, a->name)) {
				xfail(x, "duplicate attribute");
				goto fail;
			}
		xspace(x);
		if (*x->p != '=') {
			xfail(x, "expected '='");
			goto fail;
		}
		x->p++;
		xspace(x);
		q = *x->p;
		if (q != '"' && q != '\'') {
			xfail(x, "unquoted attribute value");
			goto fail;
		}
		x->p++;
		a->value = strdup("");
		if (!xchars(x, q, &a->value, &len))
			goto fail;
		if (*x->p != q) {
			xfail(x, "unterminated attribute value");
			goto fail;
		}
		x->p++;
	}
	for (;;) {
		if (!xchars(x, '<', &e->text, &e->text_len))
			goto fail;
		if (x->p >= x->end) {
			xfail(x, "unclosed element");
			goto fail;
		}
		if (!strncmp(x->p, "</", 2)) {
			char *close;

			x->p += 2;
			close = xname(x);
			if (!close || strcmp(close, e->name)) {
				free(close);
				xfail(x, "mismatched end tag");
				goto fail;
			}
			free(close);
			xspace(x);
			if (*x->p != '>') {
				xfail(x, "bad end tag");
				goto fail;
			}
			x->p++;
			return e;
		}
		if (!strncmp(x->p, "<!--", 4) || !strncmp(x->p, "<?", 2)) {
			if (!xmisc(x))
				goto fail;
			continue;
		}
		if (e->n_kids == 256) {
			xfail(x, "too many children");
			goto fail;
		}
		if (!(e->kids[e->n_kids++] = xelement(x, depth + 1)))
			goto fail;
	}
fail:
	xel_free(e);
	return NULL;
}

/* Parse a whole document; NULL (and the reason in `why`) when it is not
 * well-formed. */
static struct xel *xml_parse(const char *text, char *why, size_t why_len)
{
	struct xparser x = { text, text + strlen(text), "" };
	struct xel *root;

	if (strncmp(text, "<?xml ", 6)) {
		snprintf(why, why_len, "no XML declaration");
		return NULL;
	}
	if (!xmisc(&x) || !(root = xelement(&x, 0))) {
		snprintf(why, why_len, "%s", x.error);
		return NULL;
	}
	if (!xmisc(&x) || x.p != x.end) {
		snprintf(why, why_len, "content after the root element");
		xel_free(root);
		return NULL;
	}
	return root;
}

static const char *xattr_get(const struct xel *e, const char *name)
{
	for (size_t i = 0; i < e->n_attrs; i++)
		if (!strcmp(e->attrs[i].name, name))
			return e->attrs[i].value;
	return NULL;
}

static const struct xel *xkid(const struct xel *e, const char *name, size_t nth)
{
	for (size_t i = 0; i < e->n_kids; i++)
		if (!strcmp(e->kids[i]->name, name) && nth-- == 0)
			return e->kids[i];
	return NULL;
}

static struct xel *must_parse(const char *xml)
{
	char why[200];
	struct xel *root = xml_parse(xml, why, sizeof(why));

	ck_assert_msg(root != NULL, "not well-formed XML: %s\n%s", why, xml);
	return root;
}

/* The reader itself rejects what it must. */
START_TEST(test_xml_reader_rejects)
{
	static const char *const bad[] = {
		"<?xml version=\"1.0\"?><a><b></a>",
		"<?xml version=\"1.0\"?><a x=\"<\"/>",
		"<?xml version=\"1.0\"?><a>&</a>",
		"<?xml version=\"1.0\"?><a>&nbsp;</a>",
		"<?xml version=\"1.0\"?><a>\x01</a>",
		"<?xml version=\"1.0\"?><a>\xff</a>",
		"<?xml version=\"1.0\"?><a x=1/>",
		"<?xml version=\"1.0\"?><a/><b/>",
		"<?xml version=\"1.0\"?><a x=\"1\" x=\"2\"/>",
		"<?xml version=\"1.0\"?><a>&#1;</a>",
		"<a/>",
	};
	char why[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xel *e = xml_parse(bad[i], why, sizeof(why));

		ck_assert_msg(e == NULL, "accepted: %s", bad[i]);
	}
	{
		struct xel *e = xml_parse("<?xml version=\"1.0\"?>\n<a x=\"&lt;&#10;&#x41;\">t&amp;"
					  "<!-- c --><b/></a>\n", why, sizeof(why));

		ck_assert_msg(e != NULL, "%s", why);
		ck_assert_str_eq(xattr_get(e, "x"), "<\nA");
		ck_assert_str_eq(e->text, "t&");
		xel_free(e);
	}
}
END_TEST

/* Occurrences of `needle` in `hay`. */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Inputs */

static char *clean_trace, *barge_trace, *tools_trace, *bad_trace;
static size_t clean_len, barge_len, tools_len, bad_len;

static char *fixture(const char *name, size_t *len)
{
	char rel[128];
	char *p;

	snprintf(rel, sizeof(rel), "fixtures/traces/%s", name);
	p = read_file(top_path(rel), len);
	ck_assert_msg(p != NULL, "cannot read %s", rel);
	return p;
}

static void setup(void)
{
	temp_dir_setup();
	clean_trace = fixture("clean-2turn.jsonl", &clean_len);
	barge_trace = fixture("barge-in.jsonl", &barge_len);
	tools_trace = fixture("tool-timeout.jsonl", &tools_len);
	bad_trace = fixture("bad-line.jsonl", &bad_len);
}

static void teardown(void)
{
	free(clean_trace);
	free(barge_trace);
	free(tools_trace);
	free(bad_trace);
	clean_trace = barge_trace = tools_trace = bad_trace = NULL;
	temp_dir_teardown();
}

#define S(x) ((char[]){ x })

static const struct vagent_session_turn clean_turns[] = {
	{ 0, NULL, NULL, S("Hello, thanks for calling Luigi's."), false },
	{ 1, S("my order is four two"), S("my order is for two"), S("Sure. For how many people?"),
	  false },
	{ 2, S("for two people"), S("for two people"), S("A table for two."), false },
};

static const struct vagent_session_turn barge_turns[] = {
	{ 1, S("what are your opening hours"), S("what are your opening hours"),
	  S("We open at nine."), true },
	{ 2, S("wait what about sunday"), S("what about sunday"), S("Ten on Sundays."), false },
};

static const struct vagent_expectation_result clean_exps[] = {
	{ "e2e under 1500 ms", true, "max 1040 ms" },
};

static const struct vagent_expectation_result barge_exps[] = {
	{ "barge-in stop under 300 ms", true, "260 ms" },
	{ "no handoff", false, "escalated: caller asked for a human" },
	{ "agent said the hours", false, "no agent text matched /sunday.*ten/i" },
};

static void two_calls(struct vagent_call_report r[2])
{
	memset(r, 0, 2 * sizeof(*r));
	r[0].name = "clean";
	r[0].passed = true;
	r[0].turns = clean_turns;
	r[0].n_turns = 3;
	r[0].trace = clean_trace;
	r[0].trace_len = clean_len;
	r[0].expectations = clean_exps;
	r[0].n_expectations = 1;
	r[0].description = "books a table for two";
	r[0].agent_path = "agents/luigi.json";
	r[0].recording_href = "clean.wav";
	r[1].name = "barge";
	r[1].passed = false;
	r[1].turns = barge_turns;
	r[1].n_turns = 2;
	r[1].trace = barge_trace;
	r[1].trace_len = barge_len;
	r[1].escalated = true;
	r[1].expectations = barge_exps;
	r[1].n_expectations = 3;
	r[1].end_reason = "transfer";
	r[1].duration_ms = 8600;
}

/* ------------------------------------------------------------------ */
/* JUnit */

START_TEST(test_junit_structure)
{
	struct vagent_call_report r[2];
	struct vagent_error err;
	char *xml = NULL;
	struct xel *root;
	const struct xel *suite, *tc, *f, *so;

	two_calls(r);
	ck_assert_int_eq(vagent_report_junit(r, 2, "store-agent", &xml, &err), VAGENT_OK);
	root = must_parse(xml);
	ck_assert_str_eq(root->name, "testsuites");
	ck_assert_str_eq(xattr_get(root, "tests"), "2");
	ck_assert_str_eq(xattr_get(root, "failures"), "1");
	ck_assert_str_eq(xattr_get(root, "errors"), "0");
	ck_assert_uint_eq(root->n_kids, 1);
	suite = xkid(root, "testsuite", 0);
	ck_assert_ptr_nonnull(suite);
	ck_assert_str_eq(xattr_get(suite, "name"), "store-agent");
	ck_assert_str_eq(xattr_get(suite, "tests"), "2");
	ck_assert_str_eq(xattr_get(suite, "failures"), "1");
	/* 11.5 s (the trace's call.end) + 8.6 s (given) */
	ck_assert_str_eq(xattr_get(suite, "time"), "20.100");
	ck_assert_uint_eq(suite->n_kids, 2);

	tc = xkid(suite, "testcase", 0);
	ck_assert_str_eq(xattr_get(tc, "classname"), "vagent");
	ck_assert_str_eq(xattr_get(tc, "name"), "clean");
	ck_assert_str_eq(xattr_get(tc, "time"), "11.500");
	ck_assert_ptr_null(xkid(tc, "failure", 0));
	ck_assert_ptr_null(xkid(tc, "error", 0));
	so = xkid(tc, "system-out", 0);
	ck_assert_ptr_nonnull(so);
	ck_assert_ptr_nonnull(strstr(so->text, "[turn 0] agent  Hello, thanks for calling Luigi's.\n"));
	ck_assert_ptr_nonnull(strstr(so->text, "[turn 1] caller my order is four two\n"
					       "[turn 1] heard  my order is for two\n"
					       "[turn 1] agent  Sure. For how many people?\n"));
	ck_assert_ptr_nonnull(strstr(so->text, "end: caller_hangup after 11.500 s"));

	tc = xkid(suite, "testcase", 1);
	ck_assert_str_eq(xattr_get(tc, "name"), "barge");
	ck_assert_str_eq(xattr_get(tc, "time"), "8.600");
	f = xkid(tc, "failure", 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_null(xkid(tc, "failure", 1));
	ck_assert_str_eq(xattr_get(f, "message"), "escalated: caller asked for a human");
	ck_assert_str_eq(f->text, "no handoff: escalated: caller asked for a human\n"
				  "agent said the hours: no agent text matched /sunday.*ten/i\n");
	so = xkid(tc, "system-out", 0);
	ck_assert_ptr_nonnull(strstr(so->text, "[turn 1] agent  We open at nine. [interrupted]\n"));
	ck_assert_ptr_nonnull(strstr(so->text, "end: transfer after 8.600 s"));
	xel_free(root);
	free(xml);
}
END_TEST

START_TEST(test_junit_error_and_plain_failure)
{
	struct vagent_call_report r[3];
	struct vagent_error err;
	char *xml = NULL;
	struct xel *root;
	const struct xel *suite, *e;

	memset(r, 0, sizeof(r));
	r[0].name = "down";
	r[0].failure = "orders: http://127.0.0.1:8089/orders: connection refused";
	r[0].expectations = barge_exps;
	r[0].n_expectations = 2;
	r[1].name = "no-detail";          /* failed, no expectation says why */
	r[2].name = "fine";
	r[2].passed = true;
	ck_assert_int_eq(vagent_report_junit(r, 3, NULL, &xml, &err), VAGENT_OK);
	root = must_parse(xml);
	ck_assert_str_eq(xattr_get(root, "errors"), "1");
	ck_assert_str_eq(xattr_get(root, "failures"), "1");
	suite = xkid(root, "testsuite", 0);
	ck_assert_str_eq(xattr_get(suite, "name"), "vagent");
	e = xkid(xkid(suite, "testcase", 0), "error", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(xkid(xkid(suite, "testcase", 0), "failure", 0));
	ck_assert_str_eq(xattr_get(e, "type"), "infrastructure");
	ck_assert_str_eq(xattr_get(e, "message"), r[0].failure);
	ck_assert_ptr_nonnull(strstr(e->text, "no handoff: escalated"));
	e = xkid(xkid(suite, "testcase", 1), "failure", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(xattr_get(e, "message"), "the call did not pass");
	ck_assert_ptr_null(xkid(xkid(suite, "testcase", 2), "failure", 0));
	ck_assert_str_eq(xattr_get(xkid(suite, "testcase", 2), "time"), "0.000");
	xel_free(root);
	free(xml);
}
END_TEST

/* Hostile text: markup characters, quotes, controls, invalid UTF-8. */
#define HOSTILE "a<&\"'>\x01\x1b[31m\tb\nc\r\xff\xef\xbf\xbe]]>"
/* ... as XML can carry it: controls, U+FFFE and bad bytes as U+FFFD. */
#define HOSTILE_XML "a<&\"'>\xef\xbf\xbd\xef\xbf\xbd[31m\tb\nc\r\xef\xbf\xbd\xef\xbf\xbd]]>"

START_TEST(test_junit_hostile_text)
{
	struct vagent_session_turn turn = { 1, S(HOSTILE), S("x"), S("</system-out>"), false };
	struct vagent_expectation_result exp = { HOSTILE, false, HOSTILE };
	struct vagent_call_report r = { 0 };
	struct vagent_error err;
	char *xml = NULL;
	struct xel *root;
	const struct xel *tc, *f, *so;

	r.name = HOSTILE;
	r.turns = &turn;
	r.n_turns = 1;
	r.expectations = &exp;
	r.n_expectations = 1;
	ck_assert_int_eq(vagent_report_junit(&r, 1, HOSTILE, &xml, &err), VAGENT_OK);
	root = must_parse(xml);
	ck_assert_str_eq(xattr_get(root, "name"), HOSTILE_XML);
	tc = xkid(xkid(root, "testsuite", 0), "testcase", 0);
	ck_assert_str_eq(xattr_get(tc, "name"), HOSTILE_XML);
	f = xkid(tc, "failure", 0);
	ck_assert_str_eq(xattr_get(f, "message"), HOSTILE_XML);
	ck_assert_str_eq(f->text, HOSTILE_XML ": " HOSTILE_XML "\n");
	so = xkid(tc, "system-out", 0);
	ck_assert_ptr_nonnull(strstr(so->text, "[turn 1] caller " HOSTILE_XML "\n"));
	ck_assert_ptr_nonnull(strstr(so->text, "[turn 1] agent  </system-out>\n"));
	xel_free(root);
	free(xml);
}
END_TEST

START_TEST(test_empty_run)
{
	struct vagent_error err;
	char *xml = NULL;
	struct xel *root;

	ck_assert_int_eq(vagent_report_junit(NULL, 0, "none", &xml, &err), VAGENT_OK);
	root = must_parse(xml);
	ck_assert_str_eq(xattr_get(root, "tests"), "0");
	ck_assert_uint_eq(xkid(root, "testsuite", 0)->n_kids, 0);
	xel_free(root);
	free(xml);
	ck_assert_int_eq(vagent_report_summary(NULL, 0, true, &xml, &err), VAGENT_OK);
	ck_assert_str_eq(xml, "\033[1m0 of 0 calls passed\033[0m\n");
	free(xml);
	ck_assert_int_eq(vagent_report_html(NULL, 0, NULL, 0, NULL, &xml, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(xml, "<title>vagent run</title>"));
	ck_assert_ptr_nonnull(strstr(xml, "<b>0 / 0</b>calls passed"));
	ck_assert_ptr_null(strstr(xml, "<section class=\"call\""));
	ck_assert_ptr_nonnull(strstr(xml, "</html>\n"));
	free(xml);
}
END_TEST

/* Names are padded and cut by characters, not bytes. */
START_TEST(test_summary_name_columns)
{
	struct vagent_call_report r[2];
	struct vagent_error err;
	char *out = NULL;

	memset(r, 0, sizeof(r));
	r[0].name = "caf\xc3\xa9";
	r[0].passed = true;
	r[1].name = "a-name-much-longer-than-the-column-it-is-given-to-fit-in";
	r[1].passed = true;
	ck_assert_int_eq(vagent_report_summary(r, 2, false, &out, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(out, "ok     caf\xc3\xa9" "                                 "
					  "    0.0 s"));
	ck_assert_ptr_nonnull(strstr(out, "ok     a-name-much-longer-than-the-column-\xe2\x80\xa6"
					  "     0.0 s"));
	free(out);
}
END_TEST

/* A long call's timeline keeps its resolution: it scrolls. */
START_TEST(test_long_call_timeline)
{
	static const char trace[] =
		"{\"t_ms\":0.000,\"call\":\"long\",\"turn\":0,\"type\":\"call.start\"}\n"
		"{\"t_ms\":1000.000,\"call\":\"long\",\"turn\":1,\"type\":\"caller.speech_start\"}\n"
		"{\"t_ms\":2000.000,\"call\":\"long\",\"turn\":1,\"type\":\"caller.speech_end\"}\n"
		"{\"t_ms\":3000.000,\"call\":\"long\",\"turn\":1,\"type\":\"agent.audio_start\"}\n"
		"{\"t_ms\":120000.000,\"call\":\"long\",\"turn\":1,\"type\":\"call.end\"}\n";
	struct vagent_call_report r = { 0 };
	struct vagent_error err;
	char *html = NULL;

	r.name = "long";
	r.trace = trace;
	r.trace_len = strlen(trace);
	ck_assert_int_eq(vagent_report_html(&r, 1, NULL, 0, NULL, &html, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(html, "style=\"min-width:4800px\""));
	ck_assert_uint_eq(count_of(html, "class=\"bar caller\""), 1);
	/* the agent never stopped: its bar runs to the end of the call */
	ck_assert_uint_eq(count_of(html, "class=\"bar agent\""), 1);
	ck_assert_ptr_nonnull(strstr(html, "agent 3.00 s &#8211; 120.00 s"));
	ck_assert_ptr_nonnull(strstr(html, ">120 s</text>"));
	free(html);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Errors, the same for the three outputs */

START_TEST(test_errors)
{
	struct vagent_call_report r = { 0 };
	struct vagent_error err;
	char *out = (char *)"untouched";

	r.name = "broken";
	r.trace = bad_trace;
	r.trace_len = bad_len;
	ck_assert_int_eq(vagent_report_junit(&r, 1, NULL, &out, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err.message, "call broken: broken:3: not valid JSON");
	out = (char *)"untouched";
	ck_assert_int_eq(vagent_report_html(&r, 1, NULL, 0, NULL, &out, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err.message, "call broken: broken:3: not valid JSON");
	out = (char *)"untouched";
	ck_assert_int_eq(vagent_report_summary(&r, 1, false, &out, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err.message, "call broken: broken:3: not valid JSON");

	ck_assert_int_eq(vagent_report_junit(&r, 1, NULL, NULL, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "junit: no output pointer");
	ck_assert_int_eq(vagent_report_summary(NULL, 2, false, &out, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "summary: calls is NULL with a non-zero count");
	ck_assert_ptr_null(out);
	ck_assert_int_eq(vagent_report_html(NULL, 0, NULL, 1, NULL, &out, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "html: slos is NULL with a non-zero count");
}
END_TEST

/* ------------------------------------------------------------------ */
/* The terminal summary */

/* The line of `text` that starts with `prefix`, copied (static). */
static const char *line_starting(const char *text, const char *prefix)
{
	static char line[1024];
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (!strncmp(p, prefix, strlen(prefix)) && n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			return line;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

START_TEST(test_summary_lines)
{
	struct vagent_call_report r[2];
	struct vagent_error err;
	char *out = NULL;
	const char *l;

	two_calls(r);
	ck_assert_int_eq(vagent_report_summary(r, 2, false, &out, &err), VAGENT_OK);
	ck_assert_ptr_null(strchr(out, '\033'));
	/* clean: e2e of turns 1 and 2 are 1040 and 1010: p50 1010 */
	l = line_starting(out, "ok     clean");
	ck_assert_msg(l != NULL, "%s", out);
	ck_assert_str_eq(l, "ok     clean    11.5 s   2 turns  e2e p50  1010 ms  WER  12.5%"
			    "  0/1 failed  caller_hangup");
	l = line_starting(out, "FAIL   barge");
	ck_assert_msg(l != NULL, "%s", out);
	ck_assert_str_eq(l, "FAIL   barge     8.6 s   2 turns  e2e p50   620 ms  WER  11.1%"
			    "  2/3 failed  transfer, escalated");
	ck_assert_ptr_nonnull(strstr(out, "\n       x no handoff: escalated: caller asked for a "
					  "human\n       x agent said the hours: no agent text "
					  "matched /sunday.*ten/i\n"));
	ck_assert_ptr_null(strstr(out, "barge-in stop under 300 ms"));   /* passed */
	ck_assert_ptr_nonnull(strstr(out, "1 of 2 calls passed; WER 11.8% (1 sub, 1 del, 0 ins / "
					  "17 words); containment 50.0%\n"));
	/* the percentiles of docs/result.md's example; mean 917.5 rounds up */
	l = line_starting(out, "hop ");
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(strstr(l, "p50"));
	ck_assert_ptr_nonnull(strstr(l, "mean"));
	l = line_starting(out, "e2e ");
	ck_assert_str_eq(l, "e2e                   4     1000     1040     1040     1040     1040"
			    "      918");
	l = line_starting(out, "barge_in_stop ");
	ck_assert_str_eq(l, "barge_in_stop         1      260      260      260      260      260"
			    "      260");
	free(out);
}
END_TEST

/* Two calls answered by different LLM providers (one after a fallback):
 * the percentile tables break llm_ttft down per provider. */
START_TEST(test_percentiles_per_provider)
{
	struct vagent_call_report r[2];
	struct vagent_error err;
	size_t len = 0;
	char *trace = read_file(top_path("fixtures/traces/providers.jsonl"), &len);
	char *out = NULL;
	const char *l;

	ck_assert_ptr_nonnull(trace);
	memset(r, 0, sizeof(r));
	r[0].name = "fallback";
	r[1].name = "cloud";
	for (int i = 0; i < 2; i++) {
		r[i].trace = trace;
		r[i].trace_len = len;
		r[i].passed = true;
	}
	ck_assert_int_eq(vagent_report_summary(r, 2, false, &out, &err), VAGENT_OK);
	l = line_starting(out, "llm_ttft ");
	ck_assert_msg(l && !strcmp(l, "llm_ttft              3      100      210      210      210"
				   "      210      113"), "%s", out);
	ck_assert_msg(strstr(out, "\nllm_ttft              3 ") &&
		      strstr(out, "113\n  flow                2       30      210      210      210"
			     "      210      120\n  openai              1      100      100      100"
			     "      100      100      100\n"), "%s", out);
	/* one provider answered llm_ttfb: no breakdown */
	l = line_starting(out, "llm_ttfb ");
	ck_assert_msg(l != NULL, "%s", out);
	ck_assert_ptr_null(strstr(strstr(out, "\nllm_ttfb "), "\n  openai"));
	free(out);
	out = NULL;
	ck_assert_int_eq(vagent_report_html(r, 2, NULL, 0, NULL, &out, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(out, "<tr class=\"provider\" data-metric=\"llm_ttft\">"
					  "<td>&nbsp;&nbsp;flow</td><td class=\"num\">2</td>"));
	free(out);
	free(trace);
}
END_TEST

START_TEST(test_summary_colour_and_hostile_names)
{
	struct vagent_call_report r[2];
	struct vagent_error err;
	char *out = NULL;

	two_calls(r);
	ck_assert_int_eq(vagent_report_summary(r, 2, true, &out, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(out, "\033[32mok   \033[0m  clean"));
	ck_assert_ptr_nonnull(strstr(out, "\033[1;31mFAIL \033[0m  barge"));
	free(out);

	/* an escape sequence in a name or detail never reaches the terminal */
	memset(r, 0, sizeof(r));
	r[0].name = "evil\033]0;pwned\007\xc2\x9b" "31m";
	r[0].failure = "down\033[2J";
	ck_assert_int_eq(vagent_report_summary(r, 1, false, &out, &err), VAGENT_OK);
	ck_assert_ptr_null(strchr(out, '\033'));
	ck_assert_ptr_null(strchr(out, '\007'));
	ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
	ck_assert_ptr_nonnull(strstr(out, "ERROR  evil\xef\xbf\xbd]0;pwned"));
	ck_assert_ptr_nonnull(strstr(out, "infrastructure: down\xef\xbf\xbd[2J\n"));
	ck_assert_ptr_nonnull(strstr(out, "0 of 1 calls passed, 1 infrastructure error"));
	free(out);
}
END_TEST

/* Escalation, transfer and end reason come from the trace when the
 * report does not give them. */
START_TEST(test_escalation_from_trace)
{
	static const char trace[] =
		"{\"t_ms\":0.000,\"call\":\"human\",\"turn\":0,\"type\":\"call.start\"}\n"
		"{\"t_ms\":1500.000,\"call\":\"human\",\"turn\":1,\"type\":\"escalation\","
		"\"reason\":\"caller asked for a human\"}\n"
		"{\"t_ms\":1600.000,\"call\":\"human\",\"turn\":1,\"type\":\"transfer\","
		"\"package\":{\"intent\":\"refund\",\"note\":\"<b>\"}}\n"
		"{\"t_ms\":2250.000,\"call\":\"human\",\"turn\":1,\"type\":\"call.end\","
		"\"reason\":\"transfer\"}\n";
	struct vagent_call_report r = { 0 };
	struct vagent_error err;
	char *out = NULL;

	r.name = "human";
	r.passed = true;
	r.escalated = true;
	r.trace = trace;
	r.trace_len = strlen(trace);
	ck_assert_int_eq(vagent_report_summary(&r, 1, false, &out, &err), VAGENT_OK);
	ck_assert_str_eq(line_starting(out, "ok"), "ok     human     2.2 s   1 turn   e2e p50     - ms"
			 "  WER      -  0/0 failed  transfer, escalated: caller asked for a human");
	ck_assert_ptr_nonnull(strstr(out, "containment 0.0%"));
	free(out);
	ck_assert_int_eq(vagent_report_junit(&r, 1, NULL, &out, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(out, "escalated: caller asked for a human\nend: transfer after "
					  "2.250 s</system-out>"));
	free(out);
	ck_assert_int_eq(vagent_report_html(&r, 1, NULL, 0, NULL, &out, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(out, "class=\"mark escalation\""));
	ck_assert_ptr_nonnull(strstr(out, "class=\"mark transfer\""));
	ck_assert_ptr_nonnull(strstr(out, "<summary>warm-transfer package</summary><pre>"
					  "{\"intent\":\"refund\",\"note\":\"&lt;b&gt;\"}</pre>"));
	ck_assert_ptr_nonnull(strstr(out, "ended: transfer &#183; escalated: caller asked for a "
					  "human"));
	free(out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The HTML report */

/* ms as the JSON result prints them, from a double read back by cJSON. */
static void json_ms(char *buf, size_t n, double v)
{
	char *dot;
	size_t len;

	snprintf(buf, n, "%.3f", v);
	dot = strchr(buf, '.');
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '0')
		buf[--len] = '\0';
	if (dot && buf[len - 1] == '.')
		buf[len - 1] = '\0';
}

/* No asset or link of the page reaches the network. */
static void assert_offline(const char *html)
{
	ck_assert_ptr_null(strstr(html, "http://"));
	ck_assert_ptr_null(strstr(html, "https://"));
	ck_assert_ptr_null(strstr(html, "src=\"//"));
	ck_assert_ptr_null(strstr(html, "href=\"//"));
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "<link"));
	ck_assert_ptr_null(strstr(html, "@import"));
	ck_assert_ptr_null(strstr(html, "url("));
}

START_TEST(test_html_content)
{
	struct vagent_call_report r[3];
	struct vagent_slo_result slos[] = {
		{ "e2e.p95<=1000ms", true, 1040, false },
		{ "wer<=0.15", true, 0.117647, true },
		{ "tool.p95<500ms", false, 0, false },
	};
	struct vagent_error err;
	char *html = NULL, *json = NULL;
	cJSON *doc, *hops, *m;

	two_calls(r);
	memset(&r[2], 0, sizeof(r[2]));
	r[2].name = "tools";
	r[2].passed = true;
	r[2].trace = tools_trace;
	r[2].trace_len = tools_len;
	ck_assert_int_eq(vagent_report_html(r, 3, slos, 3, "Nightly run", &html, &err), VAGENT_OK);
	assert_offline(html);
	ck_assert_ptr_nonnull(strstr(html, "<title>Nightly run</title>"));
	ck_assert_uint_eq(count_of(html, "<section class=\"call\""), 3);
	ck_assert_ptr_nonnull(strstr(html, "<div class=\"card\" id=\"calls-passed\"><b>2 / 3</b>"));
	ck_assert_ptr_nonnull(strstr(html, "books a table for two"));
	ck_assert_ptr_nonnull(strstr(html, "<code>agents/luigi.json</code>"));
	ck_assert_ptr_nonnull(strstr(html, "<audio controls preload=\"none\" src=\"clean.wav\">"));
	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < r[i].n_expectations; k++) {
			ck_assert_ptr_nonnull(strstr(html, r[i].expectations[k].name));
			ck_assert_ptr_nonnull(strstr(html, r[i].expectations[k].detail));
		}
	ck_assert_uint_eq(count_of(html, "<tr class=\"failed\">"), 2);
	ck_assert_uint_eq(count_of(html, "<tr class=\"passed\">"), 2);
	/* golden vs heard: "four" heard as "for" (english normalizer: 4) */
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"S\">4</td>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"S\">for</td>"));
	/* "wait" dropped: a deletion, the gap on the heard side */
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"D\">wait</td>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"D gap\">"));
	/* tools, with the arguments from the trace, and the filler */
	ck_assert_ptr_nonnull(strstr(html, "<td>get_balance</td><td><code>{\"account\":\"1234\"}"
					   "</code></td><td>timeout</td>"));
	ck_assert_ptr_nonnull(strstr(html, "class=\"mark filler\""));
	ck_assert_ptr_nonnull(strstr(html, "class=\"mark barge_in\""));
	ck_assert_uint_eq(count_of(html, "class=\"bar tool "), 4);
	/* SLOs */
	ck_assert_ptr_nonnull(strstr(html, "<code>e2e.p95&lt;=1000ms</code></td><td class=\"num\">"
					   "1040</td>"));
	ck_assert_ptr_nonnull(strstr(html, "0.117647"));
	ck_assert_ptr_nonnull(strstr(html, "<code>tool.p95&lt;500ms</code></td><td class=\"num\">"
					   "missing</td>"));

	/* the percentile table has the JSON result's numbers */
	ck_assert_int_eq(vagent_result_to_json(r, 3, slos, 3, &json, &err), VAGENT_OK);
	doc = cJSON_Parse(json);
	hops = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "hops");
	ck_assert_int_gt(cJSON_GetArraySize(hops), 5);
	cJSON_ArrayForEach(m, hops) {
		static const char *const stats[] = { "p50", "p90", "p95", "p99", "max", "mean" };
		char row[512], v[32];
		int len;

		len = snprintf(row, sizeof(row), "<tr data-metric=\"%s\"><td>%s</td>"
			       "<td class=\"num\">%d</td>", m->string, m->string,
			       cJSON_GetObjectItem(m, "n")->valueint);
		for (size_t k = 0; k < 6; k++) {
			json_ms(v, sizeof(v), cJSON_GetObjectItem(m, stats[k])->valuedouble);
			len += snprintf(row + len, sizeof(row) - (size_t)len,
					"<td class=\"num\">%s</td>", v);
		}
		ck_assert_msg(strstr(html, row) != NULL, "no row %s", row);
	}
	cJSON_Delete(doc);
	free(json);
	free(html);
}
END_TEST

START_TEST(test_html_escaping)
{
	struct vagent_session_turn turn = { 1, S("<b>said</b>"), S("<i>heard</i>"),
					    S("<script>alert(1)</script>"), false };
	struct vagent_expectation_result exp = { "<img src=x onerror=alert(1)>", false,
						 "\"><script>x</script>" };
	struct vagent_call_report r[2];
	struct vagent_error err;
	char *html = NULL;

	memset(r, 0, sizeof(r));
	r[0].name = HOSTILE;
	r[0].turns = &turn;
	r[0].n_turns = 1;
	r[0].expectations = &exp;
	r[0].n_expectations = 1;
	r[0].description = "</p><script>";
	r[0].recording_href = "javascript:alert(1)";
	r[1].name = "net";
	r[1].recording_href = "//evil.example/x.wav";
	ck_assert_int_eq(vagent_report_html(r, 2, NULL, 0, "<title>&", &html, &err), VAGENT_OK);
	assert_offline(html);
	ck_assert_ptr_null(strstr(html, "<b>said"));
	ck_assert_ptr_null(strstr(html, "<i>heard"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;b&gt;said&lt;/b&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;i&gt;heard&lt;/i&gt;"));
	ck_assert_ptr_null(strstr(html, "<img"));
	ck_assert_ptr_null(strstr(html, "javascript:"));
	ck_assert_ptr_null(strstr(html, "evil.example"));
	ck_assert_ptr_null(strstr(html, "<audio"));
	ck_assert_ptr_null(strchr(html, '\033'));
	ck_assert_ptr_null(strchr(html, '\x01'));
	ck_assert_ptr_nonnull(strstr(html, "<title>&lt;title&gt;&amp;</title>"));
	ck_assert_ptr_nonnull(strstr(html, "a&lt;&amp;\"'&gt;\xef\xbf\xbd\xef\xbf\xbd[31m\tb\nc"
					   "&#13;\xef\xbf\xbd\xef\xbf\xbd]]&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
	free(html);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A real simulated call: the session engine with simulated STT, LLM,
 * TTS, a tool and a caller who barges in. */

struct sim_call {
	struct vagent_session *s;
	struct vagent_stt *stt;
	struct vagent_brain *llm;
	struct vagent_tts *tts;
	struct vagent_tools *tools;
	struct vagent_caller *caller;
};

static void sim_call_run(struct sim_call *c)
{
	static const struct vagent_sim_rule rules[] = {
		{ "order", "order_status", "{\"order\":\"42\"}",
		  "Your order {result} is on its way and should arrive on Friday, thank you for "
		  "waiting so patiently.", NULL, false },
		{ "thanks", NULL, NULL, "You're welcome, goodbye.", NULL, false },
	};
	static const struct vagent_sim_tool tool = { "order_status", "{\"status\":\"shipped\"}",
						     { 300, 0 }, NULL, 0 };
	struct vagent_sim_step steps[] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_DONE, .offset_ms = 500,
		  .text = "where is my order" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_SPEAKING, .offset_ms = 900,
		  .text = "wait a second please" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_DONE, .offset_ms = 500,
		  .text = "thanks bye" },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .duration_ms = 200 },
	};
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_sim_stt_config sc = vagent_sim_stt_config_default();
	struct vagent_sim_llm_config lc = vagent_sim_llm_config_default();
	struct vagent_sim_tts_config tc = vagent_sim_tts_config_default();
	struct vagent_sim_tools_config oc = { "sim-tools", &tool, 1, 1 };
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_error err;

	lc.greeting = "Hello, you are speaking with an automated assistant.";
	lc.rules = rules;
	lc.n_rules = 2;
	lc.fallback_reply = "Sorry?";
	cc.steps = steps;
	cc.n_steps = sizeof(steps) / sizeof(steps[0]);
	cc.hangup_after_ms = 800;
	ck_assert_int_eq(vagent_sim_stt_new(&sc, &c->stt, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_llm_new(&lc, &c->llm, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tts_new(&tc, &c->tts, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tools_new(&oc, &c->tools, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_caller_new(&cc, &c->caller, &err), VAGENT_OK);
	cfg.name = "sim-order";
	cfg.rate = cc.rate;
	cfg.stt[0] = c->stt;
	cfg.brain[0] = c->llm;
	cfg.tts[0] = c->tts;
	cfg.tools = c->tools;
	cfg.caller = c->caller;
	cfg.keep_trace = true;
	ck_assert_msg(vagent_session_run(&cfg, VAGENT_CLOCK_VIRTUAL, &c->s, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_int_eq(vagent_session_result(c->s)->status, VAGENT_OK);
}

static void sim_call_free(struct sim_call *c)
{
	vagent_session_free(c->s);
	vagent_stt_free(c->stt);
	vagent_brain_free(c->llm);
	vagent_tts_free(c->tts);
	vagent_tools_free(c->tools);
	vagent_caller_free(c->caller);
}

/* A report of the simulated call, as `vagent run` would make it. */
static void sim_report(const struct sim_call *c, struct vagent_call_report *r)
{
	const struct vagent_session_result *res = vagent_session_result(c->s);

	memset(r, 0, sizeof(*r));
	r->name = res->name;
	r->passed = true;
	r->turns = res->turns;
	r->n_turns = res->n_turns;
	r->trace = vagent_session_trace(c->s, &r->trace_len);
	r->escalated = res->escalated;
	r->end_reason = res->end_reason;
	r->duration_ms = vagent_ticks_to_ms(res->duration);
}

/* Caller speech segments and agent audio runs in a trace. */
static void count_speech(const char *text, size_t len, size_t *caller, size_t *agent,
			 size_t *tools)
{
	struct vagent_trace *t = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_trace_parse(text, len, "t", &t, &err), VAGENT_OK);
	for (size_t i = 0; i < t->n; i++) {
		*caller += t->events[i].type == VAGENT_TRACE_CALLER_SPEECH_START;
		*agent += t->events[i].type == VAGENT_TRACE_AGENT_AUDIO_START;
		*tools += t->events[i].type == VAGENT_TRACE_TOOL_START;
	}
	vagent_trace_free(t);
}

START_TEST(test_simulated_call_outputs)
{
	struct sim_call c = { 0 };
	struct vagent_call_report r;
	struct vagent_error err;
	char *html = NULL, *xml = NULL, *sum = NULL;
	size_t caller = 0, agent = 0, tools = 0;
	struct xel *root;

	sim_call_run(&c);
	sim_report(&c, &r);
	count_speech(r.trace, r.trace_len, &caller, &agent, &tools);
	ck_assert_uint_ge(caller, 3);
	ck_assert_uint_ge(agent, 3);
	ck_assert_uint_eq(tools, 1);
	ck_assert_int_eq(vagent_report_html(&r, 1, NULL, 0, NULL, &html, &err), VAGENT_OK);
	assert_offline(html);
	ck_assert_uint_eq(count_of(html, "class=\"bar caller\""), caller);
	ck_assert_uint_eq(count_of(html, "class=\"bar agent"), agent);
	ck_assert_uint_eq(count_of(html, "class=\"bar agent cut\""), 1);   /* the barge-in */
	ck_assert_uint_eq(count_of(html, "class=\"bar tool end\""), 1);
	ck_assert_uint_eq(count_of(html, "class=\"mark barge_in\""), 1);
	ck_assert_uint_ge(count_of(html, "class=\"hop e2e\""), 2);
	ck_assert_ptr_nonnull(strstr(html, "where is my order"));
	ck_assert_int_eq(vagent_report_junit(&r, 1, NULL, &xml, &err), VAGENT_OK);
	root = must_parse(xml);
	ck_assert_str_eq(xattr_get(xkid(xkid(root, "testsuite", 0), "testcase", 0), "name"),
			 "sim-order");
	xel_free(root);
	ck_assert_int_eq(vagent_report_summary(&r, 1, false, &sum, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(line_starting(sum, "ok     sim-order"));
	ck_assert_ptr_nonnull(line_starting(sum, "e2e "));
	free(sum);
	free(xml);
	free(html);
	sim_call_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Headless Chromium */

START_TEST(test_html_renders_in_chromium)
{
	struct vagent_call_report r[3];
	struct sim_call c = { 0 };
	struct vagent_error err;
	char *html = NULL, *dom, profile[1024], url[1200], shot_arg[1200], size_arg[64];
	const char *path, *shot;
	size_t caller = 0, agent = 0, tools = 0, png_len = 0;
	unsigned char *png;
	int status;

	two_calls(r);
	sim_call_run(&c);
	sim_report(&c, &r[2]);
	for (size_t i = 0; i < 3; i++)
		count_speech(r[i].trace, r[i].trace_len, &caller, &agent, &tools);
	ck_assert_int_eq(vagent_report_html(r, 3, NULL, 0, "render test", &html, &err), VAGENT_OK);
	path = temp_path("report.html");
	write_file(path, html, strlen(html));
	snprintf(url, sizeof(url), "file://%s", path);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s", temp_path("chromium-profile"));
	{
		const char *args[] = { "--headless", "--no-sandbox", "--disable-gpu",
				       "--disable-dev-shm-usage", profile, "--dump-dom", url, NULL };

		dom = run_chromium(args, 60, &status);
	}
	ck_assert_msg(status != -1, "chromium did not finish within 60 s");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 127,
		      "chromium is not installed (sh scripts/deps installs it)");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "chromium failed (status %d)", status);
	/* the rendered DOM: every call, the timeline bars, the tables */
	ck_assert_msg(strstr(dom, "<title>render test</title>") != NULL, "no page:\n%.2000s", dom);
	ck_assert_uint_eq(count_of(dom, "<section class=\"call\""), 3);
	ck_assert_ptr_nonnull(strstr(dom, ">clean</"));
	ck_assert_ptr_nonnull(strstr(dom, ">barge</"));
	ck_assert_ptr_nonnull(strstr(dom, ">sim-order</"));
	ck_assert_uint_eq(count_of(dom, "<svg class=\"timeline\""), 3);
	ck_assert_uint_eq(count_of(dom, "<rect class=\"bar caller\""), caller);
	ck_assert_uint_eq(count_of(dom, "<rect class=\"bar agent"), agent);
	ck_assert_uint_eq(count_of(dom, "<rect class=\"bar tool"), tools);
	ck_assert_ptr_nonnull(strstr(dom, "<table class=\"percentiles\" id=\"percentiles\">"));
	ck_assert_uint_eq(count_of(dom, "<table class=\"hops\">"), 3);
	ck_assert_uint_ge(count_of(dom, "<table class=\"align\">"), 5);
	ck_assert_ptr_nonnull(strstr(dom, "escalated: caller asked for a human"));
	free(dom);

	/* and it paints: a screenshot is a PNG of the page */
	shot = temp_path("report.png");
	snprintf(shot_arg, sizeof(shot_arg), "--screenshot=%s", shot);
	snprintf(size_arg, sizeof(size_arg), "--window-size=1200,2400");
	{
		const char *args[] = { "--headless", "--no-sandbox", "--disable-gpu",
				       "--disable-dev-shm-usage", "--hide-scrollbars", profile,
				       size_arg, shot_arg, url, NULL };

		dom = run_chromium(args, 60, &status);
	}
	ck_assert_msg(status != -1, "chromium did not finish within 60 s");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "chromium failed");
	png = (unsigned char *)read_file(shot, &png_len);
	ck_assert_msg(png != NULL, "no screenshot");
	ck_assert_uint_gt(png_len, 10000);
	ck_assert_int_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
	free(png);
	free(dom);
	free(html);
	sim_call_free(&c);
}
END_TEST

Suite *suite_report(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	TCase *render = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);      /* simulated calls; sanitizer builds are slower */
	tcase_add_test(tc, test_xml_reader_rejects);
	tcase_add_test(tc, test_junit_structure);
	tcase_add_test(tc, test_junit_error_and_plain_failure);
	tcase_add_test(tc, test_junit_hostile_text);
	tcase_add_test(tc, test_empty_run);
	tcase_add_test(tc, test_summary_name_columns);
	tcase_add_test(tc, test_long_call_timeline);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_summary_lines);
	tcase_add_test(tc, test_summary_colour_and_hostile_names);
	tcase_add_test(tc, test_percentiles_per_provider);
	tcase_add_test(tc, test_escalation_from_trace);
	tcase_add_test(tc, test_html_content);
	tcase_add_test(tc, test_html_escaping);
	tcase_add_test(tc, test_simulated_call_outputs);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(render, setup, teardown);
	tcase_set_timeout(render, 150);
	tcase_add_test(render, test_html_renders_in_chromium);
	suite_add_tcase(s, render);
	return s;
}
