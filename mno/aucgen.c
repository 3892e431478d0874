/* m2m-auc-gen: prints MILENAGE / AKA values for plugtests; the logic is in lib/aka/aucgen_cli.c. */
#include "aka/aucgen_cli.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	return m2m_aucgen_main(argc, argv, stdout, stderr);
}
