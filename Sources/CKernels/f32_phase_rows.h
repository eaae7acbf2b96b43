/* Stride-phase rows shared by the float window kernels (depthwise and direct convolution, AVX2).
   Each padded input row r is split into its stride_w column phases (phase b holds padded
   columns c*sW + b, `pitch` values, zero outside the input), so output (oy, ox) reads tap
   (ky, kx) at oy*sH*sW*pitch + off(ky, kx) + ox of the row buffer, off = (ky*dH*sW + (kx*dW) % sW)*pitch
   + (kx*dW) / sW. Stride 2 splits each input row into both phases in one pass. */
#ifndef OCTET_F32_PHASE_ROWS_H
#define OCTET_F32_PHASE_ROWS_H
#include "CKernels.h"
#include "f32_rows.h"
#include <immintrin.h>

/* Padded rows the outputs read, and the floats per phase row: the widest column read by
   an 8-wide block, plus 8 floats of slack. */
static inline void layout(const octet_dw_geometry *g, long *rows, long *pitch) {
    *rows = (g->out_h - 1) * g->stride_h + (g->kernel_h - 1) * g->dilation_h + 1;
    *pitch = (g->out_w + 7) / 8 * 8 + (g->kernel_w - 1) * g->dilation_w / g->stride_w + 8;
}

/* Columns [c0, c1) of phase b hold input columns (those with 0 <= c*sW + b - pad_left < in_w). */
static inline void phase_cols(const octet_dw_geometry *g, long b, long pitch, long *c0, long *c1) {
    const long sw = g->stride_w;
    long a = g->pad_left - b > 0 ? (g->pad_left - b + sw - 1) / sw : 0;
    long e = g->in_w - 1 + g->pad_left - b < 0 ? 0 : (g->in_w - 1 + g->pad_left - b) / sw + 1;
    if (e > pitch) e = pitch;
    if (a > e) a = e;
    *c0 = a;
    *c1 = e;
}

/* Stride 2: each input row read once, its even and odd padded columns split into the two phase
   rows sixteen floats at a time. Lanes outside the input are loaded as zeros and stored as such
   (they are padding), so every block is stored whole except one that would leave the row. */
static inline void fill_rows_s2(const float *x, const octet_dw_geometry *g, long r0, long r1, long pitch, float *buf) {
    const long pl = g->pad_left, w = g->in_w;
    const long c_begin = pl / 2, c_end = (pl + w + 1) / 2 < pitch ? (pl + w + 1) / 2 : pitch;
    for (long r = r0; r < r1; r++) {
        const float *src = x + (r - g->pad_top) * w;
        float *p0 = buf + 2 * r * pitch, *p1 = p0 + pitch;
        for (long c = c_begin; c < c_end; c += 8) {
            const long k = 2 * c - pl; /* input column of lane 0 */
            __m256 a, b;
            if (k >= 0 && k + 16 <= w) {
                a = _mm256_loadu_ps(src + k);
                b = _mm256_loadu_ps(src + k + 8);
            } else {
                a = _mm256_maskload_ps(src + k, lanes_within(k, w));
                b = _mm256_maskload_ps(src + k + 8, lanes_within(k + 8, w));
            }
            store_tail(p0 + c, even_lanes(a, b), pitch - c, pitch - c);
            store_tail(p1 + c, odd_lanes(a, b), pitch - c, pitch - c);
        }
    }
}

/* Copies the plane's input into the phase rows. Only positions inside the input (and, for
   stride 2, padding positions with zeros) are written, the same ones for every plane of a
   geometry, so the zeros of octet_f32_dw_scratch_init stay. */
static inline void fill_rows(const float *x, const octet_dw_geometry *g, long rows, long pitch, float *buf) {
    const long sw = g->stride_w;
    long r0 = g->pad_top, r1 = g->pad_top + g->in_h;
    if (r1 > rows) r1 = rows;
    if (sw == 2) {
        fill_rows_s2(x, g, r0, r1, pitch, buf);
        return;
    }
    for (long b = 0; b < sw; b++) {
        long c0, c1;
        phase_cols(g, b, pitch, &c0, &c1);
        if (c0 == c1) continue;
        for (long r = r0; r < r1; r++) {
            float *d = buf + (r * sw + b) * pitch;
            const float *src = x + (r - g->pad_top) * g->in_w + b - g->pad_left;
            gather_row(d + c0, src + c0 * sw, c1 - c0, sw, pitch - c0); /* zeros past c1 stay in the row */
        }
    }
}

/* Stores bias + acc clamped to [lo, hi] at y (n valid lanes). A short block is stored whole
   when that stays inside the plane: its extra lanes fall on outputs of later rows, which are
   stored afterwards (blocks go right to left, rows top to bottom). */
static inline void store_block(float *y, __m256 acc, __m256 b, __m256 l, __m256 h, long n, __m256i tail,
                               const float *end) {
    /* max_ps / min_ps return their second operand when one is NaN: NaN stays NaN */
    const __m256 v = _mm256_min_ps(h, _mm256_max_ps(l, _mm256_add_ps(acc, b)));
    if (n >= 8 || y + 8 <= end) _mm256_storeu_ps(y, v);
    else _mm256_maskstore_ps(y, tail, v);
}

/* Floats of the phase rows of one plane. */
static inline long phase_plane_floats(const octet_dw_geometry *g) {
    long rows, pitch;
    layout(g, &rows, &pitch);
    return rows * g->stride_w * pitch;
}

#endif
