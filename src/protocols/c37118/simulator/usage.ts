// `gridgate simulate pmu --help`. Kept apart from the option parser so that the CLI can show it
// without loading the simulator.

export const PMU_USAGE = `Usage: gridgate simulate pmu [options]

Serves a simulated IEEE C37.118.2-2011 PMU (or a PDC stream of N PMUs) for tests and
commissioning. Prints one JSON status line on stdout when listening; logs (pino JSON) go to
stderr. Stops on SIGINT/SIGTERM.

Transport (tcp: --listen only; udp: --udp only; mixed: both)
  --listen HOST:PORT        TCP server for commands and data (default 127.0.0.1:4712 without --udp)
  --udp HOST:PORT           send data frames over UDP to HOST:PORT. Alone: data from the start,
                            commands taken on the UDP socket. With --listen (mixed): commands and
                            configuration over TCP, data over UDP after data-on
  --udp-bind HOST:PORT      local UDP address (default: loopback for a loopback destination)
  --udp-cfg-every SECONDS   also send CFG-2 over UDP this often (and at once when it changes)
  --max-clients N           TCP clients at once (default 64)

Device
  --idcode N                stream IDCODE, in every frame header and expected in commands (default 1)
  --pmus N                  PMU blocks in the stream (default 1)
  --pmu-idcode N            IDCODE of the first PMU; the others follow (default 101)
  --station NAME            station name prefix, "NAME 1", "NAME 2", … (default "SIM PMU")
  --phasors K               phasors per PMU: VA VB VC IA IB IC V1 I1, then more sets (default 6)
  --analogs N               analogs per PMU: P MW, Q MVAR, then generic (default 0)
  --digitals N              digital status words per PMU (default 0)
  --rate N                  DATA_RATE: 1–240 frames/s, or −N for one frame every N s
                            (default 30 at 60 Hz, 25 at 50 Hz)
  --fnom 50|60              nominal frequency (default 60)
  --time-base N             TIME_BASE, 1–16777215 (default 1000000)
  --format int|float        phasors, frequency and analogs at once (default float)
  --phasor-format int|float
  --phasor-coords polar|rectangular   (default polar)
  --freq-format int|float
  --analog-format int|float
  --header-text TEXT        the header frame's text
  --no-header               never answer send-header (some devices don't)
  --cfg3-unsupported        never answer send-cfg3: clients must fall back to CFG-2
  --cfg3-fragment-bytes N   send CFG-3 in frames of at most N bytes (64–65535)

Signal and events
  --scenario FILE           YAML or JSON scenario: signal, noise, scripted events (see the README)
  --event YAML              one more event, a YAML flow map; repeatable. Example:
                            --event 'type: frequency-step, at: 10, deltaHz: -0.2'
  --seed N                  noise seed (default random; printed in the status line)
  --start-soc N             the run's first second: with --seed, every frame repeats exactly
  --log-level LEVEL         fatal, error, warn, info, debug, trace (default info)
  --send-log FILE           write "<frame time µs> <send time µs>" per data frame sent, for
                            measuring a receiver's latency from send rather than time stamp

Examples
  gridgate simulate pmu --pmus 4 --rate 60 --scenario scenarios/oscillation.yaml
  gridgate simulate pmu --listen 0.0.0.0:4712 --format int --phasor-coords rectangular
  gridgate simulate pmu --udp 10.0.0.5:4713 --udp-cfg-every 60 --rate -5
Exit status: 0 stopped by a signal, 1 could not start (address in use, bad scenario), 64 usage error.`;
