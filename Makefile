# crm: PGXS build.  `make && make install` builds against the pg_config on
# PATH (or PG_CONFIG=...); tools/dev.sh wraps the whole cycle (see README).
# `make demo`, `make test` and `make help` work without pg_config: they hand
# over to tools/dev.sh, which installs PostgreSQL's packages first.

EXTENSION   = crm
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = crm
# src/core/: plain C + ICU, no server headers (src/core/README.md); src/: the
# server glue around it and the rest
CORE_SRC    = $(sort $(wildcard src/core/*.c))
OBJS        = $(CORE_SRC:.c=.o) \
              src/crm.o src/textinput.o src/identifier.o src/pesel.o src/nip.o src/regon.o \
              src/contact.o src/textfold.o src/matching.o \
              src/matchweights.o src/matchfreq.o src/matchforms.o src/matchkeys.o src/scoring.o \
              src/matchbase.o src/pairs.o src/training.o src/candidates.o src/progress.o src/datamodel.o src/clientrow.o src/linkcounts.o \
              src/export.o src/vcard.o src/xlsximport.o src/importcheck.o

# The install script is built from the SQL sources, one concept per file,
# joined in the order of their numbers, and ends with the data model steps
# of every earlier release.  The upgrade script crm--A--B.sql is built from
# src/upgrade/A--B/: its logic files, then its model step
# (tools/upgrade_script.sh; doc/upgrades.md "Releasing").
SQL_SRC     = $(sort $(wildcard src/sql/*.sql))
UPGRADE_DIRS = $(sort $(wildcard src/upgrade/*--*))
UPGRADE_SRC = $(sort $(wildcard src/upgrade/*--*/*.sql))
UPGRADE_built = $(foreach d,$(UPGRADE_DIRS),$(EXTENSION)--$(notdir $(d)).sql)
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_built)
# installed as $(docdir)/extension/crm/*.md (see install-docs below), not
# with PGXS's DOCS, which would put types.md beside other extensions' docs
CRM_DOCS    = $(wildcard doc/*.md)
# the full scripts of released versions, frozen at their release, so that
# CREATE EXTENSION crm VERSION 'x.y.z' works and test/upgrade.sh can check
# every upgrade path (doc/upgrades.md); the current version's script is
# the one built above (test/upgrade.sh checks that a frozen copy of it is
# the same)
DATA        = $(filter-out releases/$(EXTENSION)--$(EXTVERSION).sql,$(wildcard releases/$(EXTENSION)--*.sql))

# pg_regress tests (sql/ + expected/), in order; each stands alone
REGRESS      = setup data_model pesel nip regon identifier_ops identifier_unicode identifier_encoding \
               contact client drivers linked delete_hide search reporting merge merge_values duplicates name_matching name_tables fuzzy dedupe gdpr access_gdpr security access_settings term_frequency training access export import import_xlsx bulk vcard employees team_tasks ticket_history call_outcomes delete_with_data policy_documents typed_custom_fields upgrade_views catalog
REGRESS_OPTS = --load-extension=crm
# isolation tests (specs/ + expected/)
ISOLATION      = install_concurrent contact_default contact_bulk last_contact unit_kind merge_concurrent anonymize_merge \
                 unmerge_target merge_cascade dedupe_insert bulk_merge import_merge unmerge_anonymize delete_with_data_concurrent
ISOLATION_OPTS = --load-extension=crm

# libxlsxwriter (Debian's libxlsxwriter-dev) writes the xlsx exports (src/export.c)
XLSXWRITER_CFLAGS := $(shell pkg-config --cflags xlsxwriter 2>/dev/null)
XLSXWRITER_LIBS   := $(shell pkg-config --libs xlsxwriter 2>/dev/null || echo -lxlsxwriter)

# libzip and libxml2 (Debian's libzip-dev, libxml2-dev) read the xlsx
# imports (src/core/xlsxread.c)
XLSXREAD_CFLAGS := $(shell pkg-config --cflags libzip libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
XLSXREAD_LIBS   := $(shell pkg-config --libs libzip libxml-2.0 2>/dev/null || echo -lzip -lxml2) -lm

# CRM_SERVER_BUILD: src/core/coreassert.h's CRM_ASSERT is the server's Assert()
PG_CPPFLAGS = -DCRM_VERSION='"$(EXTVERSION)"' -DCRM_SERVER_BUILD -I$(srcdir)/src/core $(ICU_CFLAGS) $(XLSXWRITER_CFLAGS) $(XLSXREAD_CFLAGS)
# -Wextra on our code; PostgreSQL 15's own headers trip -Wunused-parameter
PG_CFLAGS   = -Wextra -Wno-unused-parameter $(CRM_CFLAGS)
SHLIB_LINK  = $(ICU_LIBS) $(XLSXWRITER_LIBS) $(XLSXREAD_LIBS)

EXTRA_CLEAN = fuzz/fuzz_parsers fuzz/smoke_parsers fuzz/fuzz_xlsx fuzz/smoke_xlsx \
              fuzz/fuzz_vcard fuzz/smoke_vcard fuzz/fuzz_xlsx_values fuzz/smoke_xlsx_values \
              bench/gen_pesel src/sql/.sources

PG_CONFIG ?= pg_config
PGXS := $(wildcard $(shell $(PG_CONFIG) --pgxs 2>/dev/null))

# goals that tools/dev.sh runs whole (it installs what is missing with apt-get)
DEV_GOALS = demo test help
# tools/dev.sh runs its own make: nothing of this one's flags leaks into it
DEV_SH = env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(if $(PGXS),,-u PG_CONFIG) tools/dev.sh

ifneq ($(PGXS),)
include $(PGXS)

ifneq ($(with_icu),yes)
$(error crm needs a PostgreSQL built with ICU (--with-icu))
endif
else ifneq ($(filter-out $(DEV_GOALS),$(or $(MAKECMDGOALS),all)),)
$(error no PostgreSQL build files: "$(PG_CONFIG) --pgxs" found nothing.  \
Install PostgreSQL's server development package and ICU's headers \
(Debian/Ubuntu: apt-get install postgresql-server-dev-15 libicu-dev libxlsxwriter-dev libzip-dev libxml2-dev pkg-config make gcc), \
or name your server's pg_config: make PG_CONFIG=/path/to/pg_config.  \
`make demo` and `make test` install all of it themselves (tools/dev.sh, as root or with sudo))
endif

# The list of sources is an input too: a file removed or renamed rebuilds
# the script (make alone sees only the files that are there).  The list is
# rewritten only when it changes.
src/sql/.sources: FORCE
	@echo '$(SQL_SRC) $(UPGRADE_SRC)' | cmp -s - $@ || echo '$(SQL_SRC) $(UPGRADE_SRC)' > $@

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_SRC) $(UPGRADE_SRC) src/sql/.sources $(EXTENSION).control tools/upgrade_script.sh
	{ cat $(SQL_SRC) && for d in $(UPGRADE_DIRS); do echo && tools/upgrade_script.sh step $$d || exit 1; done; } > $@

# (an @source line reads src/sql: the upgrade script is rebuilt when it changes)
.SECONDEXPANSION:
$(UPGRADE_built): $(EXTENSION)--%.sql: $$(wildcard src/upgrade/%/*.sql) $(SQL_SRC) src/sql/.sources tools/upgrade_script.sh
	tools/upgrade_script.sh upgrade src/upgrade/$* > $@

.PHONY: FORCE

# PGXS tracks no header dependencies: rebuild everything when a header changes
$(OBJS): $(wildcard src/*.h src/core/*.h)

# The documentation, in a directory of its own: $(docdir)/extension/crm/
CRM_DOCDIR = $(docdir)/$(docmoduledir)/$(EXTENSION)

install: install-docs
uninstall: uninstall-docs

install-docs:
ifdef docdir
	$(MKDIR_P) '$(DESTDIR)$(CRM_DOCDIR)'
	$(INSTALL_DATA) $(CRM_DOCS) '$(DESTDIR)$(CRM_DOCDIR)/'
endif

uninstall-docs:
ifdef docdir
	rm -f $(addprefix '$(DESTDIR)$(CRM_DOCDIR)'/, $(notdir $(CRM_DOCS)))
	rmdir '$(DESTDIR)$(CRM_DOCDIR)' 2>/dev/null || true
endif

.PHONY: install-docs uninstall-docs

# The fuzz targets build exactly src/core/ outside the server, with only
# that folder on the include path (CRM_ASSERT is the C library's assert()
# there: src/core/coreassert.h).  Each is a libFuzzer target (clang), and
# has a smoke driver (gcc, ASan + UBSan) that the test suite runs.
FUZZ_SRC = $(CORE_SRC)
FUZZ_RUNS ?= 10000000
FUZZ_CC = clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc/core $(XLSXREAD_CFLAGS)
SMOKE_CC = $(CC) -g -O1 -Wall -Wextra -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc/core $(XLSXREAD_CFLAGS)
FUZZ_LIBS = $(ICU_LIBS) $(XLSXREAD_LIBS)
# fuzz_xlsx_values.c includes xlsxread.c itself (its static functions)
FUZZ_SRC_NO_XLSX = $(filter-out src/core/xlsxread.c,$(FUZZ_SRC))

fuzz/fuzz_parsers: fuzz/fuzz_parsers.c $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(FUZZ_CC) -o $@ fuzz/fuzz_parsers.c $(FUZZ_SRC) $(FUZZ_LIBS)

fuzz/smoke_parsers: fuzz/fuzz_parsers.c fuzz/smoke_main.c fuzz/smokeutil.h $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(SMOKE_CC) -o $@ fuzz/fuzz_parsers.c $(FUZZ_SRC) fuzz/smoke_main.c $(FUZZ_LIBS)

# the vCard writer's escaping and folding (src/core/vcard.c)
fuzz/fuzz_vcard: fuzz/fuzz_vcard.c $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(FUZZ_CC) -o $@ fuzz/fuzz_vcard.c $(FUZZ_SRC) $(FUZZ_LIBS)

fuzz/smoke_vcard: fuzz/fuzz_vcard.c fuzz/smoke_random.c fuzz/smokeutil.h $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(SMOKE_CC) -o $@ fuzz/fuzz_vcard.c $(FUZZ_SRC) fuzz/smoke_random.c $(FUZZ_LIBS)

# the xlsx reader's cell values: escapes, numbers, dates, references
fuzz/fuzz_xlsx_values: fuzz/fuzz_xlsx_values.c $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(FUZZ_CC) -o $@ fuzz/fuzz_xlsx_values.c $(FUZZ_SRC_NO_XLSX) $(FUZZ_LIBS)

fuzz/smoke_xlsx_values: fuzz/fuzz_xlsx_values.c fuzz/smoke_random.c fuzz/smokeutil.h $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(SMOKE_CC) -o $@ fuzz/fuzz_xlsx_values.c $(FUZZ_SRC_NO_XLSX) fuzz/smoke_random.c $(FUZZ_LIBS)

# src/core/ stays server-free: each file compiles with the plain C compiler,
# strict C11, and no PostgreSQL include directory, so that an #include of a
# PostgreSQL header fails here (and not only later, in the fuzz build); the
# -M pass refuses one reached by a path of its own (<postgresql/...>).
CORE_CHECK_FLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
		   -Isrc/core $(ICU_CFLAGS) $(XLSXREAD_CFLAGS)

check-core:
	@for f in $(CORE_SRC); do \
		$(CC) $(CORE_CHECK_FLAGS) -fsyntax-only $$f || exit 1; \
		if $(CC) $(CORE_CHECK_FLAGS) -M $$f | \
			grep -F -e '$(pkgincludedir)/' -e '$(includedir_server)/'; then \
			echo "$$f: includes a PostgreSQL header; src/core/ is plain C + ICU" >&2; exit 1; \
		fi; \
	done

# the xlsx reader (src/core/xlsxread.c): libFuzzer on workbooks, seeds test/data/*.xlsx
fuzz/fuzz_xlsx: fuzz/fuzz_xlsx.c $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(FUZZ_CC) -o $@ fuzz/fuzz_xlsx.c $(FUZZ_SRC) $(FUZZ_LIBS)

fuzz/smoke_xlsx: fuzz/fuzz_xlsx.c fuzz/smoke_xlsx.c fuzz/smokeutil.h $(FUZZ_SRC) $(wildcard src/core/*.h)
	$(SMOKE_CC) -o $@ fuzz/fuzz_xlsx.c $(FUZZ_SRC) fuzz/smoke_xlsx.c $(FUZZ_LIBS)

# libFuzzer, coverage-guided, FUZZ_RUNS inputs each: make fuzz FUZZ_RUNS=10000000
# runs every target, one after the other; make fuzz-NAME one (corpora in
# fuzz/corpus*, kept between runs, seeds in fuzz/seeds*)
fuzz-parsers: fuzz/fuzz_parsers
	mkdir -p fuzz/corpus
	fuzz/fuzz_parsers -runs=$(FUZZ_RUNS) -max_len=64 -print_final_stats=1 \
		fuzz/corpus fuzz/seeds

fuzz-vcard: fuzz/fuzz_vcard
	mkdir -p fuzz/corpus_vcard
	fuzz/fuzz_vcard -runs=$(FUZZ_RUNS) -max_len=1024 -print_final_stats=1 \
		fuzz/corpus_vcard fuzz/seeds_vcard

fuzz-xlsx-values: fuzz/fuzz_xlsx_values
	mkdir -p fuzz/corpus_xlsx_values
	fuzz/fuzz_xlsx_values -runs=$(FUZZ_RUNS) -max_len=128 -print_final_stats=1 \
		fuzz/corpus_xlsx_values fuzz/seeds_xlsx_values

fuzz-xlsx: fuzz/fuzz_xlsx
	mkdir -p fuzz/corpus_xlsx
	fuzz/fuzz_xlsx -runs=$(FUZZ_RUNS) -max_len=200000 -print_final_stats=1 \
		fuzz/corpus_xlsx test/data

fuzz:
	@for t in parsers vcard xlsx-values xlsx; do $(MAKE) --no-print-directory fuzz-$$t || exit 1; done

# a quick deterministic run of the same checks with gcc, part of the tests
fuzz-smoke: check-core fuzz/smoke_parsers fuzz/smoke_xlsx fuzz/smoke_vcard fuzz/smoke_xlsx_values
	fuzz/smoke_parsers 2000000
	fuzz/smoke_xlsx 300 $(sort $(wildcard test/data/*.xlsx))
	fuzz/smoke_vcard 200000 300 fuzz/seeds_vcard/*
	fuzz/smoke_xlsx_values 1000000 40 fuzz/seeds_xlsx_values/*

.PHONY: fuzz fuzz-parsers fuzz-vcard fuzz-xlsx-values fuzz-xlsx fuzz-smoke check-core

# The README's two commands.  They need neither pg_config nor this
# Makefile's PGXS part: tools/dev.sh installs PostgreSQL 15, ICU's headers
# and gcc with apt-get when they are missing, then builds with this Makefile.
# Without a pg_config, tools/dev.sh uses the PostgreSQL 15 it installs.
demo test:
ifeq ($(PGXS),)
	@echo 'make $@: no pg_config ($(PG_CONFIG)); tools/dev.sh installs PostgreSQL 15 and builds with it'
endif
	$(DEV_SH) $@

help:
	@echo 'make demo           build, install, run tools/demo.sql in a throwaway cluster'
	@echo 'make test           build, install, run every test in a throwaway cluster'
	@echo '                    (both install missing Debian packages: see tools/dev.sh)'
	@echo 'make                build against PG_CONFIG (default: pg_config on PATH)'
	@echo 'make install        install into that server (as root); make uninstall'
	@echo 'make installcheck   pg_regress against a running server (PGHOST, PGPORT, ...)'
	@echo 'make fuzz           libFuzzer on every parser, the vCard writer and the xlsx reader (clang),'
	@echo '                    FUZZ_RUNS inputs each; make fuzz-smoke: a quick gcc run of the same checks'
	@echo 'tools/dev.sh        psql, bench, fuzz: run it without arguments for the list'

.PHONY: demo test help
