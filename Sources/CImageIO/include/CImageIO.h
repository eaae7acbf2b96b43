#ifndef OCTET_CIMAGEIO_H
#define OCTET_CIMAGEIO_H
#include <stddef.h>
#include <stdint.h>
/* JPEG (libjpeg-turbo) and PNG (libpng simplified API) decoding from memory to 8-bit RGB,
   rows top-down, pixels interleaved (HWC). Never exits or aborts on corrupt input: libjpeg
   errors and warnings are caught with setjmp/longjmp, libpng's simplified API reports them.
   Every function returns an OCTET_IMG_* code; on failure msg (msglen bytes, NUL-terminated)
   holds the library's explanation. */

enum {
    OCTET_IMG_OK = 0,
    OCTET_IMG_CORRUPT = 1,      /* not decodable: bad signature, truncated, bad data */
    OCTET_IMG_UNSUPPORTED = 2,  /* valid file of a kind we do not convert (e.g. CMYK JPEG) */
    OCTET_IMG_TOO_LARGE = 3,    /* width or height above OCTET_IMG_MAX_SIDE */
    OCTET_IMG_BUFFER = 4        /* output buffer smaller than width*height*3 */
};

/* Largest accepted width or height; also bounds width*height*3 below 2^31. */
#define OCTET_IMG_MAX_SIDE 16384

/* Reads only the header: width and height in pixels. */
int octet_jpeg_info(const uint8_t *data, size_t size, int *width, int *height, char *msg, size_t msglen);
int octet_png_info(const uint8_t *data, size_t size, int *width, int *height, char *msg, size_t msglen);

/* Decodes into out (outsize bytes, at least width*height*3). Grayscale images are expanded
   to RGB; a PNG alpha channel is dropped (not composited), 16-bit PNG samples are taken as
   sRGB-encoded and scaled to 8 bits. Premature end of data is an error, not a warning. */
int octet_jpeg_decode_rgb(const uint8_t *data, size_t size, uint8_t *out, size_t outsize,
                          int *width, int *height, char *msg, size_t msglen);
int octet_png_decode_rgb(const uint8_t *data, size_t size, uint8_t *out, size_t outsize,
                         int *width, int *height, char *msg, size_t msglen);

#endif
