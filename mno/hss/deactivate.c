/*
 * The end of a subscription whose device moved to another operator on this operator's card
 * (Alternative 3b, docs/alt3b.md: the new operator wrote its own credentials into the card, the
 * device attached with them, and the registration operator released the old IMSI). Everything
 * this operator held to reach that card goes, in the caller's transaction: the record is deleted
 * (K, OPc and the card keys erased, not flagged: crypto-shredding; the location cleared; audited),
 * the card's OTA keysets are deleted and its OTA jobs not ended cancelled, and its owner is
 * forgotten. A record the staff deleted already keeps its audit trail as it is.
 */
#include "hss/owner.h"
#include "hss/provision.h"

#include "ota/ota.h"

hss_outcome hss_deactivate_in(sqlite3 *db, const char *imsi, const char *iccid, const char *actor, const char *why,
			      char *err, size_t len)
{
	hss_subscriber s;
	int rc = hss_subscriber_load(db, NULL, imsi, &s);
	hss_outcome r = rc < 0 ? hss_db_failed(db, err, len)
		      : rc == 0 && s.state == HSS_DELETED ? HSS_DONE
		      : hss_change_in(db, imsi, HSS_CHANGE_DELETE, actor, err, len);  /* also: no such subscriber */
	if (r == HSS_DONE &&
	    (ota_job_cancel_card(db, iccid, why) || ota_keyset_delete_card(db, iccid) || hss_owner_release(db, iccid)))
		r = hss_db_failed(db, err, len);
	return r;
}
