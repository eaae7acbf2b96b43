/* Row copies shared by the float window kernels (AVX2). */
#ifndef OCTET_F32_ROWS_H
#define OCTET_F32_ROWS_H
#include <immintrin.h>

/* d[c] = s[2c] for c0 <= c < c1, eight at a time from sixteen consecutive floats. */
static inline void gather2(float *d, const float *s, long c0, long c1) {
    long c = c0;
    for (; c + 8 < c1; c += 8) { /* reads s[2c .. 2c+15], within s[2(c1-1)] */
        const __m256 a = _mm256_loadu_ps(s + 2 * c), b = _mm256_loadu_ps(s + 2 * c + 8);
        const __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
        _mm256_storeu_ps(d + c, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0))));
    }
    for (; c < c1; c++) d[c] = s[2 * c];
}

/* d[0..n) = s[0..n), eight at a time, then one by one. */
static inline void copy_row(float *d, const float *s, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
    for (; i < n; i++) d[i] = s[i];
}

/* d[i] = s[i*stride] for i < n. */
static inline void gather_row(float *d, const float *s, long n, long stride) {
    if (stride == 1) copy_row(d, s, n);
    else if (stride == 2) gather2(d, s, 0, n);
    else for (long i = 0; i < n; i++) d[i] = s[i * stride];
}

/* First and one-past-last output column whose input column ox*s + k*d - pad lies in [0, in). */
static inline void window_cols(long in, long out, long s, long pad, long k, long d, long *lo, long *hi) {
    long off = k * d - pad;
    long a = off >= 0 ? 0 : (-off + s - 1) / s;
    long b = in - 1 - off < 0 ? 0 : (in - 1 - off) / s + 1;
    *lo = a;
    *hi = b < out ? b : out;
}

#endif
