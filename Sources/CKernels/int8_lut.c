/* Code-to-code table lookup y[i] = table[(uint8_t)x[i]] over int8 tensors: AVX-512 VBMI
   (two vpermi2b over 128-byte halves, chosen by the index's top bit) where the CPU has it,
   otherwise a scalar loop. */
#include "CKernels.h"
#include <immintrin.h>
#include <string.h>

static int vbmi_supported(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
    }
    return cached;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static void lut_vbmi(const int8_t *x, int8_t *y, long n, const int8_t *table) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    long i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i idx = _mm512_loadu_si512(x + i);
        const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1), hi = _mm512_permutex2var_epi8(t2, idx, t3);
        _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
    }
    for (; i < n; i++) y[i] = table[(uint8_t)x[i]];
}

void octet_i8_lut(const int8_t *x, int8_t *y, long n, const int8_t *table) {
    if (vbmi_supported()) { lut_vbmi(x, y, n, table); return; }
    for (long i = 0; i < n; i++) y[i] = table[(uint8_t)x[i]];
}
