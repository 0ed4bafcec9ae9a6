import { createReadStream } from 'node:fs';
import { JsonStreamDecoder, type DecodeLine } from '../protocols/c37118/decode-stream.js';
import { GatewayError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';
import { EXIT } from './exit-codes.js';

// `gridgate decode c37118 FILE|-`: a raw C37.118 byte stream (a TCP capture's payload, what
// `tshark -T fields -e tcp.payload` or `socat` saves) to JSON Lines, one object per frame. A field
// engineer's tool: it never stops at bad bytes; errors are lines too, with their byte offset.

export const decodeCommand: Command = {
  summary: 'decode c37118 FILE|-   a raw C37.118 byte stream to JSON Lines, one object per frame',
  usage: `Usage: gridgate decode c37118 FILE|- [--compact]

Reads a raw IEEE C37.118 byte stream (frames back to back, as a PDC receives them over TCP; "-"
reads stdin) and prints one JSON object per frame:
  every frame   offset (byte offset in the input), type (data, header, cfg1, cfg2, cfg3,
                cfg3-fragment, command, error), idcode (the stream's), time (iso, epoch, epochNs,
                soc, fracsec, timeBase, and the time quality byte decoded)
  cfg1/2/3      stations with IDCODE, FORMAT, FNOM, CFGCNT, phasor/analog/digital channels and
                their scales; timeBase, dataRate; active (whether data decodes through it)
  data          per PMU: STAT decoded, quality, each phasor's magnitude (V or A), angleRad, re,
                im; freq (Hz), rocof (Hz/s), analog values, digital words with alarm bits
  header        text
  command       command code and name
  error         reason and, for undecodable bytes, length and the first bytes in hex
Data frames decode only after a CFG-2 or CFG-3 for their stream earlier in the input.
Exit 0 when every byte decoded, 1 when there were errors (all of them are printed).
--compact prints data frames without channel names and digital labels.`,

  async run(args) {
    const { values, positionals } = parseCommandArgs('decode', args, { compact: { type: 'boolean' } }, true);
    const [protocol, file, ...extra] = positionals;
    if (protocol !== 'c37118' || !file || extra.length > 0) {
      throw new GatewayError('GW_ERR_USAGE', 'decode: expected "c37118 FILE" or "c37118 -" (stdin)');
    }
    const input = file === '-' ? process.stdin : createReadStream(file);
    const decoder = new JsonStreamDecoder();
    let errors = 0;
    const print = async (lines: DecodeLine[]): Promise<void> => {
      if (lines.length === 0) return;
      for (const line of lines) if (line.type === 'error') errors++;
      const text = lines.map((line) => JSON.stringify(values.compact ? compact(line) : line)).join('\n');
      if (!process.stdout.write(`${text}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    };
    try {
      for await (const chunk of input) await print(decoder.push(chunk as Buffer));
    } catch (err) {
      throw new GatewayError('GW_ERR_INPUT', `decode: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    await print(decoder.end());
    return errors === 0 ? EXIT.OK : EXIT.FAILURE;
  },
};

function compact(line: DecodeLine): unknown {
  if (line.type !== 'data') return line;
  const pmus = (line.pmus as { phasors: { name?: string }[]; analogs: { name?: string }[]; digitals: { labels?: string[] }[] }[]).map(
    (pmu) => ({
      ...pmu,
      phasors: pmu.phasors.map(({ name: _name, ...rest }) => rest),
      analogs: pmu.analogs.map(({ name: _name, ...rest }) => rest),
      digitals: pmu.digitals.map(({ labels: _labels, ...rest }) => rest),
    }),
  );
  return { ...line, pmus };
}
