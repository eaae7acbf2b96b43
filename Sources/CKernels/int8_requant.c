/* Vector requantization in int32 (see Requantize.swift for the definition and the overflow
   bound the Swift caller checks before choosing this path). */
#include "CKernels.h"
#include <immintrin.h>
#include <string.h>

static inline __m256i round_shift8(__m256i v, __m256i half, __m128i s) {
    return _mm256_sra_epi32(_mm256_add_epi32(v, half), s);
}

static inline __m256i requant8(__m256i acc, const octet_requant_i32 *p) {
    const __m128i k = _mm_cvtsi32_si128(p->up_shift), s = _mm_cvtsi32_si128(p->shift);
    const __m256i half = _mm256_set1_epi32(p->shift > 0 ? 1 << (p->shift - 1) : 0);
    const __m256i zero = _mm256_setzero_si256();
    __m256i v = _mm256_add_epi32(_mm256_sll_epi32(acc, k), _mm256_set1_epi32(p->bias_term));
    switch (p->activation) {
    case 1: return round_shift8(_mm256_max_epi32(v, zero), half, s);
    case 2: {
        const __m256i r = round_shift8(_mm256_max_epi32(v, zero), half, s);
        const __m256i over = _mm256_cmpgt_epi32(v, _mm256_set1_epi32(p->relu6_floor));
        return _mm256_blendv_epi8(r, _mm256_set1_epi32(p->relu6_out), over);
    }
    case 3: {
        const __m256i s8h = _mm256_set1_epi32(1 << (p->shift + 7));
        const __m256i neg = round_shift8(_mm256_mullo_epi32(v, _mm256_set1_epi32(26)), s8h,
                                         _mm_cvtsi32_si128(p->shift + 8));
        return _mm256_blendv_epi8(round_shift8(v, half, s), neg, _mm256_cmpgt_epi32(zero, v));
    }
    default: return round_shift8(v, half, s);
    }
}

static inline void requant32(const int32_t *acc, int8_t *out, const octet_requant_i32 *p) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i r0 = requant8(_mm256_loadu_si256((const __m256i *)acc), p);
    const __m256i r1 = requant8(_mm256_loadu_si256((const __m256i *)(acc + 8)), p);
    const __m256i r2 = requant8(_mm256_loadu_si256((const __m256i *)(acc + 16)), p);
    const __m256i r3 = requant8(_mm256_loadu_si256((const __m256i *)(acc + 24)), p);
    /* signed saturating packs clamp to [-128, 127]; they interleave 128-bit lanes,
       which the final dword permutation undoes */
    const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(r0, r1), _mm256_packs_epi32(r2, r3));
    _mm256_storeu_si256((__m256i *)out, _mm256_permutevar8x32_epi32(b, order));
}

void octet_i8_requant_row(const int32_t *acc, int8_t *out, long n, const octet_requant_i32 *p) {
    long i = 0;
    for (; i + 32 <= n; i += 32) requant32(acc + i, out + i, p);
    if (i < n) { /* tail through a zero-padded block */
        int32_t t[32] = {0};
        int8_t o[32];
        memcpy(t, acc + i, (size_t)(n - i) * 4);
        requant32(t, o, p);
        memcpy(out + i, o, (size_t)(n - i));
    }
}
