/* INT8 GEMM with AVX-512 VNNI (vpdpbusd on 256-bit registers). vpdpbusd multiplies unsigned
   bytes by signed bytes and adds each group of four products to an int32 lane without
   saturation, so it is exact: the activations are offset to u = x + 128 (x XOR 0x80) and
   sum_k u*w = sum_k x*w + 128*sum_k w, the last term subtracted once per output row. The
   int32 lanes wrap modulo 2^32, and since the true result fits in int32 the final value is
   exact even when the offset sum passes 2^31. */
#include "CKernels.h"
#include "int8_gemm_store.h"
#include <immintrin.h>
#include <string.h>

#define VNNI __attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512vnni")))

int octet_i8_vnni_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512bw");
}

long octet_i8_vnni_pack_a_size(long m, long k) { return m * ((k + 3) / 4 * 4) + 4 * m; }

void octet_i8_vnni_pack_a(const int8_t *a, long lda, long m, long k, void *dst) {
    const long kq4 = (k + 3) / 4 * 4;
    int8_t *d = (int8_t *)dst;
    uint32_t corr[1];
    for (long r = 0; r < m; r++) {
        const int8_t *s = a + r * lda;
        memcpy(d + r * kq4, s, (size_t)k);
        memset(d + r * kq4 + k, 0, (size_t)(kq4 - k));
        uint32_t sum = 0;
        for (long p = 0; p < k; p++) sum += (uint32_t)(int32_t)s[p];
        corr[0] = sum * 128u; /* modulo 2^32, as the lanes */
        memcpy(d + m * kq4 + 4 * r, corr, 4);
    }
}

long octet_i8_vnni_pack_b_size(long k, long ncols) { return (ncols + 15) / 16 * ((k + 3) / 4) * 64; }

void octet_i8_vnni_pack_b(const int8_t *src, long ld, long k, long ncols, void *dst) {
    const long kq = (k + 3) / 4;
    const __m128i flip = _mm_set1_epi8((char)0x80);
    uint8_t *out = (uint8_t *)dst;
    for (long p = 0; p * 16 < ncols; p++) {
        const long c0 = p * 16, nc = ncols - c0 < 16 ? ncols - c0 : 16;
        uint8_t *d = out + p * kq * 64;
        for (long j = 0; j < kq; j++, d += 64) {
            __m128i r[4];
            for (int i = 0; i < 4; i++) {
                const long row = 4 * j + i;
                if (row >= k) { r[i] = _mm_setzero_si128(); continue; }
                const int8_t *s = src + row * ld + c0;
                if (nc == 16) r[i] = _mm_loadu_si128((const __m128i *)s);
                else { int8_t t[16] = {0}; memcpy(t, s, (size_t)nc); r[i] = _mm_loadu_si128((const __m128i *)t); }
                r[i] = _mm_xor_si128(r[i], flip);
            }
            const __m128i ablo = _mm_unpacklo_epi8(r[0], r[1]), abhi = _mm_unpackhi_epi8(r[0], r[1]);
            const __m128i cdlo = _mm_unpacklo_epi8(r[2], r[3]), cdhi = _mm_unpackhi_epi8(r[2], r[3]);
            _mm_storeu_si128((__m128i *)d, _mm_unpacklo_epi16(ablo, cdlo));
            _mm_storeu_si128((__m128i *)(d + 16), _mm_unpackhi_epi16(ablo, cdlo));
            _mm_storeu_si128((__m128i *)(d + 32), _mm_unpacklo_epi16(abhi, cdhi));
            _mm_storeu_si128((__m128i *)(d + 48), _mm_unpackhi_epi16(abhi, cdhi));
        }
    }
}

/* MR x 16 block over kq k-quads; MR is a literal at each call site (MR = 8: 16 accumulators). */
static inline VNNI __attribute__((always_inline))
void block_vnni(const int MR, const int8_t *a, long lda, const uint8_t *b, long kq, int32_t *c, long ldc, long nc,
                const int32_t *corr, int accumulate) {
    __m256i acc[8][2];
    for (int r = 0; r < MR; r++) { acc[r][0] = _mm256_setzero_si256(); acc[r][1] = _mm256_setzero_si256(); }
    for (long j = 0; j < kq; j++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 64 * j));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 64 * j + 32));
        for (int r = 0; r < MR; r++) {
            int32_t q;
            memcpy(&q, a + r * lda + 4 * j, 4);
            const __m256i ar = _mm256_set1_epi32(q);
            acc[r][0] = _mm256_dpbusd_epi32(acc[r][0], b0, ar);
            acc[r][1] = _mm256_dpbusd_epi32(acc[r][1], b1, ar);
        }
    }
    for (int r = 0; r < MR; r++) {
        if (corr) {
            const __m256i k = _mm256_set1_epi32(corr[r]);
            acc[r][0] = _mm256_sub_epi32(acc[r][0], k);
            acc[r][1] = _mm256_sub_epi32(acc[r][1], k);
        }
        octet_store_row16(c + r * ldc, acc[r][0], acc[r][1], nc, accumulate);
    }
}

enum { KC_QUADS = 128 }; /* 512 k per block: a 16-column B block is 32 KiB */

VNNI void octet_i8_vnni_gemm(const void *apack, long m_total, long row0, long mrows, long k,
                             const void *bpack, long ncols, int32_t *c, long ldc) {
    const long kq = (k + 3) / 4, kq4 = kq * 4;
    const int8_t *a = (const int8_t *)apack + row0 * kq4;
    int32_t corr_all[8];
    const int8_t *corr_base = (const int8_t *)apack + m_total * kq4 + 4 * row0;
    for (long p = 0; p * 16 < ncols; p++) {
        const long c0 = p * 16, nc = ncols - c0 < 16 ? ncols - c0 : 16;
        const uint8_t *panel = (const uint8_t *)bpack + p * kq * 64;
        for (long j0 = 0; j0 < kq; j0 += KC_QUADS) {
            const long jn = kq - j0 < KC_QUADS ? kq - j0 : KC_QUADS;
            const int first = j0 == 0;
            const uint8_t *bb = panel + j0 * 64;
            long m = 0;
            for (; m < mrows; m += 8) {
                const long mr = mrows - m < 8 ? mrows - m : 8;
                memcpy(corr_all, corr_base + 4 * m, (size_t)(4 * mr));
                const int8_t *am = a + m * kq4 + 4 * j0;
                int32_t *cm = c + m * ldc + c0;
                const int32_t *corr = first ? corr_all : 0;
                switch (mr) {
                case 8: block_vnni(8, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                case 7: block_vnni(7, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                case 6: block_vnni(6, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                case 5: block_vnni(5, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                case 4: block_vnni(4, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                case 3: block_vnni(3, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                case 2: block_vnni(2, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                default: block_vnni(1, am, kq4, bb, jn, cm, ldc, nc, corr, !first); break;
                }
            }
        }
    }
}
