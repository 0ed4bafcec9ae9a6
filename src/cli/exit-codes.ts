// Process exit codes systemd can act on (sysexits.h values where one fits). The unit file uses
// RestartPreventExitStatus=78 so that a bad config does not restart-loop.
export const EXIT = {
  OK: 0,
  /** check-config found problems; `run` stopped but something was left undrained. */
  FAILURE: 1,
  /** EX_USAGE: the command line is wrong. */
  USAGE: 64,
  /** EX_SOFTWARE: an uncaught exception (a bug): restarting may help. */
  SOFTWARE: 70,
  /** EX_CONFIG: `run` was given an invalid config: restarting cannot help. */
  CONFIG: 78,
} as const;
