/* aofmanifest.h: the manifest of the append-only file, the text file that names
 * the AOF files in replay order (docs/persistence.md, "Files"). The server
 * (aof.c) and respq-aof read it with this one parser, so a manifest the server
 * refuses is refused by the tool with the same rules.
 */
#ifndef RESPQ_AOFMANIFEST_H
#define RESPQ_AOFMANIFEST_H

#include <stddef.h>

#include "resp.h"

#define AOF_MANIFEST_NAME "respq.aof.manifest"
#define AOF_MANIFEST_MAX_FILES 64 /* files one manifest may name */
#define AOF_MANIFEST_NAME_MAX 64  /* bytes of a file name, its NUL included */

/* One line of the manifest: `file <name> seq <seq> type <type>`. */
typedef struct aofManifestEntry {
    char name[AOF_MANIFEST_NAME_MAX]; /* in the manifest's directory; passes
                                       * aofManifestValidName */
    long long seq;                    /* >= 1 */
    char type;                        /* 'b' (a base) or 'i' (an increment) */
} aofManifestEntry;

/* 1 if name may be named in a manifest: 1 - 63 bytes, starting "respq.aof.",
 * without '/', so it always names a file in the manifest's own directory.
 * 0 otherwise. */
int aofManifestValidName(const char *name);

/* Reads the manifest at path into files[0..*count); files must have room for
 * AOF_MANIFEST_MAX_FILES entries. Blank lines and lines starting with '#' are
 * skipped.
 *
 * Returns 0 when every other line is a sound entry and there is at least one.
 * Otherwise returns -1 (files and *count then hold what came before the
 * problem, and mean nothing) and, when err is not NULL, writes into it a
 * message naming the manifest and, for a bad line, its number and text:
 *   The AOF manifest <path> is damaged at line <n>: '<line>' is not 'file <name> seq
 * <n> type b|i' The AOF manifest <path> names more than 64 files The AOF manifest
 * <path> names no file Cannot open the AOF manifest <path>: <strerror> Cannot read the
 * AOF manifest <path>: <strerror> When detail is not NULL, it gets the same problem
 * without the path, for a caller that names the manifest its own way ("<path>:
 * <detail>"): damaged at line <n>: '<line>' is not 'file <name> seq <n> type b|i' names
 * more than 64 files | names no file cannot open: <strerror> | cannot read: <strerror>
 * Both are cut to fit their buffers. Logs nothing. */
int aofManifestRead(const char *path, aofManifestEntry *files, int *count, char *err,
                    size_t errcap, char *detail, size_t detailcap);

/* Appends the manifest text naming files[0..count), one line each, in the form
 * aofManifestRead reads, to out. The caller writes it to disk. */
void aofManifestFormat(respBuf *out, const aofManifestEntry *files, int count);

#endif
