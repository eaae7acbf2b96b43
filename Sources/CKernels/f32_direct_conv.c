/* Float direct convolution for inputs with few channels (a network's stem: 3 channels, 3x3,
   stride 2), AVX2 + FMA, over the stride-phase rows of f32_phase_rows.h: one phase buffer per
   input channel, filled once per sample. Each step computes two output rows by eight columns
   for four output channels (eight accumulators): every tap's input vectors are loaded once for
   the four channels and every weight broadcast once for the two rows. Taps run over (channel,
   ky, kx) in order with FMA; bias and clamp are applied on the way out. This replaces im2col +
   SGEMM where the reduction (channels * kh * kw) is too short for a GEMM to pay. */
#include "CKernels.h"
#include "f32_phase_rows.h"
#include <immintrin.h>
#include <string.h>

long octet_f32_conv_direct_scratch(const octet_dw_geometry *g, long channels) {
    return channels * phase_plane_floats(g);
}

void octet_f32_conv_direct_scratch_init(const octet_dw_geometry *g, long channels, float *scratch) {
    memset(scratch, 0, (size_t)octet_f32_conv_direct_scratch(g, channels) * sizeof(float));
}

/* Output rows [0, nr) (nr <= 2) of channels [0, nb) (nb <= 4), column blocks right to left.
   `nr` and `nb` are constants where this is inlined. Plane j of y starts at y + j*plane. */
static inline __attribute__((always_inline))
void rows_block(const float *buf, const long *off, const float *w, long taps, const long nr, const long nb,
                long row_step, long out_w, long plane, const float *bias, __m256 l, __m256 h, __m256i tail,
                float *y, const float *end) {
    for (long ox = (out_w - 1) / 8 * 8; ox >= 0; ox -= 8) {
        const float *p = buf + ox;
        __m256 a[2][4];
        for (long i = 0; i < nr; i++) for (long j = 0; j < nb; j++) a[i][j] = _mm256_setzero_ps();
        for (long t = 0; t < taps; t++) {
            const float *q = p + off[t];
            const __m256 x0 = _mm256_loadu_ps(q);
            const __m256 x1 = nr > 1 ? _mm256_loadu_ps(q + row_step) : x0;
            for (long j = 0; j < nb; j++) {
                const __m256 wv = _mm256_broadcast_ss(w + j * taps + t);
                a[0][j] = _mm256_fmadd_ps(x0, wv, a[0][j]);
                if (nr > 1) a[1][j] = _mm256_fmadd_ps(x1, wv, a[1][j]);
            }
        }
        const long n = out_w - ox;
        for (long j = 0; j < nb; j++) {
            const __m256 b = _mm256_set1_ps(bias ? bias[j] : 0.0f);
            for (long i = 0; i < nr; i++)
                store_block(y + j * plane + i * out_w + ox, a[i][j], b, l, h, n, tail, end + j * plane);
        }
    }
}

/* Channels [0, nb) over all output rows, two at a time. */
static inline __attribute__((always_inline))
void channels_block(const float *buf, const long *off, const float *w, long taps, const long nb,
                    const octet_dw_geometry *g, long row_step, const float *bias, __m256 l, __m256 h, __m256i tail, float *y) {
    const long ow = g->out_w, plane = g->out_h * ow;
    long oy = 0;
    for (; oy + 2 <= g->out_h; oy += 2)
        rows_block(buf + oy * row_step, off, w, taps, 2, nb, row_step, ow, plane, bias, l, h, tail, y + oy * ow, y + plane);
    if (oy < g->out_h)
        rows_block(buf + oy * row_step, off, w, taps, 1, nb, row_step, ow, plane, bias, l, h, tail, y + oy * ow, y + plane);
}

void octet_f32_conv_direct(const float *x, long channels, const float *w, const float *bias, long oc0, long oc1,
                           float lo, float hi, const octet_dw_geometry *g, float *scratch, float *y) {
    long rows, pitch;
    layout(g, &rows, &pitch);
    const long per = phase_plane_floats(g), kk = g->kernel_h * g->kernel_w, taps = channels * kk;
    long off[OCTET_F32_DIRECT_MAX_TAPS], tap_off[OCTET_F32_DIRECT_MAX_TAPS];
    if (taps > OCTET_F32_DIRECT_MAX_TAPS) return; /* the caller checks; never reached */
    for (long c = 0; c < channels; c++) fill_rows(x + c * g->in_h * g->in_w, g, rows, pitch, scratch + c * per);
    octet_f32_dw_offsets(g, tap_off);
    for (long c = 0; c < channels; c++) for (long t = 0; t < kk; t++) off[c * kk + t] = c * per + tap_off[t];
    const long row_step = g->stride_h * g->stride_w * pitch, plane = g->out_h * g->out_w;
    const __m256 l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
    const __m256i tail = first_lanes(g->out_w % 8);
    long oc = oc0;
    for (; oc + 4 <= oc1; oc += 4)
        channels_block(scratch, off, w + oc * taps, taps, 4, g, row_step, bias ? bias + oc : 0, l, h, tail, y + oc * plane);
    const float *wr = w + oc * taps, *br = bias ? bias + oc : 0;
    float *yr = y + oc * plane;
    switch (oc1 - oc) {
    case 1: channels_block(scratch, off, wr, taps, 1, g, row_step, br, l, h, tail, yr); break;
    case 2: channels_block(scratch, off, wr, taps, 2, g, row_step, br, l, h, tail, yr); break;
    case 3: channels_block(scratch, off, wr, taps, 3, g, row_step, br, l, h, tail, yr); break;
    default: break;
    }
}
