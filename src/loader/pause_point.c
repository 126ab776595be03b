/*-------------------------------------------------------------------------
 *
 * pause_point.c
 *		Named points where a run can be made to wait, so tests can kill it
 *		exactly there.
 *
 * With the superuser-only setting telem_fdw.pause_at set to a point's name,
 * reaching that point sets application_name to "telem_pause:<name>" and
 * waits (interruptibly, at most telem_fdw.pause_seconds), so that a test can
 * find the backend in pg_stat_activity and terminate or kill -9 it there.
 * Unset, a pause point costs one string comparison.
 *
 * IDENTIFICATION
 *		src/loader/pause_point.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "../telem_fdw.h"

char	   *telem_pause_at = NULL;
int			telem_pause_seconds = 60;

/*
 * TelemPausePoint
 *		Wait here if telem_fdw.pause_at names this point.
 */
void
TelemPausePoint(const char *name)
{
	char	   *appname;
	int			waited_ms = 0;

	if (telem_pause_at == NULL || strcmp(telem_pause_at, name) != 0)
		return;

	appname = psprintf("telem_pause:%s", name);
	SetConfigOption("application_name", appname, PGC_USERSET, PGC_S_SESSION);
	pgstat_report_appname(appname);
	while (waited_ms < telem_pause_seconds * 1000)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		waited_ms += 100;
	}
}

/*
 * telem._pause_point(name text): TelemPausePoint for PL/pgSQL.
 */
PG_FUNCTION_INFO_V1(telem_pause_point);

Datum
telem_pause_point(PG_FUNCTION_ARGS)
{
	TelemPausePoint(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
