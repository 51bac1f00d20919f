/*
 * pgcompat.h: what differs between the PostgreSQL major versions crm builds
 * against (15 and 17).  Include it right after postgres.h.
 *
 * Since PostgreSQL 16 the varlena macros (VARDATA, VARSIZE, SET_VARSIZE,
 * VARSIZE_ANY_EXHDR, ...) live in varatt.h, which postgres.h no longer
 * includes; since PostgreSQL 17 PG_TEMP_FILE_PREFIX lives in
 * common/file_utils.h (before, in storage/fd.h).
 */
#ifndef CRM_PGCOMPAT_H
#define CRM_PGCOMPAT_H

#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif
#if PG_VERSION_NUM >= 170000
#include "common/file_utils.h"
#endif

#endif							/* CRM_PGCOMPAT_H */
