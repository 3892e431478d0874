/* Which body template belongs to which message type: the Messages object set of the module. */
#include "wire/wire.h"

#include <openssl/asn1t.h>
#include <stddef.h>

static const m2m_msgdef msgdefs[] = {
	{M2M_MSG_ERROR, "error", ASN1_ITEM_ref(M2M_ERROR_REPORT)},
	{M2M_MSG_HEALTH_REQUEST, "healthRequest", ASN1_ITEM_ref(ASN1_NULL)},
	{M2M_MSG_HEALTH_RESPONSE, "healthResponse", ASN1_ITEM_ref(M2M_HEALTH_RESPONSE)},
	{M2M_MSG_PING, "ping", ASN1_ITEM_ref(M2M_PING)},
	{M2M_MSG_PONG, "pong", ASN1_ITEM_ref(M2M_PING)},
	{M2M_MSG_PING_PEERS_REQUEST, "pingPeersRequest", ASN1_ITEM_ref(M2M_PING_PEERS_REQUEST)},
	{M2M_MSG_PING_PEERS_RESPONSE, "pingPeersResponse", ASN1_ITEM_ref(M2M_PING_PEERS_RESPONSE)},
};

const m2m_msgdef *m2m_msgdef_find(int type)
{
	for (size_t i = 0; i < sizeof msgdefs / sizeof msgdefs[0]; i++)
		if (msgdefs[i].type == type)
			return &msgdefs[i];
	return NULL;
}

const char *m2m_msgtype_name(int type)
{
	const m2m_msgdef *d = m2m_msgdef_find(type);
	return d ? d->name : NULL;
}
