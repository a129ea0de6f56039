/* The pod sandbox ("pause") process for the local kubelet (hack/build-images.sh builds it with
 * gcc -static into an image of its own, FROM scratch).
 *
 * It holds the pod's namespaces open and does nothing else: it sleeps until SIGTERM or SIGINT and
 * then exits 0. As PID 1 of a pod that shares its process namespace it also reaps the zombies that
 * are re-parented to it (SIGCHLD). Signals whose default action is ignored for PID 1 are handled
 * explicitly, so a plain `kill -TERM` stops it. `pause -v` prints its version and exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAUSE_VERSION "financialapi-pause 1"

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    puts(PAUSE_VERSION);
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1\n");

  struct sigaction stop = {0}, child = {0};
  stop.sa_handler = on_stop;
  sigemptyset(&stop.sa_mask);
  child.sa_handler = on_child;
  child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigemptyset(&child.sa_mask);
  if (sigaction(SIGTERM, &stop, NULL) != 0 || sigaction(SIGINT, &stop, NULL) != 0 ||
      sigaction(SIGCHLD, &child, NULL) != 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
