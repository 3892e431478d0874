/*
 * The world the DPF's tests run in (test_dpf_world.c), shared by test_dpf.c (the MCIM download)
 * and test_change.c (the change of subscription): real processes, a certauth (the agency that
 * enrols the DPF and the TRE, and the PVA that validates the TRE by challenging it), a tre
 * (enrolled, booted, measured: what the PVA appraises; with a PCID and an M2ME, so that it can
 * run its own provisioning) and the mno itself in home mode with a dpf group. The test plays the
 * others with nodes of its own:
 *
 *   mno-v    the visited operator relaying the TRE's mcimRequest and installResult;
 *   drf      the registration operator: tickets signed by its identity (enrolled at certauth as
 *            registration), the receiver of provisioned, the sender of changeNotify and
 *            changeRelease;
 *   testbed  the TRE's controller (treControl: status, tampering);
 *   m2me-t   the TRE's M2ME (treProvision);
 *   pva-t    a PVA of its own (enrolled as pva) that signs the verdicts a test wants.
 *
 * Orders and install results may also be signed with the real TRE's key, read from the TRE's
 * sealed store with the storage key the test gave it (what a lab does with a device on the
 * bench). The DPF's database is read directly to check what is stored, and that a refusal
 * changes none of it.
 */
#ifndef MNO_DPF_TEST_DPF_WORLD_H
#define MNO_DPF_TEST_DPF_WORLD_H

#include "daemon/identity.h"
#include "daemon/test_agency.h"

#include <sqlite3.h>
#include <stdint.h>
#include <sys/types.h>

#define MNO "mno-a"
#define TRE "tre-1"
#define DRF "drf"
#define VNO "mno-v"
#define M2ME "m2me-t"
#define FAKE_PVA "pva-t"
#define CONTROLLER "testbed"
#define MODEL "acme-tre"
#define VERSION "1.0"
#define IMEI "356938035643809"
#define IMSI_FIRST "001010000100001"
#define NCOMPONENTS 3

/* What a test's fake PVA answers (silent: nothing, ever). */
typedef enum verdict_kind { V_OTHER_TRE, V_OTHER_PARTY, V_EXPIRED, V_SILENT } verdict_kind;

typedef struct dpf_world {
	char dir[64];
	ta_agency agency;
	ta_keypair k_mno, k_tre, k_vno, k_drf, k_ctl, k_pva, k_m2me;
	pid_t tre_pid, mno_pid;
	m2m_node *vno, *drf, *ctl, *pva, *m2me;
	m2m_node *relay;  /* who relays the TRE's objects: mno-v, or pva-t while it must answer meanwhile */
	sqlite3 *drf_db, *pva_db;
	m2m_identity *drf_id, *pva_id;
	EVP_PKEY *tre_key;
	X509 *tre_cert, *tre_ca;
	m2m_trust *trust;  /* the agency's root and issuing CA: what a relying party holds */
	int provisioned, refuse_provisioned;
	uint8_t provisioned_id[16];
	verdict_kind verdict;
} dpf_world;

extern dpf_world w;

/* ---- files and databases ---------------------------------------------------------------------- */

void path_of(char *out, size_t len, const char *name);
void read_hex_file(const char *name, uint8_t *out, size_t len);
sqlite3 *open_readonly(const char *db_name);
/* The first column of the first row of a query on a daemon's database, as an integer (-1: no
 * row, -2: it cannot be asked yet). */
long long query_int(const char *db_name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Everything the DPF keeps about orders, changes and subscribers, as one string: equal before and
 * after a refusal. Free it. */
char *dpf_state(void);
long long orders(void);
/* The state of an HSS record ("none" when there is none). */
char *subscriber_state(const char *imsi);

/* ---- the test's nodes and the processes -------------------------------------------------------- */

void pump(int ms);
int wait_for(int (*cond)(void), int seconds);
/* treControl from the TRE's controller: the answer (treStatus). */
ta_answer control(m2m_tre_action action, const char *component, const char *content);
int dpf_enrolled(void);
void write_mno_conf(const char *pva, const char *dpf_extra);
void start_mno(const char *pva);
void start_agency(void);
/* The whole world, the DPF asking pva for its verdicts. */
void start_world(const char *pva);
void world_setup(void);
void world_teardown(void);

/* ---- what the TRE and the DRF sign -------------------------------------------------------------- */

typedef enum signer_kind { BY_DRF, BY_TRE, BY_OTHER_FUNCTION } signer_kind;

void sign_as(signer_kind who, const ASN1_ITEM *item, const void *value, M2M_SIGNED_OBJECT *so);
/* The DER of a discoveryResponse: a RegistrationTicket for tre, naming sho, with nonce (NULL: a
 * random one) and change_id (16 octets, or NULL: none). */
ASN1_OCTET_STRING *ticket_for(const char *tre, const char *sho, const uint8_t *nonce, const uint8_t *change_id,
			      long expires_in, signer_kind who);
ASN1_OCTET_STRING *ticket(const char *tre, const char *sho, long expires_in, signer_kind who);
/* mcimRequest: McimOrder {tre, ticket, nonce}, signed by the TRE; the ticket is consumed. */
M2M_SIGNED_OBJECT *order(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der);
M2M_SIGNED_OBJECT *install_result(const uint8_t mcim_id[16], const uint8_t nonce[32], int status, signer_kind who);
/* authInfoRequest for imsi at the operator, from the visited operator (one vector). */
ta_answer auth_info(const char *imsi);
/* The visited operator relays one signed object to the DPF (consumed). */
ta_answer relay(int type, M2M_SIGNED_OBJECT *so);
ta_answer order_with(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der);

/* ---- the package, as the TRE opens it ------------------------------------------------------------ */

/* Decrypted with the TRE's key, the inner SignedData checked against the root: the Mcim. */
M2M_MCIM *open_package(const M2M_MCIM_PACKAGE *p);
int provisioned_once(void);
int provisioned_acknowledged(void);

/* A good order packaged: its nonce, package and MCIM. */
typedef struct packaged {
	uint8_t nonce[32];
	M2M_MCIM_PACKAGE *package;
	M2M_MCIM *mcim;
	char imsi[16];
} packaged;

void order_packaged(packaged *p);
void packaged_free(packaged *p);
/* The TRE's signed result about p, acknowledged with p's mcimId. */
void install(const packaged *p, int status);

#endif
