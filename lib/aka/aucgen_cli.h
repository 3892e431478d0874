/*
 * m2m-auc-gen, the plugtest authentication-vector tool (in the spirit of osmo-auc-gen), as a
 * function: mno/aucgen.c's main calls it, and the tests call it in-process.
 *
 *   m2m-auc-gen --k HEX (--op HEX | --opc HEX) [--amf HEX] [--sqn N] [--rand HEX]
 *   m2m-auc-gen --k HEX (--op HEX | --opc HEX) --rand HEX --auts HEX
 *   m2m-auc-gen --k HEX (--op HEX | --opc HEX) --rand HEX --make-auts --sqn-ms N
 *
 * Output is one "LABEL: hex" line per value. Returns the exit status: 0 success, 1 MAC-S of
 * --auts does not verify (or OpenSSL failed), 2 bad usage (one line on err).
 */
#ifndef M2M_AKA_AUCGEN_CLI_H
#define M2M_AKA_AUCGEN_CLI_H

#include <stdio.h>

int m2m_aucgen_main(int argc, char **argv, FILE *out, FILE *err);

#endif
