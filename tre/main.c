/*
 * tre: the trusted environment of the M2M equipment (tre.h, docs/tre.md).
 *
 *   tre = { storage_key_file = "/run/keys/tre-1.storage";   # 64 hex digits: seals the attestation key, credentials
 *           agency = "certauth";                            # enrolment and platform type (a peer with an endpoint)
 *           enrolment_secret_file = "/run/keys/tre-1.enrol"; # 32..128 hex digits the agency gave this TRE
 *           root_certificate = "/run/keys/root.pem";        # the agency's root (PEM or DER)
 *           model = "acme-m2m-tre"; version = "1.0"; assurance_level = 4;
 *           pva = "certauth";                  # the only entity whose attestationChallenge is answered
 *           controller = "testbed";            # the only entity whose treControl is obeyed (default)
 *           report_to = ( "certauth", "mno-a" );  # tamper reports (default: the pva)
 *           tamper_reaction = "refuse";        # or "zeroise" (default: refuse)
 *           components = (                     # measured in this order at every boot
 *             { name = "boot-rom"; file = "/run/tre-1/boot-rom.bin"; register = 0; },
 *             { name = "tre-code"; file = "/run/tre-1/tre-code.bin"; register = 1; } );
 *           m2me = "m2me-1";                   # its M2ME: credentials, AKA, provisioning (a peer)
 *           m2me_id = "356938035643809";       # the M2ME's IMEI (M2ME_ID of the discovery)
 *           drf = "drf";                       # the registration operator (default drf)
 *           switch_seconds = 30;               # a change of subscription: time to attach with the new MCIM
 *           trigger_window = 600;              # 3b: how far a treTrigger's issuedAt may be from now (s)
 *           pcid_file = "/run/tre-1/pcid"; };  # the factory's PCID, imported once then deleted
 *
 * At first start the key pair is generated; the TRE then enrols and fetches its platform type
 * in the background (repeated until it succeeds) while it serves requests.
 */
#include "tre.h"

#include <stdlib.h>

static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	tre *t = calloc(1, sizeof *t);
	m2m_daemon_set_ctx(d, t);
	tre_settings_read(c, group, &t->s, &t->root);
}

static int start(m2m_daemon *d)
{
	tre *t = m2m_daemon_ctx(d);
	if (tre_open(t, m2m_daemon_entity(d), m2m_daemon_db(d), m2m_daemon_node(d)))
		return -1;
	return tre_power_on(t);
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	tre *t = m2m_daemon_ctx(d);
	/* a switch whose deadline passed since the last tick is rolled back before anything is answered */
	tre_switch_expire(t);
	switch (req->env.type) {
	case M2M_MSG_ATTESTATION_CHALLENGE:
		tre_attest(t, req);
		break;
	case M2M_MSG_TRE_CONTROL:
		tre_control(t, req);
		break;
	case M2M_MSG_TRE_CREDENTIAL_REQUEST:
		tre_credential_request(t, req);
		break;
	case M2M_MSG_TRE_AKA_REQUEST:
		tre_aka(t, req);
		break;
	case M2M_MSG_TRE_PROVISION:
		tre_provision(t, req);
		break;
	case M2M_MSG_MCIM_COMMAND:
		tre_mcim_command(t, req);
		break;
	case M2M_MSG_TRE_ATTACHED:
		tre_attached(t, req);
		break;
	case M2M_MSG_TRE_TRIGGER:
		tre_trigger(t, req);
		break;
	default:
		m2m_refuse(t->node, req, M2M_R_UNEXPECTED_MESSAGE,
			   "a tre serves attestationChallenge, treControl, treCredentialRequest, treAkaRequest, "
			   "treProvision, treAttached, mcimCommand and treTrigger, not %s", m2m_msgtype_name(req->env.type));
	}
}

/* The frame calls this about once a second and after every event: retries come due (retry.c). */
static void tick(m2m_daemon *d)
{
	tre_tick(m2m_daemon_ctx(d));
}

static void stop(m2m_daemon *d)
{
	tre *t = m2m_daemon_ctx(d);
	if (!t)
		return;
	tre_close(t);
	free(t);
	m2m_daemon_set_ctx(d, NULL);
}

static const m2m_role role = {
	.name = "tre",
	.description = "the trusted environment of the M2M equipment: keys, measurements, attestation, PCID and MCIMs",
	.schema = &tre_schema,
	.configure = configure,
	.start = start,
	.dispatch = dispatch,
	.tick = tick,
	.stop = stop,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
