#include <stdlib.h>
#include <string.h>
#include <png.h>
#include "CImageIO.h"

static void copy_msg(char *msg, size_t msglen, const char *text) {
    if (msg == NULL || msglen == 0) return;
    strncpy(msg, text, msglen - 1);
    msg[msglen - 1] = '\0';
}

/* png_image_begin_read_from_memory; on failure the image is already freed by libpng. */
static int png_begin(png_image *img, const uint8_t *data, size_t size, char *msg, size_t msglen) {
    memset(img, 0, sizeof *img);
    img->version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(img, data, size)) {
        copy_msg(msg, msglen, img->message[0] ? img->message : "not a PNG file");
        png_image_free(img);
        return OCTET_IMG_CORRUPT;
    }
    if (img->width > OCTET_IMG_MAX_SIDE || img->height > OCTET_IMG_MAX_SIDE) {
        copy_msg(msg, msglen, "image side exceeds 16384 pixels");
        png_image_free(img);
        return OCTET_IMG_TOO_LARGE;
    }
    return OCTET_IMG_OK;
}

int octet_png_info(const uint8_t *data, size_t size, int *width, int *height, char *msg, size_t msglen) {
    png_image img;
    int status = png_begin(&img, data, size, msg, msglen);
    if (status != OCTET_IMG_OK) return status;
    *width = (int)img.width;
    *height = (int)img.height;
    png_image_free(&img);
    return OCTET_IMG_OK;
}

/* Finishes the read into out (RGB) or, for images with alpha, into a temporary RGBA buffer
   whose alpha is then dropped (as PIL's convert("RGB") does). */
static int png_finish(png_image *img, uint8_t *out, char *msg, size_t msglen) {
    size_t pixels = (size_t)img->width * img->height;
    int has_alpha = (img->format & PNG_FORMAT_FLAG_ALPHA) != 0;
    uint8_t *target = out;
    if (has_alpha) {
        target = malloc(pixels * 4);
        if (target == NULL) {
            png_image_free(img);
            copy_msg(msg, msglen, "out of memory");
            return OCTET_IMG_TOO_LARGE;
        }
    }
    img->format = has_alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    img->flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    if (!png_image_finish_read(img, NULL, target, 0, NULL)) {
        copy_msg(msg, msglen, img->message[0] ? img->message : "corrupt PNG data");
        png_image_free(img);
        if (has_alpha) free(target);
        return OCTET_IMG_CORRUPT;
    }
    if (has_alpha) {
        for (size_t i = 0; i < pixels; i++) memcpy(out + 3 * i, target + 4 * i, 3);
        free(target);
    }
    return OCTET_IMG_OK;
}

int octet_png_decode_rgb(const uint8_t *data, size_t size, uint8_t *out, size_t outsize,
                         int *width, int *height, char *msg, size_t msglen) {
    png_image img;
    int status = png_begin(&img, data, size, msg, msglen);
    if (status != OCTET_IMG_OK) return status;
    *width = (int)img.width;
    *height = (int)img.height;
    if (outsize < (size_t)img.width * img.height * 3) {
        png_image_free(&img);
        copy_msg(msg, msglen, "output buffer too small");
        return OCTET_IMG_BUFFER;
    }
    return png_finish(&img, out, msg, msglen);
}
