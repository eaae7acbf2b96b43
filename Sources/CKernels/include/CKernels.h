#ifndef OCTET_CKERNELS_H
#define OCTET_CKERNELS_H
#include <stdint.h>
/* SIMD intrinsics kernels that Swift cannot express; each has a Swift reference twin. */
int octet_ckernels_version(void);
#endif
