import { Quality } from '../shared/quality.js';
import {
  DATA_ERROR_NAMES,
  PMU_TIME_QUALITY_NAMES,
  Stat,
  TIME_QUALITY_CLOCK_FAILURE,
  TRIGGER_REASON_NAMES,
  TimeQualityBits,
  UNLOCKED_NAMES,
} from './constants.js';

// The STAT word of a PMU block (C37.118.2-2011 Table 7) and the frame's time quality byte, mapped
// onto the shared quality model (src/protocols/shared/quality.ts). statQuality is called once per
// PMU block in the data path, so it is branches over an integer and allocates nothing.

/** Quality flags of one PMU block: its STAT word plus the frame's message time quality byte. */
export function statQuality(stat: number, timeQualityByte: number): number {
  if (stat === Stat.ABSENT) return Quality.ABSENT | Quality.DATA_INVALID;
  let flags = 0;
  switch ((stat & Stat.DATA_ERROR_MASK) >>> Stat.DATA_ERROR_SHIFT) {
    case 1:
      flags |= Quality.DEVICE_ERROR;
      break;
    case 2:
      flags |= Quality.TEST_MODE;
      break;
    case 3:
      flags |= Quality.DATA_INVALID;
      break;
  }
  if (stat & Stat.SYNC_ERROR) flags |= Quality.SYNC_LOST;
  if (stat & Stat.UNLOCKED_MASK) flags |= Quality.TIME_UNLOCKED;
  if (stat & Stat.SORT_BY_ARRIVAL) flags |= Quality.SORTED_BY_ARRIVAL;
  if (stat & Stat.TRIGGER) flags |= Quality.TRIGGER;
  if (stat & Stat.CONFIG_CHANGE) flags |= Quality.CONFIG_CHANGED;
  if (stat & Stat.DATA_MODIFIED) flags |= Quality.DATA_MODIFIED;
  if ((timeQualityByte & TimeQualityBits.QUALITY_MASK) === TIME_QUALITY_CLOCK_FAILURE) flags |= Quality.CLOCK_FAILURE;
  if (timeQualityByte & TimeQualityBits.LEAP_PENDING) flags |= Quality.LEAP_SECOND_PENDING;
  return flags;
}

export interface StatJson {
  raw: number;
  dataError: (typeof DATA_ERROR_NAMES)[number];
  pmuSync: boolean;
  sortedByArrival: boolean;
  trigger: boolean;
  triggerReason: string;
  configChange: boolean;
  dataModified: boolean;
  pmuTimeQuality: (typeof PMU_TIME_QUALITY_NAMES)[number];
  unlockedTime: (typeof UNLOCKED_NAMES)[number];
}

/** Every field of the STAT word, for the decode tool and the probe. */
export function statJson(stat: number): StatJson {
  return {
    raw: stat,
    dataError: DATA_ERROR_NAMES[(stat & Stat.DATA_ERROR_MASK) >>> Stat.DATA_ERROR_SHIFT]!,
    pmuSync: (stat & Stat.SYNC_ERROR) === 0,
    sortedByArrival: (stat & Stat.SORT_BY_ARRIVAL) !== 0,
    trigger: (stat & Stat.TRIGGER) !== 0,
    triggerReason: TRIGGER_REASON_NAMES[stat & Stat.TRIGGER_REASON_MASK]!,
    configChange: (stat & Stat.CONFIG_CHANGE) !== 0,
    dataModified: (stat & Stat.DATA_MODIFIED) !== 0,
    pmuTimeQuality: PMU_TIME_QUALITY_NAMES[(stat & Stat.TIME_QUALITY_MASK) >>> Stat.TIME_QUALITY_SHIFT]!,
    unlockedTime: UNLOCKED_NAMES[(stat & Stat.UNLOCKED_MASK) >>> Stat.UNLOCKED_SHIFT]!,
  };
}
