/*
 * purge: the visited network reports that the device detached. The location is cleared only if
 * that network holds it: a late purge from a network the IMSI has since left changes nothing.
 * Allowed in any state but unknown, so that a suspended subscriber's location can be cleared.
 */
#include "hss/hss_impl.h"

#include <stdio.h>
#include <string.h>

m2m_reason hss_purge_at(hss_context *h, const char *network, const char *imsi, int *cleared)
{
	hss_subscriber s;
	hss_location loc;
	*cleared = 0;
	int rc = hss_subscriber_load(h->db, NULL, imsi, &s);
	if (rc)
		return rc > 0 ? M2M_R_NOT_FOUND : M2M_R_INTERNAL;
	rc = hss_location_get(h->db, imsi, &loc);
	if (rc)
		return rc > 0 ? M2M_OK : M2M_R_INTERNAL;
	if (strcmp(loc.network, network))
		return M2M_OK;
	if (hss_location_clear(h->db, imsi) ||
	    hss_audit(h->db, network, imsi, "purge", "detached from %s (IMEI %s)", network, loc.imei))
		return M2M_R_INTERNAL;
	*cleared = 1;
	return M2M_OK;
}

void hss_purge(hss_context *h, m2m_request *req)
{
	const M2M_PURGE *q = req->env.body;
	char imsi[HSS_IMSI_MAX + 1];
	int cleared;
	if (hss_request_imsi(h, req, q->imsi, q->serving_network, imsi))
		return;
	m2m_reason r = hss_purge_at(h, req->env.sender, imsi, &cleared);
	if (r != M2M_OK) {
		m2m_refuse(h->node, req, r, "IMSI %s: %s", imsi,
			   r == M2M_R_NOT_FOUND ? "not a subscriber here" : "its location cannot be cleared");
		return;
	}
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(h->node, req, M2M_MSG_PURGE_ACK, nothing);
	ASN1_NULL_free(nothing);
}
