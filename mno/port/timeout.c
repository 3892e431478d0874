/*
 * B gives up a port A accepted but never transferred (docs/alt3a.md, "States"): after
 * transfer_timeout_seconds in accepted (default 1 day), in a transaction of the tick's own, the
 * port becomes failed with reason timeout and the new IMSIs allocated for it are deleted: their
 * pending records hold no key yet, and no other port or subscription could take them meanwhile.
 * A's transfer, should it come later, is refused wrongState, which fails A's port with its cards
 * untouched (A rewrites nothing before B acknowledged).
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"

#include <stdio.h>
#include <time.h>

static void time_out(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	port_row p;
	char why[300], id_hex[2 * PORT_ID_LEN + 1];
	if (port_find(port->db, id, &p) || p.state != PORT_ACCEPTED ||
	    (int64_t)time(NULL) - p.changed < port->settings.transfer_timeout_s || m2m_store_begin(port->db)) {
		port_row_clear(&p);
		return;
	}
	m2m_hex(id, PORT_ID_LEN, id_hex);
	snprintf(why, sizeof why, "%s accepted the port but transferred nothing within %d s", p.peer,
		 port->settings.transfer_timeout_s);
	if (port_set_state(port->db, id, PORT_FAILED, M2M_R_TIMEOUT, why) || port_release_imsis(port->db, id, why) ||
	    m2m_store_commit(port->db)) {
		m2m_store_rollback(port->db);
		m2m_error("port %s: its timeout cannot be stored", id_hex);
	} else
		m2m_warn("port %s failed: %s; its %ld new IMSI(s) deleted", id_hex, why, p.devices);
	port_row_clear(&p);
}

void port_timeout_tick(port_context *port)
{
	port_each(port, PORT_IN, PORT_ACCEPTED, time_out);
}
