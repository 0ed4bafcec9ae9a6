// PMU records for analytics tests, made by the simulator's device model and passed through the real
// codec (encode → decodeData → pmuFrameRecords), exactly as the source makes them, without sockets
// or wall-clock pacing: ten simulated minutes take a second.
import { DataColumns, decodeData } from '../../src/protocols/c37118/data-frame.js';
import { Format } from '../../src/protocols/c37118/constants.js';
import { pmuFrameRecords } from '../../src/protocols/c37118/records.js';
import { ReportingGrid } from '../../src/protocols/c37118/simulator/grid.js';
import { PmuModel } from '../../src/protocols/c37118/simulator/pmu-model.js';
import { parseScenario } from '../../src/protocols/c37118/simulator/scenario.js';
import type { ScenarioInput } from '../../src/protocols/c37118/simulator/scenario-schema.js';
import type { SourceRecord } from '../../src/pipeline/record.js';

export interface SimulatedRun {
  rate?: number;
  pmus?: number;
  phasors?: number;
  analogs?: number;
  fnom?: 50 | 60;
  /** Seconds of data. */
  seconds: number;
  startSoc?: number;
  seed?: number;
  scenario?: ScenarioInput;
  /** Arrival delay added to the event time for the ingest time, µs. */
  delayUs?: number;
}

export const START_SOC = 1_763_776_800; // 2025-11-22T02:00:00Z

/** Every record of the run, in frame order (PMU blocks of one frame in PMU order). */
export function simulatedRecords(run: SimulatedRun): SourceRecord[] {
  const rate = run.rate ?? 60;
  const fnom = run.fnom ?? 60;
  const scenario = parseScenario(run.scenario ?? {});
  const model = new PmuModel(
    {
      idcode: 1,
      firstPmuIdcode: 101,
      station: 'SIM PMU',
      fnom,
      format: Format.POLAR | Format.PHASOR_FLOAT | Format.ANALOG_FLOAT | Format.FREQ_FLOAT,
      timeBase: 1_000_000,
      dataRate: rate,
      voltageV: (scenario.signal.voltageKv * 1000) / Math.sqrt(3),
      currentA: scenario.signal.currentA,
      pmuCount: run.pmus ?? 1,
      phasors: run.phasors ?? 8,
      analogs: run.analogs ?? 2,
      digitals: 0,
      seed: run.seed ?? 7,
    },
    scenario,
    1 / rate,
  );
  const grid = new ReportingGrid(rate, 1_000_000);
  const soc0 = run.startSoc ?? START_SOC;
  const first = soc0 * rate;
  const out: SourceRecord[] = [];
  for (let n = first; n < first + run.seconds * rate; n++) {
    const t = grid.secondsSince(n, soc0);
    if (model.state.dropped(t, n)) continue;
    const bytes = model.dataFrame(n, t, grid.soc(n), grid.fracsec(n, 0));
    const version = model.versionAt(t);
    const columns = new DataColumns(version.layout);
    const fault = decodeData(bytes, 0, columns);
    if (fault) throw new Error(`simulated frame ${n} did not decode: ${fault}`);
    pmuFrameRecords(columns, columns.eventTimeUs + (run.delayUs ?? 2_000), 0, out);
  }
  return out;
}
