import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StatusCode, StatusCodes } from 'node-opcua';
import { qualityJson, qualityLevel, type QualityLevel } from '../../../../src/protocols/shared/quality.js';
import { overflowed, severityOf, statusQuality, type Severity } from '../../../../src/protocols/opcua/status.js';

// Codes are taken from node-opcua by name, never typed in as hex: a wrong constant in status.ts
// shows up here as a wrong reason.

const code = (name: keyof typeof StatusCodes): number => (StatusCodes[name] as StatusCode).value;
const quality = (c: number) => qualityJson(statusQuality(c));
/** A code with node-opcua's own extra bits set ('Overflow | InfoTypeDataValue', 'SemanticChanged' …). */
const withBits = (base: keyof typeof StatusCodes, bits: string): number => StatusCode.makeStatusCode(StatusCodes[base] as StatusCode, bits).value;

describe('statusQuality', () => {
  it('gives Good a good quality without reasons', () => {
    assert.deepEqual(quality(code('Good')), { level: 'good', reasons: [] });
  });

  it('names the reason closest to what a Bad code means', () => {
    const expected: [keyof typeof StatusCodes, string][] = [
      ['BadNodeIdUnknown', 'rejected'],
      ['BadNodeIdInvalid', 'rejected'],
      ['BadAttributeIdInvalid', 'rejected'],
      ['BadNotReadable', 'rejected'],
      ['BadUserAccessDenied', 'rejected'],
      ['BadNoMatch', 'rejected'],
      ['BadBrowseNameInvalid', 'rejected'],
      ['BadMonitoredItemFilterUnsupported', 'rejected'],
      ['BadFilterNotAllowed', 'rejected'],
      ['BadDeadbandFilterInvalid', 'rejected'],
      ['BadTooManyMonitoredItems', 'rejected'],
      ['BadNotSupported', 'rejected'],
      ['BadIndexRangeInvalid', 'rejected'],
      ['BadCommunicationError', 'comms_failure'],
      ['BadNoCommunication', 'comms_failure'],
      ['BadNotConnected', 'comms_failure'],
      ['BadServerNotConnected', 'comms_failure'],
      ['BadConnectionClosed', 'comms_failure'],
      ['BadTimeout', 'comms_failure'],
      ['BadServerHalted', 'comms_failure'],
      ['BadShutdown', 'comms_failure'],
      ['BadSecureChannelClosed', 'comms_failure'],
      ['BadSessionClosed', 'comms_failure'],
      ['BadSessionIdInvalid', 'comms_failure'],
      ['BadWaitingForInitialData', 'absent'],
      ['BadNoData', 'absent'],
      ['BadNoDataAvailable', 'absent'],
      ['BadDataUnavailable', 'absent'],
      ['BadSensorFailure', 'data_invalid'],
      ['BadDeviceFailure', 'data_invalid'],
      ['BadConfigurationError', 'data_invalid'],
      ['BadOutOfService', 'data_invalid'],
    ];
    for (const [name, reason] of expected) assert.deepEqual(quality(code(name)), { level: 'bad', reasons: [reason] }, name);
  });

  it('says status_bad for a Bad code without a shared reason', () => {
    assert.deepEqual(quality(code('BadInternalError')), { level: 'bad', reasons: ['status_bad'] });
    assert.deepEqual(quality(code('BadOutOfMemory')), { level: 'bad', reasons: ['status_bad'] });
  });

  it('treats severity 11 as bad, as Part 4 reserves it', () => {
    assert.equal(severityOf(0xc000_0000), 'bad');
    assert.deepEqual(quality(0xc000_0000), { level: 'bad', reasons: ['status_bad'] });
  });

  it('gives Uncertain codes an uncertain quality, data_modified for a substitute value', () => {
    assert.deepEqual(quality(code('UncertainLastUsableValue')), { level: 'uncertain', reasons: ['status_uncertain'] });
    assert.deepEqual(quality(code('UncertainSubstituteValue')), { level: 'uncertain', reasons: ['data_modified'] });
  });

  it('lowers GoodLocalOverride to uncertain: the value was set by hand, not measured', () => {
    assert.deepEqual(quality(code('GoodLocalOverride')), { level: 'uncertain', reasons: ['data_modified'] });
  });

  it('adds overflow to a Good value whose DataValue info bits say the queue overflowed', () => {
    const c = (StatusCodes.GoodWithOverflowBit as StatusCode).value;
    assert.equal(c, 0x0480, 'InfoType DataValue (0x0400) | Overflow (0x0080)');
    assert.deepEqual(quality(c), { level: 'good', reasons: ['overflow'] });
    assert.equal(overflowed(c), true);
  });

  it('keeps the reason and the level of a Bad or Uncertain code that also overflowed', () => {
    assert.deepEqual(quality(withBits('BadSensorFailure', 'Overflow | InfoTypeDataValue')), { level: 'bad', reasons: ['data_invalid', 'overflow'] });
    assert.deepEqual(quality(withBits('UncertainLastUsableValue', 'Overflow | InfoTypeDataValue')), {
      level: 'uncertain',
      reasons: ['status_uncertain', 'overflow'],
    });
  });

  it('ignores the overflow bit unless the InfoType says DataValue', () => {
    for (const c of [0x0080, 0x0880, 0x0c80]) {
      assert.deepEqual(quality(c), { level: 'good', reasons: [] }, `0x${c.toString(16)}`);
      assert.equal(overflowed(c), false, `0x${c.toString(16)}`);
    }
    assert.equal(overflowed(0x0400), false, 'InfoType DataValue alone is not an overflow');
  });

  it('says config_changed for the SemanticsChanged and StructureChanged bits', () => {
    const semantics = withBits('Good', 'SemanticChanged');
    assert.equal(semantics, 0x4000);
    assert.deepEqual(quality(semantics), { level: 'uncertain', reasons: ['config_changed'] });
    assert.deepEqual(quality(withBits('Good', 'StructureChanged')), { level: 'uncertain', reasons: ['config_changed'] });
    assert.deepEqual(quality(withBits('BadInternalError', 'SemanticChanged')), { level: 'bad', reasons: ['status_bad', 'config_changed'] });
  });

  it('reads a code given as a signed 32-bit integer the same as unsigned', () => {
    for (const name of ['BadNodeIdUnknown', 'UncertainSubstituteValue', 'BadInternalError'] as const) {
      const c = code(name);
      assert.deepEqual(statusQuality(c | 0), statusQuality(c), name);
      assert.equal(severityOf(c | 0), severityOf(c), name);
    }
    assert.equal(overflowed(withBits('BadSensorFailure', 'Overflow | InfoTypeDataValue') | 0), true);
  });
});

describe('severityOf', () => {
  it('reads the top two bits', () => {
    assert.equal(severityOf(code('Good')), 'good');
    assert.equal(severityOf(code('GoodLocalOverride')), 'good');
    assert.equal(severityOf(code('UncertainLastUsableValue')), 'uncertain');
    assert.equal(severityOf(code('BadNodeIdUnknown')), 'bad');
  });
});

describe('statusQuality for every 32-bit code', () => {
  const rank: Record<Severity | QualityLevel, number> = { good: 0, uncertain: 1, bad: 2 };
  const anyCode = fc.integer({ min: 0, max: 0xffff_ffff });

  it('never gives a level milder than the severity: bad stays bad, uncertain is at least uncertain', () => {
    fc.assert(
      fc.property(anyCode, (c) => {
        const level = qualityLevel(statusQuality(c));
        const severity = severityOf(c);
        if (severity === 'bad') return level === 'bad';
        return rank[level] >= rank[severity];
      }),
      { numRuns: 20_000 },
    );
  });

  it('flags overflow exactly when overflowed() says so', () => {
    fc.assert(
      fc.property(anyCode, (c) => qualityJson(statusQuality(c)).reasons.includes('overflow') === overflowed(c)),
      { numRuns: 20_000 },
    );
  });

  it('holds for every sub-code under every severity, with and without the info bits, exhaustively', () => {
    for (let upper = 0; upper <= 0xffff; upper++) {
      for (const low of [0, 0x4000, 0x8000, 0x0480]) {
        const c = ((upper << 16) | low) >>> 0;
        const level = qualityLevel(statusQuality(c));
        const severity = severityOf(c);
        if (rank[level] < rank[severity]) assert.fail(`0x${c.toString(16)}: a ${severity} code gives ${level}`);
      }
    }
  });
});
