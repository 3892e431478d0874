/*
 * The tap: a PUB socket on which a node copies every message it sends or receives, for the
 * testbed's recorder. Frames: direction ("tx" or "rx"), the observing entity, the time in
 * microseconds since the epoch (decimal text), and the DER of the message as it was on the wire,
 * except that SECRET fields (docs/protocol.asn1) are zeroed first.
 */
#ifndef M2M_NET_TAP_H
#define M2M_NET_TAP_H

#include <stddef.h>
#include <stdint.h>

void *m2m_tap_open(void *ctx, const char *endpoint, const char *secret_key, char *err, size_t errlen);
/* Microseconds since the epoch: a message's time on the tap. A sender takes it before it sends,
 * so that a reply can never appear earlier than its request in a chart. */
int64_t m2m_tap_clock(void);
/* No-op when tap is NULL; never blocks (PUB drops when no subscriber keeps up). */
void m2m_tap_publish(void *tap, const char *direction, const char *entity, int64_t when_us, const void *der,
		     size_t len);

#endif
