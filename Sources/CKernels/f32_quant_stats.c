/* Calibration statistics over float tensors (AVX2): the finite range, and the summed squared
   error of power-of-two fake quantization at several fix positions in one pass. */
#include "CKernels.h"
#include <immintrin.h>
#include <math.h>

void octet_f32_range(const float *x, long n, float *mn_out, float *mx_out, long *nonfinite) {
    __m256 mn = _mm256_set1_ps(INFINITY), mx = _mm256_set1_ps(-INFINITY);
    const __m256 pinf = _mm256_set1_ps(INFINITY), ninf = _mm256_set1_ps(-INFINITY);
    long bad = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 finite = _mm256_cmp_ps(_mm256_sub_ps(v, v), _mm256_setzero_ps(), _CMP_EQ_OQ);
        bad += 8 - __builtin_popcount((unsigned)_mm256_movemask_ps(finite));
        mn = _mm256_min_ps(mn, _mm256_blendv_ps(pinf, v, finite));
        mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, v, finite));
    }
    float a[8], b[8], lo = INFINITY, hi = -INFINITY;
    _mm256_storeu_ps(a, mn); _mm256_storeu_ps(b, mx);
    for (int k = 0; k < 8; k++) { if (a[k] < lo) lo = a[k]; if (b[k] > hi) hi = b[k]; }
    for (; i < n; i++) {
        const float v = x[i];
        if (!isfinite(v)) { bad++; continue; }
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    *mn_out = lo; *mx_out = hi; *nonfinite = bad;
}

static inline __m256 round8(__m256 g, int mode) {
    const __m256 half = _mm256_set1_ps(0.5f);
    switch (mode) {
    case 0: return _mm256_floor_ps(_mm256_add_ps(g, half)); /* half up */
    case 1: {                                               /* half away from zero */
        const __m256 sign = _mm256_and_ps(g, _mm256_set1_ps(-0.0f));
        return _mm256_round_ps(_mm256_add_ps(g, _mm256_or_ps(half, sign)), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    }
    case 2: return _mm256_round_ps(g, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); /* half to even */
    case 3: return _mm256_round_ps(g, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);     /* floor */
    case 4: return _mm256_round_ps(g, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);     /* ceil */
    default: {                                                                         /* ties toward zero */
        const __m256 sign = _mm256_and_ps(g, _mm256_set1_ps(-0.0f)), mag = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), g);
        return _mm256_or_ps(_mm256_ceil_ps(_mm256_sub_ps(mag, half)), sign);
    }
    }
}

static inline float hsum(__m256 v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}

static inline float round1(float g, int mode) {
    switch (mode) {
    case 0: return floorf(g + 0.5f);
    case 1: return truncf(g + copysignf(0.5f, g));
    case 2: return nearbyintf(g);
    case 3: return floorf(g);
    case 4: return ceilf(g);
    default: return copysignf(ceilf(fabsf(g) - 0.5f), g);
    }
}

enum { BLOCK = 4096, MAXC = 8 };

void octet_f32_fixpos_sse(const float *x, long n, const int *fixpos, int count, float lo, float hi,
                          int mode, double *sse) {
    for (int c0 = 0; c0 < count; c0 += MAXC) {
        const int m = count - c0 < MAXC ? count - c0 : MAXC;
        float a[MAXC], b[MAXC];
        for (int k = 0; k < m; k++) { a[k] = ldexpf(1.0f, fixpos[c0 + k]); b[k] = ldexpf(1.0f, -fixpos[c0 + k]); }
        const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
        const __m256 glo = _mm256_set1_ps(lo - 1), ghi = _mm256_set1_ps(hi + 1);
        for (long start = 0; start < n; start += BLOCK) {
            const long end = n - start < BLOCK ? n : start + BLOCK;
            __m256 acc[MAXC];
            for (int k = 0; k < m; k++) acc[k] = _mm256_setzero_ps();
            long i = start;
            for (; i + 8 <= end; i += 8) {
                const __m256 v = _mm256_loadu_ps(x + i);
                for (int k = 0; k < m; k++) {
                    const __m256 g = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v, _mm256_set1_ps(a[k])), glo), ghi);
                    const __m256 q = _mm256_min_ps(_mm256_max_ps(round8(g, mode), vlo), vhi);
                    const __m256 e = _mm256_sub_ps(v, _mm256_mul_ps(q, _mm256_set1_ps(b[k])));
                    acc[k] = _mm256_fmadd_ps(e, e, acc[k]);
                }
            }
            float tail[MAXC] = {0};
            for (; i < end; i++) for (int k = 0; k < m; k++) {
                float g = x[i] * a[k];
                g = g < lo - 1 ? lo - 1 : (g > hi + 1 ? hi + 1 : g);
                float q = round1(g, mode);
                q = q < lo ? lo : (q > hi ? hi : q);
                const float e = x[i] - q * b[k];
                tail[k] += e * e;
            }
            for (int k = 0; k < m; k++) sse[c0 + k] += (double)hsum(acc[k]) + (double)tail[k];
        }
    }
}
