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

#endif
