/*
 * xlsxread.c: an xlsx workbook read as rows of text (see xlsxread.h).
 *
 * Parts read, in order: _rels/.rels (where the workbook is), the
 * workbook's relationships (its sheets, shared strings and styles by
 * relationship id), workbook.xml (the sheets' names and order, the date
 * system), styles.xml (which cell styles have a date format); then, for the
 * sheet read, sharedStrings.xml and the sheet itself.  Every part streams
 * from libzip's inflater through a counting callback into libxml2's
 * xmlTextReader, so the limits hold on the bytes really inflated, whatever
 * the zip's directory claims, and no part is ever held whole: memory is the
 * shared strings (limited), the styles and one row.
 *
 * XML: no network, no DTD (a part with a document type declaration is
 * refused: OOXML has none, and entity declarations are how XML bombs
 * work), no entity substitution.
 */
#include "xlsxread.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlreader.h>
#include <zip.h>

#include "coreassert.h"

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

typedef struct Rel
{
	char	   *id;
	char	   *type;			/* the last segment: worksheet, sharedStrings, ... */
	char	   *target;			/* the part, resolved */
} Rel;

/* date kinds of a number format */
enum
{
	FMT_NUMBER = 0,
	FMT_DATE,
	FMT_DATETIME,
	FMT_TIME
};

typedef struct NumFmt
{
	long		id;
	int			kind;
} NumFmt;

/* one part being read */
typedef struct Part
{
	XlsxBook   *book;
	const char *name;
	zip_file_t *file;
	uint64_t	inflated;
	uint64_t	compressed;
	int			failed;			/* the callback set book's error */
	char		xml_error[200]; /* libxml2's first error */
	int			xml_line;
	xmlTextReaderPtr reader;
} Part;

struct XlsxBook
{
	XlsxLimits	limits;
	zip_t	   *zip;
	uint64_t	size;			/* of the workbook's bytes */
	uint64_t	inflated;
	uint64_t	nodes;			/* XML nodes read, for limits.interrupted */
	XlsxError  *err;			/* where the callbacks report */

	char	   *workbook_part;
	Rel		   *rels;			/* the workbook's */
	int			nrels;
	int		   *rel_by_id;		/* indexes of rels by id, then position */
	XlsxSheetInfo *sheets;
	char	  **sheet_rids;
	int			nsheets;
	int			date1904;

	unsigned char *xf_kind;		/* cell style -> FMT_* */
	int			nxf;

	/* shared strings: offsets into pool */
	Buf			pool;
	size_t	   *strings;
	uint32_t	nstrings;
	size_t		strings_cap;

	/* the sheet being read */
	Part		sheet;
	int			sheet_open;
	int			sheet_done;
	int			in_data;
	uint32_t	last_row;
	uint32_t	rows_read;
	Buf			rowtext;
	XlsxCell   *cells;
	size_t	   *cell_offsets;
	uint32_t	ncells;
	uint32_t	cells_cap;
	Buf			cell;
};

/* ---------------------------------------------------------------- */
/* errors */

#if defined(__GNUC__)
static void set_error(XlsxError *err, XlsxErrorKind kind, XlsxLimitKind limit, const char *message,
					  const char *detail_fmt,...) __attribute__((format(printf, 5, 6)));
#endif

static void
set_error(XlsxError *err, XlsxErrorKind kind, XlsxLimitKind limit, const char *message,
		  const char *detail_fmt,...)
{
	va_list		ap;

	if (err == NULL || err->kind != XLSX_ERR_NONE)
		return;
	err->kind = kind;
	err->limit = limit;
	snprintf(err->message, sizeof(err->message), "%s", message);
	va_start(ap, detail_fmt);
	vsnprintf(err->detail, sizeof(err->detail), detail_fmt, ap);
	va_end(ap);
}

static void
no_memory(XlsxError *err)
{
	set_error(err, XLSX_ERR_MEMORY, XLSX_LIMIT_NONE, "out of memory", "Reading the xlsx workbook.");
}

/* ---------------------------------------------------------------- */
/* buffers */

static int
buf_reserve(Buf *b, size_t extra)
{
	size_t		need = b->len + extra + 1;

	if (need > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;
		char	   *p;

		while (cap < need)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	return 0;
}

static int
buf_append(Buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	CRM_ASSERT(b->len < b->cap);
	b->data[b->len] = '\0';
	return 0;
}

static void
buf_reset(Buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void
buf_free(Buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static char *
dup_str(const char *s)
{
	size_t		n = strlen(s);
	char	   *p = malloc(n + 1);

	if (p)
		memcpy(p, s, n + 1);
	return p;
}

/* ---------------------------------------------------------------- */
/* text */

static uint32_t
utf8_chars(const char *s, size_t n)
{
	uint32_t	count = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * OOXML's escape of a character XML cannot hold (ECMA-376 Part 1, 22.9.2.19,
 * ST_Xstring): _xHHHH_ is the UTF-16 code unit HHHH, _x005F_ an underscore.
 * Decoded in place (the UTF-8 of a code unit is never longer than its 7
 * bytes of escape).  A NUL or a lone surrogate stays as written: text in
 * the server cannot hold them.
 */
static size_t
unescape(char *s, size_t n)
{
	size_t		r = 0,
				w = 0;

	while (r < n)
	{
		/* in place: a decoded character never outgrows its escape */
		CRM_ASSERT(w <= r);
		if (s[r] == '_' && r + 6 < n && s[r + 1] == 'x' && s[r + 6] == '_')
		{
			int			h0 = hexval(s[r + 2]),
						h1 = hexval(s[r + 3]),
						h2 = hexval(s[r + 4]),
						h3 = hexval(s[r + 5]);

			if (h0 >= 0 && h1 >= 0 && h2 >= 0 && h3 >= 0)
			{
				unsigned	cp = (unsigned) (h0 << 12 | h1 << 8 | h2 << 4 | h3);
				size_t		used = 7;

				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					/* a pair: _xD83D__xDE00_ */
					unsigned	lo = 0;
					int			ok = r + 13 < n && s[r + 7] == '_' && s[r + 8] == 'x' && s[r + 13] == '_';

					for (int k = 0; ok && k < 4; k++)
					{
						int			h = hexval(s[r + 9 + k]);

						if (h < 0)
							ok = 0;
						else
							lo = lo << 4 | (unsigned) h;
					}
					if (ok && lo >= 0xDC00 && lo <= 0xDFFF)
					{
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						used = 14;
					}
					else
						cp = 0;
				}
				else if (cp >= 0xDC00 && cp <= 0xDFFF)
					cp = 0;
				if (cp != 0)
				{
					if (cp < 0x80)
						s[w++] = (char) cp;
					else if (cp < 0x800)
					{
						s[w++] = (char) (0xC0 | cp >> 6);
						s[w++] = (char) (0x80 | (cp & 0x3F));
					}
					else if (cp < 0x10000)
					{
						s[w++] = (char) (0xE0 | cp >> 12);
						s[w++] = (char) (0x80 | (cp >> 6 & 0x3F));
						s[w++] = (char) (0x80 | (cp & 0x3F));
					}
					else
					{
						s[w++] = (char) (0xF0 | cp >> 18);
						s[w++] = (char) (0x80 | (cp >> 12 & 0x3F));
						s[w++] = (char) (0x80 | (cp >> 6 & 0x3F));
						s[w++] = (char) (0x80 | (cp & 0x3F));
					}
					r += used;
					continue;
				}
			}
		}
		s[w++] = s[r++];
	}
	CRM_ASSERT(w <= n);
	s[w] = '\0';
	return w;
}

/* ---------------------------------------------------------------- */
/* parts: libzip's inflater -> counting callback -> xmlTextReader */

static int
part_read(void *ctx, char *buf, int len)
{
	Part	   *p = ctx;
	XlsxBook   *book = p->book;
	const XlsxLimits *lim = &book->limits;
	zip_int64_t n;

	if (p->failed)
		return -1;
	n = zip_fread(p->file, buf, (zip_uint64_t) len);
	CRM_ASSERT(n <= len);
	if (n < 0)
	{
		set_error(book->err, XLSX_ERR_ZIP, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
				  "Part %s could not be inflated: %s.", p->name, zip_file_strerror(p->file));
		p->failed = 1;
		return -1;
	}
	p->inflated += (uint64_t) n;
	book->inflated += (uint64_t) n;
	if (p->inflated > lim->max_entry)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_ENTRY, "xlsx part too large",
				  "Part %s inflates to more than %llu bytes (it is %llu bytes compressed).",
				  p->name, (unsigned long long) lim->max_entry, (unsigned long long) p->compressed);
		p->failed = 1;
		return -1;
	}
	if (book->inflated > lim->max_total)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_TOTAL, "xlsx workbook too large",
				  "Its parts inflate to more than %llu bytes together (reading %s).",
				  (unsigned long long) lim->max_total, p->name);
		p->failed = 1;
		return -1;
	}
	if (p->inflated > lim->ratio_grace &&
		(p->compressed == 0 || p->inflated / p->compressed > lim->max_ratio))
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_RATIO, "xlsx part compressed too much",
				  "Part %s has %llu compressed bytes and inflates past %llu bytes, more than %u times its size.",
				  p->name, (unsigned long long) p->compressed, (unsigned long long) p->inflated,
				  lim->max_ratio);
		p->failed = 1;
		return -1;
	}
	return (int) n;
}

static void
part_xml_error(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr locator)
{
	Part	   *p = arg;
	size_t		n;

	if (severity != XML_PARSER_SEVERITY_ERROR && severity != XML_PARSER_SEVERITY_VALIDITY_ERROR)
		return;
	if (p->xml_error[0] != '\0')
		return;
	snprintf(p->xml_error, sizeof(p->xml_error), "%s", msg ? msg : "error");
	n = strlen(p->xml_error);
	while (n > 0 && (p->xml_error[n - 1] == '\n' || p->xml_error[n - 1] == ' '))
		p->xml_error[--n] = '\0';
	p->xml_line = locator ? xmlTextReaderLocatorLineNumber(locator) : 0;
}

static void
part_close(Part *p)
{
	if (p->reader)
		xmlFreeTextReader(p->reader);
	p->reader = NULL;
	if (p->file)
		zip_fclose(p->file);
	p->file = NULL;
}

/*
 * Opens a part for reading.  0: open; 1: the zip has no such part (err not
 * set); -1: error.
 */
static int
part_open(XlsxBook *book, Part *p, const char *name)
{
	zip_int64_t idx;
	zip_stat_t	st;

	memset(p, 0, sizeof(*p));
	p->book = book;
	p->name = name;
	idx = zip_name_locate(book->zip, name, ZIP_FL_NOCASE);
	if (idx < 0)
		return 1;
	zip_stat_init(&st);
	if (zip_stat_index(book->zip, (zip_uint64_t) idx, 0, &st) < 0)
	{
		set_error(book->err, XLSX_ERR_ZIP, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
				  "Part %s: %s.", name, zip_strerror(book->zip));
		return -1;
	}
	/*
	 * the ratio's divisor: what the directory claims, but never more than
	 * the whole workbook (a directory that lies about it would switch the
	 * ratio limit off)
	 */
	p->compressed = book->size;
	if ((st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size < book->size)
		p->compressed = st.comp_size;
	/* what the directory claims is refused early; what it hides, in part_read */
	if ((st.valid & ZIP_STAT_SIZE) && st.size > book->limits.max_entry)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_ENTRY, "xlsx part too large",
				  "Part %s inflates to %llu bytes, more than %llu.", name,
				  (unsigned long long) st.size, (unsigned long long) book->limits.max_entry);
		return -1;
	}
	p->file = zip_fopen_index(book->zip, (zip_uint64_t) idx, 0);
	if (p->file == NULL)
	{
		set_error(book->err, XLSX_ERR_ZIP, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
				  "Part %s cannot be read: %s.", name, zip_strerror(book->zip));
		return -1;
	}
	p->reader = xmlReaderForIO(part_read, NULL, p, name, NULL, XML_PARSE_NONET);
	if (p->reader == NULL || p->failed)
	{
		if (!p->failed)
			set_error(book->err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
					  "Part %s is not XML.", name);
		part_close(p);
		return -1;
	}
	xmlTextReaderSetErrorHandler(p->reader, part_xml_error, p);
	return 0;
}

/* the next node: 1, 0 at the end, -1 on error (book's err set) */
static int
part_next(Part *p)
{
	int			rc;

	if (p->book->limits.interrupted && (++p->book->nodes & 0xFFF) == 0 &&
		p->book->limits.interrupted())
	{
		set_error(p->book->err, XLSX_ERR_INTERRUPTED, XLSX_LIMIT_NONE, "xlsx reading interrupted",
				  "Part %s was being read.", p->name);
		return -1;
	}
	rc = xmlTextReaderRead(p->reader);
	if (rc == 1 && xmlTextReaderNodeType(p->reader) == XML_READER_TYPE_DOCUMENT_TYPE)
	{
		set_error(p->book->err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
				  "Part %s has a document type declaration; the parts of an xlsx workbook have none.", p->name);
		return -1;
	}
	if (rc < 0 || (rc == 1 && xmlTextReaderNodeType(p->reader) == XML_READER_TYPE_ENTITY_REFERENCE))
	{
		/* the callback's error, reported in an earlier call, stands */
		if (p->failed)
			set_error(p->book->err, XLSX_ERR_ZIP, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
					  "Part %s could not be read to its end.", p->name);
		else
		{
			if (p->xml_error[0] && p->xml_line > 0)
				set_error(p->book->err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
						  "Part %s is not well-formed XML (line %d): %s.", p->name, p->xml_line, p->xml_error);
			else if (p->xml_error[0])
				set_error(p->book->err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
						  "Part %s is not well-formed XML: %s.", p->name, p->xml_error);
			else
				set_error(p->book->err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
						  "Part %s is not well-formed XML.", p->name);
		}
		return -1;
	}
	return rc;
}

static int
is_element(Part *p, const char *local)
{
	const xmlChar *n;

	if (xmlTextReaderNodeType(p->reader) != XML_READER_TYPE_ELEMENT)
		return 0;
	n = xmlTextReaderConstLocalName(p->reader);
	return n && strcmp((const char *) n, local) == 0;
}

static int
is_end(Part *p, const char *local)
{
	const xmlChar *n;

	if (xmlTextReaderNodeType(p->reader) != XML_READER_TYPE_END_ELEMENT)
		return 0;
	n = xmlTextReaderConstLocalName(p->reader);
	return n && strcmp((const char *) n, local) == 0;
}

static int
is_text(Part *p)
{
	int			t = xmlTextReaderNodeType(p->reader);

	return t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA ||
		t == XML_READER_TYPE_WHITESPACE || t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

/* an attribute by local name, malloc'd (xmlFree) or NULL */
static char *
attr(Part *p, const char *local)
{
	return (char *) xmlTextReaderGetAttribute(p->reader, (const xmlChar *) local);
}

/* an attribute of any namespace, by local name ("r:id"): xmlFree or NULL */
static char *
attr_ns_local(Part *p, const char *local)
{
	char	   *value = NULL;

	if (xmlTextReaderMoveToFirstAttribute(p->reader) != 1)
		return NULL;
	do
	{
		const xmlChar *ln = xmlTextReaderConstLocalName(p->reader);
		const xmlChar *ns = xmlTextReaderConstNamespaceUri(p->reader);

		if (ln && ns && strcmp((const char *) ln, local) == 0)
		{
			value = (char *) xmlTextReaderValue(p->reader);
			break;
		}
	} while (xmlTextReaderMoveToNextAttribute(p->reader) == 1);
	xmlTextReaderMoveToElement(p->reader);
	return value;
}

/* ---------------------------------------------------------------- */
/* part names */

/* target relative to the folder of source (zip names, no leading /) */
static char *
resolve_target(const char *source, const char *target)
{
	Buf			b = {0};
	const char *slash;
	char	   *out;
	char	   *seg[64];
	int			nseg = 0;
	char	   *save = NULL;
	char	   *tok;

	if (target[0] == '/')
	{
		if (buf_append(&b, target + 1, strlen(target + 1)) < 0)
			return NULL;
	}
	else
	{
		slash = strrchr(source, '/');
		if ((slash && buf_append(&b, source, (size_t) (slash - source + 1)) < 0) ||
			buf_append(&b, target, strlen(target)) < 0)
		{
			buf_free(&b);
			return NULL;
		}
	}
	/* . and .. */
	out = malloc(b.len + 1);
	if (out == NULL)
	{
		buf_free(&b);
		return NULL;
	}
	out[0] = '\0';
	for (tok = strtok_r(b.data, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
	{
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0)
		{
			if (nseg > 0)
				nseg--;
			continue;
		}
		if (nseg < 64)
			seg[nseg++] = tok;
	}
	for (int i = 0; i < nseg; i++)
	{
		if (i > 0)
			strcat(out, "/");
		strcat(out, seg[i]);
	}
	/* segments of b, one "/" apart: never longer than b */
	CRM_ASSERT(strlen(out) <= b.len);
	buf_free(&b);
	return out;
}

/* the relationships part of a part: xl/workbook.xml -> xl/_rels/workbook.xml.rels */
static char *
rels_name(const char *part)
{
	const char *slash = strrchr(part, '/');
	size_t		dirlen = slash ? (size_t) (slash - part + 1) : 0;
	const char *base = part + dirlen;
	char	   *out = malloc(strlen(part) + 12);

	if (out == NULL)
		return NULL;
	memcpy(out, part, dirlen);
	sprintf(out + dirlen, "_rels/%s.rels", base);
	return out;
}

static void free_rels(Rel *rels, int n);

/*
 * Reads a relationships part: rels and their count; 1 when the part is
 * missing; -1 on error.
 */
static int
read_rels(XlsxBook *book, const char *source, Rel **rels_out, int *nrels_out)
{
	char	   *name = rels_name(source);
	Part		p;
	int			rc;
	Rel		   *rels = NULL;
	int			nrels = 0,
				cap = 0;

	if (name == NULL)
	{
		no_memory(book->err);
		return -1;
	}
	rc = part_open(book, &p, name);
	if (rc != 0)
	{
		free(name);
		return rc;
	}
	while ((rc = part_next(&p)) == 1)
	{
		char	   *id,
				   *type,
				   *target,
				   *mode;
		const char *slash;

		if (!is_element(&p, "Relationship"))
			continue;
		id = attr(&p, "Id");
		type = attr(&p, "Type");
		target = attr(&p, "Target");
		mode = attr(&p, "TargetMode");
		if (id && type && target && !(mode && strcmp(mode, "External") == 0))
		{
			if (nrels == cap)
			{
				Rel		   *r;

				cap = cap ? cap * 2 : 16;
				if (cap > 100000 || (r = realloc(rels, sizeof(Rel) * (size_t) cap)) == NULL)
				{
					no_memory(book->err);
					rc = -1;
				}
				else
					rels = r;
			}
			if (rc != -1)
			{
				CRM_ASSERT(nrels < cap);
				slash = strrchr(type, '/');
				rels[nrels].id = dup_str(id);
				rels[nrels].type = dup_str(slash ? slash + 1 : type);
				rels[nrels].target = resolve_target(source, target);
				if (!rels[nrels].id || !rels[nrels].type || !rels[nrels].target)
				{
					free(rels[nrels].id);
					free(rels[nrels].type);
					free(rels[nrels].target);
					no_memory(book->err);
					rc = -1;
				}
				else
					nrels++;
			}
		}
		xmlFree(id);
		xmlFree(type);
		xmlFree(target);
		xmlFree(mode);
		if (rc == -1)
			break;
	}
	part_close(&p);
	free(name);
	if (rc < 0)
	{
		free_rels(rels, nrels);
		return -1;
	}
	*rels_out = rels;
	*nrels_out = nrels;
	return 0;
}

static void
free_rels(Rel *rels, int n)
{
	for (int i = 0; i < n; i++)
	{
		free(rels[i].id);
		free(rels[i].type);
		free(rels[i].target);
	}
	free(rels);
}

static const Rel *
find_rel_type(const XlsxBook *book, const char *type)
{
	for (int i = 0; i < book->nrels; i++)
		if (strcmp(book->rels[i].type, type) == 0)
			return &book->rels[i];
	return NULL;
}

/* ---------------------------------------------------------------- */
/* number formats */

/*
 * Whether a format code shows a date, a time or both: its first section,
 * outside quoted text, escaped characters, [colours] and padding, has
 * y, d (a date), h, s (a time) or m (a month, or minutes next to h or s).
 */
static int
format_kind(const char *code)
{
	int			date = 0,
				time = 0,
				month = 0;

	for (const char *s = code; *s && *s != ';'; s++)
	{
		char		c = (char) tolower((unsigned char) *s);

		if (*s == '"')
		{
			s++;
			while (*s && *s != '"')
				s++;
			if (!*s)
				break;
			continue;
		}
		if (*s == '\\' || *s == '_' || *s == '*')
		{
			if (!s[1])
				break;
			s++;
			continue;
		}
		if (*s == '[')
		{
			/* [h], [mm], [ss]: elapsed time; anything else a colour or locale */
			const char *e = strchr(s, ']');

			if (!e)
				break;
			if (e > s + 1 && strchr("hHmMsS", s[1]))
				time = 1;
			s = e;
			continue;
		}
		if (c == 'y' || c == 'd')
			date = 1;
		else if (c == 'h' || c == 's')
			time = 1;
		else if (c == 'm')
			month = 1;
		else if (c == 'e' && s[1] == '+')
			return FMT_NUMBER;	/* 0.00E+00 */
	}
	if (month && !time)
		date = 1;
	if (date && time)
		return FMT_DATETIME;
	if (date)
		return FMT_DATE;
	if (time)
		return FMT_TIME;
	return FMT_NUMBER;
}

/* the built-in formats (ECMA-376 Part 1, 18.8.30) */
static int
builtin_kind(long id)
{
	if ((id >= 14 && id <= 17) || (id >= 27 && id <= 36) || (id >= 50 && id <= 58))
		return FMT_DATE;
	if (id == 22)
		return FMT_DATETIME;
	if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47))
		return FMT_TIME;
	return FMT_NUMBER;
}

static int
read_styles(XlsxBook *book, const char *name)
{
	Part		p;
	int			rc;
	NumFmt	   *fmts = NULL;
	int			nfmts = 0,
				fmtcap = 0;
	int			xfcap = 0;
	int			in_xfs = 0;

	rc = part_open(book, &p, name);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	while ((rc = part_next(&p)) == 1)
	{
		if (is_element(&p, "numFmt"))
		{
			char	   *id = attr(&p, "numFmtId");
			char	   *code = attr(&p, "formatCode");

			if (id && code)
			{
				if (nfmts == fmtcap)
				{
					NumFmt	   *f;

					fmtcap = fmtcap ? fmtcap * 2 : 16;
					if (fmtcap > 1000000 || (f = realloc(fmts, sizeof(NumFmt) * (size_t) fmtcap)) == NULL)
					{
						xmlFree(id);
						xmlFree(code);
						no_memory(book->err);
						rc = -1;
						break;
					}
					fmts = f;
				}
				fmts[nfmts].id = strtol(id, NULL, 10);
				fmts[nfmts].kind = format_kind(code);
				nfmts++;
			}
			xmlFree(id);
			xmlFree(code);
		}
		else if (is_element(&p, "cellXfs"))
			in_xfs = !xmlTextReaderIsEmptyElement(p.reader);
		else if (is_end(&p, "cellXfs"))
			in_xfs = 0;
		else if (in_xfs && is_element(&p, "xf"))
		{
			char	   *id = attr(&p, "numFmtId");
			long		fid = id ? strtol(id, NULL, 10) : 0;
			int			kind = -1;

			xmlFree(id);
			for (int i = 0; i < nfmts; i++)
				if (fmts[i].id == fid)
					kind = fmts[i].kind;
			if (kind < 0)
				kind = builtin_kind(fid);
			if (book->nxf == xfcap)
			{
				unsigned char *x;

				xfcap = xfcap ? xfcap * 2 : 64;
				if (xfcap > 10000000 || (x = realloc(book->xf_kind, (size_t) xfcap)) == NULL)
				{
					no_memory(book->err);
					rc = -1;
					break;
				}
				book->xf_kind = x;
			}
			CRM_ASSERT(book->nxf < xfcap && kind >= FMT_NUMBER && kind <= FMT_TIME);
			book->xf_kind[book->nxf++] = (unsigned char) kind;
		}
	}
	free(fmts);
	part_close(&p);
	return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- */
/* the workbook */

/* qsort has no argument for the array the indexes point into */
static const Rel *sorting_rels;

static int
compare_rel_ids(const void *a, const void *b)
{
	int			ia = *(const int *) a;
	int			ib = *(const int *) b;
	int			c = strcmp(sorting_rels[ia].id, sorting_rels[ib].id);

	return c != 0 ? c : (ia > ib) - (ia < ib);
}

/* the target of the workbook's relationship rid (the last of that id), or NULL */
static char *
find_rel_id(const XlsxBook *book, const char *rid)
{
	int			lo = 0,
				hi = book->nrels - 1,
				found = -1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(book->rels[book->rel_by_id[mid]].id, rid);

		if (c <= 0)
		{
			if (c == 0)
				found = mid;
			lo = mid + 1;
		}
		else
			hi = mid - 1;
	}
	return found < 0 ? NULL : book->rels[book->rel_by_id[found]].target;
}

XlsxBook *
xlsx_open(const void *data, size_t size, const XlsxLimits *limits, XlsxError *err)
{
	XlsxBook   *book;
	zip_error_t ze;
	zip_source_t *src;
	Rel		   *top = NULL;
	int			ntop = 0;
	Part		p;
	int			rc;
	int			sheetcap = 0;
	const Rel  *styles;

	memset(err, 0, sizeof(*err));
	book = calloc(1, sizeof(XlsxBook));
	if (book == NULL)
	{
		no_memory(err);
		return NULL;
	}
	book->limits = *limits;
	book->size = size;
	book->err = err;

	xmlInitParser();
	zip_error_init(&ze);
	src = zip_source_buffer_create(data, size, 0, &ze);
	if (src == NULL)
	{
		no_memory(err);
		zip_error_fini(&ze);
		free(book);
		return NULL;
	}
	book->zip = zip_open_from_source(src, ZIP_RDONLY, &ze);
	if (book->zip == NULL)
	{
		set_error(err, XLSX_ERR_ZIP, XLSX_LIMIT_NONE, "not an xlsx workbook",
				  "It is not a zip archive, or a damaged one: %s.", zip_error_strerror(&ze));
		zip_source_free(src);
		zip_error_fini(&ze);
		free(book);
		return NULL;
	}
	zip_error_fini(&ze);

	/* the workbook's part: the package's officeDocument */
	rc = read_rels(book, "", &top, &ntop);
	if (rc < 0)
		goto fail;
	for (int i = 0; i < ntop; i++)
		if (strcmp(top[i].type, "officeDocument") == 0)
		{
			book->workbook_part = dup_str(top[i].target);
			break;
		}
	free_rels(top, ntop);
	if (book->workbook_part == NULL)
		book->workbook_part = dup_str("xl/workbook.xml");
	if (book->workbook_part == NULL)
	{
		no_memory(err);
		goto fail;
	}
	rc = read_rels(book, book->workbook_part, &book->rels, &book->nrels);
	if (rc < 0)
		goto fail;
	/* looked up by id once a sheet: sorted, not scanned (a workbook of many
	 * sheets and relationships with long ids took minutes) */
	book->rel_by_id = malloc(sizeof(int) * (book->nrels > 0 ? book->nrels : 1));
	if (book->rel_by_id == NULL)
	{
		no_memory(err);
		goto fail;
	}
	for (int i = 0; i < book->nrels; i++)
		book->rel_by_id[i] = i;
	sorting_rels = book->rels;
	qsort(book->rel_by_id, book->nrels, sizeof(int), compare_rel_ids);

	rc = part_open(book, &p, book->workbook_part);
	if (rc > 0)
		set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "not an xlsx workbook",
				  "The zip archive has no part %s.", book->workbook_part);
	if (rc != 0)
		goto fail;
	while ((rc = part_next(&p)) == 1)
	{
		if (is_element(&p, "workbookPr"))
		{
			char	   *v = attr(&p, "date1904");

			book->date1904 = v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
			xmlFree(v);
		}
		else if (is_element(&p, "sheet"))
		{
			char	   *name = attr(&p, "name");
			char	   *state = attr(&p, "state");
			char	   *rid = attr_ns_local(&p, "id");

			if (name == NULL || rid == NULL)
			{
				set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
						  "A sheet of %s has no name or no relationship id.", book->workbook_part);
				rc = -1;
			}
			else if (book->nsheets == sheetcap)
			{
				XlsxSheetInfo *s;
				char	  **r;

				sheetcap = sheetcap ? sheetcap * 2 : 8;
				s = sheetcap > 100000 ? NULL : realloc(book->sheets, sizeof(XlsxSheetInfo) * (size_t) sheetcap);
				if (s)
					book->sheets = s;
				r = s ? realloc(book->sheet_rids, sizeof(char *) * (size_t) sheetcap) : NULL;
				if (r)
					book->sheet_rids = r;
				if (!s || !r)
				{
					no_memory(err);
					rc = -1;
				}
			}
			if (rc != -1)
			{
				XlsxSheetInfo *s = &book->sheets[book->nsheets];

				CRM_ASSERT(book->nsheets < sheetcap);

				s->name = dup_str(name);
				s->state = dup_str(state ? state : "visible");
				s->part = NULL;
				book->sheet_rids[book->nsheets] = dup_str(rid);
				if (!s->name || !s->state || !book->sheet_rids[book->nsheets])
				{
					free(s->name);
					free(s->state);
					free(book->sheet_rids[book->nsheets]);
					no_memory(err);
					rc = -1;
				}
				else
				{
					s->part = find_rel_id(book, rid);
					book->nsheets++;
				}
			}
			xmlFree(name);
			xmlFree(state);
			xmlFree(rid);
			if (rc == -1)
				break;
		}
		else if (is_end(&p, "sheets"))
			break;
	}
	part_close(&p);
	if (rc < 0)
		goto fail;
	if (book->nsheets == 0)
	{
		set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "not an xlsx workbook",
				  "Part %s names no sheet.", book->workbook_part);
		goto fail;
	}
	styles = find_rel_type(book, "styles");
	if (styles && read_styles(book, styles->target) < 0)
		goto fail;
	return book;

fail:
	xlsx_close(book);
	return NULL;
}

int
xlsx_sheet_count(const XlsxBook *book)
{
	return book->nsheets;
}

const XlsxSheetInfo *
xlsx_sheet(const XlsxBook *book, int i)
{
	return i >= 0 && i < book->nsheets ? &book->sheets[i] : NULL;
}

int
xlsx_date1904(const XlsxBook *book)
{
	return book->date1904;
}

uint64_t
xlsx_inflated(const XlsxBook *book)
{
	return book->inflated;
}

void
xlsx_column_name(uint32_t column, char *buf)
{
	char		tmp[8];
	int			n = 0;

	while (column > 0 && n < 7)
	{
		column--;
		tmp[n++] = (char) ('A' + column % 26);
		column /= 26;
	}
	/* 26^7 > UINT32_MAX: seven letters name any column */
	CRM_ASSERT(column == 0);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

/* ---------------------------------------------------------------- */
/* shared strings */

static int
push_string(XlsxBook *book, Buf *text, const char *part)
{
	const XlsxLimits *lim = &book->limits;
	size_t		len = text->data ? unescape(text->data, text->len) : 0;

	if (book->nstrings >= lim->max_strings)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_STRINGS, "too many shared strings in xlsx workbook",
				  "Part %s has more than %u strings.", part, lim->max_strings);
		return -1;
	}
	if (book->pool.len + len > lim->max_string_bytes)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_STRING_BYTES, "shared strings of xlsx workbook too large",
				  "The strings of part %s take more than %llu bytes.", part,
				  (unsigned long long) lim->max_string_bytes);
		return -1;
	}
	if (utf8_chars(text->data ? text->data : "", len) > lim->max_cell_chars)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_CELL, "xlsx cell too long",
				  "Shared string %u of part %s has more than %u characters.", book->nstrings, part,
				  lim->max_cell_chars);
		return -1;
	}
	if (book->nstrings == book->strings_cap)
	{
		size_t		cap = book->strings_cap ? book->strings_cap * 2 : 1024;
		size_t	   *s = realloc(book->strings, cap * sizeof(size_t));

		if (s == NULL)
		{
			no_memory(book->err);
			return -1;
		}
		book->strings = s;
		book->strings_cap = cap;
	}
	CRM_ASSERT(book->nstrings < book->strings_cap);
	book->strings[book->nstrings++] = book->pool.len;
	if (buf_append(&book->pool, text->data ? text->data : "", len) < 0 ||
		buf_append(&book->pool, "", 1) < 0)
	{
		no_memory(book->err);
		return -1;
	}
	return 0;
}

static int
read_shared_strings(XlsxBook *book, const char *name)
{
	Part		p;
	int			rc;
	Buf			text = {0};
	int			in_si = 0,
				in_t = 0,
				in_rph = 0;

	rc = part_open(book, &p, name);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	while ((rc = part_next(&p)) == 1)
	{
		int			type = xmlTextReaderNodeType(p.reader);

		if (type == XML_READER_TYPE_ELEMENT)
		{
			int			empty = xmlTextReaderIsEmptyElement(p.reader);

			if (is_element(&p, "si"))
			{
				buf_reset(&text);
				in_si = 1;
				in_t = in_rph = 0;
				if (empty)
				{
					in_si = 0;
					if (push_string(book, &text, name) < 0)
					{
						rc = -1;
						break;
					}
				}
			}
			else if (in_si && is_element(&p, "rPh") && !empty)
				in_rph = 1;
			else if (in_si && !in_rph && is_element(&p, "t") && !empty)
				in_t = 1;
		}
		else if (type == XML_READER_TYPE_END_ELEMENT)
		{
			if (is_end(&p, "t"))
				in_t = 0;
			else if (is_end(&p, "rPh"))
				in_rph = 0;
			else if (is_end(&p, "si") && in_si)
			{
				in_si = 0;
				if (push_string(book, &text, name) < 0)
				{
					rc = -1;
					break;
				}
			}
		}
		else if (in_t && is_text(&p))
		{
			const char *v = (const char *) xmlTextReaderConstValue(p.reader);
			size_t		n = v ? strlen(v) : 0;

			/* 7 bytes of _xHHHH_ escape a character at most */
			if (text.len + n > (size_t) book->limits.max_cell_chars * 7)
			{
				set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_CELL, "xlsx cell too long",
						  "Shared string %u of part %s has more than %u characters.", book->nstrings, name,
						  book->limits.max_cell_chars);
				rc = -1;
				break;
			}
			if (buf_append(&text, v ? v : "", n) < 0)
			{
				no_memory(book->err);
				rc = -1;
				break;
			}
		}
	}
	buf_free(&text);
	part_close(&p);
	return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- */
/* a sheet */

int
xlsx_open_sheet(XlsxBook *book, const char *name, XlsxError *err)
{
	int			found = -1;
	const Rel  *sst;
	int			rc;

	memset(err, 0, sizeof(*err));
	book->err = err;
	if (book->sheet_open)
	{
		set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "a sheet is open already", "One sheet at a time.");
		return -1;
	}
	if (name == NULL)
	{
		/* the first visible sheet (the leftmost tab) */
		for (int i = 0; i < book->nsheets && found < 0; i++)
			if (strcmp(book->sheets[i].state, "visible") == 0)
				found = i;
		if (found < 0)
			found = 0;
	}
	else
	{
		for (int i = 0; i < book->nsheets && found < 0; i++)
			if (strcmp(book->sheets[i].name, name) == 0)
				found = i;
		/* spreadsheets compare sheet names ignoring case */
		for (int i = 0; i < book->nsheets && found < 0; i++)
			if (strcasecmp(book->sheets[i].name, name) == 0)
				found = i;
		if (found < 0)
		{
			set_error(err, XLSX_ERR_NO_SHEET, XLSX_LIMIT_NONE, "sheet not found", "%s", name);
			return -1;
		}
	}
	if (book->sheets[found].part == NULL)
	{
		set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
				  "Sheet \"%s\" has no part: its relationship id is not in the workbook's relationships.",
				  book->sheets[found].name);
		return -1;
	}
	sst = find_rel_type(book, "sharedStrings");
	if (sst && book->nstrings == 0 && read_shared_strings(book, sst->target) < 0)
		return -1;
	rc = part_open(book, &book->sheet, book->sheets[found].part);
	if (rc > 0)
		set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
				  "Sheet \"%s\" is part %s, which the zip archive does not have.",
				  book->sheets[found].name, book->sheets[found].part);
	if (rc != 0)
		return -1;
	book->sheet_open = 1;
	return 0;
}

/* days since 1970-01-01 -> y, m, d (proleptic Gregorian; H. Hinnant's civil_from_days) */
static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long	era;
	unsigned	doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned) (z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (long long) yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	if (*m <= 2)
		(*y)++;
	CRM_ASSERT(*m >= 1 && *m <= 12 && *d >= 1 && *d <= 31);
}

/* a number as a spreadsheet shows it: integers as written, else 15 digits */
static void
format_number(const char *v, Buf *out)
{
	const char *s = v;
	char	   *end;
	double		d;
	char		tmp[64];

	if (*s == '-')
		s++;
	if (*s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 30)
	{
		buf_append(out, v, strlen(v));
		return;
	}
	errno = 0;
	d = strtod(v, &end);
	if (end == v || *end != '\0' || !isfinite(d))
	{
		buf_append(out, v, strlen(v));
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.15g", d);
	if (strcmp(tmp, "-0") == 0)
		strcpy(tmp, "0");
	buf_append(out, tmp, strlen(tmp));
}

/* a serial date of the workbook's date system as ISO 8601 text */
static void
format_date(const XlsxBook *book, const char *v, int kind, Buf *out)
{
	char	   *end;
	double		serial = strtod(v, &end);
	long long	secs,
				days,
				y;
	unsigned	m,
				d;
	char		tmp[64];

	/* 9999-12-31 is serial 2958465 */
	if (end == v || *end != '\0' || !isfinite(serial) || serial < 0 || serial >= 2958466.0)
	{
		format_number(v, out);
		return;
	}
	secs = llround(serial * 86400.0);
	if (kind == FMT_DATE)
		days = (long long) floor(serial);
	else
		days = secs / 86400;
	secs %= 86400;
	/* serial in [0, 2958466): a time of day, whole days from 0 */
	CRM_ASSERT(secs >= 0 && secs < 86400 && days >= 0);
	if (kind == FMT_TIME)
	{
		snprintf(tmp, sizeof(tmp), "%02lld:%02lld:%02lld", secs / 3600, secs / 60 % 60, secs % 60);
		buf_append(out, tmp, strlen(tmp));
		return;
	}
	if (!book->date1904)
	{
		/* serial 1 is 1900-01-01; 60 the 29th of February 1900 of Lotus 1-2-3, which never was */
		if (days < 1)
		{
			format_number(v, out);
			return;
		}
		if (days == 60)
		{
			y = 1900;
			m = 2;
			d = 29;
		}
		else
			civil_from_days(days + (days < 60 ? -25568 : -25569), &y, &m, &d);
	}
	else
		civil_from_days(days - 24107, &y, &m, &d);
	if (kind == FMT_DATE)
		snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02u", y, m, d);
	else
		snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02u %02lld:%02lld:%02lld", y, m, d,
				 secs / 3600, secs / 60 % 60, secs % 60);
	buf_append(out, tmp, strlen(tmp));
}

/* "B7" -> column 2; 0 when the reference is not a cell's */
static uint32_t
parse_column(const char *ref)
{
	uint32_t	col = 0;
	int			letters = 0;

	while (*ref >= 'A' && *ref <= 'Z')
	{
		col = col * 26 + (uint32_t) (*ref - 'A' + 1);
		ref++;
		if (++letters > 3)
			return 0;
	}
	if (letters == 0)
		return 0;
	while (*ref >= '0' && *ref <= '9')
		ref++;
	/* three letters at most: ZZZ */
	CRM_ASSERT(col >= 1 && col <= 18278);
	return *ref == '\0' ? col : 0;
}

/* a cell's value, finished: appended to the row unless empty */
static int
finish_cell(XlsxBook *book, const char *type, long style, uint32_t column, uint32_t rownum)
{
	Buf		   *row = &book->rowtext;
	size_t		start = row->len;
	const char *v = book->cell.data ? book->cell.data : "";
	char		ref[16];

	if (buf_reserve(row, 64) < 0)
	{
		no_memory(book->err);
		return -1;
	}
	/* <v></v>: no value, whatever the type */
	if (book->cell.len == 0)
		return 0;
	if (type == NULL || strcmp(type, "n") == 0)
	{
		int			kind = style >= 0 && style < book->nxf ? book->xf_kind[style] : FMT_NUMBER;

		/* spaces around a number are XML's, not the cell's */
		while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			v++;
		if (*v)
		{
			char	   *copy = dup_str(v);
			size_t		n;

			if (copy == NULL)
			{
				no_memory(book->err);
				return -1;
			}
			n = strlen(copy);
			while (n > 0 && (copy[n - 1] == ' ' || copy[n - 1] == '\t' || copy[n - 1] == '\n' || copy[n - 1] == '\r'))
				copy[--n] = '\0';
			if (kind == FMT_NUMBER)
				format_number(copy, row);
			else
				format_date(book, copy, kind, row);
			free(copy);
		}
	}
	else if (strcmp(type, "s") == 0)
	{
		char	   *end;
		unsigned long idx;

		while (*v == ' ')
			v++;
		errno = 0;
		idx = strtoul(v, &end, 10);
		if (*v == '\0' || *v == '-' || errno != 0 || (*end != '\0' && *end != ' ') || idx >= book->nstrings)
		{
			xlsx_column_name(column, ref);
			set_error(book->err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
					  "Cell %s%u of part %s refers to shared string \"%.20s\"; the workbook has %u.",
					  ref, rownum, book->sheet.name, v, book->nstrings);
			return -1;
		}
		{
			const char *s;

			/* an offset into the pool, each string NUL-terminated there */
			CRM_ASSERT(book->strings[idx] < book->pool.len);
			s = book->pool.data + book->strings[idx];

			buf_append(row, s, strlen(s));
		}
	}
	else if (strcmp(type, "inlineStr") == 0)
	{
		if (book->cell.data)
			buf_append(row, book->cell.data, unescape(book->cell.data, book->cell.len));
	}
	else if (strcmp(type, "b") == 0)
	{
		if (strcmp(v, "1") == 0)
			buf_append(row, "true", 4);
		else if (strcmp(v, "0") == 0)
			buf_append(row, "false", 5);
		else
			buf_append(row, v, strlen(v));
	}
	else
	{
		/* str (a formula's text), e (#N/A, ...), d (ISO 8601), anything else: as written */
		buf_append(row, v, strlen(v));
	}
	if (row->data == NULL)
	{
		no_memory(book->err);
		return -1;
	}
	if (row->len == start)
		return 0;				/* empty: left out */
	if (utf8_chars(row->data + start, row->len - start) > book->limits.max_cell_chars)
	{
		xlsx_column_name(column, ref);
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_CELL, "xlsx cell too long",
				  "Cell %s%u of sheet part %s has more than %u characters.", ref, rownum,
				  book->sheet.name, book->limits.max_cell_chars);
		return -1;
	}
	if (book->limits.max_row_bytes && row->len > book->limits.max_row_bytes)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_ROW_BYTES, "xlsx row too large",
				  "Row %u of sheet part %s holds more than %llu bytes of text.", rownum,
				  book->sheet.name, (unsigned long long) book->limits.max_row_bytes);
		return -1;
	}
	if (buf_append(row, "", 1) < 0)
	{
		no_memory(book->err);
		return -1;
	}
	if (book->ncells >= book->limits.max_columns)
	{
		set_error(book->err, XLSX_ERR_LIMIT, XLSX_LIMIT_COLUMNS, "too many columns in xlsx sheet",
				  "Row %u of sheet part %s has more than %u cells.", rownum, book->sheet.name,
				  book->limits.max_columns);
		return -1;
	}
	if (book->ncells == book->cells_cap)
	{
		uint32_t	cap = book->cells_cap ? book->cells_cap * 2 : 64;
		XlsxCell   *c = realloc(book->cells, sizeof(XlsxCell) * cap);
		size_t	   *o = c ? realloc(book->cell_offsets, sizeof(size_t) * cap) : NULL;

		if (c)
			book->cells = c;
		if (o)
			book->cell_offsets = o;
		if (!c || !o)
		{
			no_memory(book->err);
			return -1;
		}
		book->cells_cap = cap;
	}
	CRM_ASSERT(book->ncells < book->cells_cap);
	CRM_ASSERT(column >= 1 && column <= book->limits.max_columns);
	book->cells[book->ncells].column = column;
	book->cell_offsets[book->ncells] = start;
	book->ncells++;
	return 0;
}

int
xlsx_next_row(XlsxBook *book, XlsxRow *out, XlsxError *err)
{
	Part	   *p = &book->sheet;
	int			rc;
	int			in_row = 0,
				in_cell = 0,
				in_v = 0,
				in_is = 0,
				in_t = 0,
				in_rph = 0;
	uint32_t	rownum = 0;
	uint32_t	column = 0;
	char	   *type = NULL;
	long		style = -1;
	const XlsxLimits *lim = &book->limits;

	memset(err, 0, sizeof(*err));
	book->err = err;
	if (!book->sheet_open || book->sheet_done)
		return 0;
	buf_reset(&book->rowtext);
	book->ncells = 0;

	while ((rc = part_next(p)) == 1)
	{
		int			nodetype = xmlTextReaderNodeType(p->reader);

		if (nodetype == XML_READER_TYPE_ELEMENT)
		{
			int			empty = xmlTextReaderIsEmptyElement(p->reader);

			if (!book->in_data)
			{
				if (is_element(p, "sheetData"))
				{
					if (empty)
						break;
					book->in_data = 1;
				}
				continue;
			}
			if (!in_row && is_element(p, "row"))
			{
				char	   *r = attr(p, "r");
				unsigned long n = book->last_row + 1;

				if (r)
				{
					char	   *end;

					errno = 0;
					n = strtoul(r, &end, 10);
					if (*r == '\0' || *end != '\0' || errno != 0 || n == 0)
					{
						set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
								  "Part %s has a row numbered \"%.20s\".", p->name, r);
						xmlFree(r);
						rc = -1;
						break;
					}
					xmlFree(r);
				}
				book->rows_read++;
				if (n > lim->max_rows || book->rows_read > lim->max_rows)
				{
					set_error(err, XLSX_ERR_LIMIT, XLSX_LIMIT_ROWS, "too many rows in xlsx sheet",
							  "Sheet part %s has more than %u rows.", p->name, lim->max_rows);
					rc = -1;
					break;
				}
				rownum = (uint32_t) n;
				book->last_row = rownum;
				column = 0;
				if (!empty)
					in_row = 1;
			}
			else if (in_row && !in_cell && is_element(p, "c"))
			{
				char	   *r = attr(p, "r");
				char	   *s = attr(p, "s");

				xmlFree(type);
				type = attr(p, "t");
				style = s ? strtol(s, NULL, 10) : -1;
				xmlFree(s);
				if (r)
				{
					uint32_t	c = parse_column(r);

					if (c == 0)
					{
						set_error(err, XLSX_ERR_FORMAT, XLSX_LIMIT_NONE, "corrupt xlsx workbook",
								  "Row %u of part %s has a cell \"%.20s\".", rownum, p->name, r);
						xmlFree(r);
						rc = -1;
						break;
					}
					column = c;
					xmlFree(r);
				}
				else
					column++;
				if (column > lim->max_columns)
				{
					set_error(err, XLSX_ERR_LIMIT, XLSX_LIMIT_COLUMNS, "too many columns in xlsx sheet",
							  "Row %u of sheet part %s has a cell in column %u; the limit is %u columns.",
							  rownum, p->name, column, lim->max_columns);
					rc = -1;
					break;
				}
				buf_reset(&book->cell);
				if (!empty)
					in_cell = 1;
				in_v = in_is = in_t = in_rph = 0;
			}
			else if (in_cell && is_element(p, "v"))
				in_v = !empty;
			else if (in_cell && is_element(p, "is"))
				in_is = !empty;
			else if (in_is && is_element(p, "rPh"))
				in_rph = !empty;
			else if (in_is && !in_rph && is_element(p, "t"))
				in_t = !empty;
		}
		else if (nodetype == XML_READER_TYPE_END_ELEMENT)
		{
			if (in_cell && is_end(p, "v"))
				in_v = 0;
			else if (in_t && is_end(p, "t"))
				in_t = 0;
			else if (in_rph && is_end(p, "rPh"))
				in_rph = 0;
			else if (in_is && is_end(p, "is"))
				in_is = 0;
			else if (in_cell && is_end(p, "c"))
			{
				in_cell = 0;
				if (finish_cell(book, type, style, column, rownum) < 0)
				{
					rc = -1;
					break;
				}
			}
			else if (in_row && is_end(p, "row"))
			{
				in_row = 0;
				if (book->ncells > 0)
					break;		/* a row with values */
			}
			else if (is_end(p, "sheetData"))
			{
				rc = 0;
				break;
			}
		}
		else if ((in_v || in_t) && is_text(p))
		{
			const char *v = (const char *) xmlTextReaderConstValue(p->reader);
			size_t		n = v ? strlen(v) : 0;

			if (book->cell.len + n > (size_t) lim->max_cell_chars * 7)
			{
				char		ref[8];

				xlsx_column_name(column, ref);
				set_error(err, XLSX_ERR_LIMIT, XLSX_LIMIT_CELL, "xlsx cell too long",
						  "Cell %s%u of sheet part %s has more than %u characters.", ref, rownum,
						  p->name, lim->max_cell_chars);
				rc = -1;
				break;
			}
			if (buf_append(&book->cell, v ? v : "", n) < 0)
			{
				no_memory(err);
				rc = -1;
				break;
			}
		}
	}
	xmlFree(type);
	if (rc < 0)
		return -1;
	if (rc == 0 || book->ncells == 0)
	{
		/* the end of the sheet data (the rest of the part is not read) */
		book->sheet_done = 1;
		part_close(p);
		if (book->ncells == 0)
			return 0;
	}
	CRM_ASSERT(rownum >= 1 && rownum <= lim->max_rows);
	for (uint32_t i = 0; i < book->ncells; i++)
	{
		/* a cell's text: non-empty, NUL-terminated inside the row's */
		CRM_ASSERT(book->cell_offsets[i] + 1 < book->rowtext.len);
		book->cells[i].text = book->rowtext.data + book->cell_offsets[i];
	}
	out->number = rownum;
	out->ncells = book->ncells;
	out->cells = book->cells;
	return 1;
}

void
xlsx_close(XlsxBook *book)
{
	if (book == NULL)
		return;
	part_close(&book->sheet);
	if (book->zip)
		zip_discard(book->zip);
	free(book->workbook_part);
	free_rels(book->rels, book->nrels);
	free(book->rel_by_id);
	for (int i = 0; i < book->nsheets; i++)
	{
		free(book->sheets[i].name);
		free(book->sheets[i].state);
		free(book->sheet_rids[i]);
	}
	free(book->sheets);
	free(book->sheet_rids);
	free(book->xf_kind);
	buf_free(&book->pool);
	free(book->strings);
	buf_free(&book->rowtext);
	buf_free(&book->cell);
	free(book->cells);
	free(book->cell_offsets);
	free(book);
}
