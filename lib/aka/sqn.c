/* SQN = SEQ || IND handling of TS 33.102 Annex C; each rule names the clause it follows. */
#include "aka/sqn.h"

#include <string.h>

enum { BLOB_VERSION = 1 };

static uint64_t seq_limit(const m2m_sqn_params *p)
{
	return UINT64_C(1) << (48 - p->ind_bits);
}

static uint64_t ind_mask(const m2m_sqn_params *p)
{
	return (UINT64_C(1) << p->ind_bits) - 1;
}

static int params_valid(const m2m_sqn_params *p)
{
	return p->ind_bits <= M2M_SQN_IND_BITS_MAX && p->delta >= 1 && p->delta < seq_limit(p);
}

static void put_be(uint8_t *out, uint64_t v, int len)
{
	for (int i = len - 1; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *in, int len)
{
	uint64_t v = 0;
	for (int i = 0; i < len; i++)
		v = v << 8 | in[i];
	return v;
}

void m2m_sqn_pack(uint64_t sqn, uint8_t out[6])
{
	put_be(out, sqn, 6);
}

uint64_t m2m_sqn_unpack(const uint8_t in[6])
{
	return get_be(in, 6);
}

void m2m_sqn_params_default(m2m_sqn_params *p)
{
	p->ind_bits = M2M_SQN_IND_BITS_DEFAULT;
	p->delta = M2M_SQN_DELTA_DEFAULT;
	p->age_limit = M2M_SQN_AGE_LIMIT_DEFAULT;
}

static int params_or_default(m2m_sqn_params *out, const m2m_sqn_params *p)
{
	if (p)
		*out = *p;
	else
		m2m_sqn_params_default(out);
	return params_valid(out) ? 0 : -1;
}

/* Blob header shared by both states: kind, version, ind_bits, Δ, L. */
static void put_params(uint8_t *blob, char kind, const m2m_sqn_params *p)
{
	blob[0] = (uint8_t)kind;
	blob[1] = BLOB_VERSION;
	blob[2] = p->ind_bits;
	put_be(blob + 3, p->delta, 8);
	put_be(blob + 11, p->age_limit, 8);
}

static int get_params(const uint8_t *blob, char kind, m2m_sqn_params *p)
{
	if (blob[0] != (uint8_t)kind || blob[1] != BLOB_VERSION)
		return -1;
	p->ind_bits = blob[2];
	p->delta = get_be(blob + 3, 8);
	p->age_limit = get_be(blob + 11, 8);
	return params_valid(p) ? 0 : -1;
}

/* Annex C.2.2: every array entry starts at zero. */
int m2m_sqn_usim_init(m2m_sqn_usim *u, const m2m_sqn_params *p)
{
	m2m_sqn_params q;
	if (params_or_default(&q, p) != 0)
		return -1;
	memset(u, 0, sizeof *u);
	u->p = q;
	return 0;
}

/* Highest SEQ_MS(i); on a tie the highest index, which is the most recently accepted SQN. */
static uint32_t highest_index(const m2m_sqn_usim *u)
{
	uint32_t best = 0;
	for (uint32_t i = 1; i <= ind_mask(&u->p); i++)
		if (u->seq_ms[i] != 0 && u->seq_ms[i] >= u->seq_ms[best])
			best = i;
	return best;
}

uint64_t m2m_sqn_usim_highest(const m2m_sqn_usim *u)
{
	uint32_t i = highest_index(u);
	return u->seq_ms[i] << u->p.ind_bits | i;
}

int m2m_sqn_usim_accept(m2m_sqn_usim *u, uint64_t sqn)
{
	uint64_t seq = sqn >> u->p.ind_bits, ind = sqn & ind_mask(&u->p);
	uint64_t seq_ms = u->seq_ms[highest_index(u)];
	if (sqn > M2M_SQN_MAX)
		return -1;
	/* C.2.1 (wrap-around protection): a step forward of more than Δ is refused, so that SEQ_MS
	 * cannot be driven quickly towards its maximum. */
	if (seq > seq_ms && seq - seq_ms > u->p.delta)
		return -1;
	/* C.2.2 (limit L on the age): applied before the array check, SEQ_MS - SEQ < L. */
	if (u->p.age_limit && seq < seq_ms && seq_ms - seq >= u->p.age_limit)
		return -1;
	/* C.2.2 (array freshness): fresh iff SEQ > SEQ_MS(IND), which then becomes SEQ. */
	if (seq <= u->seq_ms[ind])
		return -1;
	u->seq_ms[ind] = seq;
	return 0;
}

void m2m_sqn_usim_serialise(const m2m_sqn_usim *u, uint8_t blob[M2M_SQN_USIM_BLOB_LEN])
{
	put_params(blob, 'U', &u->p);
	for (uint32_t i = 0; i < M2M_SQN_ARRAY_MAX; i++)
		put_be(blob + 19 + 6 * i, u->seq_ms[i], 6);
}

int m2m_sqn_usim_deserialise(m2m_sqn_usim *u, const uint8_t blob[M2M_SQN_USIM_BLOB_LEN])
{
	m2m_sqn_usim t = {0};
	if (get_params(blob, 'U', &t.p) != 0)
		return -1;
	for (uint32_t i = 0; i < M2M_SQN_ARRAY_MAX; i++) {
		t.seq_ms[i] = get_be(blob + 19 + 6 * i, 6);
		/* Entries outside the array in use, or SEQ beyond its width, mean a corrupt blob. */
		if (t.seq_ms[i] >= (i <= ind_mask(&t.p) ? seq_limit(&t.p) : 1))
			return -1;
	}
	*u = t;
	return 0;
}

int m2m_sqn_he_init(m2m_sqn_he *h, const m2m_sqn_params *p, uint64_t sqn)
{
	m2m_sqn_params q;
	if (params_or_default(&q, p) != 0 || sqn > M2M_SQN_MAX)
		return -1;
	h->p = q;
	h->seq_he = sqn >> q.ind_bits;
	h->ind_he = (uint32_t)(sqn & ind_mask(&q));
	return 0;
}

/* C.1.1, without a time-based part: SEQ = SEQ_HE + 1 for every vector. C.1.2 leaves the
 * choice of IND to the AuC; cycling through all a values lets a batch of up to a vectors be used
 * in any order. */
int m2m_sqn_he_next(m2m_sqn_he *h, uint64_t *sqn)
{
	if (h->seq_he + 1 >= seq_limit(&h->p))
		return -1;
	h->seq_he++;
	*sqn = h->seq_he << h->p.ind_bits | h->ind_he;
	h->ind_he = (uint32_t)((h->ind_he + 1) & ind_mask(&h->p));
	return 0;
}

/* §6.3.5: SQN_HE is reset to SQN_MS only if the next SQN would not be accepted, i.e. it would
 * not exceed SEQ_MS or would step more than Δ beyond it (C.2.1, C.2.2). A stale vector replayed
 * to the USIM thus leaves a counter that is already ahead untouched. */
int m2m_sqn_he_resync(m2m_sqn_he *h, uint64_t sqn_ms)
{
	uint64_t seq_ms = sqn_ms >> h->p.ind_bits, next = h->seq_he + 1;
	if (sqn_ms > M2M_SQN_MAX)
		return -1;
	if (next <= seq_ms || next - seq_ms > h->p.delta)
		h->seq_he = seq_ms;
	return 0;
}

void m2m_sqn_he_serialise(const m2m_sqn_he *h, uint8_t blob[M2M_SQN_HE_BLOB_LEN])
{
	put_params(blob, 'H', &h->p);
	put_be(blob + 19, h->seq_he, 6);
	blob[25] = (uint8_t)h->ind_he;
}

int m2m_sqn_he_deserialise(m2m_sqn_he *h, const uint8_t blob[M2M_SQN_HE_BLOB_LEN])
{
	m2m_sqn_he t;
	if (get_params(blob, 'H', &t.p) != 0)
		return -1;
	t.seq_he = get_be(blob + 19, 6);
	t.ind_he = blob[25];
	if (t.seq_he >= seq_limit(&t.p) || t.ind_he > ind_mask(&t.p))
		return -1;
	*h = t;
	return 0;
}
