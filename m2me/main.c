/*
 * m2me: the M2M equipment, the device that holds the operator's UICC, attaches through a
 * visited network with AKA run on its card, carries protected user data, and hands the SMS-PP
 * downloads of the card's operator to the card (device.h).
 *
 *   m2me = { imei = "356938035643809";     # 15 digits, Luhn check digit
 *            network = "mno-v";            # the visited operator attach uses by default
 *            apn = "m2m.meter";            # the APN attach asks for by default
 *            card = "uicc-1";              # optional: the card in the slot at first boot
 *            tre = "tre-3";                # optional: the device's TRE (Alternative 1a)
 *            provisioning_apn = "m2m.provisioning";  # the APN of an attach with the TRE's PCID
 *            storage_key_file = "..."; };  # 64 hex digits: seals the session key
 *
 * The network, the card and the TRE must be peers with an endpoint. The settings give the
 * device's state at its first start only (the TRE excepted: it is part of the equipment): from
 * then on its database says where it was.
 */
#include "device.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {M2M_NODE_SCHEMA M2ME_SCHEMA_V1, M2ME_SCHEMA_V2, M2ME_SCHEMA_V3,
				       M2ME_SCHEMA_V4};
static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};

/* ---- configure ------------------------------------------------------------------------------ */

/* An APN setting of 1..M2ME_APN_MAX characters into out (dflt when absent and optional). */
static void read_apn(m2m_conf *c, config_setting_t *group, const char *name, const char *dflt, char *out)
{
	const char *apn = m2m_conf_str(c, group, name, dflt, !dflt);
	if (apn && (!apn[0] || strlen(apn) > M2ME_APN_MAX))
		m2m_conf_fail(c, config_setting_get_member(group, name), "must be 1..%d characters", M2ME_APN_MAX);
	else if (apn)
		snprintf(out, M2ME_APN_MAX + 1, "%s", apn);
}

/* Copies an entity setting that must name a callable peer. */
static void read_peer_setting(m2m_conf *c, config_setting_t *group, const char *name, int required, char *out,
			      size_t len)
{
	const char *id = m2m_conf_str(c, group, name, "", required);
	if (!id || !id[0])
		return;
	int endpoint = 0;
	if (strlen(id) >= len || !m2m_conf_is_peer(c, id, &endpoint) || !endpoint)
		m2m_conf_fail(c, config_setting_get_member(group, name), "%s is not a peer with an endpoint", id);
	else
		snprintf(out, len, "%s", id);
}

static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	static const char *const names[] = {"imei", "network", "apn", "card", "tre", "provisioning_apn",
					    "storage_key_file", NULL};
	m2me_device *dev = calloc(1, sizeof *dev);
	m2me_settings *s = &dev->settings;
	m2m_daemon_set_ctx(d, dev);
	if (!group) {
		m2m_conf_fail(c, NULL, "m2me: missing (imei, network, apn, storage_key_file)");
		return;
	}
	m2m_conf_only(c, group, names);
	const char *imei = m2m_conf_str(c, group, "imei", NULL, 1);
	if (imei && !m2me_imei_valid(imei))
		m2m_conf_fail(c, config_setting_get_member(group, "imei"), "must be 15 digits with a valid check digit");
	else if (imei)
		snprintf(s->imei, sizeof s->imei, "%s", imei);
	read_peer_setting(c, group, "network", 1, s->network, sizeof s->network);
	read_apn(c, group, "apn", NULL, s->apn);
	read_apn(c, group, "provisioning_apn", "m2m.provisioning", s->provisioning_apn);
	read_peer_setting(c, group, "card", 0, s->card, sizeof s->card);
	read_peer_setting(c, group, "tre", 0, s->tre, sizeof s->tre);
	m2m_conf_key_file(c, group, "storage_key_file", s->storage_key, 32);
}

/* ---- the role ------------------------------------------------------------------------------- */

static int start(m2m_daemon *d)
{
	m2me_device *dev = m2m_daemon_ctx(d);
	dev->node = m2m_daemon_node(d);
	dev->db = m2m_daemon_db(d);
	return m2me_store_load(dev);
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	m2me_device *dev = m2m_daemon_ctx(d);
	if (req->env.type == M2M_MSG_DEVICE_CONTROL)
		m2me_control(dev, req);
	else if (req->env.type == M2M_MSG_SMS_DELIVER)
		m2me_sms_deliver(dev, req);
	else if (req->env.type == M2M_MSG_TRE_TRIGGER)
		m2me_tre_trigger(dev, req);
	else
		m2m_refuse(m2m_daemon_node(d), req, M2M_R_UNEXPECTED_MESSAGE, "m2me serves deviceControl, smsDeliver and"
			   " treTrigger, not %s", m2m_msgtype_name(req->env.type));
}

/* An OTA on the card that a restart or a silent card left unsettled is settled from here, before
 * the provisioning the TRE's trigger asked for starts (3b: it follows the card). */
static void tick(m2m_daemon *d)
{
	m2me_ota_tick(m2m_daemon_ctx(d));
	m2me_provision_tick(m2m_daemon_ctx(d));
}

static void stop(m2m_daemon *d)
{
	m2me_device *dev = m2m_daemon_ctx(d);
	if (!dev)
		return;
	m2m_wipe(dev, sizeof *dev);  /* the storage key, the session key, CK and IK of an attach */
	free(dev);
	m2m_daemon_set_ctx(d, NULL);
}

static const m2m_role role = {
	.name = "m2me",
	.description = "the M2M equipment: attaches with its card or its TRE, carries user data and provisioning",
	.schema = &schema,
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
