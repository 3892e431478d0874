/*
 * The world of the drf tests (test_drf.c, test_change.c): a real certauth (agency and PVA), the
 * drf process, and the other parties played by the test with nodes of its own: the equipment
 * supplier and registrar "testbed", the visited operator "mno-v", the home operators "mno-a" and
 * "mno-b", and a TRE "tre-x" whose key and certificate (enrolled at the real agency) sign what a
 * TRE signs. For the change of subscription, "mno-a" also serves the DRF's calls (a node of its
 * own in a thread: the fake old SHO).
 */
#ifndef DRF_TEST_WORLD_H
#define DRF_TEST_WORLD_H

#include "drf.h"

#include "daemon/test_agency.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#define PLMN "00109"
#define FIRST "001090000000001"
#define MODEL "acme-tre"
#define VERSION "1.0"
#define LEVEL 4
#define IMEI_A "356938035643809"
#define IMEI_B "490154203237518"
#define APN "m2m.provisioning"
#define COMPONENTS 3

extern const char *const component_names[COMPONENTS];
extern const char *const component_content[COMPONENTS];

enum { TESTBED, VISITED, SHO_A, SHO_B, FAKE_TRE, FAKE_TRE_Y, FAKE_UICC, CLIENTS };
extern const char *const client_ids[CLIENTS];

/* How a fake SHO answers: a changeNotify (consent, contractLocked, or not at all; A_UICC: consent
 * with the IMSI of the device's UICC, Alternative 3b), a changeRelease or uiccRelease, a treTrigger
 * and (SHO B) a uiccCredentialOrder: A_CONSENT answers (acknowledges, sends the package),
 * A_LOCKED refuses (contractLocked; an order: notValidated), A_SILENT does not answer. */
enum { A_CONSENT, A_LOCKED, A_SILENT, A_UICC };

/* The IMSI of A on the card that the fake old SHO consents with, and the IMSI of B in its package. */
#define A_IMSI "001010000000005"
#define B_IMSI "001020000000042"

/* The last message of each 3b kind a fake SHO received, as DER of its body. */
enum { LAST_TRIGGER, LAST_ORDER, LAST_RELEASE, LASTS };

typedef struct fake_sho {
	const char *entity;
	pthread_t thread;
	atomic_int ready, stop;
	atomic_int notify_mode, release_mode, trigger_mode, order_mode;
	atomic_int notifies, releases;  /* received (releases: changeRelease and uiccRelease) */
	atomic_int triggers, orders;
	atomic_int release_named_mcim;  /* the last changeRelease named the MCIM it consented with */
	uint8_t last[LASTS][16384];
	atomic_int last_len[LASTS];
} fake_sho;

/* The MCIM of mno-a that the fake old SHO consents to replace. */
extern const uint8_t a_mcim_id[16];

typedef struct world {
	char dir[64];
	ta_agency agency;
	ta_keypair drf_key, tre_key, clients[CLIENTS];
	m2m_node *node[CLIENTS];
	pid_t drf, tre;
	/* the drf's calls: timeout and retries (3000 and 1 unless a test sets them before start) */
	int drf_timeout_ms, drf_retries;
	int uicc_wake_seconds;  /* 0: the drf's default */
	/* the fake TRE's credentials from the agency */
	EVP_PKEY *tre_x_key;
	X509 *tre_x_cert;
	STACK_OF(X509) *tre_x_extra;
	fake_sho sho_a, sho_b;
	int sho_a_running, sho_b_running;
	/* the DPF the change tests ask a change to ("mno-b-dpf" unless a test sets it) */
	const char *b_dpf;
	/* tre-y, another TRE of the platform; uicc-x, a card certified as profile uicc (its DER) */
	EVP_PKEY *tre_y_key;
	X509 *tre_y_cert;
	STACK_OF(X509) *tre_y_extra;
	uint8_t *card_cert;
	size_t card_cert_len;
	EVP_PKEY *subscriber;  /* the subscriber key of the change tests */
} world;

extern world w;

/* ---- calls ------------------------------------------------------------------------------------- */

typedef ta_answer answer;

answer call_to(int from, const char *to, int type, const void *body);
answer call(int from, int type, const void *body);
void answer_free(answer *a);

#define assert_refused(a, r) cr_assert_eq((a).reason, (r), "expected %s, got type %d reason %s: %s", \
					  m2m_reason_name(r), (a).type, m2m_reason_name((a).reason), (a).text)
#define assert_type(a, t) cr_assert_eq((a).type, (t), "expected %s, got type %d reason %s: %s", \
				       m2m_msgtype_name(t), (a).type, m2m_reason_name((a).reason), (a).text)

/* ---- the world --------------------------------------------------------------------------------- */

void setup(void);
void teardown(void);
void start_agency(void);
void write_drf_conf(const char *gate, int pool_size);
/* Everything up: the agency, the drf (gate, pool size) and the test's own nodes. The drf answers
 * once its database is made: only then may drf-admin open it too. */
void start(const char *gate, int pool_size);
/* The drf killed (SIGKILL: no clean stop) and started again on the same database, up. */
void restart_drf(void);
void wait_drf_enrolled(void);

/* drf-admin's output into out; its exit status. */
int admin(char *out, size_t len, const char *args);
int count_lines(const char *text, const char *needle);
/* The first column of the first row of sql on the drf's database (read only): "" when none. */
void db_text(const char *sql, char *out, size_t len);

/* ---- registration, the fake TRE ----------------------------------------------------------------- */

typedef struct reg {
	const char *m2me, *tre, *sho, *dpf;
} reg;

answer register_batch(int from, const reg *r, int n);
/* With the subscriber keys of the entries (keys[i] NULL: none). */
answer register_keyed(int from, const reg *r, EVP_PKEY *const *keys, int n);
int registered(answer *a);
/* The DER SubjectPublicKeyInfo of key; OPENSSL_free it. */
int spki_der(EVP_PKEY *key, uint8_t **der);

/* tre-x enrols at the real agency with a key of the test's: a TRE certificate of the platform. */
void enrol_fake_tre(void);
/* The same for tre-y; uicc-x enrols as a card (profile uicc), its certificate in w.card_cert. */
void enrol_fake_tre_y(void);
void enrol_fake_uicc(void);
/* A SignedObject over DiscoveryRequest (change_id may be NULL). */
M2M_SIGNED_OBJECT *discovery_body(const char *tre, const char *imei, const uint8_t *nonce, int nonce_len,
				  const uint8_t *change_id, EVP_PKEY *key, X509 *cert, STACK_OF(X509) *extra);
/* provisioned {tre, sho, mcimId 0102030000...} from a node. */
answer provisioned(int from, const char *tre, const char *sho);

/* ---- the fake old SHO ---------------------------------------------------------------------------- */

/* mno-a serves changeNotify and changeRelease from now on (test_fake_sho.c), as the modes say;
 * stopped by teardown. Its treTrigger mode is A_CONSENT unless set. */
void sho_a_start(int notify_mode, int release_mode);
void sho_a_stop(void);
/* mno-b serves uiccCredentialOrder, as the mode says; stopped by teardown. */
void sho_b_start(int order_mode);
void sho_b_stop(void);

/* ---- the change of subscription, as the tests drive it (test_world.c) ------------------------------ */

/* What the subscriber signs. */
typedef struct auth {
	const char *tre, *m2me, *from, *to;
	uint8_t nonce[16];
	int nonce_len;
	int64_t issued_at;
	EVP_PKEY *key;
} auth;

/* tre-x from mno-a to mno-b, signed by the registered subscriber key, a fresh nonce. */
auth good_auth(void);
/* changeRequest {authorisation, dpf w.b_dpf} from a node. */
answer ask_change(int from, const auth *x);
/* The changeId of a changeResponse (freed). */
void change_id_of(answer *a, uint8_t id[16]);
/* The state of the newest change ("" when none), and its id (id may be NULL). */
void newest_change(char state[16], uint8_t id[16]);
int count(const char *sql);
void wait_state(const char *expected, int seconds);
/* The newest change is in state expected now. */
void assert_state(const char *expected);
/* The drf killed while a fake leaves its call unanswered: restarted, the fake answering from now
 * on (*mode A_CONSENT), the call made again (*received grows) until the change is in state. */
void resumed_after_restart(atomic_int *mode, atomic_int *received, const char *state);
void wait_count(atomic_int *n, int at_least, int seconds, const char *what);
/* drf-admin registrations holds expected. */
void assert_registration(const char *expected);
/* The drf with its testbed timings, tre-x enrolled and registered with mno-a (DPF mno-a: the fake,
 * serving as the modes say) with the subscriber key, the drf enrolled. */
void start_change(int notify_mode, int release_mode);

#endif
