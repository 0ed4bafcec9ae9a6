"""An independent Modbus server for the peer tests: pymodbus (SimDevice/SimData), not our simulator.

test/peers/modbus-pymodbus.test.ts (Modbus TCP) and test/peers/modbus-rtu.test.ts (RTU on a socat
pty) run gridgate's Modbus source against it. The typed values are encoded HERE, with Python's
struct, from the spec's type, order and value: never with gridgate's tag codec, so the byte and
word order conventions are checked against an encoder we did not write.

Protocol with the test (the process is a child of the test):
  stdin    line 1: the spec (JSON, below). Then the server runs until stdin closes (EOF: the test
           ended it, or the test process died) or SIGTERM/SIGINT.
  stdout   "ready <port>" (tcp: the bound port, so port 0 works) or "ready <path>" (serial) once
           serving; "stats <json>" when it stops (below). Nothing else.
  stderr   pymodbus's warnings and errors; a traceback when the spec is wrong (exit 1).

Spec:
  { "tcp": { "host": "127.0.0.1", "port": 0, "framer": "socket" (MBAP, Modbus TCP) | "rtu" (RTU over TCP) }
    | "serial": { "path": "/dev/pts/3", "baudRate": 19200, "parity": "even", "stopBits": 1 },
    "units": [ { "unitId": 1,
                 "holding": [ <register value>, ... ],     function code 3
                 "input":   [ <register value>, ... ],     function code 4
                 "coils":    [ { "address": 0, "values": [true, false, ...] } ],   function code 1
                 "discrete": [ { "address": 0, "values": [...] } ] } ],            function code 2
    "dead": [3] }

  <register value>: { "address": A, "type": T, "order": O (default ABCD), "value": V }
    T int16 uint16 int32 uint32 int64 uint64 float32 float64: V a number (int64/uint64 may be a
      decimal string, for values past 2**53 that JSON numbers in JavaScript cannot carry)
    T string: V text, "length" registers (NUL padded), 8-bit characters
    T bits: "set": [bit numbers, 0 = least significant] -> one 16-bit register with those bits

  Addresses no value covers are not implemented: pymodbus answers a read touching one with
  exception 2 (illegal data address), as a device with holes in its map does. Every value is
  read-only: a write is refused (pymodbus: exception 2) and counted.
  Units in "dead", and units not in "units" at all, never answer (the request is dropped before
  pymodbus's datastore sees it): a unit switched off on the bus, or an address nobody has.

Orders (gridgate's config.ts names; A = most significant byte of the value), and how they are
made here with struct:
  ABCD  big-endian, the Modbus norm          struct '>' (network order), bytes paired into registers
  CDAB  registers in reverse order           struct '<', then the two bytes of each register swapped
        (64-bit: all four registers reversed, GH EF CD AB); = pymodbus word_order="little"
  BADC  bytes swapped in each register       struct '>', then each register's bytes swapped
  DCBA  fully little-endian                  struct '<'
  16-bit values are one register: ABCD = CDAB = AB, BADC = DCBA = BA.
  Strings: two characters a register, first character in the high byte (ABCD, CDAB) or the low
  byte (BADC, DCBA); never register-reversed.
  At start, ABCD and CDAB of every value are checked against pymodbus's own encoder
  (convert_to_registers, word_order big / little): a mismatch is an error (exit 1), so our
  reading of pymodbus's word order is checked too.

Stats (the "stats" line): {"requests": {unit: {function code: n}}, "answered": {unit: n},
  "exceptions": {unit: {exception code: n}} (among the answers), "dropped": {unit: n},
  "writes": [[unit, function code, address], ...], "registers": {unit: {"holding" | "input":
  {address: [words]}}} (the words served, so a test can compare the raw registers it read),
  "line": serial only, the settings the kernel holds: {baudRate, parity, dataBits, stopBits,
  parityRefusedByKernel}}.
"""

from __future__ import annotations

import asyncio
import errno
import json
import signal
import struct
import sys
import termios
from collections import defaultdict

from pymodbus.client.mixin import ModbusClientMixin
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

FORMATS = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "uint64": "Q",
    "float32": "f",
    "float64": "d",
}
PYMODBUS_TYPES = {
    "int16": ModbusClientMixin.DATATYPE.INT16,
    "uint16": ModbusClientMixin.DATATYPE.UINT16,
    "int32": ModbusClientMixin.DATATYPE.INT32,
    "uint32": ModbusClientMixin.DATATYPE.UINT32,
    "int64": ModbusClientMixin.DATATYPE.INT64,
    "uint64": ModbusClientMixin.DATATYPE.UINT64,
    "float32": ModbusClientMixin.DATATYPE.FLOAT32,
    "float64": ModbusClientMixin.DATATYPE.FLOAT64,
}
ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")
WRITE_FUNCTIONS = {5, 6, 15, 16, 21, 22, 23}
PARITY = {"none": "N", "even": "E", "odd": "O"}


def pairs(data: bytes) -> list[int]:
    """Bytes → 16-bit registers, each from two bytes, high byte first (how Modbus sends them)."""
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]


def swap_bytes(data: bytes) -> bytes:
    """The two bytes of every register swapped."""
    out = bytearray(len(data))
    out[0::2] = data[1::2]
    out[1::2] = data[0::2]
    return bytes(out)


def encode_number(kind: str, order: str, value: int | float) -> list[int]:
    fmt = FORMATS[kind]
    data = struct.pack((">" if order in ("ABCD", "BADC") else "<") + fmt, value)
    if order in ("BADC", "CDAB"):
        data = swap_bytes(data)
    return pairs(data)


def encode_string(order: str, text: str, length: int) -> list[int]:
    data = text.encode("latin-1")[: 2 * length].ljust(2 * length, b"\0")
    return pairs(swap_bytes(data) if order in ("BADC", "DCBA") else data)


def number_of(kind: str, value: int | float | str) -> int | float:
    if kind.startswith("float"):
        return float(value)
    return int(value)  # an int, or a decimal string for 64-bit values past 2**53


def encode(entry: dict) -> list[int]:
    """One register value of the spec → its registers, with the pymodbus cross-check."""
    kind = entry["type"]
    order = entry.get("order", "ABCD")
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r} at address {entry['address']}")
    if kind == "bits":
        word = 0
        for bit in entry["set"]:
            word |= 1 << bit
        return encode_number("uint16", order, word)
    if kind == "string":
        words = encode_string(order, entry["value"], entry["length"])
        if order in ("ABCD", "CDAB"):
            theirs = ModbusClientMixin.convert_to_registers(entry["value"], ModbusClientMixin.DATATYPE.STRING, string_encoding="latin-1")
            check(entry, words[: len(theirs)], theirs)
        return words
    value = number_of(kind, entry["value"])
    words = encode_number(kind, order, value)
    if order in ("ABCD", "CDAB"):
        theirs = ModbusClientMixin.convert_to_registers(value, PYMODBUS_TYPES[kind], word_order="big" if order == "ABCD" else "little")
        check(entry, words, theirs)
    return words


def check(entry: dict, ours: list[int], theirs: list[int]) -> None:
    if ours != theirs:
        raise AssertionError(f"struct and pymodbus disagree on {entry}: {[hex(w) for w in ours]} vs {[hex(w) for w in theirs]}")


def register_block(entries: list[dict], served: dict) -> list[SimData]:
    if not entries:
        # SimDevice needs every block non-empty: one register marked not implemented.
        return [SimData(address=0, count=1, datatype=DataType.INVALID)]
    block = []
    for entry in entries:
        words = encode(entry)
        served[entry["address"]] = words
        block.append(SimData(address=entry["address"], values=words, datatype=DataType.REGISTERS, readonly=True))
    return block


def bit_block(entries: list[dict]) -> list[SimData]:
    if not entries:
        # Bit blocks must hold bits: one unused register's worth, far from any test address.
        return [SimData(address=65520, values=[False] * 16, datatype=DataType.BITS, readonly=True)]
    return [SimData(address=e["address"], values=[bool(v) for v in e["values"]], datatype=DataType.BITS, readonly=True) for e in entries]


PARITY_REFUSED = {"byKernel": False}


def accept_parity_on_ptys() -> None:
    """Open a pty even where the kernel refuses parity on it, and say so.

    Some kernels (seen: 6.18 in a Firecracker VM) refuse PARENB on a pty: tcsetattr fails with
    EINVAL when that is the only change asked, and pyserial then fails to open the line at even
    parity. On EINVAL with PARENB set, ask again without parity and record it (the "line" stats
    report parityRefusedByKernel). Node's serialport ignores tcsetattr's result, so the gateway's
    end of the same pty silently stays at no parity too. A pty carries bytes, not bits: parity
    never changes a byte on it, so the Modbus exchange is the same either way.
    """
    original = termios.tcsetattr

    def tcsetattr(fd, when, attributes):  # noqa: ANN001, ANN202 (termios's signature)
        try:
            return original(fd, when, attributes)
        except termios.error as exc:
            if exc.args[0] != errno.EINVAL or not attributes[2] & termios.PARENB:
                raise
            retry = list(attributes)
            retry[2] &= ~(termios.PARENB | termios.PARODD)
            PARITY_REFUSED["byKernel"] = True
            print("modbus_server.py: the kernel refuses parity on this pty; the line runs without", file=sys.stderr)
            return original(fd, when, retry)

    termios.tcsetattr = tcsetattr


def line_settings(server: ModbusSerialServer) -> dict:
    """The serial line as the kernel holds it now (termios), not as asked: a test can check both."""
    transport = server.transport[0] if isinstance(server.transport, tuple) else server.transport
    _iflag, _oflag, cflag, _lflag, ispeed, _ospeed, _cc = termios.tcgetattr(transport.sync_serial.fd)
    speeds = {getattr(termios, f"B{b}"): b for b in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200) if hasattr(termios, f"B{b}")}
    parity = "none" if not cflag & termios.PARENB else "odd" if cflag & termios.PARODD else "even"
    return {"baudRate": speeds.get(ispeed, ispeed), "parity": parity, "dataBits": 8 if cflag & termios.CSIZE == termios.CS8 else 7, "stopBits": 2 if cflag & termios.CSTOPB else 1, "parityRefusedByKernel": PARITY_REFUSED["byKernel"]}


class Stats:
    def __init__(self) -> None:
        self.requests: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.answered: dict[int, int] = defaultdict(int)
        self.exceptions: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.dropped: dict[int, int] = defaultdict(int)
        self.writes: list[list[int]] = []
        self.registers: dict[int, dict[str, dict[int, list[int]]]] = {}
        self.line: dict | None = None

    def json(self) -> str:
        return json.dumps(
            {
                "requests": {u: dict(fcs) for u, fcs in self.requests.items()},
                "answered": dict(self.answered),
                "exceptions": {u: dict(codes) for u, codes in self.exceptions.items()},
                "dropped": dict(self.dropped),
                "writes": self.writes,
                "registers": self.registers,
                "line": self.line,
            }
        )


def build(spec: dict, stats: Stats) -> tuple[list[SimDevice], set[int]]:
    dead = set(spec.get("dead", []))
    devices = []
    for unit in spec["units"]:
        uid = unit["unitId"]
        if uid in dead:
            continue
        served = stats.registers.setdefault(uid, {"holding": {}, "input": {}})
        # (coils, discrete inputs, holding registers, input registers): four separate blocks, bits
        # addressed one by one (use_bit_addressing), as the Modbus data model has them.
        blocks = (
            bit_block(unit.get("coils", [])),
            bit_block(unit.get("discrete", [])),
            register_block(unit.get("holding", []), served["holding"]),
            register_block(unit.get("input", []), served["input"]),
        )
        devices.append(SimDevice(id=uid, simdata=blocks))
    return devices, {d.id for d in devices}


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    spec = json.loads(await reader.readline())
    stats = Stats()
    devices, answering = build(spec, stats)

    def trace_pdu(sending: bool, pdu):  # noqa: ANN001, ANN202 (pymodbus's hook)
        if sending:
            stats.answered[pdu.dev_id] += 1
            if pdu.function_code & 0x80:
                stats.exceptions[pdu.dev_id][pdu.exception_code] += 1
            return pdu
        stats.requests[pdu.dev_id][pdu.function_code] += 1
        if pdu.function_code in WRITE_FUNCTIONS:
            stats.writes.append([pdu.dev_id, pdu.function_code, getattr(pdu, "address", -1)])
        if pdu.dev_id not in answering:
            stats.dropped[pdu.dev_id] += 1
            return None  # no answer at all: the request handler sends nothing for a None PDU
        return pdu

    if "tcp" in spec:
        tcp = spec["tcp"]
        framer = FramerType.RTU if tcp.get("framer", "socket") == "rtu" else FramerType.SOCKET
        server = ModbusTcpServer(devices, address=(tcp.get("host", "127.0.0.1"), tcp.get("port", 0)), framer=framer, trace_pdu=trace_pdu)
    else:
        line = spec["serial"]
        accept_parity_on_ptys()
        server = ModbusSerialServer(
            devices,
            port=line["path"],
            baudrate=line.get("baudRate", 9600),
            parity=PARITY[line.get("parity", "even")],
            stopbits=line.get("stopBits", 1),
            bytesize=8,
            trace_pdu=trace_pdu,
        )
    await server.serve_forever(background=True)
    if "tcp" in spec:
        where = server.transport.sockets[0].getsockname()[1]
    else:
        where = spec["serial"]["path"]
        stats.line = line_settings(server)
    print(f"ready {where}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def until_eof() -> None:
        while await reader.read(4096):
            pass
        stop.set()

    eof = asyncio.create_task(until_eof())
    await stop.wait()
    eof.cancel()
    await server.shutdown()
    print(f"stats {stats.json()}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
