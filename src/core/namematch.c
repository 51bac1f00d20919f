/*-------------------------------------------------------------------------
 *
 * namematch.c
 *	  Name matching for duplicate detection (see namematch.h).
 *
 *-------------------------------------------------------------------------
 */
#include "namematch.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>
#include <unicode/utrans.h>

#include "coreassert.h"
#include "unichar.h"

/* data tables: a change to them needs a REINDEX, see their comments */
#include "diminutives.h"
#include "legalforms.h"

/* longer names are cut here: no real name comes near */
#define NAME_MAX_BYTES 4096
/* Jaro-Winkler compares at most this many bytes of each name */
#define JW_MAX 256

static UTransliterator *to_ascii;

/*
 * Cyrillic names the way their own countries romanize them (the BGN/PCGN
 * systems: Ю -> Yu, Х -> Kh, Щ -> Shch, Ж -> Zh), so that a name typed in
 * Cyrillic and the same name in a Latin passport meet in one skeleton
 * (crm_name_skeleton): ЮРЧАК -> yurchak ~ Jurczak, Yurchak.  ICU's generic
 * Any-Latin gives ISO 9 (Ю -> û -> u), which loses the sounds the Latin
 * spellings keep.  The language is told by its own letters: ў Belarusian;
 * і, ї, є, ґ Ukrainian; otherwise Russian.  Soft and hard signs and the
 * apostrophe are dropped (Наталья -> Natalya, Мар'яна -> Maryana).
 */
typedef enum CyrillicKind
{
	CYR_RUSSIAN, CYR_UKRAINIAN, CYR_BELARUSIAN, CYR_KINDS
} CyrillicKind;

static UTransliterator *cyrillic_to_ascii[CYR_KINDS];

static UTransliterator *
cyrillic_transliterator(CyrillicKind kind)
{
	static const UChar *const rules[CYR_KINDS] = {
		u"[\\u044C\\u042C\\u044A\\u042A\\u2019\\u02BC\\u0027] > ; ::Russian-Latin/BGN; ::Any-Latin; ::Latin-ASCII;",
		u"[\\u044C\\u042C\\u044A\\u042A\\u2019\\u02BC\\u0027] > ; ::Ukrainian-Latin/BGN; ::Any-Latin; ::Latin-ASCII;",
		u"[\\u044C\\u042C\\u044A\\u042A\\u2019\\u02BC\\u0027] > ; ::Belarusian-Latin/BGN; ::Any-Latin; ::Latin-ASCII;",
	};

	if (cyrillic_to_ascii[kind] == NULL)
	{
		UErrorCode	status = U_ZERO_ERROR;
		UParseError parse_error;

		cyrillic_to_ascii[kind] = utrans_openU(u"crm-cyrillic-ascii", -1, UTRANS_FORWARD, rules[kind], -1,
											   &parse_error, &status);
		if (U_FAILURE(status))
			cyrillic_to_ascii[kind] = NULL;
	}
	return cyrillic_to_ascii[kind];
}

/* -1 when the text has no Cyrillic letter, else the language its letters tell */
static int
cyrillic_kind(const UChar *s, int32_t len)
{
	bool		cyrillic = false;
	int			kind = CYR_RUSSIAN;

	for (int32_t k = 0; k < len; k++)
	{
		UChar		c = s[k];

		if (c < 0x0400 || c > 0x04FF)
			continue;
		cyrillic = true;
		if (c == 0x045E || c == 0x040E)
			return CYR_BELARUSIAN;
		if (c == 0x0456 || c == 0x0406 || c == 0x0457 || c == 0x0407 || c == 0x0454 || c == 0x0404 ||
			c == 0x0491 || c == 0x0490)
			kind = CYR_UKRAINIAN;
	}
	return cyrillic ? kind : -1;
}

/*
 * The ASCII form of each code point below FAST_LIMIT (ASCII, Latin-1,
 * Latin Extended-A: every Polish letter), as ICU's transform gives it,
 * built once on first use: names written in these scripts, nearly all of
 * them, are normalized without calling ICU per name.  An empty entry with
 * fast_ok false sends the whole name through ICU.
 */
#define FAST_LIMIT 0x180
static char fast_form[FAST_LIMIT][5];
static bool fast_ok[FAST_LIMIT];
static bool fast_built;

static UTransliterator *
transliterator(void)
{
	if (to_ascii == NULL)
	{
		static const UChar rules[] = u"Any-Latin; Latin-ASCII";
		UErrorCode	status = U_ZERO_ERROR;

		to_ascii = utrans_openU(rules, -1, UTRANS_FORWARD, NULL, 0, NULL, &status);
		if (U_FAILURE(status))
			to_ascii = NULL;
	}
	return to_ascii;
}

static void
build_fast_table(UTransliterator *trans)
{
	for (int32_t cp = 0; cp < FAST_LIMIT; cp++)
	{
		UChar		u[8] = {(UChar) cp};
		int32_t		ulen = 1;
		int32_t		limit = 1;
		UErrorCode	status = U_ZERO_ERROR;
		bool		ascii = true;

		utrans_transUChars(trans, u, &ulen, 8, 0, &limit, &status);
		if (U_FAILURE(status) || ulen > 4)
			continue;
		for (int32_t k = 0; k < ulen; k++)
		{
			if (u[k] >= 0x80)
				ascii = false;
			fast_form[cp][k] = (char) u[k];
		}
		fast_form[cp][ulen] = '\0';
		fast_ok[cp] = ascii;
	}
	fast_built = true;
}

/* appends ASCII text to out as the matching form has it */
typedef struct NormOut
{
	char	   *out;
	size_t		cap;
	size_t		n;
	bool		space;
	bool		full;
} NormOut;

static void
emit(NormOut *o, int c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
	{
		o->space = true;
		return;
	}
	if (o->full || o->n + (o->space && o->n > 0 ? 2 : 1) >= o->cap)
	{
		o->full = true;
		return;
	}
	if (o->space && o->n > 0)
		o->out[o->n++] = ' ';
	o->space = false;
	o->out[o->n++] = (char) c;
	/* room for the NUL */
	CRM_ASSERT(o->n < o->cap);
}

/* the fast path; false if some character needs ICU */
static bool
normalize_fast(const uint8_t *s, int32_t len, NormOut *o)
{
	int32_t		i = 0;

	while (i < len)
	{
		int32_t		c = crm_next_char(s, &i, len);

		if (c < 0)
			emit(o, ' ');		/* a byte that is not UTF-8 separates */
		else if (c >= FAST_LIMIT || !fast_ok[c])
			return false;
		else if (c < 0x80)
			emit(o, c);
		else
			for (const char *f = fast_form[c]; *f; f++)
				emit(o, *f);
	}
	return true;
}

int
crm_name_normalize(const char *utf8, size_t len, char *out, size_t cap)
{
	UTransliterator *trans = transliterator();
	UErrorCode	status = U_ZERO_ERROR;
	NormOut		o = {out, cap, 0, false, false};
	int32_t		ulen;
	int32_t		ucap;
	int32_t		limit;
	UChar	   *buf;

	if (trans == NULL || cap == 0)
		return -1;
	if (len > NAME_MAX_BYTES)
		len = NAME_MAX_BYTES;
	if (!fast_built)
		build_fast_table(trans);
	if (normalize_fast((const uint8_t *) utf8, (int32_t) len, &o))
	{
		out[o.n] = '\0';
		return (int) o.n;
	}

	/* other scripts: the whole name through ICU (Щукин -> shchukin) */
	o.n = 0;
	o.space = o.full = false;
	/* transliteration lengthens text (ß -> ss, Щ -> Shch, 莊 -> zhuang) */
	for (ucap = (int32_t) (4 * len + 16);; ucap *= 2)
	{
		buf = malloc(sizeof(UChar) * ucap);
		if (buf == NULL)
			return -1;
		status = U_ZERO_ERROR;
		u_strFromUTF8Lenient(buf, ucap, &ulen, utf8, (int32_t) len, &status);
		limit = ulen;
		if (U_SUCCESS(status))
		{
			int			kind = cyrillic_kind(buf, ulen);
			UTransliterator *use = kind < 0 ? trans : cyrillic_transliterator(kind);

			/* without the BGN systems (a reduced ICU data set): the generic one */
			utrans_transUChars(use ? use : trans, buf, &ulen, ucap, 0, &limit, &status);
		}
		if (U_SUCCESS(status))
			break;
		free(buf);
		if (status != U_BUFFER_OVERFLOW_ERROR || ucap > 64 * NAME_MAX_BYTES)
			return -1;
	}
	for (int32_t k = 0; k < ulen; k++)
		emit(&o, buf[k] < 0x80 ? buf[k] : ' ');
	out[o.n] = '\0';
	free(buf);
	return (int) o.n;
}

static int skeleton_pass(const char *norm, char *out, size_t cap);

/*
 * One pass can make a pair a rule reads ("shz": "sz"), so passes repeat
 * until nothing changes: a skeleton is its own skeleton.  Each pass is
 * never longer than its input, and a pass that changes something shortens
 * it or turns a letter into one of "sxzvi", so a few passes settle it.
 */
int
crm_name_skeleton(const char *norm, char *out, size_t cap)
{
	char	   *tmp;
	int			n;

	n = skeleton_pass(norm, out, cap);
	if (n <= 0)
		return n;
	tmp = malloc((size_t) n + 1);
	if (tmp == NULL)
		return n;
	for (int pass = 0; pass < 8; pass++)
	{
		int			m = skeleton_pass(out, tmp, (size_t) n + 1);

		if (m == n && memcmp(out, tmp, (size_t) n) == 0)
			break;
		memcpy(out, tmp, (size_t) m + 1);
		n = m;
	}
	free(tmp);
	return n;
}

/* the rules of a skeleton pass, longest first: the first that matches applies */
static const struct
{
	const char *from;
	const char *to;
}			skeleton_rules[] = {
	{"shch", "sx"}, {"szcz", "sx"}, {"tsch", "x"},
	{"sch", "s"},
	{"kh", "x"}, {"ch", "x"}, {"cz", "x"}, {"sh", "s"}, {"sz", "s"}, {"zh", "z"},
	{"ts", "x"}, {"tz", "x"},
	{"c", "x"}, {"h", "x"}, {"w", "v"}, {"y", "i"}, {"j", "i"},
};

#define SKELETON_NRULES (sizeof(skeleton_rules) / sizeof(skeleton_rules[0]))

/*
 * The rules by their first letter, in the order above (only rules that
 * start with a letter can match at it), with the lengths of their "from":
 * a letter no rule starts with costs one look-up.  Made on first use.
 */
static struct
{
	bool		made;
	unsigned char nrules[256];
	unsigned char rule[256][SKELETON_NRULES];
	unsigned char len[SKELETON_NRULES];
}			skeleton_index;

static void
skeleton_index_make(void)
{
	for (size_t r = 0; r < SKELETON_NRULES; r++)
	{
		unsigned char c = (unsigned char) skeleton_rules[r].from[0];

		skeleton_index.len[r] = (unsigned char) strlen(skeleton_rules[r].from);
		skeleton_index.rule[c][skeleton_index.nrules[c]++] = (unsigned char) r;
	}
	skeleton_index.made = true;
}

static int
skeleton_pass(const char *norm, char *out, size_t cap)
{
	size_t		n = strlen(norm);
	size_t		o = 0;

	if (cap == 0)
		return -1;
	if (!skeleton_index.made)
		skeleton_index_make();
	for (size_t i = 0; i < n;)
	{
		const char *to = NULL;
		size_t		used = 1;
		unsigned char c = (unsigned char) norm[i];

		for (int k = 0; k < skeleton_index.nrules[c]; k++)
		{
			int			r = skeleton_index.rule[c][k];
			size_t		fl = skeleton_index.len[r];

			const char *from = skeleton_rules[r].from;
			size_t		q = 1;		/* its first letter is norm[i] */

			/* at most four letters: compared here, not by a call */
			while (q < fl && i + q < n && norm[i + q] == from[q])
				q++;
			if (q == fl)
			{
				to = skeleton_rules[r].to;
				used = fl;
				break;
			}
		}
		for (const char *t = to ? to : norm + i; to ? *t != '\0' : t < norm + i + 1; t++)
		{
			/* a letter doubled is written once (nn, ll, ii from ij) */
			if (o > 0 && out[o - 1] == *t && *t >= 'a' && *t <= 'z')
				continue;
			if (o + 1 >= cap)
			{
				out[o] = '\0';
				return (int) o;
			}
			out[o++] = *t;
		}
		i += used;
	}
	/* a rule's "to" is never longer than its "from" */
	CRM_ASSERT(o < cap && o <= n);
	out[o] = '\0';
	return (int) o;
}

/*
 * street types, long forms to the short one (never longer), sorted by word.
 * crm.match_keys() is IMMUTABLE and indexed (crm.client_match_keys_idx): a
 * change here after a release needs the REINDEX of diminutives.h's comment.
 */
static const char *const street_types[][2] = {
	{"aleja", "al"}, {"aleje", "al"}, {"avenue", "ave"}, {"boulevard", "blvd"},
	{"circuit", "cct"}, {"close", "cl"}, {"court", "ct"}, {"crescent", "cres"}, {"drive", "dr"},
	{"grove", "gr"}, {"highway", "hwy"}, {"lane", "ln"}, {"osiedle", "os"}, {"parade", "pde"},
	{"place", "pl"}, {"plac", "pl"}, {"road", "rd"}, {"square", "sq"}, {"street", "st"},
	{"terrace", "tce"},
};

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t k = 0; k < n; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	return true;
}

int
crm_address_canonical(char *norm, int len)
{
	const char *words[65];
	size_t		lens[65];
	int			nwords = 0;
	char	   *copy;
	int			o = 0;

	if (len <= 0)
		return len;
	copy = malloc((size_t) len + 1);
	if (copy == NULL)
		return len;
	memcpy(copy, norm, (size_t) len);
	copy[len] = '\0';
	/* the words (normalized text: single spaces, none at the ends) */
	for (char *p = copy; *p && nwords < 65;)
	{
		char	   *sp = strchr(p, ' ');
		size_t		n = sp ? (size_t) (sp - p) : strlen(p);

		words[nwords] = p;
		lens[nwords++] = n;
		if (!sp)
			break;
		p = sp + 1;
	}
	if (nwords > 64)
	{
		/* not an address: leave it as it is */
		free(copy);
		return len;
	}
	/* the word for street goes first, so that the flat marker's neighbours are final */
	{
		int			kept = 0;

		for (int w = 0; w < nwords; w++)
			if (!((lens[w] == 2 && memcmp(words[w], "ul", 2) == 0) ||
				  (lens[w] == 5 && memcmp(words[w], "ulica", 5) == 0)))
			{
				words[kept] = words[w];
				lens[kept++] = lens[w];
			}
		nwords = kept;
	}
	for (int w = 0; w < nwords; w++)
	{
		const char *word = words[w];
		size_t		n = lens[w];

		/* the flat marker between two numbers */
		if (n == 1 && word[0] == 'm' && w > 0 && w + 1 < nwords &&
			all_digits(words[w - 1], lens[w - 1]) && all_digits(words[w + 1], lens[w + 1]))
			continue;
		for (size_t k = 0; k < sizeof(street_types) / sizeof(street_types[0]); k++)
			if (strlen(street_types[k][0]) == n && memcmp(street_types[k][0], word, n) == 0)
			{
				word = street_types[k][1];
				n = strlen(word);
				break;
			}
		if (o > 0)
			norm[o++] = ' ';
		/* kept words, never longer, one space apart: within norm's len */
		CRM_ASSERT(o + (int) n <= len);
		memcpy(norm + o, word, n);
		o += (int) n;
	}
	CRM_ASSERT(o <= len);
	norm[o] = '\0';
	free(copy);
	return o;
}

int
crm_company_strip_legal_form(char *norm, int len)
{
	bool		stripped = true;

	while (stripped)
	{
		stripped = false;
		for (size_t k = 0; k < sizeof(legal_forms) / sizeof(legal_forms[0]); k++)
		{
			int			fl = (int) strlen(legal_forms[k]);

			/* a whole word at the end, never the whole name */
			if (len > fl + 1 && norm[len - fl - 1] == ' ' &&
				memcmp(norm + len - fl, legal_forms[k], fl) == 0)
			{
				len -= fl + 1;
				norm[len] = '\0';
				stripped = true;
				break;
			}
		}
	}
	return len;
}

static int
compare_diminutive(const void *key, const void *entry)
{
	return strcmp((const char *) key, ((const char *const *) entry)[0]);
}

const char *
crm_first_name_canonical(const char *norm)
{
	const char *const *hit = bsearch(norm, diminutives,
									 sizeof(diminutives) / sizeof(diminutives[0]),
									 sizeof(diminutives[0]), compare_diminutive);

	return hit ? hit[1] : NULL;
}

const char *
crm_first_name_several(const char *norm)
{
	const char *const *hit = bsearch(norm, nicknames_of_several,
									 sizeof(nicknames_of_several) / sizeof(nicknames_of_several[0]),
									 sizeof(nicknames_of_several[0]), compare_diminutive);

	return hit ? hit[1] : NULL;
}

double
crm_jaro_winkler(const char *a, int la, const char *b, int lb)
{
	bool		am[JW_MAX];
	bool		bm[JW_MAX];
	int			window;
	int			matches = 0;
	int			half_transpositions = 0;
	int			prefix = 0;
	double		jaro;

	if (la > JW_MAX)
		la = JW_MAX;
	if (lb > JW_MAX)
		lb = JW_MAX;
	if (la == 0 && lb == 0)
		return 1.0;
	if (la == 0 || lb == 0)
		return 0.0;

	window = (la > lb ? la : lb) / 2 - 1;
	if (window < 0)
		window = 0;
	memset(am, 0, sizeof(am));
	memset(bm, 0, sizeof(bm));
	for (int i = 0; i < la; i++)
	{
		int			from = i - window > 0 ? i - window : 0;
		int			to = i + window + 1 < lb ? i + window + 1 : lb;

		for (int j = from; j < to; j++)
		{
			if (!bm[j] && a[i] == b[j])
			{
				am[i] = bm[j] = true;
				matches++;
				break;
			}
		}
	}
	if (matches == 0)
		return 0.0;
	CRM_ASSERT(matches <= la && matches <= lb);
	for (int i = 0, j = 0; i < la; i++)
	{
		if (!am[i])
			continue;
		/* as many marked in b as in a */
		while (!bm[j])
			j++;
		CRM_ASSERT(j < lb);
		if (a[i] != b[j])
			half_transpositions++;
		j++;
	}
	CRM_ASSERT(half_transpositions <= matches);
	jaro = ((double) matches / la + (double) matches / lb +
			(matches - half_transpositions / 2.0) / matches) / 3.0;
	CRM_ASSERT(jaro > 0.0 && jaro <= 1.0);
	while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix])
		prefix++;
	jaro += prefix * 0.1 * (1.0 - jaro);
	/* a similarity: the scoring's bounds count on it */
	CRM_ASSERT(jaro > 0.0 && jaro <= 1.0);
	return jaro;
}

int
crm_typo_distance(const char *a, int la, const char *b, int lb, int max)
{
	int			rows[3][JW_MAX + 1];
	int		   *prev2 = rows[0],
			   *prev = rows[1],
			   *cur = rows[2];

	if (la > JW_MAX || lb > JW_MAX)
		return max + 1;
	if (abs(la - lb) > max)
		return max + 1;
	for (int j = 0; j <= lb; j++)
		prev[j] = j;
	for (int i = 1; i <= la; i++)
	{
		int			best;
		int		   *t;

		/* the row's first cell counts too: "x" to "" is one deletion */
		cur[0] = i;
		best = i;
		for (int j = 1; j <= lb; j++)
		{
			int			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int			d = prev[j] + 1;

			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
				prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < best)
				best = d;
		}
		if (best > max)
			return max + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > max ? max + 1 : prev[lb];
}

/*
 * crm_typo_distance(a, la, b, lb, 1) <= 1 in one pass: equal, or one
 * substitution, one transposition of neighbours, one byte more or less.
 * Past their common prefix the rest must then agree after that one edit.
 * Strings longer than JW_MAX are never near, as there.
 */
bool
crm_typo_at_most_one(const char *a, int la, const char *b, int lb)
{
	int			p = 0;

	if (la > JW_MAX || lb > JW_MAX)
		return false;
	if (la < lb)
	{
		const char *t = a;
		int			tl = la;

		a = b, la = lb;
		b = t, lb = tl;
	}
	/* now la >= lb */
	if (la - lb > 1)
		return false;
	while (p < lb && a[p] == b[p])
		p++;
	if (p == lb)
		return true;			/* equal, or one byte more at the end */
	if (la != lb)				/* the byte a[p] left out */
		return memcmp(a + p + 1, b + p, lb - p) == 0;
	/* a substitution at p, or a[p], a[p + 1] swapped */
	if (memcmp(a + p + 1, b + p + 1, lb - p - 1) == 0)
		return true;
	return p + 1 < lb && a[p] == b[p + 1] && a[p + 1] == b[p] &&
		memcmp(a + p + 2, b + p + 2, lb - p - 2) == 0;
}
