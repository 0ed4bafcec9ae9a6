// Test helper: has Wireshark's tshark (its `synphasor` dissector, an IEEE C37.118 implementation
// independent of ours) decode raw C37.118 frames, so tests can compare every field with our
// decoder. tshark must be installed (.ci/run installs it); a missing tshark is an error, never a
// skip.
//
//   writePcap(path, packets)     classic libpcap, LINKTYPE_ETHERNET, IPv4 + TCP/UDP, valid checksums
//   tsharkDecode(frames, opts)   one TsharkDecoded per input frame (one frame per packet)
//   tsharkDecodePcap(path, opts) per packet, every synphasor PDU in it (coalesced or split TCP too)
//   parsePdml(xml), subtrees(frame, test), splitFrames(stream), tsharkVersion()
//
// WHAT THE SYNPHASOR DISSECTOR PRINTS (found by running tshark 4.0.17, Debian 12's package, on
// pcaps of /work/shared/vectors/c37118/*.bin and on hand-made CFG-1/CFG-3/integer/header frames;
// `tshark -G fields | grep synphasor` lists the names). `tsharkDecode` runs
// `tshark -n -r FILE -d <tcp|udp>.port==PORT,synphasor -T pdml`; only the verbose tree (PDML)
// holds phasor and analog values. A PDML field has `name`, `show` (display value), `showname`
// (the tree line), `value` (hex of the field's bytes) and, for bit fields, `unmaskedvalue`. Items
// written with proto_tree_add_subtree have name="" and only `show` (plus `value` bytes): the
// `subtrees()` helper below splits a frame into them ("Station #1: ...", "Flags", ...).
//
// Raw bytes: `value` is the hex of the field's bytes for every unmasked field, so a bit-exact
// comparison is possible (e.g. read float32 phasors from it). For masked (bit) fields `value` is
// the masked, shifted value in bare upper-case hex ("F", "FFFF") and the bytes are in
// `unmaskedvalue`. Numbers in `show`: integers are decimal, or "0x.." for BASE_HEX fields;
// FT_FLOAT fields show 6 significant digits (60.0283, 5.90425).
//
// Common header (all frame types)
//   synphasor.sync                 "0xaa31"; children synphasor.frtype ("0x0003": 0 data,
//                                  1 header, 2 CFG-1, 3 CFG-2, 4 command, 5 CFG-3) and
//                                  synphasor.version ("1" = C37.118-2005, "2" = C37.118.2-2011)
//   synphasor.frsize               decimal bytes
//   synphasor.idcode_stream_source IDCODE of the stream (decimal)
//   synphasor.soc                  show "Jun  6, 2006 08:00:00.000000000 UTC"; value = 4 raw bytes
//   "" show "Time quality flags"   value = the FRACSEC flag byte; children synphasor.timeqal.lsdir,
//                                  .lsocc, .lspend ("0"/"1"), .timequalindic ("0x0a")
//   synphasor.fracsec_raw          the 24-bit FRACSEC count (decimal)
//   synphasor.fracsec_ms           1000*FRACSEC/TIME_BASE in ms (float, 6 digits). ONLY present
//                                  once a CFG-2/CFG-3 was seen in the same conversation.
//   synphasor.data                 the bytes between header and CHK (value = hex); its showname
//                                  says "Configuration data, N PMU(s) included", "Measurement data",
//                                  "Command data", "..., no configuration frame found" or
//                                  "..., not dissected because of wrong checksum"
//   synphasor.checksum ("0xd5d1"), synphasor.checksum.status ("1" = good)
//
// Configuration frames CFG-1 and CFG-2 (children of synphasor.data)
//   synphasor.conf.timebase        TIME_BASE (decimal)
//   synphasor.conf.numpmu          NUM_PMU
//   "" show 'Station #1: "Station A       "'  one subtree per PMU; STN appears ONLY here, in the
//                                  text (16 chars, space padding kept), not as a named field
//     synphasor.idcode_data_source PMU IDCODE
//     "" "Data format in data frame" (value = FORMAT word) with synphasor.conf.dfreq_format,
//        .analog_format, .phasor_format ("1" = float, "0" = int16), .phasor_notation ("1" polar)
//     synphasor.num_phasors, synphasor.num_analog_values, synphasor.num_digital_status_words
//     synphasor.channel_name       every CHNAM, 16 chars with padding; the parent subtree is
//                                  "Phasor names (N)", "Analog values (N)" or "Digital status labels
//                                  (16*N)" and each showname starts "Phasor name #i:", "Analog
//                                  value #i:" or "Digital status label #i:"
//     synphasor.conversion_factor  PHUNIT: show = the whole word in hex ("0x0100b2d0"); showname
//                                  "#4 factor: 45776 * 10^-5, unit: Ampere" (any non-zero MSB =
//                                  Ampere)
//     synphasor.factor_for_analog_value  ANUNIT. CAUTION: `show` is only the LOW BYTE (the field
//                                  has mask 0xff); the signed 24-bit value is in the showname
//                                  "Factor for analog value #1: rms of analog input, value: 1" and
//                                  the word in `unmaskedvalue`
//     synphasor.status_word_mask.normal_state / .valid_bits   DIGUNIT, "0x0000" / "0xffff",
//                                  below "" "Mask for status word #i: "
//     synphasor.conf.fnom          "1" = 50 Hz, "0" = 60 Hz
//     synphasor.conf.cfgcnt        CFGCNT
//   synphasor.rate_of_transmission DATA_RATE, signed ("-5" shows "1 frame per 5 second(s)")
//   CFG-1 frames are dissected the same way but NOT used to decode data frames (only CFG-2 and
//   CFG-3 with a good CHK are, the latest one in the conversation, and only when the data frame's
//   size matches it exactly).
//
// CFG-3 (supported by 4.0.17; CONT_IDX != 0, i.e. fragmented CFG-3, is not)
//   synphasor.conf.contindx, synphasor.conf.timebase, synphasor.conf.numpmu, then per PMU
//   "" 'Station #1: "Station Three"' with synphasor.station_name_len, synphasor.station_name (show
//   is the whole name; its `value`/size cover only the first byte), synphasor.idcode_data_source,
//   synphasor.gpmuid (show "00:11:..", value hex), the format flags as above, num_* as above,
//   names as synphasor.conf.chnam (below "" 'Phasor name #1: "VA"' etc. with
//   synphasor.conf.chnam_len; `value` again only 1 byte), PHSCALE per phasor below "" "Phasor #i":
//   synphasor.conf.phasor_mod.* flags, synphasor.conf.phasor_type ("1" = current),
//   synphasor.conf.phasor_component, synphasor.conf.phasor_user_flags,
//   synphasor.conf.phasor_scale_factor and synphasor.conf.phasor_angle_offset (floats; the field
//   claims degrees but data decoding SUBTRACTS it as radians); ANSCALE below "" "Analog #i":
//   synphasor.conf.analog_scale_factor, synphasor.conf.analog_offset; DIGUNIT as above;
//   synphasor.conf.pmu_latitude/.pmu_longitude/.pmu_elevation (show "inf" for unspecified),
//   synphasor.conf.svc_class ("Monitoring"/"Protection"/"Unknown"), synphasor.conf.window,
//   synphasor.conf.grp_dly (µs), synphasor.conf.fnom, synphasor.conf.cfgcnt; then
//   synphasor.rate_of_transmission.
//
// Data frames (children of synphasor.data)
//   synphasor.data.conf_frame      number of the CFG frame used (absent: not decoded, see above)
//   "" 'Station: "Station A       "' one subtree per PMU block in config order; the PMU IDCODE is
//                                  NOT shown (take it from the config by position)
//     "" "Flags"                   `value` = the whole STAT word in hex ("21f0"); children:
//        synphasor.data.status (bits 15-14, "0x0002"), .sync (bit 13, "1" = sync lost), .sorting
//        (12), .trigger (11), .CFGchange (10), .data_modified (9), .pmu_tq (8-6, "0x0007"),
//        .t_unlock (5-4), .trigger_reason (3-0); error/unsync bits add _ws.expert children with
//        synphasor.data_error / synphasor.pmu_not_sync
//     "" "Phasors (4), notation: rectangular, format: integer"
//       synphasor.phasor           show = the channel name (padded); `value` = the raw 4 or 8
//                                  bytes; the numbers exist ONLY in the showname:
//         'Phasor #2: "VB              ", 134003.289V ∠-119.998° alt -66998.266+j-116052.203V; unscaled: -7318, -12676'
//         i.e. magnitude (%10.3F), angle in DEGREES (%7.3F), then real+j·imag (%7.3F), unit V/A
//         from PHUNIT, always all of them whatever the notation (tshark converts with double
//         cos/sin/atan2/sqrt of the float32 or scaled values). Rounded to 3 DECIMALS, so small
//         values lose relative precision (0.0032 A shows as 0.003). Integer phasors are SCALED:
//         CFG-2: ×PHUNIT×1e-5 (rectangular: the magnitude of the raw pair is scaled); polar angle
//         = raw/10^4 rad; CFG-3: ×PHSCALE, angle − angle offset. "; unscaled: a, b" (%5.0F) holds
//         the raw integers (polar magnitude read unsigned). 0x8000 (absent) makes values "NAN".
//     Integer FREQ/DFREQ:
//       synphasor.frequency_deviation_from_nominal  show = raw int16 in mHz ("2500"); showname
//                                  "... 2500mHz (actual frequency: 62.500Hz)" (FNOM + raw/1000, %.3f)
//       synphasor.rate_change_frequency  show = raw/100 in Hz/s as a float ("-1.23")
//     Float FREQ/DFREQ:
//       synphasor.actual_frequency_value  Hz ("60.0283", 6 significant digits)
//       synphasor.rate_change_frequency   Hz/s ("5.90425"), unscaled
//     "" "Analog values (N)"
//       synphasor.analog_value     show = the channel name; value in the showname only: float
//                                  ', 100.000' (%.3f); int16 with CFG-2 UNSCALED ', -7 (conversion
//                                  factor: 0x1000001)'; int16 with CFG-3 scaled ×scale+offset, %.3f
//     "" "Digital status words (N)"
//       synphasor.digital_status_word  "0x3c12"
//
// Header frames: no text field. The text is the bytes of synphasor.data (`value` hex, `show`
//   colon hex; showname is "Data: <hex>Header Frame"). A header frame of 16 bytes (empty text)
//   is NOT dissected at all: the dissector rejects PDUs shorter than 17 bytes, so tsharkDecode
//   returns `dissected: false` for it (the packet is plain TCP/UDP to tshark).
// Command frames: synphasor.command (show "0x0002", showname "... = Command: data transmission on
//   (0x0002)"); CMD 8 adds synphasor.extended_frame_data, other extra bytes
//   synphasor.data.unknown.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PcapPacket {
  payload: Buffer;
  transport: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
}

export interface TsharkField {
  /** PDML `name`; '' for Wireshark text-only tree items (they have only `show`). */
  name: string;
  show: string;
  showname: string;
  /** Hex of the bytes the field covers, as tshark prints them (absent for generated fields). */
  value?: string;
  /** Nesting depth below the synphasor proto element (its direct children are depth 0). */
  depth: number;
  /** For bit fields (masked): hex of all the bytes the field covers; `value` is then the masked value. */
  unmaskedvalue?: string;
  /** Offset in the packet (pos) and length (size) of the bytes, as tshark reports them. */
  pos?: number;
  size?: number;
}

export interface TsharkFrame {
  fields: TsharkField[];
  /** All `show` values of fields named `name`, in tree order. */
  get(name: string): string[];
  /** All fields named `name`, in tree order. */
  all(name: string): TsharkField[];
}

// ---------------------------------------------------------------------------------------------
// pcap writer

const LINKTYPE_ETHERNET = 1;

function ipv4Checksum(buf: Buffer, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (buf[i]! << 8) | (i + 1 < end ? buf[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Sum of the IPv4 pseudo header, to seed the TCP/UDP checksum. */
function pseudoHeaderSum(src: Buffer, dst: Buffer, proto: number, length: number): number {
  const word = (b: Buffer, i: number): number => (b[i]! << 8) | b[i + 1]!;
  return word(src, 0) + word(src, 2) + word(dst, 0) + word(dst, 2) + proto + length;
}

/**
 * Writes a classic libpcap file (microsecond timestamps, LINKTYPE_ETHERNET) holding one
 * Ethernet/IPv4/TCP-or-UDP packet per entry, all checksums valid. Each port number stands for
 * one host (10.0.0.1, 10.0.0.2, ... in order of first appearance), so the two directions of a
 * conversation are two hosts. TCP sequence numbers increase per direction by the payload length
 * and each segment acknowledges everything the other direction has sent; flags are PSH|ACK.
 * No SYN handshake is written (tshark does not need one).
 */
export async function writePcap(path: string, packets: PcapPacket[]): Promise<void> {
  const hostOf = new Map<number, number>();
  const host = (port: number): Buffer => {
    if (!hostOf.has(port)) {
      if (hostOf.size === 254) throw new RangeError('writePcap: more than 254 distinct ports');
      hostOf.set(port, hostOf.size + 1);
    }
    return Buffer.from([10, 0, 0, hostOf.get(port)!]);
  };
  const nextSeq = new Map<string, number>();
  const seqKey = (a: number, b: number): string => `${a}>${b}`;

  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8);
  header.writeUInt32LE(0, 12);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const chunks: Buffer[] = [header];

  packets.forEach((p, index) => {
    const src = host(p.srcPort);
    const dst = host(p.dstPort);
    const l4Len = p.transport === 'tcp' ? 20 : 8;
    if (20 + l4Len + p.payload.length > 65535) throw new RangeError(`writePcap: packet ${index} is too large for IPv4`);
    const l4 = Buffer.alloc(l4Len + p.payload.length);
    l4.writeUInt16BE(p.srcPort, 0);
    l4.writeUInt16BE(p.dstPort, 2);
    if (p.transport === 'tcp') {
      const fwd = seqKey(p.srcPort, p.dstPort);
      const rev = seqKey(p.dstPort, p.srcPort);
      // Distinct, arbitrary initial sequence numbers per direction.
      if (!nextSeq.has(fwd)) nextSeq.set(fwd, 0x10000000 + nextSeq.size * 0x01000000);
      if (!nextSeq.has(rev)) nextSeq.set(rev, 0x10000000 + nextSeq.size * 0x01000000);
      const seq = nextSeq.get(fwd)!;
      l4.writeUInt32BE(seq >>> 0, 4);
      l4.writeUInt32BE(nextSeq.get(rev)! >>> 0, 8);
      l4.writeUInt8(5 << 4, 12); // data offset: 5 words
      l4.writeUInt8(0x18, 13); // PSH|ACK
      l4.writeUInt16BE(65535, 14); // window
      nextSeq.set(fwd, (seq + p.payload.length) >>> 0);
    } else {
      l4.writeUInt16BE(l4.length, 4);
    }
    p.payload.copy(l4, l4Len);
    const proto = p.transport === 'tcp' ? 6 : 17;
    let sum = ipv4Checksum(l4, 0, l4.length, pseudoHeaderSum(src, dst, proto, l4.length));
    if (p.transport === 'udp' && sum === 0) sum = 0xffff;
    l4.writeUInt16BE(sum, p.transport === 'tcp' ? 16 : 6);

    const ip = Buffer.alloc(20);
    ip.writeUInt8(0x45, 0);
    ip.writeUInt16BE(20 + l4.length, 2);
    ip.writeUInt16BE(index & 0xffff, 4); // identification
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip.writeUInt8(64, 8);
    ip.writeUInt8(proto, 9);
    src.copy(ip, 12);
    dst.copy(ip, 16);
    ip.writeUInt16BE(ipv4Checksum(ip, 0, 20), 10);

    const eth = Buffer.from([0x02, 0, 0, 0, 0, dst[3]!, 0x02, 0, 0, 0, 0, src[3]!, 0x08, 0x00]);
    const frame = Buffer.concat([eth, ip, l4]);

    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + Math.floor(index / 1000), 0);
    rec.writeUInt32LE((index % 1000) * 1000, 4); // 1 ms apart
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    chunks.push(rec, frame);
  });
  await writeFile(path, Buffer.concat(chunks));
}

// ---------------------------------------------------------------------------------------------
// tshark

/** Thrown (not skipped) when tshark is absent: the peer tests must run wherever `npm test` does. */
function missingTshark(cause: unknown): Error {
  return new Error(
    'tshark is not installed or not on PATH; the peer tests need it (Debian/Ubuntu: apt-get install tshark, ' +
      'which .ci/run does)',
    { cause },
  );
}

let cachedVersion: string | undefined;

/** tshark's version number, e.g. "4.0.17". Throws a clear error when tshark is missing. */
export function tsharkVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let out: string;
  try {
    out = execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw missingTshark(err);
  }
  const m = /^TShark \(Wireshark\) (\S+)/m.exec(out);
  if (!m) throw new Error(`tshark --version printed no version: ${out.slice(0, 200)}`);
  cachedVersion = m[1]!;
  return cachedVersion;
}

export interface TsharkOptions {
  transport: 'tcp' | 'udp';
  /** The PMU's port; tshark is told `-d <transport>.port==<port>,synphasor`. */
  port: number;
}

/** One synphasor PDU as tshark dissected it. */
export interface TsharkPdu extends TsharkFrame {
  /** tshark's frame (packet) number, 1-based. */
  packet: number;
  /** The `showname` of the synphasor proto element, e.g. "IEEE C37.118 ..., Data Frame [correct]". */
  summary: string;
}

/** One input frame: the synphasor PDU tshark made of its packet, or none (`dissected: false`). */
export interface TsharkDecoded extends TsharkFrame {
  dissected: boolean;
  packet: number;
  summary: string;
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    return ENTITIES[ent] ?? whole;
  });
}

function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w.-]+)="([^"]*)"/g)) out[m[1]!] = unescapeXml(m[2]!);
  return out;
}

/**
 * The subtrees of `frame` whose head field passes `test`, each with the head and its descendants
 * (e.g. `subtrees(cfg, (f) => f.show.startsWith('Station #'))` gives one entry per PMU block).
 */
export function subtrees(frame: TsharkFrame, test: (field: TsharkField) => boolean): { head: TsharkField; frame: TsharkFrame }[] {
  const out: { head: TsharkField; frame: TsharkFrame }[] = [];
  const { fields } = frame;
  for (let i = 0; i < fields.length; i++) {
    const head = fields[i]!;
    if (!test(head)) continue;
    let end = i + 1;
    while (end < fields.length && fields[end]!.depth > head.depth) end++;
    out.push({ head, frame: makeFrame(fields.slice(i + 1, end)) });
  }
  return out;
}

function makeFrame(fields: TsharkField[]): TsharkFrame {
  return {
    fields,
    get: (name) => fields.filter((f) => f.name === name).map((f) => f.show),
    all: (name) => fields.filter((f) => f.name === name),
  };
}

/**
 * Parses tshark's PDML into one array per packet, each holding the synphasor PDUs found in that
 * packet in order (several when one TCP segment carries several frames, none when tshark did not
 * dissect the packet as synphasor). Only `<field>` elements below `<proto name="synphasor">` are
 * kept; their depth counts from 0 for the proto's direct children.
 */
export function parsePdml(xml: string): TsharkPdu[][] {
  const packets: TsharkPdu[][] = [];
  let current: TsharkPdu[] | undefined;
  let pdu: { fields: TsharkField[]; summary: string } | undefined;
  let depth = 0; // open <field> elements inside the current synphasor proto
  let otherProto = 0; // nesting of non-synphasor protos (fields there are skipped)
  for (const m of xml.matchAll(/<(\/?)(packet|proto|field)\b([^>]*?)(\/?)>/g)) {
    const closing = m[1] === '/';
    const tag = m[2]!;
    const selfClosing = m[4] === '/';
    if (tag === 'packet') {
      if (closing) {
        packets.push(current ?? []);
        current = undefined;
      } else current = [];
      continue;
    }
    if (tag === 'proto') {
      if (closing) {
        if (otherProto > 0) otherProto--;
        else if (pdu && current) {
          current.push({ ...makeFrame(pdu.fields), packet: packets.length + 1, summary: pdu.summary });
          pdu = undefined;
          depth = 0;
        }
        continue;
      }
      const a = attributes(m[3]!);
      if (a.name === 'synphasor' && !pdu && otherProto === 0) {
        pdu = { fields: [], summary: a.showname ?? '' };
        if (selfClosing) {
          current?.push({ ...makeFrame([]), packet: packets.length + 1, summary: pdu.summary });
          pdu = undefined;
        }
      } else if (!selfClosing) otherProto++;
      continue;
    }
    // <field>
    if (!pdu || otherProto > 0) continue;
    if (closing) {
      depth--;
      continue;
    }
    const a = attributes(m[3]!);
    const field: TsharkField = { name: a.name ?? '', show: a.show ?? '', showname: a.showname ?? '', depth };
    if (a.value !== undefined) field.value = a.value;
    if (a.unmaskedvalue !== undefined) field.unmaskedvalue = a.unmaskedvalue;
    if (a.pos !== undefined) field.pos = Number(a.pos);
    if (a.size !== undefined) field.size = Number(a.size);
    pdu.fields.push(field);
    if (!selfClosing) depth++;
  }
  return packets;
}

function runTshark(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, env }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(missingTshark(err));
      else if (err) reject(new Error(`tshark ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

/**
 * Runs tshark on a pcap file and returns, per packet, the synphasor PDUs it found. Personal
 * Wireshark preferences are kept out (WIRESHARK_CONFIG_DIR points at an empty directory).
 */
export async function tsharkDecodePcap(path: string, opts: TsharkOptions): Promise<TsharkPdu[][]> {
  tsharkVersion();
  const configDir = await mkdtemp(join(tmpdir(), 'gridgate-tshark-cfg-'));
  try {
    const xml = await runTshark(
      ['-n', '-r', path, '-d', `${opts.transport}.port==${opts.port},synphasor`, '-T', 'pdml'],
      { ...process.env, WIRESHARK_CONFIG_DIR: configDir, LC_ALL: 'C.UTF-8', TZ: 'UTC' },
    );
    return parsePdml(xml);
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
}

/**
 * Has tshark decode raw C37.118 frames: writes them to a temporary pcap, one frame per packet
 * (commands from a client port to `opts.port`, every other frame from `opts.port` to the
 * client), and returns one entry per input frame, in order. A frame tshark did not dissect as
 * synphasor (e.g. one shorter than 17 bytes, see the header comment) comes back with
 * `dissected: false` and no fields, so indexes stay aligned with the input. Throws if tshark
 * put several PDUs in one packet (only possible when a FRAMESIZE lies and TCP reassembly
 * merged packets).
 */
export async function tsharkDecode(frames: Buffer[], opts: TsharkOptions): Promise<TsharkDecoded[]> {
  tsharkVersion();
  const dir = await mkdtemp(join(tmpdir(), 'gridgate-tshark-'));
  try {
    const client = opts.port === 49152 ? 49153 : 49152;
    const file = join(dir, 'frames.pcap');
    await writePcap(
      file,
      frames.map((payload) => {
        const command = payload.length > 1 && ((payload[1]! >> 4) & 0x7) === 4;
        return {
          payload,
          transport: opts.transport,
          srcPort: command ? client : opts.port,
          dstPort: command ? opts.port : client,
        };
      }),
    );
    const packets = await tsharkDecodePcap(file, opts);
    if (packets.length !== frames.length) {
      throw new Error(`tshark read ${packets.length} packets from a pcap of ${frames.length}`);
    }
    return packets.map((pdus, i) => {
      if (pdus.length > 1) {
        throw new Error(`tshark found ${pdus.length} synphasor PDUs in packet ${i + 1}; the frames are not one per packet`);
      }
      const pdu = pdus[0];
      if (!pdu) return { ...makeFrame([]), dissected: false, packet: i + 1, summary: '' };
      return { ...pdu, dissected: true };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Splits a byte stream of back-to-back C37.118 frames by their FRAMESIZE (bytes 2..3). */
export function splitFrames(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < stream.length; ) {
    if (offset + 4 > stream.length) throw new RangeError(`splitFrames: ${stream.length - offset} trailing bytes`);
    const size = stream.readUInt16BE(offset + 2);
    if (size < 4 || offset + size > stream.length) {
      throw new RangeError(`splitFrames: bad FRAMESIZE ${size} at offset ${offset}`);
    }
    frames.push(stream.subarray(offset, offset + size));
    offset += size;
  }
  return frames;
}
