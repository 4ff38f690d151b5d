/*
 * podnet-shim — the CNI executable's native front end (installed as /opt/cni/bin/podnet by
 * `podnetctl install-cni --handoff`). A Node start costs ~25-45 ms per exec; the reference Go plugins do a whole
 * ADD in ~12 ms. When podnetd runs, this shim hands the invocation (CNI_* variables, the caller's pid so the
 * daemon can find the caller's network namespace, and stdin) to podnetd over a unix socket, and copies back the
 * plugin's stdout and exit code: the work runs in an already warm process. When the socket is absent or refuses
 * the connection, it execs the Node plugin itself (FALLBACK), so podnet works without podnetd.
 *
 * Wire format (request): "PODNET-CNI/1\n", "KEY=VALUE\n" lines (CNI_* only; values never contain a newline),
 * "PID=<pid>\n", "\n", then stdin until EOF (shutdown of our write side). Response: "<exit code>\n" then stdout.
 *
 * Build: cc -O2 -DSOCKET_PATH='"/run/podnet/cni.sock"' -DFALLBACK='"/opt/cni/bin/podnet-node"' -o podnet podnet-shim.c
 * Without -DFALLBACK the Node plugin is `podnet-node` beside this executable, wherever it was installed: that is
 * how `npm run build` prebuilds one shim for nodes that have no C compiler (the DaemonSet's default paths).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SOCKET_PATH
#define SOCKET_PATH "/run/podnet/cni.sock"
#endif
#include <limits.h>

extern char **environ;

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void fail(const char *msg) {
  /* The daemon vanished mid-request: the work may be half done, so do not retry here; the runtime retries. */
  printf("{\"cniVersion\":\"1.1.0\",\"code\":11,\"msg\":\"podnet: %s (podnetd hand-off: %s)\"}\n", msg, strerror(errno));
  exit(1);
}

static const char *fallback_path(void) {
#ifdef FALLBACK
  return FALLBACK;
#else
  static char path[PATH_MAX];
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "/opt/cni/bin/podnet-node";
  self[n] = '\0';
  snprintf(path, sizeof(path), "%s/podnet-node", dirname(self));
  return path;
#endif
}

static void fallback(char **argv) {
  const char *path = fallback_path();
  execv(path, argv);
  printf("{\"cniVersion\":\"1.1.0\",\"code\":101,\"msg\":\"podnet: cannot exec %s: %s\"}\n", path, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  (void)argc;
  const char *cmd = getenv("CNI_COMMAND");
  if (cmd && strcmp(cmd, "VERSION") == 0) fallback(argv);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, SOCKET_PATH, sizeof(addr.sun_path) - 1);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) fallback(argv);

  char line[8192];
  if (write_all(fd, "PODNET-CNI/1\n", 13) < 0) fail("sending the request");
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "CNI_", 4) != 0 || strchr(*e, '\n')) continue;
    if (write_all(fd, *e, strlen(*e)) < 0 || write_all(fd, "\n", 1) < 0) fail("sending the request");
  }
  int n = snprintf(line, sizeof(line), "PID=%d\n\n", (int)getpid());
  if (write_all(fd, line, (size_t)n) < 0) fail("sending the request");
  ssize_t r;
  while ((r = read(0, line, sizeof(line))) != 0) {
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (write_all(fd, line, (size_t)r) < 0) fail("sending stdin");
  }
  shutdown(fd, SHUT_WR);

  /* The first line is the exit code; everything after it is the plugin's stdout. */
  int code = -1;
  size_t have = 0;
  while (code < 0) {
    r = read(fd, line + have, sizeof(line) - 1 - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail("reading the answer");
    have += (size_t)r;
    line[have] = '\0';
    char *nl = strchr(line, '\n');
    if (nl) {
      code = atoi(line);
      size_t rest = have - (size_t)(nl + 1 - line);
      if (write_all(1, nl + 1, rest) < 0) return 1;
    } else if (have >= sizeof(line) - 1) {
      fail("reading the answer");
    }
  }
  while ((r = read(fd, line, sizeof(line))) != 0) {
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (write_all(1, line, (size_t)r) < 0) return 1;
  }
  return code;
}
