/*
 * 1a: Alternative 1a of TR 33.812 (clause 5.1, docs/alt1a.md). m2me-3 has no card: its TRE
 * (tre-3) left the factory with a PCID from the registration operator's pool and no MCIM. The
 * subscriber registers the device with operator A at the DRF; the device attaches with the PCID
 * (AKA inside the TRE, vectors from the ICF) into a walled garden, where user data is refused;
 * it discovers A through the DRF, A has the TRE validated by the PVA, generates an MCIM and sends
 * it encrypted to the TRE's key; the TRE installs it and confirms; the device re-attaches with
 * the MCIM's IMSI to A's HSS and its data then travels protected.
 */
#include "testbed.h"

#include "wire/read.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE "m2me-3"
#define TRE "tre-3"
#define NETWORK "mno-v"
#define SHO "mno-a"

static const char *icf(const tb_session *s)
{
	return tb_registration_operator(s->topology);
}

static int imsi_of_plmn(tb_session *s, const tb_device_status *st, const char *plmn, const char *what)
{
	if (strncmp(st->imsi, plmn, strlen(plmn)) || strcmp(st->attached_to, NETWORK))
		return tb_step_fail(s, "%s: the device says IMSI %s attached to %s", what, st->imsi[0] ? st->imsi : "none",
				    st->attached_to[0] ? st->attached_to : "nothing");
	return 0;
}

static int pcid_attach(tb_session *s, uint64_t since)
{
	tb_device_status st;
	tb_control on = {.action = M2M_DEV_POWER_ON}, at = {.action = M2M_DEV_ATTACH, .network = NETWORK};
	if (tb_device_ok(s, DEVICE, &on, &st, "%s powers on: secure boot in %s, no card", DEVICE, TRE) ||
	    tb_device_ok(s, DEVICE, &at, &st, "%s attaches through %s with the PCID %s holds", DEVICE, NETWORK, TRE))
		return -1;
	tb_step(s, "the device uses a PCID from the registration operator's range (00109)");
	if (imsi_of_plmn(s, &st, "00109", "not a PCID session"))
		return -1;
	tb_step_ok(s);
	const tb_msg flow[] = {
		{DEVICE, TRE, "treCredentialRequest", NULL},
		{DEVICE, NETWORK, "attachRequest", "imsi=00109"},
		{NETWORK, icf(s), "authInfoRequest", "imsi=00109"},
		{DEVICE, TRE, "treAkaRequest", NULL},
		{NETWORK, icf(s), "updateLocation", "imsi=00109"},
		{NETWORK, DEVICE, "attachAccept", NULL},
	};
	return tb_expect_flow(s, "the visited network routes the PCID to the ICF; AKA runs in the TRE", flow, 6, since);
}

static int walled_garden(tb_session *s)
{
	tb_control c = {.action = M2M_DEV_SEND_DATA, .data = (const uint8_t *)"to the internet", .len = 15};
	return tb_device_refused(s, DEVICE, &c, M2M_R_WALLED_GARDEN,
				 "user data on the PCID session is refused: a walled garden (T-1a-7)");
}

static int provision(tb_session *s, uint64_t since)
{
	tb_device_status st;
	tb_control c = {.action = M2M_DEV_PROVISION};
	if (tb_device_ok(s, DEVICE, &c, &st, "%s provisions: discovery, registration, validation, MCIM download", DEVICE))
		return -1;
	tb_step(s, "the device now attaches with the MCIM's IMSI from %s's range (00101)", SHO);
	if (imsi_of_plmn(s, &st, "00101", "not on the MCIM"))
		return -1;
	tb_step_ok(s);
	/* A tells the DRF (provisioned) as it acknowledges the install, while the device goes on to
	 * attach: the two follow the install result in either order, so they are two flows */
	const tb_msg flow[] = {
		{DEVICE, NETWORK, "relayRequest", "messageType=discoveryRequest"},
		{NETWORK, icf(s), "discoveryRequest", NULL},
		{icf(s), NETWORK, "discoveryResponse", NULL},
		{NETWORK, SHO, "mcimRequest", NULL},
		{SHO, "certauth", "validationRequest", "tre=" TRE},
		{"certauth", TRE, "attestationChallenge", NULL},
		{"certauth", SHO, "validationResponse", NULL},
		{SHO, NETWORK, "mcimPackage", NULL},
		{DEVICE, TRE, "treProvision", NULL},
		{NETWORK, SHO, "installResult", NULL},
		{SHO, NETWORK, "installAck", NULL},
		{DEVICE, NETWORK, "attachRequest", "imsi=00101"},
		{NETWORK, SHO, "authInfoRequest", "imsi=00101"},
		{NETWORK, DEVICE, "attachAccept", NULL},
	};
	const tb_msg told[] = {
		{NETWORK, SHO, "installResult", NULL},
		{SHO, icf(s), "provisioned", NULL},
	};
	return tb_expect_flow(s, "ticket from the DRF, fresh verdict from the PVA, package, install, confirmation, "
				 "operational attach",
			      flow, (int)(sizeof flow / sizeof flow[0]), since) ||
	       tb_expect_flow(s, "the DPF tells the DRF the MCIM is installed (the PCID is released)", told, 2, since);
}

/* The newest file in RUNDIR/mcim-export ending in .cms, into path. */
static int exported_package(const tb_session *s, char *path, size_t len)
{
	char dir[PATH_MAX];
	if (tb_path(dir, sizeof dir, s->rundir, "mcim-export", ""))
		return -1;
	DIR *d = opendir(dir);
	int found = -1;
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n > 4 && !strcmp(e->d_name + n - 4, ".cms") && !tb_path(path, len, dir, e->d_name, ""))
			found = 0;
	}
	if (d)
		closedir(d);
	return found;
}

/* Anyone can look at the package with openssl: an AuthEnvelopedData, AES-256-GCM, one key
 * agreement recipient (the TRE), and nothing of the MCIM in clear. */
static int package_is_enveloped(tb_session *s)
{
	char path[PATH_MAX], cmd[PATH_MAX + 96];
	tb_step(s, "%s exported the package: `openssl cms -cmsout -print` shows AuthEnvelopedData, AES-256-GCM, "
		   "an ECDH recipient", SHO);
	if (exported_package(s, path, sizeof path))
		return tb_step_fail(s, "no .cms file in %s/mcim-export", s->rundir);
	snprintf(cmd, sizeof cmd, "openssl cms -cmsout -print -inform DER -in '%s' 2>&1", path);
	FILE *p = popen(cmd, "r");
	char line[512];
	int enveloped = 0, gcm = 0, kari = 0;
	while (p && fgets(line, sizeof line, p)) {
		enveloped |= strstr(line, "authEnvelopedData") != NULL;
		gcm |= strstr(line, "aes-256-gcm") != NULL;
		kari |= strstr(line, "d.kari") != NULL;
	}
	int rc = p ? pclose(p) : -1;
	if (rc || !enveloped || !gcm || !kari)
		return tb_step_fail(s, "%s: openssl says status %d, authEnvelopedData %s, aes-256-gcm %s, kari %s", path, rc,
				    enveloped ? "yes" : "no", gcm ? "yes" : "no", kari ? "yes" : "no");
	return tb_step_ok(s);
}

int tb_scenario_1a(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, NULL}};
	if (tb_known_state(s, fits, 1) || tb_register_device(s, DEVICE, TRE, SHO))
		return -1;
	uint64_t since = tb_now_us();
	if (pcid_attach(s, since) || walled_garden(s))
		return -1;
	since = tb_now_us();
	if (provision(s, since) || package_is_enveloped(s) || tb_device_send(s, DEVICE, "meter 0007: 88.1 kWh"))
		return -1;
	printf("outcome: %s, delivered with only a PCID, was validated, received its MCIM from %s encrypted to its "
	       "TRE's key, and now works on %s's subscription\n",
	       DEVICE, SHO, SHO);
	return 0;
}
