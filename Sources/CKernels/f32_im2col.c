/* Float im2col: the windows of a convolution unfolded into GEMM columns. */
#include "CKernels.h"
#include "f32_rows.h"
#include <string.h>

void octet_f32_im2col(const float *x, long channels, const octet_dw_geometry *g, float *cols) {
    const long out_plane = g->out_h * g->out_w, ow = g->out_w;
    float *row = cols;
    const float *end = cols + channels * g->kernel_h * g->kernel_w * out_plane;
    for (long c = 0; c < channels; c++) {
        const float *xc = x + c * g->in_h * g->in_w;
        for (long ky = 0; ky < g->kernel_h; ky++) for (long kx = 0; kx < g->kernel_w; kx++, row += out_plane) {
            long lo, hi;
            window_cols(g->in_w, ow, g->stride_w, g->pad_left, kx, g->dilation_w, &lo, &hi);
            if (hi < lo) hi = lo;
            for (long oy = 0; oy < g->out_h; oy++) {
                float *d = row + oy * ow;
                const long iy = oy * g->stride_h - g->pad_top + ky * g->dilation_h;
                if (iy < 0 || iy >= g->in_h || lo == hi) { memset(d, 0, (size_t)ow * sizeof(float)); continue; }
                for (long i = 0; i < lo; i++) d[i] = 0;
                gather_row(d + lo, xc + iy * g->in_w + lo * g->stride_w - g->pad_left + kx * g->dilation_w, hi - lo,
                           g->stride_w, end - (d + lo)); /* rows are written in order: zeros past hi are overwritten */
                for (long i = hi; i < ow; i++) d[i] = 0;
            }
        }
    }
}
