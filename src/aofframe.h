/* aofframe.h: reading and writing the LZ4 frames of the append-only file, shared
 * by the server (aof.c) and respq-aof, so that both judge a file the same way.
 *
 * A file is a sequence of standard LZ4 frames with block checksums.
 * The walker finds where a frame ends from its structure alone (header, block
 * sizes, end mark), without decompressing, so that a damaged frame can still be
 * stepped over and a torn tail told from damage in the middle: a problem at offset
 * X is a torn tail when no intact frame starts anywhere after X.
 */
#ifndef RESPQ_AOFFRAME_H
#define RESPQ_AOFFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"

enum {
    AOF_FRAME_OK = 0,        /* a whole frame: *end set */
    AOF_FRAME_TRUNCATED = 1, /* the bytes end inside the frame */
    AOF_FRAME_BAD = 2        /* not a frame (magic, header fields, block size) */
};

/* Walks the frame starting at p[off] in p[0..len). */
int aofFrameWalk(const unsigned char *p, size_t len, size_t off, size_t *end);

/* Decompresses the frame p[off..end) into out (appended), checking every
 * checksum. 0, or -1 with a reason in err. */
int aofFrameDecode(const unsigned char *p, size_t off, size_t end, respBuf *out,
                   char *err, size_t errcap);

/* The offset of the first intact frame (it walks and decodes) that starts after
 * from, or 0 when there is none (an offset after from is never 0). */
size_t aofFrameNextIntact(const unsigned char *p, size_t len, size_t from);

/* Compresses src into one frame appended to out. 0, or -1 (LZ4F error). */
int aofFrameEncode(const char *src, size_t len, respBuf *out);

/* Reads a whole file into memory (caller frees *data with memFree). 0 or -1
 * (errno set). */
int aofReadWholeFile(const char *path, unsigned char **data, size_t *len);

#endif
