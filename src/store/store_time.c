/*-------------------------------------------------------------------------
 *
 * store_time.c
 *		Calendar arithmetic and RFC 1123 HTTP dates for the network stores.
 *
 * Dates are formatted and parsed by hand, never with strftime or
 * strptime: the day and month names must not follow the locale, and the
 * result must not depend on the time zone.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_time.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_util.h"

static const char *const day_names[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Read exactly n decimal digits at *p, advancing it. */
bool
StoreReadDigits(const char **p, int n, int *result)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		char		c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*result = v;
	return true;
}

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
 * Counting from March 1 puts the leap day at the end of the "year", so a
 * fixed table of month lengths works for every year.
 */
int64_t
StoreDaysFromCivil(int y, int m, int d)
{
	int64_t		yy = (m <= 2) ? y - 1 : y;
	int64_t		era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t		yoe = yy - era * 400;	/* 0..399 */
	int64_t		mp = (m + 9) % 12;	/* March = 0 */
	int64_t		doy = (153 * mp + 2) / 5 + d - 1;	/* 0..365 */
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* 0..146096 */

	return era * 146097 + doe - 719468;
}

bool
StoreIsLeapYear(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Format epoch seconds t as "Www, DD Mon YYYY HH:MM:SS GMT".  out is ""
 * when t is outside years 0..9999 or not a time_t.
 */
void
StoreFormatHttpDate(int64_t t, char out[30])
{
	time_t		tt = (time_t) t;
	struct tm	tm;
	char		tmp[64];

	out[0] = '\0';
	if ((int64_t) tt != t || gmtime_r(&tt, &tm) == NULL ||
		tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return;
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
			 day_names[tm.tm_wday], tm.tm_mday, month_names[tm.tm_mon],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (strlen(tmp) == 29)
		memcpy(out, tmp, 30);
}

/*
 * Parse an RFC 1123 date, "Www, DD Mon YYYY HH:MM:SS GMT" (fixed width,
 * as HTTP/1.1 senders must use), into epoch seconds.  The day name is
 * checked to be one, not to match the date.  False for anything else.
 */
bool
StoreParseHttpDate(const char *s, int64_t *result)
{
	const char *p = s;
	int			d,
				mo = -1,
				y,
				h,
				mi,
				sec,
				i;

	if (s == NULL || strlen(s) != 29)
		return false;
	for (i = 0; i < 7; i++)
		if (strncmp(p, day_names[i], 3) == 0)
			break;
	if (i == 7 || p[3] != ',' || p[4] != ' ')
		return false;
	p += 5;
	if (!StoreReadDigits(&p, 2, &d) || *p++ != ' ')
		return false;
	for (i = 0; i < 12; i++)
		if (strncmp(p, month_names[i], 3) == 0)
			mo = i + 1;
	if (mo < 0 || p[3] != ' ')
		return false;
	p += 4;
	if (!StoreReadDigits(&p, 4, &y) || *p++ != ' ' ||
		!StoreReadDigits(&p, 2, &h) || *p++ != ':' ||
		!StoreReadDigits(&p, 2, &mi) || *p++ != ':' ||
		!StoreReadDigits(&p, 2, &sec) || strcmp(p, " GMT") != 0)
		return false;
	if (h > 23 || mi > 59 || sec > 60 || d < 1 ||
		d > month_days[mo - 1] + ((mo == 2 && StoreIsLeapYear(y)) ? 1 : 0))
		return false;
	/* a leap second (":60") counts as the next second */
	*result = StoreDaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return true;
}
