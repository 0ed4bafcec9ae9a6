"""An independent OPC UA server for the peer tests: Python asyncua (FreeOpcUa), not node-opcua.

The gateway's OPC UA client is built on node-opcua; testing it only against node-opcua's own server
would let a shared misreading of the standard pass. This server speaks the binary protocol through
a stack we did not write (asyncua's crypto is the Python `cryptography` package, its encoder its
own), so the secure channel, the sessions, reads and subscriptions are checked end to end.

Protocol with the test (the process is a child of the test; test/helpers/opcua-peer.ts drives it):
  stdin    line 1: the spec (JSON, below). Then one control command (JSON) per line:
             {"remove": "NAME", "id": n}    delete that variable: each monitored item on it gets
                                            one value with BadNodeIdUnknown (notify_removal), a
                                            read answers BadNodeIdUnknown
             {"freeze": true|false, "id": n}  stop / resume the value updates
           each answered with "ack {json}" on stdout ({"id": n, "ok": true} or {"id": n, "ok":
           false, "error": "..."}). EOF on stdin (the test ended it, or the test process died) or
           SIGTERM/SIGINT: stop, print the stats, exit 0.
  stdout   "ready {json}" once serving (below); "ack {json}" per control command; "stats {json}"
           when it stops. Nothing else.
  stderr   asyncua's warnings and errors; one line per client certificate seen (its thumbprint);
           a traceback when the spec is wrong (exit 1).

Spec:
  { "port": 0 | N,                      0: a free port, chosen by the kernel
    "dir": "/tmp/...",                  holds the server's certificate and key (made if missing)
    "policies": ["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"],
    "modes": ["Sign", "SignAndEncrypt"] ("None" too for an unsecured endpoint),
    "users": {"name": "password"},      optional: username login; anonymous stays allowed
    "anonymous": true,                  false: only the users may log in
    "updateMs": 100,
    "tags": [{"name": "Feeder1.P", "type": "Double", ...options}] }

Certificate: RSA 2048, self-signed, SHA-256, valid from a day ago for 10 years, with what OPC UA
clients check (Part 6 6.2.2): SubjectAltName URI = the applicationUri (APPLICATION_URI below), DNS
localhost and this host's name, IP 127.0.0.1; keyUsage digitalSignature, nonRepudiation,
keyEncipherment, dataEncipherment, keyCertSign; extendedKeyUsage serverAuth, clientAuth;
basicConstraints CA:FALSE (as node-opcua makes its own self-signed certificates). Made only when
`dir` holds none, so a restart with the same dir presents the same certificate (and thumbprint).
Files: server_cert.der, server_cert.pem, server_key.pem.

Client certificates: all accepted (no trust list: asyncua's default), each logged on stderr with its
SHA-1 thumbprint and counted in the stats.

Address space: namespace NAMESPACE_URI registered after asyncua's own (index 2 with asyncua 2.1:
0 is OPC UA's, 1 the applicationUri); folder Objects/Peer (ns=k;s=Peer); one variable per tag,
NodeId ns=k;s=<name>, BrowseName k:<name>, read-only, DataType from "type". NodeIds are strings,
so they are the same after a restart.

Values are a function of the tick count t (0 at start, +1 every updateMs while not frozen), the
same every run. Each tick writes every tag with SourceTimestamp = ServerTimestamp = the tick's
wall-clock time (asyncua carries microseconds, not OPC UA's 100 ns):
  Double, Float     offset + amplitude * sin(2 pi t updateMs / periodMs + phase)
                    defaults: offset 0, amplitude 100, periodMs 10000, phase 0 (Float: rounded to
                    float32 on the wire)
  Int32 UInt16 Int64  start + t * step, wrapped to the type (defaults: start 0, step 1)
  Boolean           start XOR (t odd)   (default start false)
  String            values[t mod len]   (default ["RUN", "IDLE", "STOP"])

ready: {"endpoint": "opc.tcp://127.0.0.1:PORT/gridgate/asyncua-peer", "port": PORT,
  "applicationUri", "certificate": "<dir>/server_cert.der", "thumbprint": "<SHA-1 of the DER,
  lowercase hex>", "namespaceUri", "namespaceIndex": k, "nodes": [{"name", "nodeId": "ns=k;s=NAME",
  "browsePath": "/Objects/k:Peer/k:NAME"}], "policies": [asyncua SecurityPolicyType names]}.
  browsePath is the RelativePath text of Part 4 A.2 from the Root folder, with the reserved
  characters of a name ('/', '.', '<', '>', ':', '#', '!', '&') escaped with '&'.

stats: {"ticks": n, "values": n (variable writes), "sessions": n (CreateSession requests),
  "thumbprints": [client certificate thumbprints, in order first seen], "removed": [names],
  "frozen": bool}.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import json
import logging
import math
import os
import signal
import socket
import sys
import time
from pathlib import Path

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

APPLICATION_URI = "urn:gridgate:asyncua-peer:server"
NAMESPACE_URI = "urn:gridgate:asyncua-peer"
ENDPOINT_PATH = "/gridgate/asyncua-peer"
HOST = "127.0.0.1"

# Our policy names (the OPC UA URIs' fragments) → asyncua's SecurityPolicyType prefixes.
POLICIES = {
    "Basic256Sha256": "Basic256Sha256",
    "Aes128_Sha256_RsaOaep": "Aes128Sha256RsaOaep",
    "Aes256_Sha256_RsaPss": "Aes256Sha256RsaPss",
}
MODES = ("Sign", "SignAndEncrypt")

VARIANTS = {
    "Double": ua.VariantType.Double,
    "Float": ua.VariantType.Float,
    "Int32": ua.VariantType.Int32,
    "UInt16": ua.VariantType.UInt16,
    "Int64": ua.VariantType.Int64,
    "Boolean": ua.VariantType.Boolean,
    "String": ua.VariantType.String,
}
# Integer types: (bits, signed).
INTEGERS = {"Int32": (32, True), "UInt16": (16, False), "Int64": (64, True)}

log = logging.getLogger("opcua_server")


# ---------------------------------------------------------------------------------------------
# Certificate


def ensure_certificate(folder: Path) -> tuple[Path, Path]:
    """The server's certificate (DER) and key (PEM) in `folder`, made if the folder holds none."""
    folder.mkdir(parents=True, exist_ok=True)
    der_path, pem_path, key_path = folder / "server_cert.der", folder / "server_cert.pem", folder / "server_key.pem"
    if der_path.exists() and key_path.exists():
        return der_path, key_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gridgate asyncua peer"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gridgate")])
    now = dt.datetime.now(dt.timezone.utc)
    dns = ["localhost"] + ([socket.gethostname()] if socket.gethostname() not in ("", "localhost") else [])
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(APPLICATION_URI)] + [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    # Key first, certificate last: a certificate file implies its key is there (a kill between
    # the two writes leaves no DER, so the next start makes both again).
    write_atomic(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    write_atomic(pem_path, certificate.public_bytes(serialization.Encoding.PEM))
    write_atomic(der_path, certificate.public_bytes(serialization.Encoding.DER))
    return der_path, key_path


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Values


def value_function(tag: dict, update_ms: float):  # noqa: ANN201 (a closure: tick → Python value)
    """The tag's value at tick t (the module docstring has the formulas)."""
    kind = tag["type"]
    if kind in ("Double", "Float"):
        offset, amplitude = float(tag.get("offset", 0)), float(tag.get("amplitude", 100))
        omega, phase = 2 * math.pi * update_ms / float(tag.get("periodMs", 10_000)), float(tag.get("phase", 0))
        return lambda t: offset + amplitude * math.sin(omega * t + phase)
    if kind in INTEGERS:
        bits, signed = INTEGERS[kind]
        start, step, mask = int(tag.get("start", 0)), int(tag.get("step", 1)), (1 << bits) - 1
        half = 1 << (bits - 1)

        def integer(t: int) -> int:
            v = (start + t * step) & mask
            return v - (1 << bits) if signed and v >= half else v

        return integer
    if kind == "Boolean":
        start = bool(tag.get("start", False))
        return lambda t: start != bool(t & 1)
    if kind == "String":
        values = [str(v) for v in tag.get("values", ["RUN", "IDLE", "STOP"])]
        return lambda t: values[t % len(values)]
    raise ValueError(f"tag {tag.get('name')!r}: unknown type {kind!r} (one of {', '.join(VARIANTS)})")


def escape_browse_name(name: str) -> str:
    """A name as an element of a RelativePath text (Part 4 A.2): reserved characters after '&'."""
    return "".join("&" + c if c in "/.<>:#!&" else c for c in name)


class Tag:
    __slots__ = ("name", "node_id", "variant", "value_at")

    def __init__(self, spec: dict, index: int, update_ms: float) -> None:
        self.name = spec["name"]
        self.node_id = ua.NodeId(self.name, index)
        self.value_at = value_function(spec, update_ms)  # raises on an unknown type
        self.variant = VARIANTS[spec["type"]]

    def data_value(self, t: int, now: dt.datetime) -> ua.DataValue:
        return ua.DataValue(Value=ua.Variant(self.value_at(t), self.variant), SourceTimestamp=now, ServerTimestamp=now)


# ---------------------------------------------------------------------------------------------
# Server


class Users:
    """asyncua's user manager: the spec's users by password; anyone else is anonymous (when the
    endpoints offer the anonymous token at all: asyncua refuses the token type before asking)."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def get_user(self, iserver, username=None, password=None, certificate=None):  # noqa: ANN001, ANN201, ARG002 (asyncua's signature)
        if username is None:
            return User(role=UserRole.User)
        if self.users.get(username) == password:
            return User(role=UserRole.User, name=username)
        log.warning("opcua_server.py: username %r refused (wrong password or unknown user)", username)
        return None


class Stats:
    def __init__(self) -> None:
        self.ticks = 0
        self.values = 0
        self.sessions = 0
        self.thumbprints: list[str] = []
        self.removed: list[str] = []
        self.frozen = False

    def json(self) -> str:
        return json.dumps(self.__dict__)


def security_types(spec: dict) -> list[ua.SecurityPolicyType]:
    modes = spec.get("modes", list(MODES))
    chosen = [ua.SecurityPolicyType.NoSecurity] if "None" in modes or "None" in spec.get("policies", []) else []
    for policy in spec.get("policies", list(POLICIES)):
        if policy == "None":
            continue
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r} (one of {', '.join(POLICIES)}, None)")
        for mode in modes:
            if mode == "None":
                continue
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r} (one of Sign, SignAndEncrypt, None)")
            chosen.append(ua.SecurityPolicyType[f"{POLICIES[policy]}_{mode}"])
    if not chosen:
        raise ValueError("no endpoint: the spec's policies and modes select nothing")
    return chosen


async def build(spec: dict, stats: Stats) -> tuple[Server, dict, dict[str, Tag]]:
    der_path, key_path = ensure_certificate(Path(spec["dir"]))
    users = spec.get("users") or {}
    server = Server(user_manager=Users(users))
    await server.init()
    server.set_server_name("gridgate asyncua peer")
    await server.set_application_uri(APPLICATION_URI)
    port = int(spec.get("port", 0))
    server.set_endpoint(f"opc.tcp://{HOST}:{port}{ENDPOINT_PATH}")
    policies = security_types(spec)
    server.set_security_policy(policies)
    tokens = ([ua.AnonymousIdentityToken] if spec.get("anonymous", True) else []) + ([ua.UserNameIdentityToken] if users else [])
    if not tokens:
        raise ValueError('"anonymous": false needs "users"')
    server.set_identity_tokens(tokens)
    await server.load_certificate(str(der_path))
    await server.load_private_key(str(key_path))

    async def seen_certificate(certificate: x509.Certificate, description: ua.ApplicationDescription) -> None:
        # Never raises: every client certificate is accepted, and recorded.
        thumbprint = certificate.fingerprint(hashes.SHA1()).hex()  # noqa: S303 (OPC UA's thumbprint is SHA-1)
        if thumbprint not in stats.thumbprints:
            stats.thumbprints.append(thumbprint)
        print(f"opcua_server.py: client certificate {thumbprint} ({description.ApplicationUri})", file=sys.stderr, flush=True)

    server.set_certificate_validator(seen_certificate)
    # Count CreateSession requests: asyncua has no hook for it, so wrap the internal server's
    # session factory (called once per CreateSession by uaprocessor.py).
    make_session = server.iserver.create_session

    def create_session(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        stats.sessions += 1
        return make_session(*args, **kwargs)

    server.iserver.create_session = create_session

    index = await server.register_namespace(NAMESPACE_URI)
    folder = await server.nodes.objects.add_folder(ua.NodeId("Peer", index), ua.QualifiedName("Peer", index))
    update_ms = float(spec.get("updateMs", 100))
    tags: dict[str, Tag] = {}
    now = dt.datetime.now(dt.timezone.utc)
    for entry in spec.get("tags", []):
        tag = Tag(entry, index, update_ms)
        if tag.name in tags:
            raise ValueError(f"tag {tag.name!r} twice")
        await folder.add_variable(tag.node_id, ua.QualifiedName(tag.name, index), ua.Variant(tag.value_at(0), tag.variant))
        await server.write_attribute_value(tag.node_id, tag.data_value(0, now))
        tags[tag.name] = tag

    await server.start()
    bound = server.bserver.port
    if port == 0:
        # asyncua made the endpoint descriptions before it bound (with port 0 in their URLs):
        # put the real port in them, so GetEndpoints and CreateSession name the port we serve on.
        url = f"opc.tcp://{HOST}:{bound}{ENDPOINT_PATH}"
        server.set_endpoint(url)
        for description in server.iserver.endpoints:
            description.EndpointUrl = url
            description.Server.DiscoveryUrls = [url]
    der = der_path.read_bytes()
    ready = {
        "endpoint": f"opc.tcp://{HOST}:{bound}{ENDPOINT_PATH}",
        "port": bound,
        "applicationUri": APPLICATION_URI,
        "certificate": str(der_path.resolve()),
        "thumbprint": hashlib.sha1(der).hexdigest(),  # noqa: S324 (OPC UA's thumbprint is SHA-1)
        "namespaceUri": NAMESPACE_URI,
        "namespaceIndex": index,
        "nodes": [
            {"name": t.name, "nodeId": f"ns={index};s={t.name}", "browsePath": f"/Objects/{index}:Peer/{index}:{escape_browse_name(t.name)}"}
            for t in tags.values()
        ],
        "policies": [p.name for p in policies],
    }
    return server, ready, tags


async def tick_loop(server: Server, tags: dict[str, Tag], update_ms: float, stats: Stats, frozen: asyncio.Event) -> None:
    """Writes every tag once per tick, on a schedule that does not drift (a late tick is not
    made up: the next one is due a period after it)."""
    period = update_ms / 1000
    write = server.iserver.aspace.write_attribute_value  # the internal write: no checks beyond the type, no copies
    value = ua.AttributeIds.Value
    due = time.monotonic() + period
    t = 0
    while True:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if frozen.is_set():
            await asyncio.sleep(0)  # stay responsive; resume on the next period after unfreeze
            due = time.monotonic() + period
            continue
        t += 1
        now = dt.datetime.now(dt.timezone.utc)
        for tag in list(tags.values()):
            await write(tag.node_id, value, tag.data_value(t, now))
        stats.ticks += 1
        stats.values += len(tags)
        due += period
        if due < time.monotonic():
            due = time.monotonic() + period


async def notify_removal(server: Server, tag: Tag) -> None:
    """Send BadNodeIdUnknown to every monitored item on the tag, then detach them from it.

    asyncua 2.1's own delete path (AddressSpace._delete_node_callbacks) calls each monitored item's
    async callback without awaiting it, so nothing is sent (and a RuntimeWarning is printed); had
    it run, it would have sent a StatusChangeNotification for the whole subscription rather than a
    bad value for the one item. A DataChangeNotification with a bad StatusCode is what a server
    sends for an item whose node went away (Part 4 7.20.2), so send that through the item's
    ordinary data change path, then remove the callback so the delete finds none to call.
    """
    aspace = server.iserver.aspace
    callbacks = aspace[tag.node_id].attributes[ua.AttributeIds.Value].datachange_callbacks
    now = dt.datetime.now(dt.timezone.utc)
    bad = ua.DataValue(StatusCode=ua.StatusCode(ua.StatusCodes.BadNodeIdUnknown), SourceTimestamp=now, ServerTimestamp=now)
    for handle, callback in list(callbacks.items()):
        await callback(handle, bad)
        aspace.delete_datachange_callback(handle)


async def control(server: Server, tags: dict[str, Tag], command: dict, stats: Stats, frozen: asyncio.Event) -> dict:
    if "remove" in command:
        name = command["remove"]
        tag = tags.pop(name, None)
        if tag is None:
            return {"ok": False, "error": f"no tag {name!r}"}
        await notify_removal(server, tag)
        _, results = await server.delete_nodes([server.get_node(tag.node_id)], recursive=True)
        bad = [str(r) for r in results if not r.is_good()]
        if bad:
            return {"ok": False, "error": f"delete_nodes: {bad}"}
        stats.removed.append(name)
        return {"ok": True}
    if "freeze" in command:
        if command["freeze"]:
            frozen.set()
        else:
            frozen.clear()
        stats.frozen = bool(command["freeze"])
        return {"ok": True}
    return {"ok": False, "error": f"unknown command {command}"}


async def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    spec = json.loads(await reader.readline())
    stats = Stats()
    server, ready, tags = await build(spec, stats)
    frozen = asyncio.Event()
    ticker = asyncio.create_task(tick_loop(server, tags, float(spec.get("updateMs", 100)), stats, frozen))
    print(f"ready {json.dumps(ready)}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def commands() -> None:
        while line := await reader.readline():
            if not line.strip():
                continue
            try:
                command = json.loads(line)
                answer = await control(server, tags, command, stats, frozen)
            except Exception as exc:  # noqa: BLE001 (a bad command is answered, never fatal)
                command, answer = {}, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            print(f"ack {json.dumps({'id': command.get('id') if isinstance(command, dict) else None, **answer})}", flush=True)
        stop.set()

    reading = asyncio.create_task(commands())
    await stop.wait()
    reading.cancel()
    ticker.cancel()
    # asyncua's clock task (Server_ServerStatus_CurrentTime) sleeps 1 s between updates and
    # InternalServer.stop() waits for it to wake: cancel it, so a stop takes tens of ms, not 1 s.
    clock, server.iserver.time_task = server.iserver.time_task, None
    if clock is not None:
        clock.cancel()
        await asyncio.gather(clock, return_exceptions=True)
    try:
        await asyncio.wait_for(server.stop(), 3)
    except asyncio.TimeoutError:
        print("opcua_server.py: asyncua took over 3 s to stop; exiting anyway", file=sys.stderr, flush=True)
    print(f"stats {stats.json()}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
