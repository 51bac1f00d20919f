/*
 * asan_nonls.c: message catalogs switched off, for a PostgreSQL server run
 * with AddressSanitizer's runtime preloaded (tools/dev.sh sanitize).
 *
 * Debian 12's PostgreSQL binaries are not built with ASan; crm's library
 * is, so libasan is preloaded into the server (LD_PRELOAD).  With gcc 12's
 * libasan preloaded, "postgres --version" already hangs, in glibc's
 * bindtextdomain() (set_pglocale_pgservice); why was not pinned down.
 * Preloaded after libasan, these stand-ins make the message-catalog
 * functions no-ops: every message is the original English, which the
 * tests expect anyway (the cluster's locale is C.UTF-8).
 */
#include <stddef.h>

char	   *bindtextdomain(const char *domainname, const char *dirname);
char	   *bind_textdomain_codeset(const char *domainname, const char *codeset);
char	   *textdomain(const char *domainname);
char	   *gettext(const char *msgid);
char	   *dgettext(const char *domainname, const char *msgid);
char	   *dcgettext(const char *domainname, const char *msgid, int category);
char	   *ngettext(const char *msgid, const char *msgid_plural, unsigned long n);
char	   *dngettext(const char *domainname, const char *msgid, const char *msgid_plural,
					  unsigned long n);
char	   *dcngettext(const char *domainname, const char *msgid, const char *msgid_plural,
					   unsigned long n, int category);

char *
bindtextdomain(const char *domainname, const char *dirname)
{
	return (char *) dirname;
}

char *
bind_textdomain_codeset(const char *domainname, const char *codeset)
{
	return (char *) codeset;
}

char *
textdomain(const char *domainname)
{
	return (char *) (domainname ? domainname : "messages");
}

char *
gettext(const char *msgid)
{
	return (char *) msgid;
}

char *
dgettext(const char *domainname, const char *msgid)
{
	return (char *) msgid;
}

char *
dcgettext(const char *domainname, const char *msgid, int category)
{
	return (char *) msgid;
}

char *
ngettext(const char *msgid, const char *msgid_plural, unsigned long n)
{
	return (char *) (n == 1 ? msgid : msgid_plural);
}

char *
dngettext(const char *domainname, const char *msgid, const char *msgid_plural, unsigned long n)
{
	return (char *) (n == 1 ? msgid : msgid_plural);
}

char *
dcngettext(const char *domainname, const char *msgid, const char *msgid_plural,
		   unsigned long n, int category)
{
	return (char *) (n == 1 ? msgid : msgid_plural);
}
