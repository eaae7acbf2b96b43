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

/* Rounding to integers of |g| < 2^22. The half-way tests compare the exact remainder g - floor(g)
   or g - trunc(g) with 0.5 (adding 0.5 first would round in float: 0.49999997 + 0.5 = 1). */
static inline __m256 round8(__m256 g, int mode) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    switch (mode) {
    case 0: { /* half up */
        const __m256 n = _mm256_floor_ps(g);
        return _mm256_add_ps(n, _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(g, n), half, _CMP_GE_OQ), one));
    }
    case 1: case 5: { /* half away from zero; half down = ties toward zero */
        const __m256 t = _mm256_round_ps(g, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), d = _mm256_sub_ps(g, t);
        const __m256 plus = _mm256_and_ps(mode == 1 ? _mm256_cmp_ps(d, half, _CMP_GE_OQ) : _mm256_cmp_ps(d, half, _CMP_GT_OQ), one);
        const __m256 nhalf = _mm256_set1_ps(-0.5f);
        const __m256 minus = _mm256_and_ps(mode == 1 ? _mm256_cmp_ps(d, nhalf, _CMP_LE_OQ) : _mm256_cmp_ps(d, nhalf, _CMP_LT_OQ), one);
        return _mm256_sub_ps(_mm256_add_ps(t, plus), minus);
    }
    case 2: return _mm256_round_ps(g, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); /* half to even */
    case 3: return _mm256_round_ps(g, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);     /* floor */
    default: return _mm256_round_ps(g, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);    /* ceil */
    }
}

static inline float hsum(__m256 v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}

static inline float round1(float g, int mode) {
    switch (mode) {
    case 0: { const float n = floorf(g); return g - n >= 0.5f ? n + 1 : n; }
    case 1: { const float t = truncf(g), d = g - t; return d >= 0.5f ? t + 1 : (d <= -0.5f ? t - 1 : t); }
    case 5: { const float t = truncf(g), d = g - t; return d > 0.5f ? t + 1 : (d < -0.5f ? t - 1 : t); }
    case 2: return nearbyintf(g);
    case 3: return floorf(g);
    default: return ceilf(g);
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

void octet_f32_fake_quantize(float *x, long n, int fixpos, float lo, float hi, int mode) {
    const float a = ldexpf(1.0f, fixpos), b = ldexpf(1.0f, -fixpos);
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256 glo = _mm256_set1_ps(lo - 1), ghi = _mm256_set1_ps(hi + 1);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        /* max_ps returns its second operand for NaN: NaN -> lo - 1 -> lo, as the scalar path */
        const __m256 g = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), va), glo), ghi);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(round8(g, mode), vlo), vhi), vb));
    }
    for (; i < n; i++) {
        float g = x[i] * a;
        g = g > lo - 1 ? (g < hi + 1 ? g : hi + 1) : lo - 1;
        float q = round1(g, mode);
        q = q > lo ? (q < hi ? q : hi) : lo;
        x[i] = q * b;
    }
}
