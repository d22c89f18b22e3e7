#!/usr/bin/env python3
"""Runs a command as a child subreaper, the way PID 1 runs daemons on a
normal host.

    reaper.py COMMAND [ARG...]

Sets PR_SET_CHILD_SUBREAPER, forks and execs COMMAND, then reaps every child
at once: the command itself and every descendant orphaned on the way
(daemonized libvirtd and virtlogd, the QEMUs that libvirtd or virtd detach).
Prints `pid N` when the command is running and `exit RC` when it ended
(one line each, flushed), and exits once it has no children left.

Why: libvirt, after a guest powers off, waits until its QEMU's pid is gone
(kill(pid, 0)), and a dead QEMU stays a zombie until its parent reaps it.
systemd (PID 1 on a normal host) reaps at once; the PID 1 of the machine
this benchmark was written on reaps orphans only every second or two, which
added ~1.8 s to every libvirt shutdown. Both daemons run under this helper
so that neither pays for, nor profits from, the host's PID 1.
"""

import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == '--':
        argv = argv[1:]
    if not argv:
        sys.stderr.write('usage: reaper.py COMMAND [ARG...]\n')
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write('reaper: prctl(PR_SET_CHILD_SUBREAPER): %s\n'
                         % os.strerror(ctypes.get_errno()))
        return 1
    # The benchmark stops the daemons itself; keep reaping until they are gone.
    for s in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(s, signal.SIG_IGN)
    pid = os.fork()
    if pid == 0:
        for s in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(s, signal.SIG_DFL)
        os.dup2(2, 1)        # our stdout is the pid/exit protocol
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            sys.stderr.write('reaper: %s: %s\n' % (argv[0], e))
        os._exit(127)
    out = sys.stdout
    out.write('pid %d\n' % pid)
    out.flush()
    while True:
        try:
            p, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if p == pid:
            rc = os.waitstatus_to_exitcode(status)
            try:
                out.write('exit %d\n' % rc)
                out.flush()
            except OSError:
                pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
