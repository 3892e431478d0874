#include "net/tap.h"

#include "wire/wire.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

void *m2m_tap_open(void *ctx, const char *endpoint, const char *secret_key, char *err, size_t errlen)
{
	void *s = zmq_socket(ctx, ZMQ_PUB);
	int one = 1, zero = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	/* the tap is a CurveZMQ server like the ROUTER: only configured peers may watch */
	zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret_key, strlen(secret_key) + 1);
	zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "m2m", 3);
	if (zmq_bind(s, endpoint)) {
		snprintf(err, errlen, "cannot bind tap %s: %s", endpoint, zmq_strerror(errno));
		zmq_close(s);
		return NULL;
	}
	return s;
}

int64_t m2m_tap_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void m2m_tap_publish(void *tap, const char *direction, const char *entity, int64_t when_us, const void *der,
		     size_t len)
{
	if (!tap)
		return;
	/* a trace must never show a SECRET field: publish the redacted re-encoding instead */
	unsigned char *redacted = NULL;
	size_t rlen;
	if (m2m_redact(der, len, &redacted, &rlen) == 1) {
		der = redacted;
		len = rlen;
	}
	char when[32];
	int n = snprintf(when, sizeof when, "%lld", (long long)when_us);
	zmq_send(tap, direction, strlen(direction), ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(tap, entity, strlen(entity), ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(tap, when, (size_t)n, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(tap, der, len, ZMQ_DONTWAIT);
	OPENSSL_free(redacted);
}
