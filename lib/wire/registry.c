/* Which body template belongs to which message type: the Messages object set of the module. */
#include "wire/wire.h"

#include <openssl/asn1t.h>
#include <stddef.h>
#include <string.h>

/* Keeps the length, so that a trace still shows the shape of the message. */
static void zero(ASN1_OCTET_STRING *s)
{
	static const unsigned char zeros[256];
	if (s && ASN1_STRING_length(s) > 0 && ASN1_STRING_length(s) <= (int)sizeof zeros)
		ASN1_STRING_set(s, zeros, ASN1_STRING_length(s));
	else if (s)
		ASN1_STRING_set(s, NULL, 0);
}

static void redact_enrolment(void *body)
{
	zero(((M2M_ENROL_REQUEST *)body)->authorisation);
}

static void redact_vectors(void *body)
{
	M2M_AUTH_INFO_RESPONSE *v = body;
	for (int i = 0; i < sk_M2M_AUTH_VECTOR_num(v); i++) {
		M2M_AUTH_VECTOR *av = sk_M2M_AUTH_VECTOR_value(v, i);
		zero(av->xres);
		zero(av->ck);
		zero(av->ik);
		zero(av->kc);
	}
}

static void redact_pcids(void *body)
{
	M2M_PCID_ASSIGN_RESPONSE *v = body;
	for (int i = 0; i < sk_M2M_PCID_CREDENTIAL_num(v); i++) {
		M2M_PCID_CREDENTIAL *c = sk_M2M_PCID_CREDENTIAL_value(v, i);
		zero(c->k);
		zero(c->opc);
	}
}

/* RES is not secret (it crosses the radio); CK and IK are. */
static void redact_tre_aka(void *body)
{
	M2M_TRE_AKA_RESPONSE *r = body;
	zero(r->ck);
	zero(r->ik);
}

/* An AUTHENTICATE answer: 3G context "DB" RES CK IK [Kc] (TS 31.102 7.1.2.1), or GSM context
 * 04 SRES 08 Kc. Any other response data is file content or status, not key material. */
static void redact_apdu_response(void *body)
{
	M2M_APDU_RESPONSE *r = body;
	const unsigned char *d = ASN1_STRING_get0_data(r->data);
	int n = ASN1_STRING_length(r->data);
	if (n > 0 && (d[0] == 0xdb || (n == 14 && d[0] == 4 && d[5] == 8)))
		zero(r->data);
}

static const m2m_msgdef msgdefs[] = {
	{M2M_MSG_ERROR, "error", ASN1_ITEM_ref(M2M_ERROR_REPORT), NULL},
	{M2M_MSG_HEALTH_REQUEST, "healthRequest", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_HEALTH_RESPONSE, "healthResponse", ASN1_ITEM_ref(M2M_HEALTH_RESPONSE), NULL},
	{M2M_MSG_PING, "ping", ASN1_ITEM_ref(M2M_PING), NULL},
	{M2M_MSG_PONG, "pong", ASN1_ITEM_ref(M2M_PING), NULL},
	{M2M_MSG_PING_PEERS_REQUEST, "pingPeersRequest", ASN1_ITEM_ref(M2M_PING_PEERS_REQUEST), NULL},
	{M2M_MSG_PING_PEERS_RESPONSE, "pingPeersResponse", ASN1_ITEM_ref(M2M_PING_PEERS_RESPONSE), NULL},
	{M2M_MSG_APDU_COMMAND, "apduCommand", ASN1_ITEM_ref(M2M_APDU_COMMAND), NULL},
	{M2M_MSG_APDU_RESPONSE, "apduResponse", ASN1_ITEM_ref(M2M_APDU_RESPONSE), redact_apdu_response},
	{M2M_MSG_CARD_RESET, "cardReset", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_CARD_ATR, "cardAtr", ASN1_ITEM_ref(M2M_CARD_ATR), NULL},
	{M2M_MSG_ATTACH_REQUEST, "attachRequest", ASN1_ITEM_ref(M2M_ATTACH_REQUEST), NULL},
	{M2M_MSG_AUTH_CHALLENGE, "authChallenge", ASN1_ITEM_ref(M2M_AUTH_CHALLENGE), NULL},
	{M2M_MSG_AUTH_RESPONSE, "authResponse", ASN1_ITEM_ref(M2M_AUTH_RESPONSE), NULL},
	{M2M_MSG_AUTH_FAILURE, "authFailure", ASN1_ITEM_ref(M2M_AUTH_FAILURE), NULL},
	{M2M_MSG_ATTACH_ACCEPT, "attachAccept", ASN1_ITEM_ref(M2M_ATTACH_ACCEPT), NULL},
	{M2M_MSG_DETACH_REQUEST, "detachRequest", ASN1_ITEM_ref(M2M_DETACH_REQUEST), NULL},
	{M2M_MSG_DETACH_ACCEPT, "detachAccept", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_PROTECTED_DATA, "protectedData", ASN1_ITEM_ref(M2M_PROTECTED_DATA), NULL},
	{M2M_MSG_PROTECTED_DATA_ECHO, "protectedDataEcho", ASN1_ITEM_ref(M2M_PROTECTED_DATA), NULL},
	{M2M_MSG_AUTH_INFO_REQUEST, "authInfoRequest", ASN1_ITEM_ref(M2M_AUTH_INFO_REQUEST), NULL},
	{M2M_MSG_AUTH_INFO_RESPONSE, "authInfoResponse", ASN1_ITEM_ref(M2M_AUTH_INFO_RESPONSE), redact_vectors},
	{M2M_MSG_UPDATE_LOCATION, "updateLocation", ASN1_ITEM_ref(M2M_UPDATE_LOCATION), NULL},
	{M2M_MSG_UPDATE_LOCATION_ACK, "updateLocationAck", ASN1_ITEM_ref(M2M_SUBSCRIPTION_PROFILE), NULL},
	{M2M_MSG_PURGE, "purge", ASN1_ITEM_ref(M2M_PURGE), NULL},
	{M2M_MSG_PURGE_ACK, "purgeAck", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_CANCEL_LOCATION, "cancelLocation", ASN1_ITEM_ref(M2M_CANCEL_LOCATION), NULL},
	{M2M_MSG_CANCEL_LOCATION_ACK, "cancelLocationAck", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_DEVICE_CONTROL, "deviceControl", ASN1_ITEM_ref(M2M_DEVICE_CONTROL), NULL},
	{M2M_MSG_DEVICE_STATUS, "deviceStatus", ASN1_ITEM_ref(M2M_DEVICE_STATUS), NULL},
	/* certification agency and platform validation: public keys, certificates, signed objects,
	 * measurements; nothing secret crosses, so no redaction */
	{M2M_MSG_ENROL_REQUEST, "enrolRequest", ASN1_ITEM_ref(M2M_ENROL_REQUEST), redact_enrolment},
	{M2M_MSG_ENROL_RESPONSE, "enrolResponse", ASN1_ITEM_ref(M2M_ENROL_RESPONSE), NULL},
	{M2M_MSG_CRL_REQUEST, "crlRequest", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_CRL_RESPONSE, "crlResponse", ASN1_ITEM_ref(M2M_CRL_RESPONSE), NULL},
	{M2M_MSG_PLATFORM_TYPE_REQUEST, "platformTypeRequest", ASN1_ITEM_ref(M2M_PLATFORM_TYPE_REQUEST), NULL},
	{M2M_MSG_PLATFORM_TYPE_RESPONSE, "platformTypeResponse", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_VALIDATION_REQUEST, "validationRequest", ASN1_ITEM_ref(M2M_VALIDATION_REQUEST), NULL},
	{M2M_MSG_VALIDATION_RESPONSE, "validationResponse", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_ATTESTATION_CHALLENGE, "attestationChallenge", ASN1_ITEM_ref(M2M_ATTESTATION_CHALLENGE), NULL},
	{M2M_MSG_ATTESTATION_EVIDENCE, "attestationEvidence", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_TAMPER_REPORT, "tamperReport", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_TAMPER_ACK, "tamperAck", ASN1_ITEM_ref(M2M_TAMPER_ACK), NULL},
	{M2M_MSG_VALIDATION_STATUS_REQUEST, "validationStatusRequest", ASN1_ITEM_ref(M2M_VALIDATION_STATUS_REQUEST), NULL},
	{M2M_MSG_VALIDATION_STATUS, "validationStatus", ASN1_ITEM_ref(M2M_VALIDATION_STATUS), NULL},
	{M2M_MSG_TRE_CONTROL, "treControl", ASN1_ITEM_ref(M2M_TRE_CONTROL), NULL},
	{M2M_MSG_TRE_STATUS, "treStatus", ASN1_ITEM_ref(M2M_TRE_STATUS), NULL},
	/* Alternative 1a: the MCIM only ever crosses encrypted (mcimPackage); the PCID keys and the
	 * TRE's AKA answer are the two secrets in clear on a link */
	{M2M_MSG_RELAY_REQUEST, "relayRequest", ASN1_ITEM_ref(M2M_RELAY_REQUEST), NULL},
	{M2M_MSG_RELAY_RESPONSE, "relayResponse", ASN1_ITEM_ref(M2M_RELAY_RESPONSE), NULL},
	{M2M_MSG_DISCOVERY_REQUEST, "discoveryRequest", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_DISCOVERY_RESPONSE, "discoveryResponse", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_MCIM_REQUEST, "mcimRequest", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_MCIM_PACKAGE, "mcimPackage", ASN1_ITEM_ref(M2M_MCIM_PACKAGE), NULL},
	{M2M_MSG_INSTALL_RESULT, "installResult", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_INSTALL_ACK, "installAck", ASN1_ITEM_ref(M2M_INSTALL_ACK), NULL},
	{M2M_MSG_REGISTRATION_REQUEST, "registrationRequest", ASN1_ITEM_ref(M2M_REGISTRATION_REQUEST), NULL},
	{M2M_MSG_REGISTRATION_RESPONSE, "registrationResponse", ASN1_ITEM_ref(M2M_REGISTRATION_RESPONSE), NULL},
	{M2M_MSG_PROVISIONED, "provisioned", ASN1_ITEM_ref(M2M_PROVISIONED), NULL},
	{M2M_MSG_PROVISIONED_ACK, "provisionedAck", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_PCID_ASSIGN_REQUEST, "pcidAssignRequest", ASN1_ITEM_ref(M2M_PCID_ASSIGN_REQUEST), NULL},
	{M2M_MSG_PCID_ASSIGN_RESPONSE, "pcidAssignResponse", ASN1_ITEM_ref(M2M_PCID_ASSIGN_RESPONSE), redact_pcids},
	{M2M_MSG_TRE_CREDENTIAL_REQUEST, "treCredentialRequest", ASN1_ITEM_ref(ASN1_NULL), NULL},
	{M2M_MSG_TRE_CREDENTIAL, "treCredential", ASN1_ITEM_ref(M2M_TRE_CREDENTIAL), NULL},
	{M2M_MSG_TRE_AKA_REQUEST, "treAkaRequest", ASN1_ITEM_ref(M2M_TRE_AKA_REQUEST), NULL},
	{M2M_MSG_TRE_AKA_RESPONSE, "treAkaResponse", ASN1_ITEM_ref(M2M_TRE_AKA_RESPONSE), redact_tre_aka},
	{M2M_MSG_TRE_PROVISION, "treProvision", ASN1_ITEM_ref(M2M_TRE_PROVISION), NULL},
	{M2M_MSG_TRE_PROVISION_NEXT, "treProvisionNext", ASN1_ITEM_ref(M2M_TRE_PROVISION_NEXT), NULL},
	{M2M_MSG_MCIM_COMMAND, "mcimCommand", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_MCIM_RECEIPT, "mcimReceipt", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_CHANGE_REQUEST, "changeRequest", ASN1_ITEM_ref(M2M_CHANGE_REQUEST), NULL},
	{M2M_MSG_CHANGE_RESPONSE, "changeResponse", ASN1_ITEM_ref(M2M_CHANGE_RESPONSE), NULL},
	{M2M_MSG_CHANGE_NOTIFY, "changeNotify", ASN1_ITEM_ref(M2M_CHANGE_NOTIFY), NULL},
	{M2M_MSG_CHANGE_CONSENT, "changeConsent", ASN1_ITEM_ref(M2M_CHANGE_CONSENT), NULL},
	{M2M_MSG_CHANGE_COMPLETE, "changeComplete", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_CHANGE_COMPLETE_ACK, "changeCompleteAck", ASN1_ITEM_ref(M2M_CHANGE_ACK), NULL},
	{M2M_MSG_CHANGE_RELEASE, "changeRelease", ASN1_ITEM_ref(M2M_CHANGE_RELEASE), NULL},
	{M2M_MSG_CHANGE_RELEASE_ACK, "changeReleaseAck", ASN1_ITEM_ref(M2M_CHANGE_ACK), NULL},
	{M2M_MSG_TRE_ATTACHED, "treAttached", ASN1_ITEM_ref(M2M_TRE_ATTACHED), NULL},
	{M2M_MSG_SMS_DELIVER, "smsDeliver", ASN1_ITEM_ref(M2M_SMS_DELIVER), NULL},
	{M2M_MSG_SMS_REPORT, "smsReport", ASN1_ITEM_ref(M2M_SMS_REPORT), NULL},
	{M2M_MSG_PORT_REQUEST, "portRequest", ASN1_ITEM_ref(M2M_PORT_REQUEST), NULL},
	{M2M_MSG_PORT_RESPONSE, "portResponse", ASN1_ITEM_ref(M2M_PORT_RESPONSE), NULL},
	{M2M_MSG_PORT_TRANSFER, "portTransfer", ASN1_ITEM_ref(M2M_PORT_TRANSFER), NULL},
	{M2M_MSG_PORT_TRANSFER_ACK, "portTransferAck", ASN1_ITEM_ref(M2M_PORT_TRANSFER_ACK), NULL},
	{M2M_MSG_PORT_COMPLETE, "portComplete", ASN1_ITEM_ref(M2M_PORT_COMPLETE), NULL},
	{M2M_MSG_PORT_COMPLETE_ACK, "portCompleteAck", ASN1_ITEM_ref(M2M_PORT_COMPLETE_ACK), NULL},
	{M2M_MSG_TRE_TRIGGER, "treTrigger", ASN1_ITEM_ref(M2M_TRE_TRIGGER), NULL},
	{M2M_MSG_TRE_TRIGGER_ACK, "treTriggerAck", ASN1_ITEM_ref(M2M_CHANGE_ACK), NULL},
	{M2M_MSG_UICC_CHANGE_REGISTER, "uiccChangeRegister", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_UICC_CREDENTIAL_DELIVERY, "uiccCredentialDelivery", ASN1_ITEM_ref(M2M_UICC_CREDENTIAL_PACKAGE), NULL},
	{M2M_MSG_UICC_CREDENTIAL_ORDER, "uiccCredentialOrder", ASN1_ITEM_ref(M2M_UICC_CREDENTIAL_ORDER), NULL},
	{M2M_MSG_UICC_CREDENTIAL_PACKAGE, "uiccCredentialPackage", ASN1_ITEM_ref(M2M_UICC_CREDENTIAL_PACKAGE), NULL},
	{M2M_MSG_UICC_CHANGE_COMPLETE, "uiccChangeComplete", ASN1_ITEM_ref(M2M_SIGNED_OBJECT), NULL},
	{M2M_MSG_UICC_CHANGE_COMPLETE_ACK, "uiccChangeCompleteAck", ASN1_ITEM_ref(M2M_CHANGE_ACK), NULL},
	{M2M_MSG_UICC_RELEASE, "uiccRelease", ASN1_ITEM_ref(M2M_UICC_RELEASE), NULL},
	{M2M_MSG_UICC_RELEASE_ACK, "uiccReleaseAck", ASN1_ITEM_ref(M2M_CHANGE_ACK), NULL},
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

int m2m_has_secrets(int type)
{
	const m2m_msgdef *d = m2m_msgdef_find(type);
	return d && d->redact;
}
