/* INT8 GEMM on sign-extended int16 operands: _mm256_madd_epi16 multiplies 16 int16 pairs and
   adds adjacent products into 8 int32, so every product (even -128*-128 = 16384) and every
   sum is exact until the int32 accumulator itself would overflow. */
#include "CKernels.h"
#include "int8_gemm_store.h"
#include <immintrin.h>
#include <string.h>

void octet_i8_pack_b(const int8_t *src, long ld, long k, long ncols, int16_t *dst) {
    const long kp2 = (k + 1) / 2;
    const __m128i zero = _mm_setzero_si128();
    for (long p = 0; p * 16 < ncols; p++) {
        const long c0 = p * 16, nc = ncols - c0 < 16 ? ncols - c0 : 16;
        int16_t *d = dst + p * kp2 * 32;
        for (long j = 0; j < kp2; j++, d += 32) {
            const int8_t *r0 = src + 2 * j * ld + c0;
            __m128i a, b = zero;
            if (nc == 16) {
                a = _mm_loadu_si128((const __m128i *)r0);
                if (2 * j + 1 < k) b = _mm_loadu_si128((const __m128i *)(r0 + ld));
            } else {
                int8_t ta[16] = {0}, tb[16] = {0};
                memcpy(ta, r0, (size_t)nc);
                if (2 * j + 1 < k) memcpy(tb, r0 + ld, (size_t)nc);
                a = _mm_loadu_si128((const __m128i *)ta);
                b = _mm_loadu_si128((const __m128i *)tb);
            }
            __m256i lo = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b));
            __m256i hi = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(a, b));
            _mm256_storeu_si256((__m256i *)d, lo);
            _mm256_storeu_si256((__m256i *)(d + 16), hi);
        }
    }
}

static inline int32_t load_pair(const int16_t *a) { int32_t v; memcpy(&v, a, 4); return v; }

/* MR x 16 block over kp2 k-pairs; MR is a literal at each call site so the accumulators
   live in registers (MR = 6 uses 12 + 2 + 1 ymm registers). */
static inline __attribute__((always_inline))
void block(const int MR, const int16_t *a, long lda, const int16_t *b, long kp2,
           int32_t *c, long ldc, long nc, int accumulate) {
    __m256i acc[6][2];
    for (int r = 0; r < MR; r++) { acc[r][0] = _mm256_setzero_si256(); acc[r][1] = _mm256_setzero_si256(); }
    for (long j = 0; j < kp2; j++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 32 * j));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 32 * j + 16));
        for (int r = 0; r < MR; r++) {
            const __m256i ar = _mm256_set1_epi32(load_pair(a + r * lda + 2 * j));
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(ar, b0));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(ar, b1));
        }
    }
    for (int r = 0; r < MR; r++) octet_store_row16(c + r * ldc, acc[r][0], acc[r][1], nc, accumulate);
}

enum { KC_PAIRS = 256 }; /* 512 k per block: a 16-column B block is 32 KiB */

void octet_i8_gemm_packed(const int16_t *a, long lda, long mrows, long kpad,
                          const int16_t *bpack, long ncols, int32_t *c, long ldc, int accumulate) {
    const long kp2 = kpad / 2;
    for (long p = 0; p * 16 < ncols; p++) {
        const long c0 = p * 16, nc = ncols - c0 < 16 ? ncols - c0 : 16;
        const int16_t *panel = bpack + p * kp2 * 32;
        for (long j0 = 0; j0 < kp2; j0 += KC_PAIRS) {
            const long jn = kp2 - j0 < KC_PAIRS ? kp2 - j0 : KC_PAIRS;
            const int acc = accumulate || j0 > 0;
            const int16_t *bb = panel + j0 * 32;
            long m = 0;
            for (; m + 6 <= mrows; m += 6)
                block(6, a + m * lda + 2 * j0, lda, bb, jn, c + m * ldc + c0, ldc, nc, acc);
            const int16_t *am = a + m * lda + 2 * j0;
            int32_t *cm = c + m * ldc + c0;
            switch (mrows - m) {
            case 5: block(5, am, lda, bb, jn, cm, ldc, nc, acc); break;
            case 4: block(4, am, lda, bb, jn, cm, ldc, nc, acc); break;
            case 3: block(3, am, lda, bb, jn, cm, ldc, nc, acc); break;
            case 2: block(2, am, lda, bb, jn, cm, ldc, nc, acc); break;
            case 1: block(1, am, lda, bb, jn, cm, ldc, nc, acc); break;
            default: break;
            }
        }
    }
}
