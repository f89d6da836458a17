/**
 * What the cluster document records about the control plane (DESIGN.md §7): the member list
 * the cluster software accepted, written by the node that made the change, and each node's
 * own change in flight. Stored under the PACE-level driver records (`drivers.pace`) and in each
 * node's own role record; parsed defensively like everything read from the document.
 */
import { GENESIS_DRIVER_MAPS } from '../state/genesis.js';
import type { JsonValue } from '../state/schema.js';
import type { ControlPlaneChange } from './control-plane-plan.js';

/** `drivers.pace.controlPlane`: the recorded control-plane members. */
export const CONTROL_PLANE_DRIVER = GENESIS_DRIVER_MAPS[0];
export const CONTROL_PLANE_KEY = 'controlPlane';

export interface ControlPlaneRecord {
  /** Member ids the cluster software accepted, sorted. */
  members: string[];
  /** Raised by one on every recorded change; a record with a lower epoch is older. */
  epoch: number;
  /** Who recorded it. */
  by: string;
  at: number;
}

/** Phase of a role record while a control-plane change of that node's is under way. */
export const CHANGING_PHASE = 'changing';

/**
 * Phase of a role record of a node recorded in the control plane whose control-plane software
 * lost its member state (its disk was replaced or wiped while it was away, too briefly to be
 * declared down): it holds a seat it cannot serve, and rejoins (control-plane-plan.ts).
 */
export const SEAT_LOST_PHASE = 'seat-lost';

export function controlPlaneToJson(record: ControlPlaneRecord): JsonValue {
  return { members: [...record.members].sort(), epoch: record.epoch, by: record.by, at: record.at };
}

/** The recorded control plane, or an empty one when nothing (valid) was recorded yet. */
export function parseControlPlane(value: JsonValue | undefined): ControlPlaneRecord {
  const empty: ControlPlaneRecord = { members: [], epoch: 0, by: '', at: 0 };
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return empty;
  const { members, epoch, by, at } = value;
  if (!Array.isArray(members) || !members.every((m): m is string => typeof m === 'string')) return empty;
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) return empty;
  return { members: [...new Set(members)].sort(), epoch, by: typeof by === 'string' ? by : '', at: typeof at === 'number' ? at : 0 };
}

const KINDS = ['bootstrap', 'promote', 'demote', 'remove'] as const;

/** The change a node recorded as in flight (in its role record's detail), if it parses. */
export function parseInFlight(detail: string | null): ControlPlaneChange | undefined {
  if (detail === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(detail);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, node, actor } = value as Record<string, unknown>;
  if (!(KINDS as readonly unknown[]).includes(kind) || typeof node !== 'string' || typeof actor !== 'string') return undefined;
  return { kind: kind as ControlPlaneChange['kind'], node, actor };
}
