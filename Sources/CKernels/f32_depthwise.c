/* Float depthwise convolution of one plane (AVX2 + FMA). The zero-padded input is split
   into its stride phases (phase (a, b) holds padded rows r*sH + a and columns c*sW + b,
   ph x pw values), so output (oy, ox) reads tap (ky, kx) at flat index
   base(ky, kx) + oy*pw + ox of the phase buffer: one long row per plane, processed 32 outputs
   at a time with every tap's weight broadcast; columns ox >= out_w of the flat result are
   discarded when bias and clamp are applied on the way out. */
#include "CKernels.h"
#include <immintrin.h>
#include <string.h>

static void dims(const octet_dw_geometry *g, long *ph, long *pw) {
    *ph = g->out_h + (g->kernel_h - 1) * g->dilation_h / g->stride_h;
    *pw = g->out_w + (g->kernel_w - 1) * g->dilation_w / g->stride_w;
}

long octet_f32_dw_scratch(const octet_dw_geometry *g) {
    long ph, pw;
    dims(g, &ph, &pw);
    /* phase planes + slack for the last 32-wide block, then the flat result */
    return g->stride_h * g->stride_w * ph * pw + 64 + (g->out_h * pw + 64);
}

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

static inline void copy_short(float *d, const float *s, long n) {
    if (n > 16) { memcpy(d, s, (size_t)n * sizeof(float)); return; }
    for (long i = 0; i < n; i++) d[i] = s[i];
}

/* The whole buffer is zeroed once, then each phase row's valid columns are copied. */
static void fill_phases(const float *x, const octet_dw_geometry *g, long ph, long pw, float *buf) {
    const long sh = g->stride_h, sw = g->stride_w;
    memset(buf, 0, (size_t)(sh * sw * ph * pw + 64) * sizeof(float));
    for (long a = 0; a < sh; a++) for (long b = 0; b < sw; b++) {
        float *plane = buf + (a * sw + b) * ph * pw;
        /* columns c with 0 <= c*sw + b - pad_left < in_w */
        long c0 = g->pad_left - b > 0 ? (g->pad_left - b + sw - 1) / sw : 0;
        long c1 = g->in_w - 1 + g->pad_left - b < 0 ? 0 : (g->in_w - 1 + g->pad_left - b) / sw + 1;
        if (c0 > pw) c0 = pw;
        if (c1 > pw) c1 = pw;
        if (c1 <= c0) continue;
        for (long r = 0; r < ph; r++) {
            const long iy = r * sh + a - g->pad_top;
            if (iy < 0 || iy >= g->in_h) continue;
            float *d = plane + r * pw;
            const float *src = x + iy * g->in_w + b - g->pad_left;
            if (sw == 1) copy_short(d + c0, src + c0, c1 - c0);
            else if (sw == 2) gather2(d, src, c0, c1);
            else for (long c = c0; c < c1; c++) d[c] = src[c * sw];
        }
    }
}

static inline __attribute__((always_inline))
void flat(const float *buf, const long *off, const float *w, const long taps, float *out, long n) {
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (long t = 0; t < taps; t++) {
            const float *p = buf + off[t] + i;
            const __m256 wv = _mm256_set1_ps(w[t]);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p), wv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 8), wv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 16), wv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 24), wv, a3);
        }
        _mm256_storeu_ps(out + i, a0); _mm256_storeu_ps(out + i + 8, a1);
        _mm256_storeu_ps(out + i + 16, a2); _mm256_storeu_ps(out + i + 24, a3);
    }
    for (; i < n; i += 8) {
        __m256 a = _mm256_setzero_ps();
        for (long t = 0; t < taps; t++) a = _mm256_fmadd_ps(_mm256_loadu_ps(buf + off[t] + i), _mm256_set1_ps(w[t]), a);
        _mm256_storeu_ps(out + i, a);
    }
}

void octet_f32_dw_offsets(const octet_dw_geometry *g, long *offsets) {
    long ph, pw;
    dims(g, &ph, &pw);
    for (long ky = 0; ky < g->kernel_h; ky++) for (long kx = 0; kx < g->kernel_w; kx++) {
        const long ty = ky * g->dilation_h, tx = kx * g->dilation_w;
        offsets[ky * g->kernel_w + kx] = ((ty % g->stride_h) * g->stride_w + tx % g->stride_w) * ph * pw
                                       + (ty / g->stride_h) * pw + tx / g->stride_w;
    }
}

void octet_f32_dw_plane(const float *x, const float *w, float bias, float lo, float hi,
                        const octet_dw_geometry *g, float *scratch, const long *offsets, float *y) {
    long ph, pw;
    dims(g, &ph, &pw);
    const long phases = g->stride_h * g->stride_w, taps = g->kernel_h * g->kernel_w;
    float *buf = scratch, *out = scratch + phases * ph * pw + 64;
    fill_phases(x, g, ph, pw, buf);
    const long n = g->out_h * pw;
    switch (taps) { /* 3x3 and 5x5 get fully unrolled tap loops */
    case 9: flat(buf, offsets, w, 9, out, n); break;
    case 25: flat(buf, offsets, w, 25, out, n); break;
    default: flat(buf, offsets, w, taps, out, n); break;
    }
    for (long oy = 0; oy < g->out_h; oy++) {
        const float *src = out + oy * pw;
        float *dst = y + oy * g->out_w;
        for (long ox = 0; ox < g->out_w; ox++) {
            const float v = src[ox] + bias;
            dst[ox] = v < lo ? lo : (v > hi ? hi : v);
        }
    }
}

void octet_f32_bias_clamp(float *y, long n, float bias, float lo, float hi) {
    const __m256 b = _mm256_set1_ps(bias), l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
    long i = 0;
    /* max_ps / min_ps return their second operand when one is NaN: NaN stays NaN */
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_min_ps(h, _mm256_max_ps(l, _mm256_add_ps(_mm256_loadu_ps(y + i), b))));
    for (; i < n; i++) {
        const float v = y[i] + bias;
        y[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}

/* First and one-past-last output column whose input column ox*s + k*d - pad lies in [0, in). */
static void dw_valid_cols(long in, long out, long s, long pad, long k, long d, long *lo, long *hi) {
    long off = k * d - pad;
    long a = off >= 0 ? 0 : (-off + s - 1) / s;
    long b = in - 1 - off < 0 ? 0 : (in - 1 - off) / s + 1;
    *lo = a;
    *hi = b < out ? b : out;
}

/* One row's dot product of dy with the strided input row (lanes reassociated). */
static inline float dw_row_dot(const float *dy, const float *x, long n, long stride) {
#pragma clang fp reassociate(on)
    float acc = 0;
    if (stride == 1) { for (long i = 0; i < n; i++) acc += dy[i] * x[i]; }
    else if (stride == 2) { for (long i = 0; i < n; i++) acc += dy[i] * x[2 * i]; }
    else { for (long i = 0; i < n; i++) acc += dy[i] * x[i * stride]; }
    return acc;
}

void octet_f32_dw_weight_grad(const float *x, const float *dy, const octet_dw_geometry *g, float *dw) {
    for (long ky = 0; ky < g->kernel_h; ky++) {
        for (long kx = 0; kx < g->kernel_w; kx++) {
            long lo, hi;
            dw_valid_cols(g->in_w, g->out_w, g->stride_w, g->pad_left, kx, g->dilation_w, &lo, &hi);
            if (lo >= hi) continue;
            double tap = 0;
            for (long oy = 0; oy < g->out_h; oy++) {
                long iy = oy * g->stride_h - g->pad_top + ky * g->dilation_h;
                if (iy < 0 || iy >= g->in_h) continue;
                const float *xr = x + iy * g->in_w + lo * g->stride_w + kx * g->dilation_w - g->pad_left;
                tap += dw_row_dot(dy + oy * g->out_w + lo, xr, hi - lo, g->stride_w);
            }
            dw[ky * g->kernel_w + kx] += (float)tap;
        }
    }
}
