/* Depthwise convolution row: pairs of taps are byte-interleaved, sign-extended to int16 and
   reduced with _mm256_madd_epi16 against a broadcast (w[2p], w[2p+1]) pair: exact int32. */
#include "CKernels.h"
#include <immintrin.h>

static inline __attribute__((always_inline))
void dw_row(const int8_t *const *taps, const int32_t *wpairs, const long ntaps, int32_t *out, long ow) {
    const long np = (ntaps + 1) / 2;
    for (long x = 0; x < ow; x += 16) {
        __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
        for (long p = 0; p < np; p++) {
            const __m128i a = _mm_loadu_si128((const __m128i *)(taps[2 * p] + x));
            const __m128i b = 2 * p + 1 < ntaps ? _mm_loadu_si128((const __m128i *)(taps[2 * p + 1] + x))
                                                 : _mm_setzero_si128();
            const __m256i w = _mm256_set1_epi32(wpairs[p]);
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b)), w));
            acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpackhi_epi8(a, b)), w));
        }
        _mm256_storeu_si256((__m256i *)(out + x), acc0);
        _mm256_storeu_si256((__m256i *)(out + x + 8), acc1);
    }
}

void octet_i8_dw_row(const int8_t *const *taps, const int32_t *wpairs, long ntaps, int32_t *out, long ow) {
    switch (ntaps) { /* 3x3 and 5x5 get fully unrolled tap loops */
    case 9: dw_row(taps, wpairs, 9, out, ow); break;
    case 25: dw_row(taps, wpairs, 25, out, ow); break;
    default: dw_row(taps, wpairs, ntaps, out, ow); break;
    }
}
