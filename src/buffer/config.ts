import { Type, type Static } from '@sinclair/typebox';
import { Section, StringEnum } from '../config/schema-helpers.js';

export const FSYNC_POLICIES = ['group', 'batch', 'never'] as const;
export const WHEN_FULL = ['block', 'drop_oldest'] as const;
export const DEFAULT_MAX_BYTES = 1024 ** 3;

export const SpoolSchema = Type.Object(
  {
    dir: Type.String({
      minLength: 1,
      description: 'Directory of the spool (segments, ledger, lock); created if missing. Under systemd: /var/lib/gridgate/<site>/spool.',
    }),
    maxBytes: Type.Optional(
      Type.Integer({
        minimum: 1024 * 1024,
        maximum: 2 ** 50,
        description:
          'Hard bound of the bytes the spool holds on disk. Default 1 GiB, unless capacityHours is set alone, in which case the bound is computed from the observed rate.',
      }),
    ),
    capacityHours: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 8760,
        description:
          'Outage the spool should ride out, in hours: bytes needed = observed ingest rate × hours. Warns when maxBytes or the free disk cannot hold it; used as the bound when maxBytes is not set.',
      }),
    ),
    maxAgeHours: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 8760,
        description: 'Records older than this (by record timestamp) are dropped, whole segments at a time, counted and logged at ERROR.',
      }),
    ),
    whenFull: StringEnum(WHEN_FULL, {
      default: 'block',
      description:
        'At the bound: block (refuse appends so upstream applies back-pressure; nothing is dropped) or drop_oldest (delete the oldest segment, count the records and log at ERROR).',
    }),
    segmentMaxBytes: Type.Integer({
      minimum: 64 * 1024,
      maximum: 1024 ** 3,
      default: 16 * 1024 * 1024,
      description: 'Size at which a segment file is closed and a new one started; a segment is deleted once every record in it is acknowledged.',
    }),
    fsync: Section(
      {
        policy: StringEnum(FSYNC_POLICIES, {
          default: 'group',
          description:
            'group: fdatasync every intervalMs, covering every append since (default); batch: after every write; never: only at close (tests only: a crash loses data).',
        }),
        intervalMs: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 10,
          description: 'Group commit period in milliseconds: how long an append may wait to become durable.',
        }),
      },
      { description: 'When appended records are made durable.' },
    ),
  },
  {
    additionalProperties: false,
    description: 'Store-and-forward spool on disk: holds what Kafka has not acknowledged, in order, across outages and restarts.',
  },
);

export type SpoolConfig = Static<typeof SpoolSchema>;
