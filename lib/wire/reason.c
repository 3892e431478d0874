#include "wire/reason.h"

#include <stddef.h>

const char *m2m_reason_name(m2m_reason r)
{
	switch (r) {
	case M2M_OK: return "ok";
	case M2M_R_MALFORMED: return "malformed";
	case M2M_R_TRUNCATED: return "truncated";
	case M2M_R_WRONG_TAG: return "wrongTag";
	case M2M_R_LENGTH_TOO_LARGE: return "lengthTooLarge";
	case M2M_R_TRAILING_DATA: return "trailingData";
	case M2M_R_NOT_DER: return "notDER";
	case M2M_R_UNSUPPORTED_VERSION: return "unsupportedVersion";
	case M2M_R_UNKNOWN_MESSAGE_TYPE: return "unknownMessageType";
	case M2M_R_BAD_BODY: return "badBody";
	case M2M_R_WRONG_RECIPIENT: return "wrongRecipient";
	case M2M_R_SENDER_MISMATCH: return "senderMismatch";
	case M2M_R_REPLAYED: return "replayed";
	case M2M_R_OUT_OF_WINDOW: return "outOfWindow";
	case M2M_R_UNKNOWN_PEER: return "unknownPeer";
	case M2M_R_TIMEOUT: return "timeout";
	case M2M_R_UNREACHABLE: return "unreachable";
	case M2M_R_UNEXPECTED_MESSAGE: return "unexpectedMessage";
	case M2M_R_WRONG_STATE: return "wrongState";
	case M2M_R_NOT_FOUND: return "notFound";
	case M2M_R_NOT_AUTHORISED: return "notAuthorised";
	case M2M_R_BAD_SIGNATURE: return "badSignature";
	case M2M_R_AUTHENTICATION_FAILED: return "authenticationFailed";
	case M2M_R_MAC_FAILURE: return "macFailure";
	case M2M_R_SYNCH_FAILURE: return "synchFailure";
	case M2M_R_SUBSCRIBER_SUSPENDED: return "subscriberSuspended";
	case M2M_R_APN_NOT_ALLOWED: return "apnNotAllowed";
	case M2M_R_IMEI_NOT_ALLOWED: return "imeiNotAllowed";
	case M2M_R_ROAMING_NOT_ALLOWED: return "roamingNotAllowed";
	case M2M_R_NO_CARD: return "noCard";
	case M2M_R_NOT_ATTACHED: return "notAttached";
	case M2M_R_CARD_ERROR: return "cardError";
	case M2M_R_CERTIFICATE_EXPIRED: return "certificateExpired";
	case M2M_R_CERTIFICATE_REVOKED: return "certificateRevoked";
	case M2M_R_BAD_CHAIN: return "badChain";
	case M2M_R_MODEL_REVOKED: return "modelRevoked";
	case M2M_R_UNKNOWN_DIGEST: return "unknownDigest";
	case M2M_R_COMPONENT_MODIFIED: return "componentModified";
	case M2M_R_NONCE_REPLAYED: return "nonceReplayed";
	case M2M_R_LOG_MISMATCH: return "logMismatch";
	case M2M_R_TAMPER_DETECTED: return "tamperDetected";
	case M2M_R_ASSURANCE_TOO_LOW: return "assuranceTooLow";
	case M2M_R_STALE_VERDICT: return "staleVerdict";
	case M2M_R_ENROLMENT_REFUSED: return "enrolmentRefused";
	case M2M_R_NOT_REGISTERED: return "notRegistered";
	case M2M_R_WALLED_GARDEN: return "walledGarden";
	case M2M_R_POOL_EXHAUSTED: return "poolExhausted";
	case M2M_R_PCID_EXPIRED: return "pcidExpired";
	case M2M_R_PCID_IN_USE: return "pcidInUse";
	case M2M_R_NOT_VALIDATED: return "notValidated";
	case M2M_R_WRONG_SHO: return "wrongSho";
	case M2M_R_CONTRACT_LOCKED: return "contractLocked";
	case M2M_R_NOT_OWNER: return "notOwner";
	case M2M_R_OTA_REFUSED: return "otaRefused";
	case M2M_R_INTERNAL: return "internalError";
	}
	return NULL;
}
