#ifndef OCTET_CKERNELS_H
#define OCTET_CKERNELS_H
#include <stdint.h>
/* SIMD intrinsics kernels that Swift cannot express; each has a Swift reference twin
   (OctetTensor/Kernels/Int8*.swift, Requantize.swift). All pointers may be unaligned. */
int octet_ckernels_version(void);

/* ---- INT8 GEMM (int16 operands, exact int32 accumulation via pmaddwd) ---- */

/* Packs rows 0..<k of an int8 matrix (row r starts at src + r*ld, ncols valid columns) into
   ceil(ncols/16) panels. Panel p holds ceil(k/2) k-pairs; pair j is 32 int16:
   for column c in 0..<16: [b(2j, 16p+c), b(2j+1, 16p+c)]. Missing rows/columns are 0.
   dst must hold ceil(ncols/16) * ceil(k/2) * 32 int16. */
void octet_i8_pack_b(const int8_t *src, long ld, long k, long ncols, int16_t *dst);

/* c[m][n] (+)= sum_k a[m][k] * b[k][n] for m < mrows, n < ncols.
   a: int16 rows of length lda (>= kpad, kpad = 2*ceil(k/2), entries k..<kpad are 0).
   bpack: panels from octet_i8_pack_b with the same k. c: int32 rows of stride ldc.
   accumulate = 0 overwrites c, 1 adds to it. Exact while |sum| < 2^31. */
void octet_i8_gemm_packed(const int16_t *a, long lda, long mrows, long kpad,
                          const int16_t *bpack, long ncols, int32_t *c, long ldc, int accumulate);

/* ---- depthwise row ---- */

/* out[x] = sum_t taps[t][x] * w[t] for x < ow (written up to roundup16(ow));
   taps[t] must be readable for roundup16(ow) bytes. wpairs[p] = (uint16)w[2p] | w[2p+1] << 16
   for p < ceil(ntaps/2) (a missing odd tap has weight 0). */
void octet_i8_dw_row(const int8_t *const *taps, const int32_t *wpairs, long ntaps, int32_t *out, long ow);

/* ---- requantization (int32 domain; the caller checks that no step overflows int32) ---- */
typedef struct {
    int32_t bias_term;   /* bias_int << max(shift_bias, 0) */
    int32_t up_shift;    /* k = max(-shift_bias, 0): v = (acc << k) + bias_term */
    int32_t shift;       /* S = shift_cut + k */
    int32_t activation;  /* 0 none, 1 relu, 2 relu6, 3 leaky relu 26/256 */
    int32_t relu6_floor; /* relu6: v > relu6_floor -> relu6_out */
    int32_t relu6_out;
} octet_requant_i32;

/* out[i] = saturate_int8(DPU_ROUND(act(v_i) / 2^S)), see Requantize.swift. */
void octet_i8_requant_row(const int32_t *acc, int8_t *out, long n, const octet_requant_i32 *p);
#endif
