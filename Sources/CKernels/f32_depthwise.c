/* Float depthwise convolution of one plane (AVX2 + FMA) over the stride-phase rows of
   f32_phase_rows.h. Outputs are computed eight rows by eight columns at a time (one accumulator
   per row, so eight FMA chains are in flight; taps in order with FMA, every tap's weight
   broadcast once for the eight rows), then bias and clamp are applied and the block is stored
   straight into the output plane. Partial vectors at row ends are loaded under masks and stored
   whole where the row has room (a masked store is microcoded and slow on some cores). */
#include "CKernels.h"
#include "f32_phase_rows.h"
#include <immintrin.h>
#include <string.h>

long octet_f32_dw_scratch(const octet_dw_geometry *g) { return phase_plane_floats(g); }

void octet_f32_dw_scratch_init(const octet_dw_geometry *g, float *scratch) {
    memset(scratch, 0, (size_t)octet_f32_dw_scratch(g) * sizeof(float));
}

/* Output rows [oy, oy + nr), column blocks right to left: one accumulator per row, so eight
   rows keep eight FMA chains in flight. `nr` and `taps` are constants where this is inlined. */
static inline __attribute__((always_inline))
void rows_block(const float *buf, const long *off, const float *w, const long taps, const long nr, long row_step,
                long out_w, __m256 b, __m256 l, __m256 h, __m256i tail, float *y, const float *end) {
    for (long ox = (out_w - 1) / 8 * 8; ox >= 0; ox -= 8) {
        const float *p = buf + ox;
        __m256 a[8];
        for (long i = 0; i < nr; i++) a[i] = _mm256_setzero_ps();
        for (long t = 0; t < taps; t++) {
            const __m256 wv = _mm256_broadcast_ss(w + t);
            const float *q = p + off[t];
            for (long i = 0; i < nr; i++) a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i * row_step), wv, a[i]);
        }
        const long n = out_w - ox;
        for (long i = 0; i < nr; i++) store_block(y + i * out_w + ox, a[i], b, l, h, n, tail, end);
    }
}

/* Eight output rows at a time, then the remaining one to seven. */
static inline __attribute__((always_inline))
void plane(const float *buf, const long *off, const float *w, const long taps, const octet_dw_geometry *g,
           long row_step, float bias, float lo, float hi, float *y) {
    const __m256 b = _mm256_set1_ps(bias), l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
    const __m256i tail = first_lanes(g->out_w % 8);
    const float *end = y + g->out_h * g->out_w;
    const long ow = g->out_w;
    long oy = 0;
    for (; oy + 8 <= g->out_h; oy += 8)
        rows_block(buf + oy * row_step, off, w, taps, 8, row_step, ow, b, l, h, tail, y + oy * ow, end);
    const float *rb = buf + oy * row_step;
    float *ry = y + oy * ow;
    switch (g->out_h - oy) {
    case 1: rows_block(rb, off, w, taps, 1, row_step, ow, b, l, h, tail, ry, end); break;
    case 2: rows_block(rb, off, w, taps, 2, row_step, ow, b, l, h, tail, ry, end); break;
    case 3: rows_block(rb, off, w, taps, 3, row_step, ow, b, l, h, tail, ry, end); break;
    case 4: rows_block(rb, off, w, taps, 4, row_step, ow, b, l, h, tail, ry, end); break;
    case 5: rows_block(rb, off, w, taps, 5, row_step, ow, b, l, h, tail, ry, end); break;
    case 6: rows_block(rb, off, w, taps, 6, row_step, ow, b, l, h, tail, ry, end); break;
    case 7: rows_block(rb, off, w, taps, 7, row_step, ow, b, l, h, tail, ry, end); break;
    default: break;
    }
}

void octet_f32_dw_plane(const float *x, const float *w, float bias, float lo, float hi,
                        const octet_dw_geometry *g, float *scratch, const long *offsets, float *y) {
    long rows, pitch;
    layout(g, &rows, &pitch);
    fill_rows(x, g, rows, pitch, scratch);
    const long row_step = g->stride_h * g->stride_w * pitch, taps = g->kernel_h * g->kernel_w;
    switch (taps) { /* 3x3 and 5x5 get fully unrolled tap loops */
    case 9: plane(scratch, offsets, w, 9, g, row_step, bias, lo, hi, y); break;
    case 25: plane(scratch, offsets, w, 25, g, row_step, bias, lo, hi, y); break;
    default: plane(scratch, offsets, w, taps, g, row_step, bias, lo, hi, y); break;
    }
}

void octet_f32_dw_offsets(const octet_dw_geometry *g, long *offsets) {
    long rows, pitch;
    layout(g, &rows, &pitch);
    for (long ky = 0; ky < g->kernel_h; ky++) for (long kx = 0; kx < g->kernel_w; kx++) {
        const long tx = kx * g->dilation_w;
        offsets[ky * g->kernel_w + kx] = (ky * g->dilation_h * g->stride_w + tx % g->stride_w) * pitch + tx / g->stride_w;
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

/* Tap accumulators of the weight gradient, taps off[0 .. nt) over output rows [oy0, oy1): eight
   columns at a time, one float vector per tap (dy loaded once for all taps), the lane sums then
   added to sum[] in double. Lanes past the row end are loaded as zeros (dy and x). `nt` is a
   constant where this is inlined. */
static inline __attribute__((always_inline))
void wgrad_rows(const float *buf, const long *off, const float *dy, const long nt, long oy0, long oy1,
                long row_step, long out_w, __m256i tail, double *sum) {
    __m256 a[9];
    for (long t = 0; t < nt; t++) a[t] = _mm256_setzero_ps();
    for (long oy = oy0; oy < oy1; oy++) {
        const float *b = buf + oy * row_step, *d = dy + oy * out_w;
        long ox = 0;
        for (; ox + 8 <= out_w; ox += 8) {
            const __m256 dv = _mm256_loadu_ps(d + ox);
            for (long t = 0; t < nt; t++) a[t] = _mm256_fmadd_ps(_mm256_loadu_ps(b + off[t] + ox), dv, a[t]);
        }
        if (ox < out_w) {
            const __m256 dv = _mm256_maskload_ps(d + ox, tail);
            for (long t = 0; t < nt; t++) a[t] = _mm256_fmadd_ps(_mm256_maskload_ps(b + off[t] + ox, tail), dv, a[t]);
        }
    }
    for (long t = 0; t < nt; t++) {
        float l[8];
        _mm256_storeu_ps(l, a[t]);
        sum[t] += (((double)l[0] + l[1]) + ((double)l[2] + l[3])) + (((double)l[4] + l[5]) + ((double)l[6] + l[7]));
    }
}

void octet_f32_dw_weight_grad(const float *x, const float *dy, const octet_dw_geometry *g, float *scratch,
                              const long *offsets, float *dw) {
    long rows, pitch;
    layout(g, &rows, &pitch);
    fill_rows(x, g, rows, pitch, scratch);
    const long row_step = g->stride_h * g->stride_w * pitch, taps = g->kernel_h * g->kernel_w, ow = g->out_w;
    const __m256i tail = first_lanes(ow % 8);
    const long span = ow >= 512 ? 1 : 512 / ow; /* rows per float accumulation: ~512 terms per lane */
    for (long t0 = 0; t0 < taps; t0 += 9) {
        const long nt = taps - t0 < 9 ? taps - t0 : 9;
        const long *off = offsets + t0;
        double sum[9] = {0};
        for (long oy = 0; oy < g->out_h; oy += span) {
            const long oy1 = oy + span < g->out_h ? oy + span : g->out_h;
            switch (nt) { /* 3x3: one group of 9; 5x5: 9 + 9 + 7 */
            case 9: wgrad_rows(scratch, off, dy, 9, oy, oy1, row_step, ow, tail, sum); break;
            case 7: wgrad_rows(scratch, off, dy, 7, oy, oy1, row_step, ow, tail, sum); break;
            default: wgrad_rows(scratch, off, dy, nt, oy, oy1, row_step, ow, tail, sum); break;
            }
        }
        for (long t = 0; t < nt; t++) dw[t0 + t] += (float)sum[t];
    }
}
