/*
 * The testbed tool: starts a topology of daemons in a run directory, records what they say
 * through their taps, runs end-to-end scenarios as the client "testbed", and draws each
 * scenario as a message sequence chart. docs/testbed.md describes it for its users.
 */
#ifndef TESTBED_H
#define TESTBED_H

#include "conf/conf.h"
#include "net/node.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Every daemon also lists "testbed" as a peer, and a node has at most M2M_MAX_PEERS. */
#define TB_MAX_ENTITIES (M2M_MAX_PEERS - 1)
#define TB_MAX_LINKS 1024
#define TB_SELF "testbed"
#define TB_RECORDER "recorder"
/* Unix socket paths must fit sun_path (108 bytes); the brief keeps a margin. */
#define TB_SOCKET_PATH_MAX 99

/* ---- options shared by every sub-command (main.c) ----------------------------------------- */

typedef struct tb_opts {
	char rundir[PATH_MAX];  /* absolute once the sub-command has resolved it */
	const char *topology;   /* the file `up` reads; later commands read RUNDIR/topology.conf */
	int verbose;            /* show the client node's own log lines */
} tb_opts;

int tb_cmd_up(tb_opts *o, int argc, char **argv);
int tb_cmd_down(tb_opts *o, int argc, char **argv);
int tb_cmd_status(tb_opts *o, int argc, char **argv);
int tb_cmd_run(tb_opts *o, int argc, char **argv);
int tb_cmd_trace(tb_opts *o, int argc, char **argv);
int tb_cmd_record(tb_opts *o, int argc, char **argv);
int tb_cmd_bench_attach(tb_opts *o, int argc, char **argv);
int tb_cmd_bench_validate(tb_opts *o, int argc, char **argv);
int tb_cmd_crash(tb_opts *o, int argc, char **argv);

/* ---- the topology (topology.c) -------------------------------------------------------------- */

typedef struct tb_entity {
	char id[M2M_ENTITY_MAX + 1];
	char role[16];
	config_setting_t *settings;  /* copied into the role's group; NULL when absent */
	int npeers;
	int peers[TB_MAX_ENTITIES];  /* indices of the entities linked to this one */
} tb_entity;

/* A UICC the testbed personalises at `up` (the `cards` section): the home operator's
 * `mno-admin personalise` writes its image and the subscriber record; a clone copies the image
 * of another card, as an attacker who read it out would. */
#define TB_MAX_APNS 16
typedef struct tb_card {
	int entity;                  /* the uicc entity holding it */
	int clone_of;                /* the card whose image it copies, or -1 */
	int home;                    /* the home operator's entity (of the original for a clone) */
	char iccid[21], imsi[16], imei_lock[17];
	const char *apns[TB_MAX_APNS];  /* point into the topology's conf */
	int napns, cs;
	const char *subscriber;      /* its owner, registered with the operator at `up`; NULL when none */
} tb_card;
#define TB_SUBSCRIBER_MAX 64

typedef struct tb_topology {
	m2m_conf conf;  /* kept loaded: settings point into it */
	int nentities;
	tb_entity entities[TB_MAX_ENTITIES];
	int ncards;
	tb_card cards[TB_MAX_ENTITIES];
	const char *subscriber;  /* the owner the cards name (one at most), or NULL */
	int nlinks;
	int links[TB_MAX_LINKS][2];
	int daemon_timeout_ms, daemon_retries, testbed_timeout_ms, testbed_retries;
	char log_level[16];
} tb_topology;

/* Reads and checks a topology file; NULL with the reason ("FILE:LINE: ...") printed. */
tb_topology *tb_topology_load(const char *path);
void tb_topology_free(tb_topology *t);
int tb_entity_index(const tb_topology *t, const char *id);
/* The card the uicc entity id holds, or NULL; for a clone, tb_card_origin gives the personalised one. */
const tb_card *tb_card_of(const tb_topology *t, const char *id);
const tb_card *tb_card_origin(const tb_topology *t, const tb_card *c);
/* A string setting of an entity ("imei" of an m2me), or dflt. */
const char *tb_entity_setting(const tb_entity *e, const char *name, const char *dflt);
/* An integer setting of an entity ("assurance_level" of a tre), or dflt. */
int tb_entity_int(const tb_entity *e, const char *name, int dflt);
/* Whether the role keeps secrets at rest: `up` generates RUNDIR/keys/ID.storage for it. */
int tb_role_has_storage_key(const char *role);
/* The registration operator (Alternative 1a): the topology's first drf entity, or NULL. */
const char *tb_registration_operator(const tb_topology *t);
/* The certauth entity a tre is linked with: its agency and PVA; -1 when none. */
int tb_agency_of(const tb_topology *t, int tre);

/* ---- the run directory (rundir.c) ------------------------------------------------------------ */

/* RUNDIR/NAME+SUFFIX; -1 (and a message) when it does not fit. */
int tb_path(char *out, size_t len, const char *rundir, const char *name, const char *suffix);
/* Makes o->rundir absolute; with create, creates it first. */
int tb_rundir_resolve(tb_opts *o, int create);
/* Fails with a clear message when a socket path of the topology would be too long. */
int tb_rundir_check_lengths(const char *rundir, const tb_topology *t);
/* Writes RUNDIR/topology.conf, keys/ (CURVE keys, storage keys, enrolment secrets), the TREs'
 * component files, every ID.conf and testbed.conf; removes old state. */
int tb_rundir_generate(const char *rundir, const char *topology_path, const tb_topology *t);
/* The topology that `up` wrote into the run directory; NULL when there is none. */
tb_topology *tb_rundir_topology(const char *rundir, int quiet);
/* Settings of a generated configuration. */
void tb_conf_add_str(config_setting_t *parent, const char *name, const char *value);
void tb_conf_add_int(config_setting_t *parent, const char *name, int value);
/* Reads a file into a malloc'd NUL-terminated string from offset; NULL when unreadable. */
char *tb_read_file(const char *path, long offset, size_t *len);
int tb_write_file(const char *path, const char *text, mode_t mode);

/* ---- processes (launch.c) ---------------------------------------------------------------- */

/* The executable of role: M2M_BIN_DIR/ROLE/ROLE, else BUILD/ROLE/ROLE beside our own BUILD/testbed. */
int tb_role_binary(const char *role, char *out, size_t len);
/* Any built program by its path under the build directory ("mno/hss/mno-admin"), found likewise. */
int tb_build_binary(const char *rel, char *out, size_t len);
/* Starts argv[0] in its own session with stdout and stderr appended to log_path. */
pid_t tb_spawn(char *const argv[], const char *log_path);
int tb_pid_write(const char *rundir, const char *name, pid_t pid);
/* The pid in RUNDIR/NAME.pid when that process is alive and one of ours; 0 otherwise. */
pid_t tb_pid_running(const char *rundir, const char *name);
/* Alive and not a zombie (an unreaped dead process still answers kill(pid, 0)). */
int tb_alive(pid_t pid);
/* Polls until none of pids lives or ms have passed (reaping our children); how many still live. */
int tb_wait_gone(const pid_t *pids, int n, int ms);
/* SIGTERM to each, then SIGKILL to whatever still lives after grace_ms; reaps our children. */
void tb_stop_all(const pid_t *pids, int n, int grace_ms);
/* The last lines of a log file, indented, for a failure report. */
void tb_print_log_tail(const char *path, int lines);

/* What `up` started, by topology index. */
typedef struct tb_fleet {
	pid_t daemons[TB_MAX_ENTITIES];
	pid_t recorder;
} tb_fleet;

/* Starts the daemon of entity e as `up` does: `BINARY -c RUNDIR/ID.conf` in its own session, its
 * output appended to RUNDIR/ID.log, its pid into RUNDIR/ID.pid (lifecycle.c). */
int tb_start_daemon(const char *rundir, const tb_entity *e, pid_t *pid);

/* ---- administration tools (admin.c, provision.c, certify.c) -------------------------------- */

/* The tools, by their path under the build directory (found like the daemons). */
#define TB_MNO_ADMIN "mno/hss/mno-admin"
#define TB_CERTAUTH_ADMIN "certauth/certauth-admin"
#define TB_MANUFACTURE "tre/manufacture/m2m-manufacture"

typedef struct tb_buf tb_buf;
/* Runs `TOOL -c RUNDIR/ID.conf ARGS...` (args NULL-terminated), its standard output and error
 * into out and err (either may be NULL); its exit status, or -1 when it did not run. */
int tb_tool(const char *tool, const char *rundir, const char *id, const char *const *args, tb_buf *out, tb_buf *err);
/* "did not run", "exited with status 1": how a run of tb_tool ended, for a failure report. */
const char *tb_tool_status(int rc, char *buf, size_t len);
/* tb_tool with mno-admin at a home operator. */
int tb_admin(const char *rundir, const char *operator_id, const char *const *args, tb_buf *out, tb_buf *err);
/* Whether mno-admin is built; -1 with a message naming where it was looked for. */
int tb_admin_check(void);
/* Personalises every card of the topology (clones copy their original's image) so that the
 * home operators' databases hold the subscribers before any daemon starts; -1 with the tool's
 * own message when one fails. */
int tb_provision(const char *rundir, const tb_topology *t);
/* The hex strings names[0..n) of the card image `up` wrote for card (k, opc, ota_kic...): what
 * its operator knew at personalisation. 0, or -1 (the image unreadable or a name missing). */
int tb_card_image_values(const char *rundir, const char *card, const char *const *names, char (*out)[65], int n);

/* ---- the certification agency and its TREs (agency.c, certify.c, ready.c) ------------------ */

/* The platform a TRE is certified as: its topology settings model, version, assurance_level. */
typedef struct tb_platform {
	const char *model, *version;  /* point into the topology's conf */
	int assurance;
} tb_platform;
void tb_tre_platform(const tb_entity *e, tb_platform *p);

/* The components every TRE of the testbed measures, in boot-chain order; ends with a NULL name. */
typedef struct tb_component {
	const char *name;
	int reg;  /* the measurement register it extends */
} tb_component;
extern const tb_component tb_components[];
/* The genuine content of a component of platform p ("acme-m2m-tre os 1.0\n"): what `up` writes
 * into RUNDIR/ID.components/NAME and what the platform type certifies. */
void tb_component_content(const tb_platform *p, const char *name, char *out, size_t len);
/* RUNDIR/AGENCY.root.pem: where the agency writes its root certificate at every start. */
int tb_root_path(char *out, size_t len, const char *rundir, const char *agency);
/* The CertProfile name an entity enrols with at its agency: "tre", "registration" (a drf),
 * "operatorFunction" (a home mno with a dpf group), "uicc" (a card linked with an agency: its
 * maker enrols the card's key, Alternative 3b); NULL when it does not enrol. */
const char *tb_enrolment_profile(const tb_topology *t, const tb_entity *e);
/* Writes the enrolment secret (RUNDIR/keys/ID.enrol) of every entity that enrols, and each
 * TRE's component files. */
int tb_agency_files(const char *rundir, const tb_topology *t);
/* Adds what `up` generates to the group g of a certauth or tre entity (nothing for others);
 * -1 when a file it needs cannot be read. */
int tb_agency_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e);

/* Certifies the platform type of every TRE at its agency (`certauth-admin platform add`), before
 * any daemon starts; -1 with the tool's own message. */
int tb_certify(const char *rundir, const tb_topology *t);
/* Whether certauth-admin is built, when the topology has TREs to certify. */
int tb_certify_check(const tb_topology *t);

/* Reaps a child of `up` that died while coming up and reports it with its log's tail; 1 if it was one. */
int tb_reap_failure(const char *rundir, const char *name, pid_t *pid);
/* Waits until every certauth started has written its root certificate, which its TREs read at
 * start; -1 after reporting which did not. */
int tb_wait_roots(const char *rundir, const tb_topology *t, tb_fleet *f, int deadline_ms);
/* Waits until every TRE is enrolled (its certificate in its agency's register) and booted with
 * secure boot passed (treControl status); -1 after reporting which is not. */
int tb_wait_tres(const char *rundir, const tb_topology *t, tb_fleet *f, int deadline_ms);

/* ---- the factory step of Alternative 1a (manufacture.c) ----------------------------------- */

/* Whether m2m-manufacture is built, when the topology has a drf and TREs. */
int tb_manufacture_check(const tb_topology *t);
/* Once the daemons run: a PCID from the drf's ICF for every TRE (m2m-manufacture), then waits
 * until every TRE has taken its PCID file in; -1 after reporting what failed. */
int tb_manufacture(const char *rundir, const tb_topology *t, int deadline_ms);

/* ---- health (health.c) ------------------------------------------------------------------------ */

/* Waits until every daemon answers healthRequest and the recorder has subscribed to every tap;
 * -1 after reporting which one did not come up and why. */
int tb_wait_up(const char *rundir, const tb_topology *t, tb_fleet *f, int deadline_ms);

/* ---- the client node and its calls (client.c) --------------------------------------------- */

typedef struct tb_reply {
	int done;
	int type;          /* of the answer, or -1 when none came */
	void *body;        /* a copy of the answer's body, owned */
	m2m_reason reason; /* why none came, or the ErrorReport's reason */
	char text[256];    /* the ErrorReport's text */
} tb_reply;

/* The node of the client "testbed" from RUNDIR/testbed.conf (a pure client: no bind);
 * quick_ms > 0 replaces its call timing with one attempt of quick_ms. */
m2m_node *tb_client_open(const char *rundir, int quick_ms);
/* Starts a call whose answer lands in r; -1 when the peer is unknown to testbed.conf. */
int tb_call_start(m2m_node *n, const char *peer, int type, const void *body, tb_reply *r);
/* Runs the node until every one of the n replies is done. */
void tb_call_wait(m2m_node *n, tb_reply *replies, int count);
/* Start and wait for one call. */
int tb_call(m2m_node *n, const char *peer, int type, const void *body, tb_reply *r);
void tb_reply_clear(tb_reply *r);
/* "timeout", "refused: unknownPeer (text)", "unexpected pong": why r is not of type want. */
void tb_reply_problem(const tb_reply *r, int want, char *out, size_t len);
int tb_health_start(m2m_node *n, const char *peer, tb_reply *r);

/* ---- JSON lines (json.c) ---------------------------------------------------------------- */

struct tb_buf {
	char *data;
	size_t len, cap;
};

void tb_buf_printf(tb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tb_buf_json_str(tb_buf *b, const char *s);
void tb_buf_hex(tb_buf *b, const uint8_t *d, size_t len);
void tb_buf_free(tb_buf *b);
/* A member of one flat JSON object; 0 when found (strings unescaped), -1 otherwise. */
int tb_json_str(const char *line, const char *key, char *out, size_t len);
int tb_json_u64(const char *line, const char *key, uint64_t *out);

/* ---- charts (chart.c) ------------------------------------------------------------------- */

/* Writes RUNDIR/charts/NAME.msc from trace lines, and NAME.svg when mscgen is on PATH. */
int tb_chart_render(const char *rundir, const tb_topology *t, const char *name, const char *title,
		    const char *trace);

/* ---- scenarios (scenario.c, scenario_*.c) ------------------------------------------------ */

typedef struct tb_session {
	m2m_node *node;
	const tb_topology *topology;
	const char *rundir;
	long trace_from;  /* where this scenario's part of RUNDIR/trace.jsonl begins */
	int step;
} tb_session;

typedef struct tb_scenario {
	const char *name;
	const char *description;
	int (*run)(tb_session *s);  /* 0 when the expected outcome was reached */
} tb_scenario;

/* "step N: TEXT ..." without the verdict, which tb_step_ok or tb_step_fail prints. */
void tb_step(tb_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tb_step_ok(tb_session *s);
int tb_step_fail(tb_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int tb_scenario_ping(tb_session *s);
int tb_scenario_attach(tb_session *s);
int tb_scenario_swap(tb_session *s);
int tb_scenario_attack_imei_lock(tb_session *s);
int tb_scenario_attack_clone(tb_session *s);
int tb_scenario_attack_replay(tb_session *s);
int tb_scenario_attack_false_network(tb_session *s);
int tb_scenario_attack_apn(tb_session *s);
int tb_scenario_validate(tb_session *s);
int tb_scenario_1a(tb_session *s);
int tb_scenario_1a_change(tb_session *s);
int tb_scenario_1a_recover(tb_session *s);
int tb_scenario_3a(tb_session *s);
int tb_scenario_3a_recover(tb_session *s);
int tb_scenario_3b(tb_session *s);
int tb_scenario_3b_recover(tb_session *s);

/* ---- what scenarios do to devices (device.c) --------------------------------------------- */

/* One deviceControl: the action and whichever of its optional fields it needs. */
typedef struct tb_control {
	int action;  /* m2m_device_action */
	const char *card, *imei, *network, *apn;
	const uint8_t *data;
	size_t len;
} tb_control;

typedef struct tb_device_status {
	int powered;
	char imei[17], card[M2M_ENTITY_MAX + 1], iccid[21], imsi[16], attached_to[M2M_ENTITY_MAX + 1];
	uint8_t echo[1024];
	size_t echo_len;
} tb_device_status;

/* Sends one deviceControl; 0 with *st filled on a deviceStatus, else the reason of the error
 * (or of no answer) with why describing it. */
m2m_reason tb_device(tb_session *s, const char *device, const tb_control *c, tb_device_status *st, char *why,
		     size_t len);
/* A step that must be answered by deviceStatus (filled into st when not NULL). */
int tb_device_ok(tb_session *s, const char *device, const tb_control *c, tb_device_status *st, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));
/* A step that must be refused with exactly the reason want: the passing outcome of an attack. */
int tb_device_refused(tb_session *s, const char *device, const tb_control *c, m2m_reason want, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));
/* Powers on and checks that the device reads the card's IMSI. */
int tb_device_power_on(tb_session *s, const char *device, const char *card);
/* Attaches through network and checks that the device says it is attached there. */
int tb_device_attach(tb_session *s, const char *device, const char *network);
/* Sends data and checks that the decrypted echo is the same bytes. */
int tb_device_send(tb_session *s, const char *device, const char *text);


/* Protected data echoed back equal: the session the device names is one the network holds. 1
 * with the session's IMSI in imsi, or 0 with why. */
int tb_device_echoes(tb_session *s, const char *device, const char *text, char imsi[16], char *why, size_t len);

/* ---- after an interruption (recovery.c) --------------------------------------------------- */

/* A refusal or silence is shown ("\n  WHAT: WHY; again in 500 ms") and retried after a pause. */
#define TB_RETRY_PAUSE_MS 500
void tb_retry_note(const char *what, const char *why);
/* One move towards "powered on and attached through network": 1 when it already is (the IMSI of
 * its session into imsi), 0 after an action (powerOn or attach) or a refusal, to be asked again. */
int tb_device_ready_round(tb_session *s, const char *device, const char *network, char imsi[16]);
/* The plmn setting of an operator of the topology, or "". */
const char *tb_plmn_of(const tb_topology *t, const char *sho);
/* The last step of a recovery: the device, kept attached through network, sends text until its
 * echo comes back equal (until *deadline_us, pushed to at least 5 s from now), then says "(on A:
 * IMSI ...)" or "(on B: IMSI ...)" by the PLMN of sho_a or sho_b. 'A' or 'B' with the step left
 * open for the caller's own checks (it ends it), or -1 with the step failed. */
typedef struct tb_where {
	const char *device, *network, *sho_a, *sho_b, *text;
} tb_where;
int tb_recovered_where(tb_session *s, const tb_where *w, uint64_t *deadline_us, char imsi[16]);

/* A device and the card it should hold (NULL: none). */
typedef struct tb_fit {
	const char *device, *card;
} tb_fit;
/* The known state every Alternative 2 scenario starts from: every device of the topology powered
 * off (which detaches it) with its configured IMEI and only the cards of fits inserted, every
 * subscriber of the cards active. One step. */
int tb_known_state(tb_session *s, const tb_fit *fits, int nfits);

/* ---- what scenarios do to TREs (tre_control.c) ------------------------------------------- */

typedef struct tb_tre_status {
	int booted, secure_boot_ok, enrolled;
	unsigned tamper;  /* TB_TAMPER(m2m_tamper_event) */
	long pending;     /* tamper reports not yet acknowledged */
	int provisioning; /* m2m_provision_state of its procedure, -1 when none ran */
} tb_tre_status;

/* The name of a ProvisionState ("done", "uiccLoading"), "none" for -1. */
const char *tb_provision_state_name(int state);
/* One treControl (component and content only for modifyComponent); 0 with *st filled on a
 * treStatus, else the reason of the error (or of no answer) with why describing it. */
m2m_reason tb_tre(m2m_node *n, const char *tre, int action, const char *component, const char *content,
		  tb_tre_status *st, char *why, size_t len);
/* What a treStatus must say: secure_boot 1 (booted, every component matched), 0 (booted, secure
 * boot failed) or -1 (either); the tamper bits in set must be set, those in clear must not. */
typedef struct tb_tre_want {
	int secure_boot;
	unsigned set, clear;
} tb_tre_want;
#define TB_TAMPER(e) (1u << (e))
/* A step that must be answered by treStatus, like want when not NULL (st filled when not NULL). */
int tb_tre_ok(tb_session *s, const char *tre, int action, const char *component, const char *content,
	      const tb_tre_want *want, tb_tre_status *st, const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* ---- validations with the testbed as the relying party (validation.c) -------------------- */

#define TB_VERDICT_MAX_REASONS 16
/* A verdict the testbed checked: signed by the PVA under the agency's root, about the TRE asked,
 * addressed to the testbed, still valid. */
typedef struct tb_verdict {
	int result;  /* m2m_verdict_result */
	int mode;    /* m2m_validation_mode */
	int nreasons;
	m2m_reason reasons[TB_VERDICT_MAX_REASONS];
} tb_verdict;

const char *tb_mode_name(int mode);
/* validationRequest {tre, mode, min_assurance} to the TRE's agency as the relying party
 * "testbed"; 0 with *v filled from the checked verdict, else why. */
m2m_reason tb_validate(m2m_node *n, const tb_topology *t, const char *rundir, const char *tre, int mode,
		       int min_assurance, tb_verdict *v, char *why, size_t len);
/* A step: the verdict is ok (nwant 0), or fail with at least one of the nwant reasons. */
int tb_validation_expect(tb_session *s, const char *tre, int mode, int min_assurance, const m2m_reason *want,
			 int nwant, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* ---- subscribers (subscriber.c) ----------------------------------------------------------- */

/* The IMSI a card (or its original) carries, and its home operator's entity id. */
const char *tb_card_imsi(const tb_session *s, const char *card);
const char *tb_card_home(const tb_session *s, const char *card);
/* A tool's output, indented under the step that ran it. */
void tb_show_output(const char *text);
/* A step (its text from fmt) running `mno-admin ARGS...` at the home operator op: it must succeed. */
int tb_admin_step(tb_session *s, const char *op, const char *const *args, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A step running `mno-admin COMMAND IMSI` at the card's home operator (suspend, resume). */
int tb_subscriber_admin(tb_session *s, const char *command, const char *card, const char *why);
/* A step checking with `mno-admin show` that the subscriber of card is in state ("suspended",
 * "active"), and that the output mentions each of the NULL-terminated words (audit entries). */
int tb_subscriber_expect(tb_session *s, const char *card, const char *state, const char *const *words);
/* The same for the record of imsi at the home operator op. */
int tb_record_expect(tb_session *s, const char *op, const char *imsi, const char *state, const char *const *words);

/* ---- the subscriber of the testbed's devices (subscriber_key.c) -------------------------- */

/* The subscriber's name when the topology's cards name none (Alternative 1a only). */
#define TB_SUBSCRIBER_DEFAULT "subscriber"
/* At `up`: a fresh P-256 key in RUNDIR/keys/subscriber.key (PKCS#8 DER in hex, mode 0600) and a
 * self-signed certificate for it, CN id, in RUNDIR/keys/subscriber.crt (PEM). */
int tb_subscriber_key_write(const char *rundir, const char *id);
/* A self-signed certificate (CN id) for key, valid from an hour ago for two years; NULL on failure. */
X509 *tb_subscriber_self_signed(EVP_PKEY *key, const char *id);
int tb_subscriber_cert_path(char *out, size_t len, const char *rundir);
/* The key and the certificate `up` wrote; NULL after saying why. */
EVP_PKEY *tb_subscriber_key(const char *rundir);
X509 *tb_subscriber_cert(const char *rundir);
/* Its public half as Registration.subscriberKey (DER SubjectPublicKeyInfo); 0 or -1. */
int tb_subscriber_public(EVP_PKEY *key, ASN1_OCTET_STRING **out);
/* The subscriber's authorisation of a move of tre (in the M2ME of imei) from one SHO to
 * another: a fresh nonce, now, signed with key. NULL on failure. */
M2M_SUBSCRIBER_AUTHORISATION *tb_subscriber_authorise(EVP_PKEY *key, const char *tre, const char *imei,
						       const char *from, const char *to);

/* ---- a change of subscription at the DRF, 1a and 3b (change_request.c) --------------------- */

/* registrationRequest {device's IMEI, tre, sho, dpf = sho, the subscriber's public key}: a step. */
int tb_register_device(tb_session *s, const char *device, const char *tre, const char *sho);
typedef struct tb_change {
	const char *device, *tre, *from, *to;  /* to: SHO B, also its DPF */
} tb_change;
/* changeRequest {authorisation signed with signer, dpf}: M2M_OK with the changeId, or the
 * refusal's reason with why. */
m2m_reason tb_change_request(tb_session *s, EVP_PKEY *signer, const tb_change *c, uint8_t change_id[16], char *why,
			     size_t len);
/* A step: the change is refused with want. */
int tb_change_refused(tb_session *s, EVP_PKEY *signer, const tb_change *c, m2m_reason want, const char *what);
/* T-1a-9, T-3b-4 and A's contract lock: a change signed by another key than the subscriber's is
 * refused notAuthorised; the subscriber's own, while A locks imsi_a, contractLocked; the lock is
 * lifted. Steps; 0 or -1. */
int tb_change_refusals(tb_session *s, EVP_PKEY *subscriber, const tb_change *c, const char *imsi_a);

/* ---- Alternative 3a: the port of cards between operators (port_authorisation.c, port.c) --- */

/* The subscriber's authorisation to move the n cards iccids from one operator to another: a DER
 * CMS SignedData over PortAuthorisation by key with cert, OPENSSL_malloc'd into *der. 0 or -1. */
int tb_port_authorisation(EVP_PKEY *key, X509 *cert, const char *subscriber, const char *from, const char *to,
			  const char *const *iccids, size_t n, uint8_t **der, size_t *len);
/* The same written to path, signed with the run directory's subscriber key and certificate, or,
 * with signer, by a forger: that key and a self-signed certificate in the subscriber's name. */
int tb_port_authorise(const char *rundir, EVP_PKEY *signer, const char *from, const char *to,
		      const char *const *iccids, size_t n, const char *path);
int tb_cmd_authorise(tb_opts *o, int argc, char **argv);

#define TB_PORT_ID_HEX 32
/* RUNDIR/port/NAME+SUFFIX, the directory created when missing. */
int tb_port_path(char *out, size_t len, const char *rundir, const char *name, const char *suffix);
/* `mno-admin port start --from FROM --authorisation FILE` at the new operator to (its output
 * shown): 0 with the port's id, or -1 with why. */
int tb_port_start(tb_session *s, const char *to, const char *from, const char *authorisation,
		  char id[TB_PORT_ID_HEX + 1], char *why, size_t len);
/* `mno-admin port status ID` at op into out: the tool's exit status. */
int tb_port_status(const tb_session *s, const char *op, const char *id, tb_buf *out);
/* Polls the port's status at op until its state is one of the NULL-terminated states (its
 * index) or ms have passed (-1); the last status in *last (freed first, freed by the caller). */
int tb_port_wait(tb_session *s, const char *op, const char *id, const char *const *states, int ms, tb_buf *last);
/* A card of a port as `port status` at op prints it (a port of up to 50 cards): its new IMSI,
 * its state and its OTA job ("" when none: at A the rewrite, at B the key rotation). 0, or -1
 * when the status names no such card. */
typedef struct tb_port_card {
	char old_imsi[16], new_imsi[16], state[32], job[24];
} tb_port_card;
int tb_port_card_of(const tb_session *s, const char *op, const char *id, const char *iccid, tb_port_card *out);
/* RUNDIR/port/CARD.port: the port that moves a card, for whoever comes after an interruption. */
int tb_port_note(const char *rundir, const char *card, const char *id);
int tb_port_noted(const char *rundir, const char *card, char id[TB_PORT_ID_HEX + 1]);

/* ---- what scenarios expect in the trace (expect.c) ------------------------------------- */

/* A message as the trace shows it; summary, when set, must occur in its body summary
 * ("cause=1", "reason=imeiNotAllowed", "apdu=0088": AUTHENTICATE). */
typedef struct tb_msg {
	const char *from, *to, *type, *summary;
} tb_msg;
/* Microseconds since the epoch, the trace's clock. */
uint64_t tb_now_us(void);
/* A step: from since_us on (0: since this scenario began), the trace holds msgs in this order
 * in time (the recorder is given a moment to catch up). */
int tb_expect_flow(tb_session *s, const char *what, const tb_msg *msgs, int n, uint64_t since_us);
/* A step: the trace shows a whole successful attach of device with card through network from
 * since_us on: attachRequest, authInfoRequest/Response with the card's home operator,
 * authChallenge, AUTHENTICATE on the card (apduCommand/apduResponse 90 00), authResponse,
 * updateLocation/Ack, attachAccept. */
int tb_expect_attach(tb_session *s, const char *device, const char *card, const char *network, uint64_t since_us);
/* A step: no message like m appears in the trace after since_us. */
int tb_expect_none(tb_session *s, const char *what, const tb_msg *m, uint64_t since_us);

const tb_scenario *tb_scenario_find(const char *name);
/* Runs one scenario against the running testbed and renders its chart, printing the chart's
 * text too with print_contents; 0 when the scenario passed. */
int tb_scenario_run(const tb_opts *o, const tb_scenario *sc, int print_contents);
void tb_scenarios_list(FILE *out);
extern const tb_scenario tb_scenarios[];  /* ends with a NULL name */

#endif
