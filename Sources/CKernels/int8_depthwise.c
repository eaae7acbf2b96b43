/* Depthwise convolution of one int8 plane. The plane is copied into strideW zero-padded phase
   planes so that every tap of an output row is a contiguous int8 row; pairs of taps are
   byte-interleaved, sign-extended to int16 and reduced with _mm256_madd_epi16 against a
   broadcast (w[2p], w[2p+1]) pair: exact int32. */
#include "CKernels.h"
#include <immintrin.h>
#include <string.h>

static inline __attribute__((always_inline))
void dw_row(const int8_t *const *taps, const int32_t *wpairs, const long ntaps, int32_t *out, long ow) {
    const long np = (ntaps + 1) / 2;
    for (long x = 0; x < ow; x += 16) {
        __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
        for (long p = 0; p < np; p++) {
            const __m128i a = _mm_loadu_si128((const __m128i *)(taps[2 * p] + x));
            const __m128i b = 2 * p + 1 < ntaps ? _mm_loadu_si128((const __m128i *)(taps[2 * p + 1] + x))
                                                 : _mm_setzero_si128();
            const __m256i w = _mm256_set1_epi32(wpairs[p]);
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b)), w));
            acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpackhi_epi8(a, b)), w));
        }
        _mm256_storeu_si256((__m256i *)(out + x), acc0);
        _mm256_storeu_si256((__m256i *)(out + x + 8), acc1);
    }
}

void octet_i8_dw_row(const int8_t *const *taps, const int32_t *wpairs, long ntaps, int32_t *out, long ow) {
    switch (ntaps) { /* 3x3 and 5x5 get fully unrolled tap loops */
    case 9: dw_row(taps, wpairs, 9, out, ow); break;
    case 25: dw_row(taps, wpairs, 25, out, ow); break;
    default: dw_row(taps, wpairs, ntaps, out, ow); break;
    }
}

/* Phase p, row iy, column j = x[iy][j*sW + p - padLeft], or 0 outside the input. */
static void fill_phase_planes(const int8_t *x, const octet_dw_geometry *g, int8_t *planes) {
    const long pw = g->plane_width, s = g->stride_w;
    for (long phase = 0; phase < s; phase++) {
        long first = (g->pad_left - phase + s - 1) / s;
        if (first < 0) first = 0;
        if (first > pw) first = pw;
        const long last = g->in_w - 1 + g->pad_left - phase;
        long end = last < 0 ? first : last / s + 1;
        if (end < first) end = first;
        if (end > pw) end = pw;
        for (long iy = 0; iy < g->in_h; iy++) {
            int8_t *d = planes + (phase * g->in_h + iy) * pw;
            const int8_t *xr = x + iy * g->in_w;
            memset(d, 0, (size_t)first);
            memset(d + end, 0, (size_t)(pw - end));
            if (s == 1) {
                memcpy(d + first, xr + first - g->pad_left, (size_t)(end - first));
            } else {
                const int8_t *src = xr + first * s + phase - g->pad_left;
                for (long j = first; j < end; j++, src += s) d[j] = *src;
            }
        }
    }
}

/* Stride 1: the zero-padded plane (rows of wp = pad_left + in_w + pad_right bytes) is one long
   row; output element i = oy*wp + ox reads element i + ky*dH*wp + kx*dW of it, so one
   octet_i8_dw_row call computes the whole plane (columns ox >= out_w are discarded later). */
static long dw_plane_flat(const int8_t *x, const octet_dw_geometry *g, int8_t *planes,
                          const int8_t **taps, const int32_t *wpairs, int32_t *acc) {
    const long wp = g->pad_left + g->in_w + g->pad_right;
    const long top = g->pad_top * wp, bottom = (g->pad_top + g->in_h) * wp;
    memset(planes, 0, (size_t)top);
    for (long iy = 0; iy < g->in_h; iy++) {
        int8_t *d = planes + top + iy * wp;
        memset(d, 0, (size_t)g->pad_left);
        memcpy(d + g->pad_left, x + iy * g->in_w, (size_t)g->in_w);
        memset(d + g->pad_left + g->in_w, 0, (size_t)g->pad_right);
    }
    memset(planes + bottom, 0, (size_t)(octet_i8_dw_flat_plane_size(g) - bottom));
    for (long ky = 0; ky < g->kernel_h; ky++)
        for (long kx = 0; kx < g->kernel_w; kx++)
            taps[ky * g->kernel_w + kx] = planes + ky * g->dilation_h * wp + kx * g->dilation_w;
    octet_i8_dw_row(taps, wpairs, g->kernel_h * g->kernel_w, acc, g->out_h * wp);
    return wp;
}

long octet_i8_dw_flat_plane_size(const octet_dw_geometry *g) {
    const long wp = g->pad_left + g->in_w + g->pad_right;
    return (g->pad_top + g->in_h + g->pad_bottom + 1) * wp + 32;
}

long octet_i8_dw_plane(const int8_t *x, const int8_t *w, const octet_dw_geometry *g,
                       int8_t *planes, const int8_t *zero, const int8_t **taps, int32_t *wpairs, int32_t *acc) {
    const long kh = g->kernel_h, kw = g->kernel_w, ntaps = kh * kw, pw = g->plane_width;
    for (long p = 0; p < (ntaps + 1) / 2; p++) {
        const uint16_t w0 = (uint16_t)(int16_t)w[2 * p];
        const uint16_t w1 = 2 * p + 1 < ntaps ? (uint16_t)(int16_t)w[2 * p + 1] : 0;
        wpairs[p] = (int32_t)((uint32_t)w0 | (uint32_t)w1 << 16);
    }
    if (g->stride_h == 1 && g->stride_w == 1) return dw_plane_flat(x, g, planes, taps, wpairs, acc);
    fill_phase_planes(x, g, planes);
    long in_off[kw], zero_off[kw]; /* per kx: offset in its phase plane (row 0), and in the zero row */
    for (long kx = 0; kx < kw; kx++) {
        const long t = kx * g->dilation_w;
        zero_off[kx] = t / g->stride_w;
        in_off[kx] = (t % g->stride_w) * g->in_h * pw + zero_off[kx];
    }
    for (long oy = 0; oy < g->out_h; oy++) {
        for (long ky = 0; ky < kh; ky++) {
            const long iy = oy * g->stride_h + ky * g->dilation_h - g->pad_top;
            const int8_t **row = taps + ky * kw;
            if (iy >= 0 && iy < g->in_h) {
                const int8_t *base = planes + iy * pw;
                for (long kx = 0; kx < kw; kx++) row[kx] = base + in_off[kx];
            } else {
                for (long kx = 0; kx < kw; kx++) row[kx] = zero + zero_off[kx];
            }
        }
        /* rows are written in order; each row's 16-wide overrun lands where the next row goes */
        octet_i8_dw_row(taps, wpairs, ntaps, acc + oy * g->out_w, g->out_w);
    }
    return g->out_w;
}
