/*
 * The TRE's life: opening its state at power-on, booting, closing. A power-on of the process is
 * a power-on of the device: the registers start from zero and every component is measured again
 * (once the reference values are known: the very first boot waits for them, platform.c).
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tre_open(tre *t, const char *entity, sqlite3 *db, m2m_node *node)
{
	snprintf(t->entity, sizeof t->entity, "%s", entity);
	t->db = db;
	t->node = node;
	/* deleted rows (a zeroised slot) are overwritten, not merely unlinked */
	if (m2m_store_exec(db, "PRAGMA secure_delete = ON"))
		return -1;
	/* the CRL is checked against the chain, and the platform type against both */
	return tre_keystore_open(t) || tre_crl_load(t) || tre_platform_load(t) || tre_tamper_load(t) || tre_pcid_import(t)
		       ? -1
		       : 0;
}

int tre_power_on(tre *t)
{
	if (t->have_refs) {
		if (m2m_store_begin(t->db))
			return -1;
		if (tre_boot(t)) {
			m2m_store_rollback(t->db);
			return -1;
		}
		if (m2m_store_commit(t->db))
			return -1;
	} else {
		m2m_info("no certified reference values yet: the first boot waits for the platform type of %s %s",
			 t->s.model, t->s.version);
	}
	tre_tick(t);
	return 0;
}

void tre_close(tre *t)
{
	tre_keystore_close(t);
	free(t->crl);
	t->crl = NULL;
	X509_free(t->root);
	t->root = NULL;
	m2m_wipe(&t->s, sizeof t->s);  /* the storage key and the enrolment secret */
}
