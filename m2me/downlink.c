/*
 * What the device takes from the network it is attached through (docs/m2me-ota.md,
 * docs/alt3b.md): an smsDeliver for its card (sms.c) and a treTrigger for its TRE (trigger.c)
 * pass the same checks, so that neither reaches the card or the TRE from another network, for
 * another IMSI than the session's, or in the middle of another procedure.
 */
#include "device.h"

#include <stdio.h>
#include <string.h>

m2m_reason m2me_downlink_admit(const m2me_device *dev, const char *sender, const char *imsi, const char *card_use,
			       char *why, size_t len)
{
	const m2me_state *st = &dev->state;
	const m2me_session *s = &st->session;
	if (card_use && !st->card[0])
		return snprintf(why, len, "the slot is empty: no card takes %s", card_use), M2M_R_NO_CARD;
	if (!st->powered || !st->attached || strcmp(s->network, sender))
		return snprintf(why, len, "not attached through %s", sender), M2M_R_NOT_ATTACHED;
	if (strcmp(s->imsi, imsi))
		return snprintf(why, len, "the session through %s is not IMSI %s's", sender, imsi), M2M_R_NOT_ATTACHED;
	if (card_use && (s->via_tre || !st->card_read))
		return snprintf(why, len, "IMSI %s is the TRE's credential: no card takes %s", imsi, card_use),
		       M2M_R_NO_CARD;
	if (dev->proc.active)
		return snprintf(why, len, "busy: %s in progress, try again", m2me_procedure_name(&dev->proc)),
		       M2M_R_WRONG_STATE;
	return M2M_OK;
}
