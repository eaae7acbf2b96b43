#include "CKernels.h"
int octet_ckernels_version(void) { return 1; }
