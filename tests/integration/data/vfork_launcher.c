/* Put a process in State D without NFS or FUSE: a vfork() parent.
 *
 * usage: vfork_launcher PROGRAM [ARGS...]
 * The parent calls vfork(); the kernel holds it in a killable uninterruptible sleep
 * (State D, wchan in the fork code) until the child execs or exits. The child sleeps
 * before exec'ing PROGRAM, as a wrapper stuck before exec would. Used by the
 * `godiag run` tests through `go run -exec`.
 */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    fprintf(stderr, "vfork parent %d\n", (int)getpid());
    fflush(stderr);
    pid_t child = vfork();
    if (child == 0) {
        sleep(120); /* the parent stays in State D meanwhile */
        execv(argv[1], argv + 1);
        _exit(127);
    }
    return child < 0 ? 1 : 0;
}
