import { AvroBytes } from './avro-bytes.js';
import type { Envelope } from './avro.js';
import { recordSchema, type AvroRecordSchema } from './schemas.js';

// A whole pmu-frame record (schemas/pmu-frame.avsc: the envelope, then the body the c37118 source
// builds) in Avro binary, written field by field on the main thread: the record the gateway
// writes most of (100 PMUs: 6,000 a second). avsc's generated writer boxed each phasor's four
// doubles on the way through its unions and wrote envelope and body in two passes with a copy
// after; this one writes once into a reused buffer. The bytes are avsc's, byte for byte
// (test/unit/pipeline/encoding/pmu-frame-avro.test.ts), and what the schema refuses throws here too.

interface Phasor {
  name: string;
  unit: string;
  magnitude: number | null;
  angle: number | null;
  re: number | null;
  im: number | null;
}

export interface PmuFrameBody {
  pmu: { idcode: number; station: string; streamIdcode: number; cfgcnt: number; fnom: number; dataRate: number };
  stat: number;
  timeQuality: number;
  freq: number | null;
  rocof: number | null;
  phasors: readonly Phasor[];
  analogs: readonly { name: string; value: number | null }[];
  digitals: readonly { word: number; alarms: number }[];
}

/** An enum's symbols, read from the schema so that the writer follows it. */
function symbols(schema: AvroRecordSchema, path: string[]): readonly string[] {
  let type: unknown = schema;
  for (const name of path) {
    const t = type as { type: string; fields?: { name: string; type: unknown }[]; items?: unknown };
    const record = (t.type === 'array' ? t.items : t) as { fields: { name: string; type: unknown }[] };
    type = record.fields.find((f) => f.name === name)!.type;
  }
  return (type as { symbols: string[] }).symbols;
}

const SCHEMA = recordSchema('pmu-frame');
const QUALITY_LEVELS = symbols(SCHEMA, ['quality', 'level']);
const PHASOR_UNITS = symbols(SCHEMA, ['phasors', 'unit']);

export class PmuFrameAvro {
  readonly #out = new AvroBytes('pmu-frame');

  /** The record's Avro bytes, in a Buffer of their own. */
  write(envelope: Envelope, body: PmuFrameBody): Buffer {
    const out = this.#out;
    out.reset();
    out.string(envelope.site);
    out.string(envelope.source);
    out.string(envelope.stream);
    out.long(envelope.epoch);
    out.long(envelope.seq);
    out.long(envelope.eventTime);
    out.long(envelope.ingestTime);
    out.symbol(envelope.quality.level, QUALITY_LEVELS);
    out.array(envelope.quality.reasons, this.#string);
    const pmu = body.pmu;
    out.int(pmu.idcode);
    out.string(pmu.station);
    out.int(pmu.streamIdcode);
    out.int(pmu.cfgcnt);
    out.int(pmu.fnom);
    out.int(pmu.dataRate);
    out.int(body.stat);
    out.int(body.timeQuality);
    out.optionalDouble(body.freq);
    out.optionalDouble(body.rocof);
    out.array(body.phasors, this.#phasor);
    out.array(body.analogs, this.#analog);
    out.array(body.digitals, this.#digital);
    return out.takeBuffer();
  }

  // Item writers made once, not a closure per record.
  readonly #string = (value: string): void => this.#out.string(value);
  readonly #phasor = (p: Phasor): void => {
    const out = this.#out;
    out.string(p.name);
    out.symbol(p.unit, PHASOR_UNITS);
    out.optionalDouble(p.magnitude);
    out.optionalDouble(p.angle);
    out.optionalDouble(p.re);
    out.optionalDouble(p.im);
  };
  readonly #analog = (a: { name: string; value: number | null }): void => {
    this.#out.string(a.name);
    this.#out.optionalDouble(a.value);
  };
  readonly #digital = (d: { word: number; alarms: number }): void => {
    this.#out.int(d.word);
    this.#out.int(d.alarms);
  };
}
