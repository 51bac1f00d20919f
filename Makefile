# crm: PGXS build.  `make && make install` builds against the pg_config on
# PATH (or PG_CONFIG=...); tools/dev.sh wraps the whole cycle (see README).

EXTENSION   = crm
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = crm
OBJS        = src/crm.o src/unichar.o src/textinput.o src/idparse.o src/identifier.o \
              src/pesel.o src/nip.o src/regon.o src/contactnorm.o src/contact.o src/textfold.o \
              src/namematch.o src/matching.o src/scoring.o src/pairs.o src/candidates.o src/progress.o src/datamodel.o

# The install script is built from the SQL sources, one concept per file,
# joined in the order of their numbers; upgrade scripts crm--A--B.sql are
# written by hand at the root.
SQL_SRC     = $(sort $(wildcard src/sql/*.sql))
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*--*.sql))
DOCS        = $(wildcard doc/*.md)

# pg_regress tests (sql/ + expected/), in order; each stands alone
REGRESS      = setup pesel nip regon identifier_ops identifier_unicode identifier_encoding \
               contact client linked delete_hide search reporting merge duplicates name_matching fuzzy dedupe gdpr security catalog
REGRESS_OPTS = --load-extension=crm
# isolation tests (specs/ + expected/)
ISOLATION      = contact_default last_contact unit_kind merge_concurrent anonymize_merge
ISOLATION_OPTS = --load-extension=crm

PG_CPPFLAGS = -DCRM_VERSION='"$(EXTVERSION)"' $(ICU_CFLAGS)
# -Wextra on our code; PostgreSQL 15's own headers trip -Wunused-parameter
PG_CFLAGS   = -Wextra -Wno-unused-parameter $(CRM_CFLAGS)
SHLIB_LINK  = $(ICU_LIBS)

EXTRA_CLEAN = fuzz/fuzz_parsers fuzz/smoke_parsers bench/gen_pesel

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_SRC) $(EXTENSION).control
	cat $(SQL_SRC) > $@

# PGXS tracks no header dependencies: rebuild everything when a header changes
$(OBJS): $(wildcard src/*.h)

ifneq ($(with_icu),yes)
$(error crm needs a PostgreSQL built with ICU (--with-icu))
endif

# The parser is plain C: the fuzz targets build it outside the server.
FUZZ_SRC = fuzz/fuzz_parsers.c src/idparse.c src/unichar.c src/contactnorm.c src/namematch.c
FUZZ_RUNS ?= 10000000

fuzz/fuzz_parsers: $(FUZZ_SRC) $(wildcard src/*.h)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Isrc -o $@ $(FUZZ_SRC) $(ICU_LIBS)

fuzz/smoke_parsers: $(FUZZ_SRC) fuzz/smoke_main.c $(wildcard src/*.h)
	$(CC) -g -O1 -Wall -Wextra -fsanitize=address,undefined -fno-sanitize-recover=all \
		-Isrc -o $@ $(FUZZ_SRC) fuzz/smoke_main.c $(ICU_LIBS)

# libFuzzer, coverage-guided: make fuzz FUZZ_RUNS=10000000
fuzz: fuzz/fuzz_parsers
	mkdir -p fuzz/corpus
	fuzz/fuzz_parsers -runs=$(FUZZ_RUNS) -max_len=64 -print_final_stats=1 \
		fuzz/corpus fuzz/seeds

# a quick deterministic run of the same checks with gcc, part of the tests
fuzz-smoke: fuzz/smoke_parsers
	fuzz/smoke_parsers 2000000

.PHONY: fuzz fuzz-smoke

# the README's two commands (tools/dev.sh also works where make is missing)
demo:
	tools/dev.sh demo

test:
	tools/dev.sh test

.PHONY: demo test
