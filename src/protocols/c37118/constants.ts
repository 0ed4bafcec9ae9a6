// Wire values of IEEE C37.118.2-2011 (and -2005, which the 2011 edition calls version 1), with the
// clause or table of the 2011 standard that defines each. Numbers only: no behaviour here.

/** First byte of every frame (6.2, Table 2: SYNC leading byte). */
export const SYNC_BYTE = 0xaa;

/** SYNC second byte, bits 6–4 (Table 2). Values 6 and 7 are reserved and rejected. */
export const FrameType = {
  DATA: 0,
  HEADER: 1,
  CFG1: 2,
  CFG2: 3,
  COMMAND: 4,
  CFG3: 5,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_TYPE_NAMES: Readonly<Record<FrameType, string>> = {
  [FrameType.DATA]: 'data',
  [FrameType.HEADER]: 'header',
  [FrameType.CFG1]: 'cfg1',
  [FrameType.CFG2]: 'cfg2',
  [FrameType.COMMAND]: 'command',
  [FrameType.CFG3]: 'cfg3',
};

/** SYNC second byte, bits 3–0 (Table 2): 1 = C37.118-2005, 2 = C37.118.2-2011. */
export const VERSION_2005 = 1;
export const VERSION_2011 = 2;

/** SYNC + FRAMESIZE + IDCODE + SOC + FRACSEC (Table 2). */
export const HEADER_SIZE = 14;
/** The CHK word that closes every frame (Table 2). */
export const CRC_SIZE = 2;
/** The smallest frame: a header frame with no text (a real device sends exactly this). */
export const MIN_FRAME_SIZE = HEADER_SIZE + CRC_SIZE;
/** FRAMESIZE is an unsigned 16-bit count of the whole frame, SYNC to CHK (Table 2). */
export const MAX_FRAME_SIZE = 0xffff;

/** CMD values (Table 15). 0x0100–0x0FFF are user designated, everything else reserved. */
export const Command = {
  DATA_OFF: 0x0001,
  DATA_ON: 0x0002,
  SEND_HEADER: 0x0003,
  SEND_CFG1: 0x0004,
  SEND_CFG2: 0x0005,
  SEND_CFG3: 0x0006,
  EXTENDED_FRAME: 0x0008,
} as const;
export type Command = (typeof Command)[keyof typeof Command];

export const COMMAND_NAMES: Readonly<Record<number, string>> = {
  [Command.DATA_OFF]: 'data-off',
  [Command.DATA_ON]: 'data-on',
  [Command.SEND_HEADER]: 'send-header',
  [Command.SEND_CFG1]: 'send-cfg1',
  [Command.SEND_CFG2]: 'send-cfg2',
  [Command.SEND_CFG3]: 'send-cfg3',
  [Command.EXTENDED_FRAME]: 'extended-frame',
};

/** FORMAT word bits (Table 9). Bits 15–4 are unused and masked off. */
export const Format = {
  POLAR: 1 << 0, // phasors as magnitude and angle; else real and imaginary
  PHASOR_FLOAT: 1 << 1, // phasors as float32; else int16
  ANALOG_FLOAT: 1 << 2, // analogs as float32; else int16
  FREQ_FLOAT: 1 << 3, // FREQ/DFREQ as float32; else int16
  MASK: 0x000f,
} as const;

/** FRACSEC bits 31–24: the message time quality byte (6.2.2, Table 3). */
export const TimeQualityBits = {
  LEAP_DIRECTION: 1 << 6, // 1 = a second is deleted, 0 = added
  LEAP_OCCURRED: 1 << 5, // set for 24 h after a leap second
  LEAP_PENDING: 1 << 4, // set up to 60 s before a leap second
  QUALITY_MASK: 0x0f, // Table 4: 0 locked to UTC traceable source … 0xF clock failure
} as const;

/** FRACSEC low 24 bits and TIME_BASE low 24 bits (Table 2, Table 9): the fraction of a second. */
export const FRACTION_MASK = 0x00ffffff;

/** Table 4: message time quality code → worst-case clock error in seconds (undefined: failure). */
export const TIME_QUALITY_ERROR_S: readonly (number | undefined)[] = [
  0, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, undefined, undefined, undefined, undefined,
];
export const TIME_QUALITY_CLOCK_FAILURE = 0xf;

/** STAT word bits (Table 7). */
export const Stat = {
  DATA_ERROR_MASK: 0xc000, // bits 15–14: 00 good, 01 PMU error, 10 test mode, 11 error, data invalid
  DATA_ERROR_SHIFT: 14,
  SYNC_ERROR: 1 << 13, // PMU not synchronised to UTC
  SORT_BY_ARRIVAL: 1 << 12, // data sorted by arrival rather than time stamp
  TRIGGER: 1 << 11, // PMU trigger detected
  CONFIG_CHANGE: 1 << 10, // configuration will change within a minute
  DATA_MODIFIED: 1 << 9, // 2011: data modified by a post-processing device
  TIME_QUALITY_MASK: 0x01c0, // 2011 bits 8–6: PMU time quality
  TIME_QUALITY_SHIFT: 6,
  UNLOCKED_MASK: 0x0030, // bits 5–4: time since sync was lost
  UNLOCKED_SHIFT: 4,
  TRIGGER_REASON_MASK: 0x000f, // bits 3–0
  /** A whole STAT of 0xFFFF is how PDCs mark a PMU block with no data at all (GSF, openPDC). */
  ABSENT: 0xffff,
} as const;

export const DATA_ERROR_NAMES = ['good', 'pmu-error', 'test-mode', 'pmu-error-invalid'] as const;

/** STAT bits 8–6 (2011, Table 7): PMU time quality, worst-case time error. */
export const PMU_TIME_QUALITY_NAMES = [
  'not-used',
  'lt-100ns',
  'lt-1us',
  'lt-10us',
  'lt-100us',
  'lt-1ms',
  'lt-10ms',
  'gt-10ms-or-unknown',
] as const;

/** STAT bits 5–4 (Table 7): time since the PMU lost its UTC source. */
export const UNLOCKED_NAMES = ['locked-or-lt-10s', 'lt-100s', 'lt-1000s', 'gt-1000s'] as const;

/** STAT bits 3–0 (Table 7): trigger reason; 8–15 are user defined. */
export const TRIGGER_REASON_NAMES: readonly string[] = [
  'manual',
  'magnitude-low',
  'magnitude-high',
  'phase-angle-diff',
  'frequency-high-or-low',
  'df-dt-high',
  'reserved',
  'digital',
  'user-8',
  'user-9',
  'user-10',
  'user-11',
  'user-12',
  'user-13',
  'user-14',
  'user-15',
];

/** Integer "no measurement" marker for int16 fields (C37.118.2-2011 6.3, GSF): -32768. */
export const INT16_ABSENT = -0x8000;

/** CFG-1/CFG-2 names are fixed 16-byte ASCII fields (Table 9: STN, CHNAM). */
export const NAME_SIZE = 16;
/** CFG-3 G_PMU_ID is 16 bytes (Table 11). */
export const G_PMU_ID_SIZE = 16;
/** CFG-3 CONT_IDX: 0 = the only frame, 1, 2 … = fragments, 0xFFFF = the last fragment (Table 11). */
export const CONT_IDX_LAST = 0xffff;

/** PHUNIT top byte (Table 9): 0 voltage, 1 current. */
export const PHUNIT_CURRENT = 1;

/** ANUNIT top byte (Table 9): 0 single point-on-wave, 1 RMS, 2 peak; 65–255 user defined. */
export const ANALOG_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'pow', 1: 'rms', 2: 'peak' };
