/* Store of one GEMM register block row: 16 int32 accumulators (two ymm) to c, overwriting or
   adding (modulo 2^32), only the first nc columns when the block is partial. */
#ifndef OCTET_INT8_GEMM_STORE_H
#define OCTET_INT8_GEMM_STORE_H
#include <immintrin.h>
#include <stdint.h>

static inline __attribute__((always_inline))
void octet_store_row16(int32_t *cr, __m256i lo, __m256i hi, long nc, int accumulate) {
    if (nc == 16) {
        if (accumulate) {
            lo = _mm256_add_epi32(lo, _mm256_loadu_si256((const __m256i *)cr));
            hi = _mm256_add_epi32(hi, _mm256_loadu_si256((const __m256i *)(cr + 8)));
        }
        _mm256_storeu_si256((__m256i *)cr, lo);
        _mm256_storeu_si256((__m256i *)(cr + 8), hi);
        return;
    }
    int32_t t[16];
    _mm256_storeu_si256((__m256i *)t, lo);
    _mm256_storeu_si256((__m256i *)(t + 8), hi);
    for (long i = 0; i < nc; i++) cr[i] = accumulate ? (int32_t)((uint32_t)cr[i] + (uint32_t)t[i]) : t[i];
}
#endif
