/*
 * kubelab pause: the process that owns a pod's namespaces.
 *
 * - If KUBELAB_SERVICE_CIDR and KUBELAB_NODE_IP are both set, it first runs
 *   `/bin/busybox ip route replace $KUBELAB_SERVICE_CIDR via $KUBELAB_NODE_IP`
 *   so that the pod reaches Service ClusterIPs through its node (kube-proxy's DNAT
 *   lives in the node's namespace). Needs NET_ADMIN; a failure is logged, not fatal.
 * - Then it sleeps forever, reaping zombies (it is PID 1 of the pod's PID namespace
 *   when app containers share it) and exits 0 on SIGTERM / SIGINT.
 *
 * Built static (`gcc -static -Os`) into a FROM scratch image.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUSYBOX "/bin/busybox"
#define VERSION "kubelab-pause 1"

static void on_down(int signo) {
  (void)signo;
  _exit(0);
}

static void on_child(int signo) {
  (void)signo;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static void set_service_route(void) {
  const char *cidr = getenv("KUBELAB_SERVICE_CIDR");
  const char *via = getenv("KUBELAB_NODE_IP");
  if (cidr == NULL || *cidr == '\0' || via == NULL || *via == '\0') return;

  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "pause: warning: cannot set service route %s via %s: fork: %s\n", cidr, via,
            strerror(errno));
    return;
  }
  if (pid == 0) {
    execl(BUSYBOX, "busybox", "ip", "route", "replace", cidr, "via", via, (char *)NULL);
    fprintf(stderr, "pause: exec %s: %s\n", BUSYBOX, strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "pause: warning: waitpid: %s\n", strerror(errno));
      return;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    fprintf(stderr, "pause: service route %s via %s set\n", cidr, via);
  } else {
    fprintf(stderr,
            "pause: warning: could not set service route %s via %s (ip exited with %d); "
            "Services will not be reachable from this pod. Does the container have NET_ADMIN?\n",
            cidr, via, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    printf("%s\n", VERSION);
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "pause: warning: not running as PID 1\n");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_down;
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
    perror("pause: sigaction");
    return 1;
  }

  set_service_route();

  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  on_child(SIGCHLD); /* children that exited before the handler was installed */

  for (;;) pause();
  return 1;
}
