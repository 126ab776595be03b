/*-------------------------------------------------------------------------
 *
 * test_http_group.c
 *		Unit tests for HttpGroup (http.c): streams of one group progress
 *		together, starting one does not wait, and a failure is kept until
 *		the stream is read.
 *
 * A forked server on 127.0.0.1 (loopback only) accepts three GETs and
 * answers none until all three requests are in, so the streams must have
 * been started without waiting.  It then writes the whole body of the
 * last request first and of the first request last, each larger than
 * what the kernel buffers hold: reading the first stream can only finish
 * if the reads also drained the other two into their own buffers.  In the
 * second case the server closes the connection of one stream halfway
 * through its body; that stream hands out what it got, then its error, when read.
 *
 * IDENTIFICATION
 *		test/unit/test_http_group.c
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/http.h"
#include "unit.h"

#define NSTREAMS	3
#define BODY_BYTES	(8 * 1024 * 1024)


static unsigned char
body_byte(int stream, size_t i)
{
	return (unsigned char) ((i * 131 + i / 4099 + stream * 17) & 0xff);
}

/* Read one request's header block from fd; its path's stream number. */
static int
read_request(int fd)
{
	char		req[4096];
	size_t		len = 0;

	while (len < sizeof(req) - 1)
	{
		ssize_t		n = read(fd, req + len, sizeof(req) - 1 - len);

		if (n <= 0)
			return -1;
		len += (size_t) n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	/* "GET /s0 HTTP/1.1" */
	if (strncmp(req, "GET /s", 6) != 0 || req[6] < '0' || req[6] > '2')
		return -1;
	return req[6] - '0';
}

static bool
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n <= 0)
			return false;
		p += n;
		len -= (size_t) n;
	}
	return true;
}

/*
 * The server's one round: three requests, then the bodies from the last
 * stream to the first.  With cut_stream >= 0, that stream's connection is
 * closed after half its body (curl: a partial file).
 */
static void
serve(int lfd, int cut_stream)
{
	int			fds[NSTREAMS];
	int			i;
	static unsigned char body[BODY_BYTES];

	for (i = 0; i < NSTREAMS; i++)
	{
		int			fd = accept(lfd, NULL, NULL);
		int			s = fd >= 0 ? read_request(fd) : -1;

		if (s < 0)
			_exit(1);
		fds[s] = fd;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = NSTREAMS - 1; i >= 0; i--)
	{
		char		head[128];
		size_t		j;
		size_t		len = i == cut_stream ? BODY_BYTES / 2 : BODY_BYTES;

		for (j = 0; j < BODY_BYTES; j++)
			body[j] = body_byte(i, j);
		snprintf(head, sizeof(head),
				 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
				 "Connection: close\r\n\r\n", BODY_BYTES);
		if (!write_all(fds[i], head, strlen(head)) ||
			!write_all(fds[i], body, len))
			_exit(1);
		/* a cut stream ends early with a FIN: every byte sent arrives */
		close(fds[i]);
	}
	_exit(0);
}

static pid_t
start_server(int *port, int cut_stream)
{
	struct sockaddr_in sa;
	socklen_t	salen = sizeof(sa);
	int			lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t		pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) != 0 ||
		listen(lfd, 16) != 0 ||
		getsockname(lfd, (struct sockaddr *) &sa, &salen) != 0)
		return -1;
	*port = ntohs(sa.sin_port);
	pid = fork();
	if (pid == 0)
		serve(lfd, cut_stream);
	close(lfd);
	return pid;
}

/*
 * Read stream s to its end or error; count the bytes that match the
 * expected body and return the count read (-1 if a read failed after
 * *got bytes).
 */
static ssize_t
read_stream(HttpStream *stream, int s, size_t *got, size_t *bad)
{
	static unsigned char buf[65536];

	*got = 0;
	*bad = 0;
	for (;;)
	{
		TelemError	err;
		ssize_t		n;
		ssize_t		i;

		memset(&err, 0, sizeof(err));
		n = HttpStreamRead(stream, buf, sizeof(buf), &err);
		if (n <= 0)
			return n;
		for (i = 0; i < n; i++)
			if (buf[i] != body_byte(s, *got + (size_t) i))
				(*bad)++;
		*got += (size_t) n;
	}
}

/* Start the three streams of one round on a group; false on failure. */
static bool
start_streams(HttpGroup *group, int port, HttpStream **streams)
{
	HttpConfig	cfg;
	int			i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.group = group;
	cfg.verify_tls = true;
	cfg.connect_timeout_ms = 5000;
	cfg.low_speed_time_s = 10;	/* a stall fails the test, not hangs it */
	for (i = 0; i < NSTREAMS; i++)
	{
		char		url[64];
		HttpRequest req;
		TelemError	err;

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/s%d", port, i);
		memset(&req, 0, sizeof(req));
		req.url = url;
		streams[i] = HttpStreamStart(&cfg, &req, BODY_BYTES, &err);
		CHECK(streams[i] != NULL, "start stream %d: %s", i, err.message);
		if (streams[i] == NULL)
			return false;
	}
	return true;
}

static void
run_round(int cut_stream)
{
	int			port;
	pid_t		pid = start_server(&port, cut_stream);
	HttpGroup  *group;
	HttpStream *streams[NSTREAMS] = {NULL, NULL, NULL};
	TelemError	err;
	int			status = -1;
	int			i;

	CHECK(pid > 0, "server started");
	if (pid <= 0)
		return;
	group = HttpGroupCreate(&err);
	CHECK(group != NULL, "group: %s", err.message);
	if (group != NULL && start_streams(group, port, streams))
	{
		/* the server answers nothing until every request is in */
		for (i = 0; i < NSTREAMS; i++)
		{
			size_t		got;
			size_t		bad;
			ssize_t		n;
			int			code = 0;

			CHECK(HttpStreamWaitHeaders(streams[i], &err, &code),
				  "round %d, stream %d: headers: %s", cut_stream, i,
				  err.message);
			n = read_stream(streams[i], i, &got, &bad);
			if (i == cut_stream)
			{
				CHECK(n < 0 && got == BODY_BYTES / 2 && bad == 0,
					  "cut stream %d: n=%zd got=%zu bad=%zu", i, n, got, bad);
				CHECK(HttpIsResumable(HttpStreamResult(streams[i])),
					  "cut stream %d: result %d is resumable", i,
					  HttpStreamResult(streams[i]));
			}
			else
				CHECK(n == 0 && got == BODY_BYTES && bad == 0,
					  "round %d, stream %d: n=%zd got=%zu bad=%zu",
					  cut_stream, i, n, got, bad);
		}
	}
	for (i = 0; i < NSTREAMS; i++)
		HttpStreamClose(streams[i]);
	HttpGroupDestroy(group);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "round %d: server exit status %d", cut_stream, status);
}

int
main(void)
{
	TelemError	err;

	if (!HttpGlobalInit(&err))
	{
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	/* all bodies arrive although the first one read is sent last */
	run_round(-1);
	/* stream 1 is cut while stream 0 is being read: kept until read */
	run_round(1);
	return unit_finish("test_http_group");
}
