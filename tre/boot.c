/*
 * Measured and secure boot (TR 33.812 4.3.1: secure boot "prevents the loading of unauthorised
 * software"; brief §3). Each configured component is read and measured in the order of the boot
 * chain into fresh registers and the log. Each digest is then compared with the component's
 * certified reference value: secure boot passes only if every component matches, and a failed
 * one withholds every network credential (autonomous validation: the network learns of the
 * failure by the device not attaching). A component that differs from its reference value is
 * also tampering, reported once per change (tamper.c).
 */
#include "tre.h"

#include "log/log.h"

#include <string.h>

/* A component that cannot be read is measured as empty content: it is not the certified one. */
static void measure_component(const tre_component *c, uint8_t digest[TRE_DIGEST_LEN])
{
	if (tre_digest_file(c->file, digest)) {
		m2m_warn("boot: %s (%s) cannot be read: measured as empty", c->name, c->file);
		tre_sha256("", 0, digest);
	}
}

static tre_match compare(const tre *t, const char *name, const uint8_t digest[TRE_DIGEST_LEN])
{
	const tre_reference *r = tre_reference_find(&t->refs, name);
	if (!r)
		return TRE_UNCERTIFIED;
	return memcmp(r->digest, digest, TRE_DIGEST_LEN) ? TRE_MODIFIED : TRE_MATCHES;
}

static const char *match_name(tre_match m)
{
	return m == TRE_MATCHES ? "matches" : m == TRE_MODIFIED ? "MODIFIED" : "has no certified reference value";
}

static void measure_all(const tre *t, tre_boot_state *b)
{
	memset(b, 0, sizeof *b);
	tre_measurements_reset(&b->m);
	b->secure_boot_ok = 1;
	for (int i = 0; i < t->s.ncomponents; i++) {
		const tre_component *c = &t->s.components[i];
		uint8_t digest[TRE_DIGEST_LEN];
		measure_component(c, digest);
		tre_extend(&b->m, c->reg, c->name, digest);  /* cannot fail: settings bound both */
		b->match[i] = compare(t, c->name, digest);
		b->secure_boot_ok &= b->match[i] == TRE_MATCHES;
		if (b->match[i] != TRE_MATCHES)
			m2m_warn("boot: %s %s", c->name, match_name(b->match[i]));
	}
	b->booted = 1;
}

int tre_boot(tre *t)
{
	if (!t->have_refs)
		return -1;
	tre_boot_state b;
	measure_all(t, &b);
	if (tre_savepoint(t->db) || tre_release(t->db, tre_tamper_after_boot(t, &b)))
		return -1;
	t->boot = b;
	m2m_info("boot: %d components measured, secure boot %s", t->s.ncomponents,
		 b.secure_boot_ok ? "passed" : "FAILED: network credentials withheld");
	return 0;
}

int tre_credentials_allowed(const tre *t)
{
	return t->boot.booted && t->boot.secure_boot_ok && !tre_tamper_flags(t);
}
