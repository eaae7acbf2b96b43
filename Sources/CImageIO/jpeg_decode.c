#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "CImageIO.h"

/* libjpeg's default error_exit calls exit(); this manager long-jumps back instead. */
struct octet_jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *msg;
    size_t msglen;
};

static void set_msg(char *msg, size_t msglen, const char *text) {
    if (msg == NULL || msglen == 0) return;
    strncpy(msg, text, msglen - 1);
    msg[msglen - 1] = '\0';
}

static void octet_jpeg_error_exit(j_common_ptr cinfo) {
    struct octet_jpeg_error *err = (struct octet_jpeg_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    set_msg(err->msg, err->msglen, text);
    longjmp(err->jump, 1);
}

/* Warnings (level -1) mean damaged data (premature end, bad Huffman code, ...): treat them as
   errors so a truncated file is not silently padded with grey. Trailing bytes after the image
   (JWRN_EXTRANEOUS_DATA) are harmless and common, so they are ignored. */
static void octet_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code != JWRN_EXTRANEOUS_DATA) octet_jpeg_error_exit(cinfo);
}

static int jpeg_run(const uint8_t *data, size_t size, uint8_t *out, size_t outsize,
                    int *width, int *height, char *msg, size_t msglen, int header_only) {
    struct jpeg_decompress_struct cinfo;
    struct octet_jpeg_error err;
    int status = OCTET_IMG_OK;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = octet_jpeg_error_exit;
    err.pub.emit_message = octet_jpeg_emit_message;
    err.msg = msg;
    err.msglen = msglen;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return OCTET_IMG_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    *width = (int)cinfo.image_width;
    *height = (int)cinfo.image_height;
    if (cinfo.image_width > OCTET_IMG_MAX_SIDE || cinfo.image_height > OCTET_IMG_MAX_SIDE) {
        set_msg(msg, msglen, "image side exceeds 16384 pixels");
        status = OCTET_IMG_TOO_LARGE;
    } else if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        set_msg(msg, msglen, "CMYK JPEG images are not supported; convert to RGB");
        status = OCTET_IMG_UNSUPPORTED;
    } else if (!header_only) {
        size_t rowbytes = (size_t)cinfo.image_width * 3;
        if (outsize < rowbytes * cinfo.image_height) {
            set_msg(msg, msglen, "output buffer too small");
            status = OCTET_IMG_BUFFER;
        } else {
            cinfo.out_color_space = JCS_RGB;
            jpeg_start_decompress(&cinfo);
            while (cinfo.output_scanline < cinfo.output_height) {
                JSAMPROW row = out + (size_t)cinfo.output_scanline * rowbytes;
                jpeg_read_scanlines(&cinfo, &row, 1);
            }
            jpeg_finish_decompress(&cinfo);
        }
    }
    jpeg_destroy_decompress(&cinfo);
    return status;
}

int octet_jpeg_info(const uint8_t *data, size_t size, int *width, int *height, char *msg, size_t msglen) {
    return jpeg_run(data, size, NULL, 0, width, height, msg, msglen, 1);
}

int octet_jpeg_decode_rgb(const uint8_t *data, size_t size, uint8_t *out, size_t outsize,
                          int *width, int *height, char *msg, size_t msglen) {
    return jpeg_run(data, size, out, outsize, width, height, msg, msglen, 0);
}
