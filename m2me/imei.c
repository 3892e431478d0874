/* The IMEI check digit (TS 23.003 Annex B): the Luhn formula over the first 14 digits. */
#include "device.h"

#include <string.h>

int m2me_imei_valid(const char *imei)
{
	if (!imei || strlen(imei) != M2ME_IMEI_LEN || strspn(imei, "0123456789") != M2ME_IMEI_LEN)
		return 0;
	/* every second digit from the right, the check digit not counted, is doubled */
	int sum = 0;
	for (int i = 0; i < M2ME_IMEI_LEN - 1; i++) {
		int d = imei[i] - '0';
		if (i % 2) {
			d *= 2;
			d = d > 9 ? d - 9 : d;
		}
		sum += d;
	}
	return (10 - sum % 10) % 10 == imei[M2ME_IMEI_LEN - 1] - '0';
}
