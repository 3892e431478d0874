/*
 * C mirror of docs/protocol.asn1. Each body type is an OpenSSL ASN.1 template type: the
 * encoders, decoders and free functions are generated (msg_*.c), never written by hand.
 */
#ifndef M2M_WIRE_MESSAGES_H
#define M2M_WIRE_MESSAGES_H

#include <openssl/asn1.h>
#include <stdint.h>

typedef enum m2m_msgtype {
	M2M_MSG_ERROR = 0,
	M2M_MSG_HEALTH_REQUEST = 1,
	M2M_MSG_HEALTH_RESPONSE = 2,
	M2M_MSG_PING = 3,
	M2M_MSG_PONG = 4,
	M2M_MSG_PING_PEERS_REQUEST = 5,
	M2M_MSG_PING_PEERS_RESPONSE = 6,
	M2M_MSG_APDU_COMMAND = 10,
	M2M_MSG_APDU_RESPONSE = 11,
	M2M_MSG_CARD_RESET = 12,
	M2M_MSG_CARD_ATR = 13,
	M2M_MSG_ATTACH_REQUEST = 14,
	M2M_MSG_AUTH_CHALLENGE = 15,
	M2M_MSG_AUTH_RESPONSE = 16,
	M2M_MSG_AUTH_FAILURE = 17,
	M2M_MSG_ATTACH_ACCEPT = 18,
	M2M_MSG_DETACH_REQUEST = 19,
	M2M_MSG_DETACH_ACCEPT = 20,
	M2M_MSG_PROTECTED_DATA = 21,
	M2M_MSG_PROTECTED_DATA_ECHO = 22,
	M2M_MSG_AUTH_INFO_REQUEST = 23,
	M2M_MSG_AUTH_INFO_RESPONSE = 24,
	M2M_MSG_UPDATE_LOCATION = 25,
	M2M_MSG_UPDATE_LOCATION_ACK = 26,
	M2M_MSG_PURGE = 27,
	M2M_MSG_PURGE_ACK = 28,
	M2M_MSG_CANCEL_LOCATION = 29,
	M2M_MSG_CANCEL_LOCATION_ACK = 30,
	M2M_MSG_DEVICE_CONTROL = 31,
	M2M_MSG_DEVICE_STATUS = 32,
	M2M_MSG_ENROL_REQUEST = 40,
	M2M_MSG_ENROL_RESPONSE = 41,
	M2M_MSG_CRL_REQUEST = 42,
	M2M_MSG_CRL_RESPONSE = 43,
	M2M_MSG_PLATFORM_TYPE_REQUEST = 44,
	M2M_MSG_PLATFORM_TYPE_RESPONSE = 45,
	M2M_MSG_VALIDATION_REQUEST = 46,
	M2M_MSG_VALIDATION_RESPONSE = 47,
	M2M_MSG_ATTESTATION_CHALLENGE = 48,
	M2M_MSG_ATTESTATION_EVIDENCE = 49,
	M2M_MSG_TAMPER_REPORT = 50,
	M2M_MSG_TAMPER_ACK = 51,
	M2M_MSG_VALIDATION_STATUS_REQUEST = 52,
	M2M_MSG_VALIDATION_STATUS = 53,
	M2M_MSG_TRE_CONTROL = 54,
	M2M_MSG_TRE_STATUS = 55,
	M2M_MSG_RELAY_REQUEST = 60,
	M2M_MSG_RELAY_RESPONSE = 61,
	M2M_MSG_DISCOVERY_REQUEST = 62,
	M2M_MSG_DISCOVERY_RESPONSE = 63,
	M2M_MSG_MCIM_REQUEST = 64,
	M2M_MSG_MCIM_PACKAGE = 65,
	M2M_MSG_INSTALL_RESULT = 66,
	M2M_MSG_INSTALL_ACK = 67,
	M2M_MSG_REGISTRATION_REQUEST = 68,
	M2M_MSG_REGISTRATION_RESPONSE = 69,
	M2M_MSG_PROVISIONED = 70,
	M2M_MSG_PROVISIONED_ACK = 71,
	M2M_MSG_PCID_ASSIGN_REQUEST = 72,
	M2M_MSG_PCID_ASSIGN_RESPONSE = 73,
	M2M_MSG_TRE_CREDENTIAL_REQUEST = 74,
	M2M_MSG_TRE_CREDENTIAL = 75,
	M2M_MSG_TRE_AKA_REQUEST = 76,
	M2M_MSG_TRE_AKA_RESPONSE = 77,
	M2M_MSG_TRE_PROVISION = 78,
	M2M_MSG_TRE_PROVISION_NEXT = 79,
	M2M_MSG_MCIM_COMMAND = 80,
	M2M_MSG_MCIM_RECEIPT = 81,
	M2M_MSG_CHANGE_REQUEST = 82,
	M2M_MSG_CHANGE_RESPONSE = 83,
	M2M_MSG_CHANGE_NOTIFY = 84,
	M2M_MSG_CHANGE_CONSENT = 85,
	M2M_MSG_CHANGE_COMPLETE = 86,
	M2M_MSG_CHANGE_COMPLETE_ACK = 87,
	M2M_MSG_CHANGE_RELEASE = 88,
	M2M_MSG_CHANGE_RELEASE_ACK = 89,
	M2M_MSG_TRE_ATTACHED = 90,
	M2M_MSG_SMS_DELIVER = 91,
	M2M_MSG_SMS_REPORT = 92,
	M2M_MSG_PORT_REQUEST = 93,
	M2M_MSG_PORT_RESPONSE = 94,
	M2M_MSG_PORT_TRANSFER = 95,
	M2M_MSG_PORT_TRANSFER_ACK = 96,
	M2M_MSG_PORT_COMPLETE = 97,
	M2M_MSG_PORT_COMPLETE_ACK = 98,
	M2M_MSG_TRE_TRIGGER = 99,
	M2M_MSG_TRE_TRIGGER_ACK = 100,
	M2M_MSG_UICC_CHANGE_REGISTER = 101,
	M2M_MSG_UICC_CREDENTIAL_DELIVERY = 102,
	M2M_MSG_UICC_CREDENTIAL_ORDER = 103,
	M2M_MSG_UICC_CREDENTIAL_PACKAGE = 104,
	M2M_MSG_UICC_CHANGE_COMPLETE = 105,
	M2M_MSG_UICC_CHANGE_COMPLETE_ACK = 106,
	M2M_MSG_UICC_RELEASE = 107,
	M2M_MSG_UICC_RELEASE_ACK = 108,
} m2m_msgtype;

/* Envelope: the body is kept as ANY here and decoded through the registry (codec.c). */
typedef struct {
	int32_t version;
	int32_t message_type;
	ASN1_OCTET_STRING *transaction_id;
	ASN1_UTF8STRING *sender;
	ASN1_UTF8STRING *recipient;
	int64_t sequence;
	ASN1_TYPE *body;
} M2M_ENVELOPE;
DECLARE_ASN1_FUNCTIONS(M2M_ENVELOPE)

typedef struct {
	ASN1_ENUMERATED *reason;
	ASN1_UTF8STRING *text;
	ASN1_INTEGER *refused_type;  /* OPTIONAL */
} M2M_ERROR_REPORT;
DECLARE_ASN1_FUNCTIONS(M2M_ERROR_REPORT)

typedef struct {
	ASN1_UTF8STRING *role;
	ASN1_UTF8STRING *entity;
	ASN1_UTF8STRING *software_version;
	uint64_t uptime_seconds;
	uint64_t received;
	uint64_t sent;
	uint64_t refused;
	uint64_t open_transactions;
} M2M_HEALTH_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_HEALTH_RESPONSE)

typedef struct {
	ASN1_OCTET_STRING *nonce;
} M2M_PING;
DECLARE_ASN1_FUNCTIONS(M2M_PING)

typedef struct {
	STACK_OF(ASN1_UTF8STRING) *peers;  /* OPTIONAL */
} M2M_PING_PEERS_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_PING_PEERS_REQUEST)

typedef struct {
	ASN1_UTF8STRING *peer;
	ASN1_BOOLEAN reachable;
	uint64_t round_trip_micros;
	ASN1_ENUMERATED *reason;  /* OPTIONAL */
} M2M_PEER_REACHABILITY;
DECLARE_ASN1_FUNCTIONS(M2M_PEER_REACHABILITY)
DEFINE_STACK_OF(M2M_PEER_REACHABILITY)

typedef STACK_OF(M2M_PEER_REACHABILITY) M2M_PING_PEERS_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_PING_PEERS_RESPONSE)

/* ---- subscriber authentication and attach (msg_attach.c) -------------------------------- */

/* NumericString (Imsi, Imei, ICCID): OpenSSL has no item for it, msg_attach.c defines one.
 * Its content is not checked by the codec: handlers read it with m2m_digits. */
DECLARE_ASN1_ITEM(M2M_NUMERICSTRING)

typedef struct {
	ASN1_OCTET_STRING *apdu;
} M2M_APDU_COMMAND;
DECLARE_ASN1_FUNCTIONS(M2M_APDU_COMMAND)

typedef struct {
	ASN1_OCTET_STRING *data;
	uint64_t status_word;
} M2M_APDU_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_APDU_RESPONSE)

typedef struct {
	ASN1_OCTET_STRING *atr;
} M2M_CARD_ATR;
DECLARE_ASN1_FUNCTIONS(M2M_CARD_ATR)

typedef struct {
	ASN1_STRING *imsi;
	ASN1_STRING *imei;
	ASN1_UTF8STRING *apn;
} M2M_ATTACH_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_ATTACH_REQUEST)

typedef struct {
	ASN1_OCTET_STRING *attach_id;
	ASN1_OCTET_STRING *rand;
	ASN1_OCTET_STRING *autn;
} M2M_AUTH_CHALLENGE;
DECLARE_ASN1_FUNCTIONS(M2M_AUTH_CHALLENGE)

typedef struct {
	ASN1_OCTET_STRING *attach_id;
	ASN1_OCTET_STRING *res;
} M2M_AUTH_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_AUTH_RESPONSE)

enum { M2M_AUTH_MAC_FAILURE = 0, M2M_AUTH_SYNCH_FAILURE = 1 };
typedef struct {
	ASN1_OCTET_STRING *attach_id;
	ASN1_ENUMERATED *cause;
	ASN1_OCTET_STRING *auts;  /* OPTIONAL */
} M2M_AUTH_FAILURE;
DECLARE_ASN1_FUNCTIONS(M2M_AUTH_FAILURE)

typedef struct {
	ASN1_OCTET_STRING *session_id;
	ASN1_UTF8STRING *apn;
} M2M_ATTACH_ACCEPT;
DECLARE_ASN1_FUNCTIONS(M2M_ATTACH_ACCEPT)

typedef struct {
	ASN1_OCTET_STRING *session_id;
} M2M_DETACH_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_DETACH_REQUEST)

typedef struct {
	ASN1_OCTET_STRING *session_id;
	uint64_t counter;
	ASN1_OCTET_STRING *sealed;
} M2M_PROTECTED_DATA;
DECLARE_ASN1_FUNCTIONS(M2M_PROTECTED_DATA)

typedef struct {
	ASN1_OCTET_STRING *rand;
	ASN1_OCTET_STRING *auts;
} M2M_RESYNC;
DECLARE_ASN1_FUNCTIONS(M2M_RESYNC)

typedef struct {
	ASN1_STRING *imsi;
	ASN1_UTF8STRING *serving_network;
	uint64_t num_vectors;
	M2M_RESYNC *resync;  /* OPTIONAL */
} M2M_AUTH_INFO_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_AUTH_INFO_REQUEST)

typedef struct {
	ASN1_OCTET_STRING *rand;
	ASN1_OCTET_STRING *xres;
	ASN1_OCTET_STRING *autn;
	ASN1_OCTET_STRING *ck;
	ASN1_OCTET_STRING *ik;
	ASN1_OCTET_STRING *kc;
} M2M_AUTH_VECTOR;
DECLARE_ASN1_FUNCTIONS(M2M_AUTH_VECTOR)
DEFINE_STACK_OF(M2M_AUTH_VECTOR)

typedef STACK_OF(M2M_AUTH_VECTOR) M2M_AUTH_INFO_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_AUTH_INFO_RESPONSE)

typedef struct {
	ASN1_STRING *imsi;
	ASN1_STRING *imei;
	ASN1_UTF8STRING *serving_network;
} M2M_UPDATE_LOCATION;
DECLARE_ASN1_FUNCTIONS(M2M_UPDATE_LOCATION)

typedef struct {
	STACK_OF(ASN1_UTF8STRING) *allowed_apns;
	ASN1_BOOLEAN cs_allowed;
	ASN1_STRING *imei_lock;  /* OPTIONAL */
} M2M_SUBSCRIPTION_PROFILE;
DECLARE_ASN1_FUNCTIONS(M2M_SUBSCRIPTION_PROFILE)

typedef struct {
	ASN1_STRING *imsi;
	ASN1_UTF8STRING *serving_network;
} M2M_PURGE;
DECLARE_ASN1_FUNCTIONS(M2M_PURGE)

enum { M2M_CANCEL_WITHDRAWN = 0, M2M_CANCEL_ATTACHED_ELSEWHERE = 1 };
typedef struct {
	ASN1_STRING *imsi;
	ASN1_ENUMERATED *cause;
} M2M_CANCEL_LOCATION;
DECLARE_ASN1_FUNCTIONS(M2M_CANCEL_LOCATION)

typedef enum m2m_device_action {
	M2M_DEV_STATUS, M2M_DEV_POWER_ON, M2M_DEV_POWER_OFF, M2M_DEV_INSERT_CARD, M2M_DEV_REMOVE_CARD,
	M2M_DEV_SET_IMEI, M2M_DEV_ATTACH, M2M_DEV_DETACH, M2M_DEV_SEND_DATA, M2M_DEV_PROVISION,
} m2m_device_action;
typedef struct {
	ASN1_ENUMERATED *action;
	ASN1_UTF8STRING *card;        /* [0] OPTIONAL */
	ASN1_STRING *imei;            /* [1] OPTIONAL */
	ASN1_UTF8STRING *network;     /* [2] OPTIONAL */
	ASN1_UTF8STRING *apn;         /* [3] OPTIONAL */
	ASN1_OCTET_STRING *data;      /* [4] OPTIONAL */
} M2M_DEVICE_CONTROL;
DECLARE_ASN1_FUNCTIONS(M2M_DEVICE_CONTROL)

typedef struct {
	ASN1_BOOLEAN powered;
	ASN1_STRING *imei;
	ASN1_UTF8STRING *card;        /* [0] OPTIONAL */
	ASN1_STRING *iccid;           /* [1] OPTIONAL */
	ASN1_STRING *imsi;            /* [2] OPTIONAL */
	ASN1_UTF8STRING *attached_to; /* [3] OPTIONAL */
	ASN1_OCTET_STRING *echo;      /* [4] OPTIONAL */
} M2M_DEVICE_STATUS;
DECLARE_ASN1_FUNCTIONS(M2M_DEVICE_STATUS)

/* ---- certification agency and platform validation (msg_pki.c) ----------------------------- */

/* SEQUENCE OF OCTET STRING (a certificate chain, quote registers): OpenSSL defines no stack of
 * ASN1_OCTET_STRING, so this header does. */
DEFINE_STACK_OF(ASN1_OCTET_STRING)
/* SEQUENCE OF ReasonCode (Verdict.reasons): likewise for ASN1_ENUMERATED. */
DEFINE_STACK_OF(ASN1_ENUMERATED)

/*
 * Required BOOLEAN fields (Evidence.secureBoot, ComponentVerdict.matches, TreStatus.booted and
 * secureBootOk) start as 0 (FALSE) after _new, not OpenSSL's -1 ("absent"), which would not
 * encode. TRUE is 0xff, as DER writes it. Required GeneralizedTime fields start empty: set them
 * with ASN1_GENERALIZEDTIME_set (or _adj) before encoding.
 */

/* platformTypeResponse, validationResponse, attestationEvidence, tamperReport: a DER CMS
 * SignedData (lib/pki m2m_cms_sign) whose eContent is the DER of the type the message names. */
typedef struct {
	ASN1_OCTET_STRING *cms;
} M2M_SIGNED_OBJECT;
DECLARE_ASN1_FUNCTIONS(M2M_SIGNED_OBJECT)

typedef enum m2m_cert_profile {
	M2M_PROFILE_OPERATOR_FUNCTION = 0,
	M2M_PROFILE_OTA_SERVER = 1,
	M2M_PROFILE_REGISTRATION = 2,
	M2M_PROFILE_PVA = 3,
	M2M_PROFILE_SUPPLIER = 4,
	M2M_PROFILE_TRE = 5,
	M2M_PROFILE_UICC = 6,
} m2m_cert_profile;
#define M2M_PROFILE_MAX M2M_PROFILE_UICC

/* The extension of every TRE certificate, and the part of an enrolRequest that asks for it. */
typedef struct {
	ASN1_UTF8STRING *model;
	ASN1_UTF8STRING *version;
	uint64_t assurance_level;  /* 1..7 */
} M2M_TRE_PLATFORM;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_PLATFORM)

typedef struct {
	ASN1_OCTET_STRING *csr;            /* DER PKCS#10 */
	ASN1_OCTET_STRING *authorisation;  /* the enrolment secret */
	ASN1_ENUMERATED *profile;          /* m2m_cert_profile */
	M2M_TRE_PLATFORM *platform;        /* [0] OPTIONAL: profile tre only */
} M2M_ENROL_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_ENROL_REQUEST)

typedef struct {
	ASN1_OCTET_STRING *certificate;        /* DER X.509 */
	STACK_OF(ASN1_OCTET_STRING) *chain;    /* issuing CA first, then the root */
} M2M_ENROL_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_ENROL_RESPONSE)

typedef struct {
	ASN1_OCTET_STRING *crl;  /* DER X.509 CRL of the issuing CA */
} M2M_CRL_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_CRL_RESPONSE)

typedef struct {
	ASN1_UTF8STRING *model;
	ASN1_UTF8STRING *version;
} M2M_PLATFORM_TYPE_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_PLATFORM_TYPE_REQUEST)

typedef struct {
	ASN1_UTF8STRING *component;
	ASN1_OCTET_STRING *digest;  /* SHA-256, 32 bytes */
} M2M_REFERENCE_METRIC;
DECLARE_ASN1_FUNCTIONS(M2M_REFERENCE_METRIC)
DEFINE_STACK_OF(M2M_REFERENCE_METRIC)

/* eContent of platformTypeResponse */
typedef struct {
	ASN1_UTF8STRING *model;
	ASN1_UTF8STRING *version;
	uint64_t assurance_level;  /* 1..7 */
	STACK_OF(M2M_REFERENCE_METRIC) *references;
} M2M_PLATFORM_TYPE;
DECLARE_ASN1_FUNCTIONS(M2M_PLATFORM_TYPE)

typedef enum m2m_validation_mode {
	M2M_MODE_AUTONOMOUS = 0,
	M2M_MODE_SEMI_AUTONOMOUS = 1,
	M2M_MODE_REMOTE = 2,
} m2m_validation_mode;

/* Verdict.result and ValidationStatus.result (never: only the latter). */
typedef enum m2m_verdict_result {
	M2M_VERDICT_OK = 0,
	M2M_VERDICT_QUARANTINE = 1,
	M2M_VERDICT_FAIL = 2,
	M2M_VERDICT_NEVER = 3,
} m2m_verdict_result;

typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_ENUMERATED *mode;     /* m2m_validation_mode */
	uint64_t min_assurance;    /* 1..7 */
} M2M_VALIDATION_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_VALIDATION_REQUEST)

/* eContent of validationResponse */
typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_UTF8STRING *relying_party;
	ASN1_ENUMERATED *mode;                 /* m2m_validation_mode */
	ASN1_ENUMERATED *result;               /* m2m_verdict_result, ok..fail */
	STACK_OF(ASN1_ENUMERATED) *reasons;    /* m2m_reason values, 0..16 of them */
	ASN1_OCTET_STRING *nonce;              /* 32 bytes */
	ASN1_GENERALIZEDTIME *validated_at;
	ASN1_GENERALIZEDTIME *valid_until;
} M2M_VERDICT;
DECLARE_ASN1_FUNCTIONS(M2M_VERDICT)

typedef struct {
	ASN1_OCTET_STRING *nonce;  /* 32 bytes, fresh, single use */
	ASN1_ENUMERATED *mode;     /* m2m_validation_mode */
} M2M_ATTESTATION_CHALLENGE;
DECLARE_ASN1_FUNCTIONS(M2M_ATTESTATION_CHALLENGE)

/* TamperFlags bit numbers (ASN1_BIT_STRING_set_bit / _get_bit), also TamperReport.event. */
typedef enum m2m_tamper_event {
	M2M_TAMPER_CASE_OPENED = 0,
	M2M_TAMPER_COMPONENT_MODIFIED = 1,
} m2m_tamper_event;

typedef struct {
	ASN1_UTF8STRING *component;
	ASN1_BOOLEAN matches;
} M2M_COMPONENT_VERDICT;
DECLARE_ASN1_FUNCTIONS(M2M_COMPONENT_VERDICT)
DEFINE_STACK_OF(M2M_COMPONENT_VERDICT)

typedef struct {
	uint64_t register_;  /* "register" in the module (a C keyword); 0..7 */
	ASN1_UTF8STRING *component;
	ASN1_OCTET_STRING *digest;  /* SHA-256, 32 bytes */
} M2M_MEASUREMENT_LOG_ENTRY;
DECLARE_ASN1_FUNCTIONS(M2M_MEASUREMENT_LOG_ENTRY)
DEFINE_STACK_OF(M2M_MEASUREMENT_LOG_ENTRY)

typedef struct {
	STACK_OF(ASN1_OCTET_STRING) *registers;      /* 1..8 of 32 bytes */
	STACK_OF(M2M_MEASUREMENT_LOG_ENTRY) *log;    /* 1..64 */
} M2M_QUOTE;
DECLARE_ASN1_FUNCTIONS(M2M_QUOTE)

/* eContent of attestationEvidence */
typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_OCTET_STRING *nonce;
	ASN1_ENUMERATED *mode;                          /* m2m_validation_mode */
	ASN1_BIT_STRING *tamper;                        /* TamperFlags: m2m_tamper_event bits */
	ASN1_BOOLEAN secure_boot;
	STACK_OF(M2M_COMPONENT_VERDICT) *verdicts;      /* [0] OPTIONAL: semiAutonomous */
	M2M_QUOTE *quote;                               /* [1] OPTIONAL: remote */
} M2M_EVIDENCE;
DECLARE_ASN1_FUNCTIONS(M2M_EVIDENCE)

typedef enum m2m_tamper_reaction {
	M2M_TAMPER_REFUSED = 0,
	M2M_TAMPER_ZEROISED = 1,
} m2m_tamper_reaction;

/* eContent of tamperReport */
typedef struct {
	ASN1_OCTET_STRING *report_id;   /* 16 bytes */
	ASN1_UTF8STRING *tre;
	ASN1_ENUMERATED *event;         /* m2m_tamper_event */
	ASN1_UTF8STRING *component;     /* empty for caseOpened */
	ASN1_GENERALIZEDTIME *at;
	ASN1_ENUMERATED *reaction;      /* m2m_tamper_reaction */
} M2M_TAMPER_REPORT;
DECLARE_ASN1_FUNCTIONS(M2M_TAMPER_REPORT)

typedef struct {
	ASN1_OCTET_STRING *report_id;
} M2M_TAMPER_ACK;
DECLARE_ASN1_FUNCTIONS(M2M_TAMPER_ACK)

typedef struct {
	ASN1_UTF8STRING *tre;
} M2M_VALIDATION_STATUS_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_VALIDATION_STATUS_REQUEST)

/* The two times are untagged OPTIONAL fields of the same type: a receiver can only tell them
 * apart when both are present, so they are sent together (a verdict) or not at all (never). */
typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_ENUMERATED *result;              /* m2m_verdict_result */
	ASN1_GENERALIZEDTIME *validated_at;   /* OPTIONAL */
	ASN1_GENERALIZEDTIME *valid_until;    /* OPTIONAL */
} M2M_VALIDATION_STATUS;
DECLARE_ASN1_FUNCTIONS(M2M_VALIDATION_STATUS)

typedef enum m2m_tre_action {
	M2M_TRE_CTL_STATUS = 0,
	M2M_TRE_CTL_BOOT = 1,
	M2M_TRE_CTL_MODIFY_COMPONENT = 2,
	M2M_TRE_CTL_OPEN_CASE = 3,
} m2m_tre_action;

typedef struct {
	ASN1_ENUMERATED *action;        /* m2m_tre_action */
	ASN1_UTF8STRING *component;     /* [0] OPTIONAL: modifyComponent */
	ASN1_OCTET_STRING *content;     /* [1] OPTIONAL */
} M2M_TRE_CONTROL;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_CONTROL)

typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_BOOLEAN booted;
	ASN1_BOOLEAN secure_boot_ok;
	ASN1_BIT_STRING *tamper;        /* TamperFlags */
	uint64_t pending_reports;
	ASN1_BOOLEAN enrolled;
	ASN1_ENUMERATED *provisioning;  /* [0] OPTIONAL: m2m_provision_state of its procedure */
} M2M_TRE_STATUS;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_STATUS)

/* ---- Alternative 1a: bearer relay, ICF/DRF, DPF, MCIM in the TRE (msg_alt1a.c) ------------- */

/* relayRequest (M2ME -> visited operator) and the step a TRE asks its M2ME to relay. body is
 * the DER of a body of messageType; the visited operator forwards it unchanged. */
typedef struct {
	ASN1_UTF8STRING *destination;
	int32_t message_type;
	ASN1_OCTET_STRING *body;
} M2M_RELAY_STEP;
DECLARE_ASN1_FUNCTIONS(M2M_RELAY_STEP)

typedef struct {
	ASN1_OCTET_STRING *session_id;  /* 8 octets: the attach session it travels on */
	M2M_RELAY_STEP *step;
} M2M_RELAY_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_RELAY_REQUEST)

/* relayResponse: what the destination answered (messageType error: body is its ErrorReport). */
typedef struct {
	int32_t message_type;
	ASN1_OCTET_STRING *body;
} M2M_RELAY_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_RELAY_RESPONSE)

/* discoveryRequest: SignedObject over DiscoveryRequest, signed by the TRE. */
typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_STRING *m2me;             /* Imei: M2ME_ID */
	ASN1_OCTET_STRING *nonce;      /* 32 octets */
	ASN1_OCTET_STRING *change_id;  /* [0] OPTIONAL, 16 octets */
} M2M_DISCOVERY_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_DISCOVERY_REQUEST)

/* discoveryResponse: SignedObject over RegistrationTicket, signed by the DRF. */
typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_STRING *m2me;
	ASN1_UTF8STRING *sho;
	ASN1_UTF8STRING *dpf;
	ASN1_OCTET_STRING *nonce;      /* DiscoveryRequest.nonce */
	ASN1_GENERALIZEDTIME *expires;
	ASN1_OCTET_STRING *change_id;  /* [0] OPTIONAL */
} M2M_REGISTRATION_TICKET;
DECLARE_ASN1_FUNCTIONS(M2M_REGISTRATION_TICKET)

/* mcimRequest: SignedObject over McimOrder, signed by the TRE. */
typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_OCTET_STRING *ticket;  /* the DER CMS of the discoveryResponse */
	ASN1_OCTET_STRING *nonce;   /* 32 octets, fresh: the MCIM carries it back */
} M2M_MCIM_ORDER;
DECLARE_ASN1_FUNCTIONS(M2M_MCIM_ORDER)

typedef struct {
	ASN1_OCTET_STRING *mcim_id;  /* 16 octets */
	ASN1_OCTET_STRING *package;  /* DER CMS AuthEnvelopedData to the TRE's key around a SignedData by the DPF over Mcim */
} M2M_MCIM_PACKAGE;
DECLARE_ASN1_FUNCTIONS(M2M_MCIM_PACKAGE)

/* The credential itself: only ever inside the package, or sealed in the TRE and the DPF. */
typedef struct {
	ASN1_OCTET_STRING *mcim_id;
	uint64_t version;               /* 1..255 */
	ASN1_UTF8STRING *owner;         /* the SHO */
	ASN1_UTF8STRING *tre;
	ASN1_OCTET_STRING *nonce;       /* McimOrder.nonce */
	ASN1_STRING *imsi;
	ASN1_OCTET_STRING *k;           /* SECRET */
	ASN1_OCTET_STRING *opc;         /* SECRET */
	ASN1_OCTET_STRING *amf;         /* 2 octets */
	uint64_t sqn;                   /* the highest SQN the HSS has issued */
	M2M_SUBSCRIPTION_PROFILE *profile;
	ASN1_GENERALIZEDTIME *issued_at;
} M2M_MCIM;
DECLARE_ASN1_FUNCTIONS(M2M_MCIM)

typedef enum m2m_install_status {
	M2M_INSTALLED = 0,
	M2M_INSTALL_REFUSED = 1,
} m2m_install_status;

/* installResult: SignedObject over InstallResult, signed by the TRE. */
typedef struct {
	ASN1_OCTET_STRING *mcim_id;
	ASN1_UTF8STRING *tre;
	ASN1_OCTET_STRING *nonce;   /* McimOrder.nonce */
	ASN1_ENUMERATED *status;    /* m2m_install_status */
	ASN1_ENUMERATED *reason;    /* OPTIONAL: refused */
} M2M_INSTALL_RESULT;
DECLARE_ASN1_FUNCTIONS(M2M_INSTALL_RESULT)

typedef struct {
	ASN1_OCTET_STRING *mcim_id;
} M2M_INSTALL_ACK;
DECLARE_ASN1_FUNCTIONS(M2M_INSTALL_ACK)

typedef struct {
	ASN1_STRING *m2me;       /* Imei */
	ASN1_UTF8STRING *tre;
	ASN1_UTF8STRING *sho;
	ASN1_UTF8STRING *dpf;
	ASN1_OCTET_STRING *subscriber_key;  /* [0] OPTIONAL: DER SubjectPublicKeyInfo, P-256 */
} M2M_REGISTRATION;
DECLARE_ASN1_FUNCTIONS(M2M_REGISTRATION)
DEFINE_STACK_OF(M2M_REGISTRATION)

typedef STACK_OF(M2M_REGISTRATION) M2M_REGISTRATION_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_REGISTRATION_REQUEST)

typedef struct {
	uint64_t registered;
} M2M_REGISTRATION_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_REGISTRATION_RESPONSE)

typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_UTF8STRING *sho;
	ASN1_OCTET_STRING *mcim_id;
} M2M_PROVISIONED;
DECLARE_ASN1_FUNCTIONS(M2M_PROVISIONED)

typedef struct {
	STACK_OF(ASN1_UTF8STRING) *tres;  /* 1..1000 */
} M2M_PCID_ASSIGN_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_PCID_ASSIGN_REQUEST)

typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_STRING *pcid;               /* Imsi */
	ASN1_OCTET_STRING *k;            /* SECRET */
	ASN1_OCTET_STRING *opc;          /* SECRET */
	ASN1_GENERALIZEDTIME *valid_until;
} M2M_PCID_CREDENTIAL;
DECLARE_ASN1_FUNCTIONS(M2M_PCID_CREDENTIAL)
DEFINE_STACK_OF(M2M_PCID_CREDENTIAL)

typedef STACK_OF(M2M_PCID_CREDENTIAL) M2M_PCID_ASSIGN_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_PCID_ASSIGN_RESPONSE)

typedef enum m2m_credential_kind {
	M2M_CREDENTIAL_NONE = 0,
	M2M_CREDENTIAL_PCID = 1,
	M2M_CREDENTIAL_MCIM = 2,
} m2m_credential_kind;

typedef struct {
	ASN1_ENUMERATED *kind;          /* m2m_credential_kind */
	ASN1_STRING *imsi;              /* [0] OPTIONAL */
	ASN1_OCTET_STRING *mcim_id;     /* [1] OPTIONAL */
	ASN1_UTF8STRING *owner;         /* [2] OPTIONAL */
} M2M_TRE_CREDENTIAL;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_CREDENTIAL)

typedef struct {
	ASN1_STRING *imsi;              /* the credential to run it with: the PCID or the active MCIM's */
	ASN1_OCTET_STRING *rand;
	ASN1_OCTET_STRING *autn;
} M2M_TRE_AKA_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_AKA_REQUEST)

/* Success: res, ck, ik; synchronisation failure: auts alone. */
typedef struct {
	ASN1_OCTET_STRING *res;         /* [0] OPTIONAL */
	ASN1_OCTET_STRING *ck;          /* [1] OPTIONAL, SECRET */
	ASN1_OCTET_STRING *ik;          /* [2] OPTIONAL, SECRET */
	ASN1_OCTET_STRING *auts;        /* [3] OPTIONAL */
} M2M_TRE_AKA_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_AKA_RESPONSE)

typedef struct {
	M2M_RELAY_RESPONSE *answer;     /* [0] OPTIONAL: what the last step's destination answered */
	M2M_APDU_RESPONSE *card;        /* [1] OPTIONAL: the card's answer to the last card step */
} M2M_TRE_PROVISION;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_PROVISION)

typedef enum m2m_provision_state {
	M2M_PROV_IDLE = 0,
	M2M_PROV_DISCOVERING = 1,
	M2M_PROV_ORDERING = 2,
	M2M_PROV_CONFIRMING = 3,
	M2M_PROV_DONE = 4,
	M2M_PROV_FAILED = 5,
	M2M_PROV_SWITCHING = 6,   /* a change: the new MCIM installed, the M2ME to attach with it */
	M2M_PROV_COMPLETING = 7,  /* a change: attached with the new MCIM, the DRF to be told */
	/* Alternative 3b (docs/alt3b.md): the TRE re-credentials the device's UICC */
	M2M_PROV_UICC_REGISTERING = 8,  /* card steps (certificate, challenge), then uiccChangeRegister */
	M2M_PROV_UICC_LOADING = 9,      /* STORE DATA chain of B's blob, then SWITCH */
	M2M_PROV_UICC_SWITCHING = 10,   /* the card switched (or rolled back): follow its REFRESH, attach
					 * with the IMSI it holds now, then treAttached */
	M2M_PROV_UICC_COMPLETING = 11,  /* uiccChangeComplete relayed, then COMMIT or the retry */
} m2m_provision_state;

typedef struct {
	ASN1_ENUMERATED *state;         /* m2m_provision_state */
	M2M_RELAY_STEP *step;           /* [0] OPTIONAL: what to relay next */
	ASN1_ENUMERATED *reason;        /* [1] OPTIONAL: failed */
	M2M_APDU_COMMAND *card;         /* [2] OPTIONAL: an APDU for the device's UICC (3b) */
} M2M_TRE_PROVISION_NEXT;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_PROVISION_NEXT)

typedef enum m2m_mcim_action {
	M2M_MCIM_ACTIVATE = 0,
	M2M_MCIM_DEACTIVATE = 1,
	M2M_MCIM_DELETE = 2,
	M2M_MCIM_REPROVISION = 3,  /* the owner lets a change of subscription start (changeId) */
} m2m_mcim_action;

typedef enum m2m_mcim_state {
	M2M_MCIM_INSTALLED = 0,
	M2M_MCIM_ACTIVE = 1,
	M2M_MCIM_INACTIVE = 2,
	M2M_MCIM_DELETED = 3,
} m2m_mcim_state;

/* mcimCommand: SignedObject over McimCommand, signed by the MCIM's owner (its DPF). */
typedef struct {
	ASN1_OCTET_STRING *mcim_id;
	ASN1_UTF8STRING *owner;
	ASN1_UTF8STRING *tre;
	ASN1_ENUMERATED *action;        /* m2m_mcim_action */
	ASN1_OCTET_STRING *nonce;       /* 16..32 octets, single use per TRE */
	ASN1_OCTET_STRING *change_id;   /* [0] OPTIONAL */
} M2M_MCIM_COMMAND;
DECLARE_ASN1_FUNCTIONS(M2M_MCIM_COMMAND)

/* mcimReceipt: SignedObject over McimReceipt, signed by the TRE. */
typedef struct {
	ASN1_OCTET_STRING *mcim_id;
	ASN1_UTF8STRING *tre;
	ASN1_ENUMERATED *action;        /* m2m_mcim_action */
	ASN1_OCTET_STRING *nonce;       /* McimCommand.nonce */
	ASN1_ENUMERATED *state;         /* m2m_mcim_state: after the command */
} M2M_MCIM_RECEIPT;
DECLARE_ASN1_FUNCTIONS(M2M_MCIM_RECEIPT)

/* ---- Alternative 1a: change of subscription (msg_alt1a.c) ---------------------------------- */

/* What the subscriber signs with the key registered for the device. */
typedef struct {
	ASN1_UTF8STRING *tre;
	ASN1_STRING *m2me;              /* Imei */
	ASN1_UTF8STRING *from_sho;
	ASN1_UTF8STRING *to_sho;
	ASN1_OCTET_STRING *nonce;       /* 16 octets, single use */
	ASN1_GENERALIZEDTIME *issued_at;
} M2M_CHANGE_AUTHORISATION;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_AUTHORISATION)

typedef struct {
	M2M_CHANGE_AUTHORISATION *content;
	ASN1_OCTET_STRING *signature;   /* ECDSA P-256 with SHA-256 over the DER of content (Ecdsa-Sig-Value) */
} M2M_SUBSCRIBER_AUTHORISATION;
DECLARE_ASN1_FUNCTIONS(M2M_SUBSCRIBER_AUTHORISATION)

typedef struct {
	M2M_SUBSCRIBER_AUTHORISATION *authorisation;
	ASN1_UTF8STRING *dpf;           /* the new SHO's DPF */
} M2M_CHANGE_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_REQUEST)

typedef struct {
	ASN1_OCTET_STRING *change_id;   /* 16 octets */
} M2M_CHANGE_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_RESPONSE)

typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *tre;
	ASN1_STRING *m2me;              /* Imei */
	ASN1_UTF8STRING *to_sho;
} M2M_CHANGE_NOTIFY;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_NOTIFY)

typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_OCTET_STRING *mcim_id;     /* OPTIONAL, 1a: the current SHO's MCIM the change replaces */
	ASN1_STRING *imsi;              /* OPTIONAL, 3b: the IMSI of the device's UICC; one of the two */
} M2M_CHANGE_CONSENT;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_CONSENT)

/* changeComplete: SignedObject over ChangeComplete, signed by the TRE. */
typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *tre;
	ASN1_UTF8STRING *sho;           /* the new SHO */
	ASN1_OCTET_STRING *mcim_id;     /* the new MCIM, active and attached with */
} M2M_CHANGE_COMPLETE;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_COMPLETE)

typedef struct {
	ASN1_OCTET_STRING *change_id;
} M2M_CHANGE_ACK;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_ACK)

typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *tre;
	ASN1_OCTET_STRING *mcim_id;     /* the old SHO's MCIM: to delete */
} M2M_CHANGE_RELEASE;
DECLARE_ASN1_FUNCTIONS(M2M_CHANGE_RELEASE)

/* treAttached: the M2ME tells its TRE how an attach with a TRE credential ended. */
enum { M2M_ATTACH_OK = 0, M2M_ATTACH_FAILED = 1 };
typedef struct {
	ASN1_STRING *imsi;
	ASN1_ENUMERATED *result;        /* M2M_ATTACH_OK or M2M_ATTACH_FAILED */
	ASN1_ENUMERATED *reason;        /* OPTIONAL: failed, why */
} M2M_TRE_ATTACHED;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_ATTACHED)

/* ---- OTA over SMS-PP and Alternative 3a, Ki transfer between operators (msg_alt3a.c) ------- */

/* A home operator's OTA server -> the visited operator serving imsi -> the M2ME attached with it. */
typedef struct {
	ASN1_STRING *imsi;              /* Imsi */
	ASN1_OCTET_STRING *tpdu;        /* one SMS-DELIVER (TS 23.040), 1..164 octets */
} M2M_SMS_DELIVER;
DECLARE_ASN1_FUNCTIONS(M2M_SMS_DELIVER)

/* The answer: the SMS-DELIVER-REPORT (RP-ACK) carrying the card's PoR when it returned one. */
typedef struct {
	ASN1_OCTET_STRING *tpdu;        /* OPTIONAL */
} M2M_SMS_REPORT;
DECLARE_ASN1_FUNCTIONS(M2M_SMS_REPORT)

typedef struct {
	ASN1_STRING *iccid;             /* NumericString, 18..20 digits */
	ASN1_STRING *new_imsi;          /* Imsi: allocated by the new operator */
} M2M_PORT_DEVICE;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_DEVICE)
DEFINE_STACK_OF(M2M_PORT_DEVICE)

/* NumericString lists (PortAuthorisation.iccids): OpenSSL has no stack type for ASN1_STRING. */
DEFINE_STACK_OF(ASN1_STRING)

/* What the subscriber signs (CMS SignedData with the subscriber's pinned certificate). */
typedef struct {
	ASN1_UTF8STRING *subscriber;
	ASN1_UTF8STRING *from_sho;
	ASN1_UTF8STRING *to_sho;
	STACK_OF(ASN1_STRING) *iccids;  /* NumericString, 1..4000 */
	ASN1_OCTET_STRING *nonce;       /* 16 octets, single use */
	ASN1_GENERALIZEDTIME *issued_at;
} M2M_PORT_AUTHORISATION;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_AUTHORISATION)

/* New operator B -> old operator A. */
typedef struct {
	ASN1_OCTET_STRING *port_id;     /* 16 octets, chosen by B */
	ASN1_OCTET_STRING *authorisation;  /* DER CMS SignedData by the subscriber over PortAuthorisation */
	STACK_OF(M2M_PORT_DEVICE) *devices;  /* 1..4000: one message is at most 1 MiB */
	ASN1_OCTET_STRING *certificate; /* B's DER certificate (operatorFunction): A encrypts the transfer to it */
} M2M_PORT_REQUEST;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_REQUEST)

typedef struct {
	ASN1_OCTET_STRING *port_id;
	uint64_t accepted;              /* devices taken on */
} M2M_PORT_RESPONSE;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_RESPONSE)

/* One OTA keyset of a card (TS 102 225): keys SECRET, only ever inside a PortTransfer package. */
typedef struct {
	uint64_t kvn;                   /* 1..15 */
	uint64_t kic_alg;               /* low nibble of KIc */
	ASN1_OCTET_STRING *kic;
	uint64_t kid_alg;               /* low nibble of KID */
	ASN1_OCTET_STRING *kid;
	ASN1_OCTET_STRING *dek;
	ASN1_OCTET_STRING *tar;         /* 3 octets: the TAR it serves */
	uint64_t counter;               /* the last CNTR the old operator used */
} M2M_OTA_KEYSET;
DECLARE_ASN1_FUNCTIONS(M2M_OTA_KEYSET)
DEFINE_STACK_OF(M2M_OTA_KEYSET)

typedef struct {
	ASN1_STRING *iccid;
	ASN1_STRING *old_imsi;
	ASN1_STRING *new_imsi;
	ASN1_OCTET_STRING *k;           /* SECRET */
	ASN1_OCTET_STRING *opc;         /* SECRET */
	uint64_t sqn;                   /* the highest SQN the old operator's HSS issued */
	STACK_OF(M2M_OTA_KEYSET) *keysets;
} M2M_PORT_CREDENTIAL;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_CREDENTIAL)
DEFINE_STACK_OF(M2M_PORT_CREDENTIAL)

/* The content of a PortTransfer package: SignedData by A inside AuthEnvelopedData to B. */
typedef struct {
	ASN1_OCTET_STRING *port_id;
	ASN1_UTF8STRING *from_sho;
	ASN1_UTF8STRING *to_sho;
	STACK_OF(M2M_PORT_CREDENTIAL) *credentials;
} M2M_PORT_CREDENTIALS;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_CREDENTIALS)

/* Old operator A -> B, before A changes anything on the cards. */
typedef struct {
	ASN1_OCTET_STRING *port_id;
	ASN1_OCTET_STRING *package;     /* DER CMS */
} M2M_PORT_TRANSFER;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_TRANSFER)

typedef struct {
	ASN1_OCTET_STRING *port_id;
	uint64_t provisioned;           /* HSS records made pending */
} M2M_PORT_TRANSFER_ACK;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_TRANSFER_ACK)

/* B -> A: the device attached with its new IMSI. */
typedef struct {
	ASN1_OCTET_STRING *port_id;
	ASN1_STRING *iccid;
	ASN1_STRING *new_imsi;
} M2M_PORT_COMPLETE;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_COMPLETE)

/* What A signs once it deleted a card's records and keys (CMS SignedData). */
typedef struct {
	ASN1_OCTET_STRING *port_id;
	ASN1_STRING *iccid;
	ASN1_STRING *old_imsi;
	ASN1_GENERALIZEDTIME *deleted_at;
} M2M_DELETION_RECEIPT;
DECLARE_ASN1_FUNCTIONS(M2M_DELETION_RECEIPT)

typedef struct {
	ASN1_OCTET_STRING *port_id;
	ASN1_STRING *iccid;
	ASN1_OCTET_STRING *receipt;     /* DER CMS SignedData by A over DeletionReceipt */
} M2M_PORT_COMPLETE_ACK;
DECLARE_ASN1_FUNCTIONS(M2M_PORT_COMPLETE_ACK)

/* ---- Alternative 3b, new credentials into the UICC through the TRE (msg_alt3b.c) ----------- */

/* What the registration operator signs to wake the TRE (SignedObject in TreTrigger). */
typedef struct {
	ASN1_OCTET_STRING *change_id;   /* 16 octets */
	ASN1_UTF8STRING *tre;
	ASN1_UTF8STRING *drf;
	ASN1_OCTET_STRING *nonce;       /* 16 octets, single use */
	ASN1_GENERALIZEDTIME *issued_at;
} M2M_TRE_ACTIVATE;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_ACTIVATE)

/* DRF -> SHO A -> the VNO serving imsi -> the M2ME attached with it -> its TRE. */
typedef struct {
	ASN1_STRING *imsi;              /* Imsi: the device's current subscription, to route it */
	M2M_SIGNED_OBJECT *trigger;     /* SignedData by the DRF over TreActivate */
} M2M_TRE_TRIGGER;
DECLARE_ASN1_FUNCTIONS(M2M_TRE_TRIGGER)

/* treTriggerAck, uiccChangeCompleteAck and uiccReleaseAck: M2M_CHANGE_ACK (Alternative 1a). */

/* What the TRE signs to register the change (uiccChangeRegister, relayed by the M2ME). */
typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *tre;
	ASN1_STRING *iccid;             /* Iccid of the card in the device */
	ASN1_OCTET_STRING *card_certificate;  /* the card's DER certificate (profile uicc) */
	ASN1_OCTET_STRING *card_nonce;  /* 16 octets from the card's GET CHALLENGE */
	ASN1_OCTET_STRING *trigger_nonce;     /* TreActivate.nonce */
} M2M_UICC_CHANGE_REGISTRATION;
DECLARE_ASN1_FUNCTIONS(M2M_UICC_CHANGE_REGISTRATION)

/* DRF -> SHO B once the TRE registered. */
typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *tre;
	ASN1_STRING *iccid;
	ASN1_OCTET_STRING *card_certificate;
	ASN1_OCTET_STRING *card_nonce;
	ASN1_OCTET_STRING *ticket;      /* the DRF's signed registration ticket (as in discoveryResponse) */
} M2M_UICC_CREDENTIAL_ORDER;
DECLARE_ASN1_FUNCTIONS(M2M_UICC_CREDENTIAL_ORDER)

/* SHO B -> DRF (uiccCredentialPackage) and DRF -> TRE (uiccCredentialDelivery). */
typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *sho;
	ASN1_STRING *imsi;              /* the new IMSI */
	ASN1_OCTET_STRING *package;     /* DER CMS AuthEnvelopedData to the card around SignedData by B over UiccCredential */
} M2M_UICC_CREDENTIAL_PACKAGE;
DECLARE_ASN1_FUNCTIONS(M2M_UICC_CREDENTIAL_PACKAGE)

/* The content of the package: only the card can read it. */
typedef struct {
	ASN1_STRING *iccid;
	ASN1_OCTET_STRING *card_nonce;
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *sho;
	ASN1_STRING *imsi;
	ASN1_OCTET_STRING *k;           /* SECRET */
	ASN1_OCTET_STRING *opc;         /* SECRET */
	M2M_OTA_KEYSET *ota;            /* B's OTA keyset for the card's RFM TAR */
	uint64_t sqn_start;             /* the first SQN B's HSS will use */
} M2M_UICC_CREDENTIAL;
DECLARE_ASN1_FUNCTIONS(M2M_UICC_CREDENTIAL)
/* Wipes K, OPc and the OTA keyset's KIc, KID and DEK, then frees (NULL: nothing): whoever holds a
 * decoded UiccCredential (B making it, the card opening it) holds secrets. */
void m2m_uicc_credential_free(M2M_UICC_CREDENTIAL *v);

typedef enum m2m_uicc_change_result {
	M2M_UICC_SWITCHED = 0,          /* attached with the new IMSI; the old slot wiped */
	M2M_UICC_ROLLED_BACK = 1,       /* the attach failed; the card back on the old IMSI */
} m2m_uicc_change_result;

/* What the TRE signs at the end (uiccChangeComplete). */
typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_UTF8STRING *tre;
	ASN1_STRING *iccid;
	ASN1_STRING *imsi;              /* the IMSI the device is attached with */
	ASN1_ENUMERATED *result;        /* m2m_uicc_change_result */
} M2M_UICC_CHANGE_RESULT;
DECLARE_ASN1_FUNCTIONS(M2M_UICC_CHANGE_RESULT)

/* DRF -> SHO A once the device works on B: A deactivates the old IMSI. */
typedef struct {
	ASN1_OCTET_STRING *change_id;
	ASN1_STRING *iccid;
	ASN1_STRING *imsi;              /* A's IMSI */
} M2M_UICC_RELEASE;
DECLARE_ASN1_FUNCTIONS(M2M_UICC_RELEASE)

#endif
