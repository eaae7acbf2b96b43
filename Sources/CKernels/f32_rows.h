/* Row copies shared by the float window kernels (AVX2). */
#ifndef OCTET_F32_ROWS_H
#define OCTET_F32_ROWS_H
#include <immintrin.h>

/* Lane mask of the first n lanes (n <= 8; n <= 0 gives none). */
static inline __m256i first_lanes(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Even lanes of the sixteen floats a|b, in order: a0 a2 a4 a6 b0 b2 b4 b6. */
static inline __m256 even_lanes(__m256 a, __m256 b) {
    const __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* Odd lanes of the sixteen floats a|b, in order: a1 a3 a5 a7 b1 b3 b5 b7. */
static inline __m256 odd_lanes(__m256 a, __m256 b) {
    const __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* Lane mask of the lanes i with 0 <= k + i < n. */
static inline __m256i lanes_within(long k, long n) {
    const __m256i i = _mm256_add_epi32(_mm256_set1_epi32((int)k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), i), _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), i));
}

/* Stores v at d, whose first n lanes are valid and the rest zero: whole when `room` floats
   may be written at d (a masked store is slow on some cores), else under a mask. */
static inline void store_tail(float *d, __m256 v, long n, long room) {
    if (room >= 8) _mm256_storeu_ps(d, v);
    else _mm256_maskstore_ps(d, first_lanes(n), v);
}

/* d[c] = s[2c] for c < n, eight at a time from sixteen consecutive floats. The last block is
   loaded under masks (nothing past s[2(n-1)] is read) and its lanes past n stored as zeros
   when `room` (>= n) floats may be written at d. */
static inline void gather2(float *d, const float *s, long n, long room) {
    long c = 0;
    for (; c + 8 < n; c += 8) /* reads s[2c .. 2c+15], within s[2(n-1)] */
        _mm256_storeu_ps(d + c, even_lanes(_mm256_loadu_ps(s + 2 * c), _mm256_loadu_ps(s + 2 * c + 8)));
    if (c < n) {
        const long last = 2 * (n - 1 - c); /* the last float read, relative to s + 2c */
        const __m256 a = _mm256_maskload_ps(s + 2 * c, first_lanes(last + 1));
        const __m256 b = _mm256_maskload_ps(s + 2 * c + 8, first_lanes(last - 7));
        store_tail(d + c, even_lanes(a, b), n - c, room - c);
    }
}

/* d[0..n) = s[0..n), eight at a time; the last block as in gather2. */
static inline void copy_row(float *d, const float *s, long n, long room) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
    if (i < n) store_tail(d + i, _mm256_maskload_ps(s + i, first_lanes(n - i)), n - i, room - i);
}

/* d[i] = s[i*stride] for i < n; d[n .. min(room, roundup8(n))) may be zeroed. */
static inline void gather_row(float *d, const float *s, long n, long stride, long room) {
    if (stride == 1) copy_row(d, s, n, room);
    else if (stride == 2) gather2(d, s, n, room);
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
