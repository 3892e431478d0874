/* Reason codes of ErrorReport (docs/protocol.asn1, ReasonCode). Values are wire values. */
#ifndef M2M_WIRE_REASON_H
#define M2M_WIRE_REASON_H

typedef enum m2m_reason {
	M2M_OK = 0,
	M2M_R_MALFORMED = 1,
	M2M_R_TRUNCATED = 2,
	M2M_R_WRONG_TAG = 3,
	M2M_R_LENGTH_TOO_LARGE = 4,
	M2M_R_TRAILING_DATA = 5,
	M2M_R_NOT_DER = 6,
	M2M_R_UNSUPPORTED_VERSION = 7,
	M2M_R_UNKNOWN_MESSAGE_TYPE = 8,
	M2M_R_BAD_BODY = 9,
	M2M_R_WRONG_RECIPIENT = 20,
	M2M_R_SENDER_MISMATCH = 21,
	M2M_R_REPLAYED = 22,
	M2M_R_OUT_OF_WINDOW = 23,
	M2M_R_UNKNOWN_PEER = 24,
	M2M_R_TIMEOUT = 25,
	M2M_R_UNREACHABLE = 26,
	M2M_R_UNEXPECTED_MESSAGE = 40,
	M2M_R_WRONG_STATE = 41,
	M2M_R_NOT_FOUND = 42,
	M2M_R_NOT_AUTHORISED = 43,
	M2M_R_BAD_SIGNATURE = 44,
	M2M_R_INTERNAL = 99,
} m2m_reason;

/* The ASN.1 identifier of a reason ("replayed"), or NULL for a value the module does not define. */
const char *m2m_reason_name(m2m_reason r);

#endif
