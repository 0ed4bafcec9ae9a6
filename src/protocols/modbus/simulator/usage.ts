// `gridgate simulate modbus --help`. Kept apart from the option parser so that the CLI can show it
// without loading the simulator.

export const MODBUS_USAGE = `Usage: gridgate simulate modbus [options]

Serves a configurable register map as Modbus units (slaves) over Modbus TCP, RTU over TCP and/or
RTU on a serial device or pty, with values that change over time and faults on demand
(exceptions, holes, delays, dead units, malformed responses). Read-only: writes are refused with
exception 1 and counted. Prints one JSON status line on stdout when serving; logs (pino JSON) go
to stderr. Stops on SIGINT/SIGTERM.

Map (one of; neither: a small demo unit 1)
  --map FILE                YAML or JSON register map: units, registers, holes, exceptions,
                            delays, dead units, garbage (see the README)
  --config FILE             a gridgate site config: serve every tag of a Modbus source's devices
                            with plausible changing values, on the source's own address
  --source NAME             the Modbus source to serve (needed when the config has several)

Transport (any combination; default --listen 127.0.0.1:5020, or the source's address with --config)
  --listen HOST:PORT        Modbus TCP (MBAP)
  --rtu-over-tcp HOST:PORT  RTU frames with CRC over TCP (as a serial-to-Ethernet converter)
  --serial PATH             RTU on a serial device or pty, e.g. one end of
                            socat -d -d pty,raw,echo=0 pty,raw,echo=0
  --baud N                  serial baud rate (default 9600)
  --parity even|none|odd    serial parity (default even)
  --stop-bits 1|2           serial stop bits (default 1)
  --max-clients N           TCP clients at once, per listener (default 64)

Values
  --seed N                  seed of random values and faults (default: the map's, else random;
                            printed in the status line)
  --log-level LEVEL         fatal, error, warn, info, debug, trace (default info)

Examples
  gridgate simulate modbus --map test/fixtures/modbus/meter.yaml --listen 0.0.0.0:502
  gridgate simulate modbus --config /etc/gridgate/sites/north.yaml --source feeder-meters
  gridgate simulate modbus --map bus.yaml --serial /dev/pts/5 --baud 19200 --parity none
Exit status: 0 stopped by a signal, 1 could not start (address in use, bad map or config), 64 usage error.`;
