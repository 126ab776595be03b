# Makefile -- build telem_fdw with PGXS.
#
#   make && make install          build and install into PG_CONFIG's server
#   make installcheck             pg_regress against a running server (the
#                                 harness in test/ sets everything up; see
#                                 README.md for the one-command run)
#   make unitcheck                C unit tests, no server needed

EXTENSION    = telem_fdw
EXTVERSION   = $(shell grep default_version $(EXTENSION).control | sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")
MODULE_big   = telem_fdw

OBJS = \
	src/telem_fdw.o \
	src/option.o \
	src/scan.o \
	src/listing.o \
	src/plan/prune.o \
	src/plan/stats_prune.o \
	src/plan/estimate.o \
	src/plan/parallel.o \
	src/plan/key_glob.o \
	src/store_glue.o \
	src/plan/import.o \
	src/plan/infer.o \
	src/plan/source_csv.o \
	src/plan/source_jsonl.o \
	src/plan/source_parquet.o \
	src/loader/object_set.o \
	src/loader/pause_point.o \
	src/loader/tds_client.o \
	src/loader/tds_push.o \
	src/loader/transfer.o \
	src/format/jsonl.o \
	src/format/jsonl_extract.o \
	src/format/copy_format.o \
	src/format/number_datum.o \
	src/format/number_parse.o \
	src/format/pow5_table.o \
	src/format/codec.o \
	src/format/parquet/parquet_scan.o \
	src/format/parquet/parquet_datum.o \
	src/format/parquet/parquet_footer.o \
	src/format/parquet/arena.o \
	src/format/parquet/thrift.o \
	src/format/parquet/metadata.o \
	src/format/parquet/encoding.o \
	src/format/parquet/page_codec.o \
	src/format/parquet/column.o \
	src/format/parquet/value_text.o \
	src/format/parquet/nested.o \
	src/store/store_common.o \
	src/store/store_error.o \
	src/store/store_buf.o \
	src/store/store_headers.o \
	src/store/store_encode.o \
	src/store/store_time.o \
	src/store/xml_util.o \
	src/store/ranged_reader.o \
	src/store/store_request.o \
	src/store/file.o \
	src/store/http.o \
	src/store/s3.o \
	src/store/s3_listing.o \
	src/store/s3_write.o \
	src/store/sigv4.o \
	src/store/azure.o \
	src/store/azure_listing.o \
	src/store/azure_sign.o \
	src/store/azure_token.o

DATA = $(wildcard $(EXTENSION)--*.sql)
DOCS = README.md

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CONFIG   ?= pg_config
# The server's headers are -isystem so that -Wextra judges our code only.
PG_CPPFLAGS  = -I$(srcdir)/src -isystem $(shell $(PG_CONFIG) --includedir-server) \
               $(shell xml2-config --cflags)
PG_CFLAGS    = -Wall -Wextra -Werror
SHLIB_LINK   = -lcurl -lcrypto -lcjson -lz -lzstd -lsnappy -llz4 -lbrotlidec -lsybdb \
               $(shell xml2-config --libs)

PGXS        := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies; a stale object with an old
# struct layout crashes the backend, so every object depends on every header.
$(OBJS): $(wildcard src/*.h src/*/*.h)

# pg_cron runs jobs only in cron.database_name, so the scheduling test is a
# suite of its own, run there ("telem" in the test harness).
CRON_DB ?= telem
installcheck-cron:
	$(pg_regress_installcheck) --inputdir=test/cron --outputdir=test/cron \
		--use-existing --dbname=$(CRON_DB) cron_schedule

unitcheck:
	$(MAKE) -C test/unit check

.PHONY: unitcheck installcheck-cron
