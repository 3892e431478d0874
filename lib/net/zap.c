#include "net/zap.h"

#include "log/log.h"

#include <string.h>
#include <zmq.h>

enum { ZAP_VERSION, ZAP_REQUEST_ID, ZAP_DOMAIN, ZAP_ADDRESS, ZAP_IDENTITY, ZAP_MECHANISM,
       ZAP_CREDENTIALS, ZAP_FRAMES };

static const m2m_peer_conf *peer_by_key(const m2m_node_conf *conf, const uint8_t key[32])
{
	for (int i = 0; i < conf->npeers; i++) {
		uint8_t k[32];
		if (zmq_z85_decode(k, conf->peers[i].public_key) && !memcmp(k, key, 32))
			return &conf->peers[i];
	}
	return NULL;
}

static void send_frame(void *s, const void *d, size_t n, int more)
{
	zmq_send(s, d, n, more ? ZMQ_SNDMORE : 0);
}

int m2m_zap_answer(void *zap, const m2m_node_conf *conf)
{
	zmq_msg_t f[ZAP_FRAMES];
	int n = 0, more = 1;
	while (more && n < ZAP_FRAMES) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], zap, 0) < 0)
			break;
		more = zmq_msg_more(&f[n++]);
	}
	const m2m_peer_conf *peer = NULL;
	char addr[64] = "?", z85[M2M_KEY_Z85] = "?";
	if (n == ZAP_FRAMES && zmq_msg_size(&f[ZAP_CREDENTIALS]) == 32) {
		const uint8_t *key = zmq_msg_data(&f[ZAP_CREDENTIALS]);
		peer = peer_by_key(conf, key);
		zmq_z85_encode(z85, key, 32);
		snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&f[ZAP_ADDRESS]),
			 (const char *)zmq_msg_data(&f[ZAP_ADDRESS]));
	}
	if (!peer)
		m2m_warn("refused unknown CURVE key %s from %s", z85, addr);
	send_frame(zap, "1.0", 3, 1);
	if (n > ZAP_REQUEST_ID)
		send_frame(zap, zmq_msg_data(&f[ZAP_REQUEST_ID]), zmq_msg_size(&f[ZAP_REQUEST_ID]), 1);
	else
		send_frame(zap, "", 0, 1);
	send_frame(zap, peer ? "200" : "400", 3, 1);
	send_frame(zap, peer ? "OK" : "unknown key", peer ? 2 : 11, 1);
	send_frame(zap, peer ? peer->id : "", peer ? strlen(peer->id) : 0, 1);
	send_frame(zap, "", 0, 0);
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	while (more) {  /* drain a malformed, over-long request */
		zmq_msg_t x;
		zmq_msg_init(&x);
		more = zmq_msg_recv(&x, zap, 0) >= 0 && zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	return peer ? 0 : 1;
}
