/*
 * The world the ports' tests run in (test_port_world.c): real processes, a certauth (the agency
 * that enrols both operators' identities) and the home operators mno-a (the old operator A, PLMN
 * 00101) and mno-b (the new operator B, PLMN 00102), each with a port group carrying its identity
 * (no DPF). The test plays the others with nodes of its own:
 *
 *   mno-v   the visited network: asks the HSSs for vectors and reports locations (the device's
 *           attach), and answers the OTA servers' smsDeliver with notAttached;
 *   mno-t   an operator of the test's, enrolled as operatorFunction: B to the real A (it asks A
 *           for cards and opens A's transfer), or A to the real B (it sends B transfers of its
 *           own making);
 *   mno-x   another operatorFunction the test enrols: a signer that is not the port's A.
 *
 * The subscriber is the test too: a P-256 key and a self-signed certificate, registered at A with
 * mno-admin. Databases are read directly to check what is stored, and that a refusal changes
 * none of it.
 */
#ifndef MNO_PORT_TEST_PORT_WORLD_H
#define MNO_PORT_TEST_PORT_WORLD_H

#include "daemon/identity.h"
#include "daemon/test_agency.h"

#include <sqlite3.h>
#include <stdint.h>
#include <sys/types.h>

#define A "mno-a"
#define B "mno-b"
#define VNO "mno-v"
#define FAKE "mno-t"
#define OTHER "mno-x"
#define SUBSCRIBER "acme"
#define A_PLMN "00101"
#define B_PLMN "00102"
#define B_RANGE "001020000200001"
#define IMEI "356938035643809"

typedef struct port_world {
	char dir[64];
	ta_agency agency;
	ta_keypair k_a, k_b, k_v, k_t, k_x;
	pid_t a_pid, b_pid;
	m2m_node *v, *t, *x;
	m2m_identity *t_id, *x_id;
	sqlite3 *t_db, *x_db;
	m2m_trust *trust;          /* the agency's root and issuing CA: what a relying party holds */
	EVP_PKEY *sub_key;         /* the subscriber's */
	X509 *sub_cert;
	char out[65536];           /* the output of the last mno-admin */
	/* what mno-t was sent */
	M2M_PORT_REQUEST *request;    /* B's last portRequest (answered accepted) */
	M2M_PORT_TRANSFER *transfer;  /* A's last portTransfer (answered provisioned) */
	int transfers;
	void (*on_complete)(m2m_node *n, m2m_request *req);  /* answers B's portComplete; NULL: refused */
	const char *sub_name;         /* the subscriber an authorisation names (NULL: SUBSCRIBER) */
	/* set before start_world: what both operators' configurations hold besides the usual */
	int retry_seconds;            /* the port group's (0: 1) */
	const char *port_extra;       /* more settings of the port group ("rewrite_retries = 1;") */
	const char *ota_group;        /* an ota group of the mno group ("  ota = { ... };\n") */
} port_world;

extern port_world w;

/* ---- the processes and the test's nodes ----------------------------------------------------- */

void world_setup(void);
void world_teardown(void);
/* The agency, the test's nodes and identities, and A and/or B, all enrolled. */
void start_world(int with_a, int with_b);
/* SIGTERM (a clean stop, checked) and a new start of mno-a or mno-b, its database kept. */
void restart(const char *mno);
void pump(int ms);
int wait_for(int (*cond)(void), int seconds);

/* ---- databases and mno-admin ------------------------------------------------------------------- */

/* The first column of the first row, as an integer (-1: no row, -2: it cannot be asked). */
long long query_int(const char *mno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ... as text ("" when no row; a static buffer). */
const char *query_text(const char *mno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Everything an operator keeps of ports, subscribers, owners, keysets and jobs, as one string: equal
 * before and after a refusal. Free it. */
char *state_of(const char *mno);
/* mno-admin -c MNO.conf ARGS: its exit status; its output in w.out. */
int admin(const char *mno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cards and the subscriber ----------------------------------------------------------------- */

/* mno-admin personalise at A: the card ICCID with IMSI, its image in the test's directory. */
void personalise(const char *iccid, const char *imsi);
/* K and OPc of a card, from its image. */
void card_keys(const char *iccid, uint8_t k[16], uint8_t opc[16]);
/* The subscriber's key and self-signed certificate (subscriber.pem), and registered at A. */
void make_subscriber(void);
void register_subscriber(void);
/* Another self-signed certificate with the subscriber's name, for key: a forger's (serial 1:
 * the same issuer and serial number as the subscriber's). */
X509 *other_certificate(EVP_PKEY *key, uint64_t serial);

/* PortAuthorisation {SUBSCRIBER, from, to, iccids, nonce (NULL: random), now - age} signed with
 * key and cert (NULL: the subscriber's): DER CMS, malloc'd. */
uint8_t *authorise(const char *from, const char *to, const char *const *iccids, int n, const uint8_t *nonce, long age,
		   EVP_PKEY *key, X509 *cert, size_t *len);
void write_file(const char *name, const uint8_t *data, size_t len);
void path_of(char *out, size_t len, const char *name);

/* ---- what the operators exchange ------------------------------------------------------------- */

/* A's package as B opens it: decrypted with mno-t's key, A's signature checked. Free it. */
M2M_PORT_CREDENTIALS *open_transfer(const M2M_PORT_TRANSFER *t);
/* A package of PortCredentials pc signed by signer and encrypted to recipient, as a message. */
M2M_PORT_TRANSFER *make_transfer(const M2M_PORT_CREDENTIALS *pc, m2m_identity *signer, X509 *recipient);
/* A call from one of the test's nodes, waiting for the answer while every node is pumped. */
ta_answer call(m2m_node *from, const char *peer, int type, const void *body);

#endif
