/**
 * The Automerge document handle (automerge-wasm's `Automerge` object) used directly, without
 * Automerge's JS document layer.
 *
 * Why: the JS layer keeps a materialized JS object per document and brings it up to date after
 * every sync message and every local change — a patch set over everything received since, which
 * costs most of a large fleet's time (docs/SIMULATION.md, "Where the time goes at scale"). PACE
 * reads through its own typed readers, so it never needs that object. The JS layer also
 * exports and re-imports a peer's sync state (every hash sent to it) on each sync message;
 * here the state stays inside wasm.
 *
 * The handle's constructors (`create`, `load`) and `initSyncState` are not re-exported by
 * `@automerge/automerge`, so they are taken from the wasm bindings module the package itself
 * loaded (the same module instance, hence the same wasm memory). The package version is pinned
 * by package-lock.json; the identity check below fails loudly, at startup, if an upgrade moves
 * that module.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as Automerge from '@automerge/automerge';
import type { JsonValue } from './schema.js';

/** automerge-wasm's document handle. */
export type Backend = ReturnType<typeof Automerge.getBackend>;

/** One peer's sync state, held in wasm memory: {@link PeerSyncState.free} it when dropped. */
export interface PeerSyncState {
  free(): void;
}

interface WasmBindings {
  create(options?: { actor?: string }): Backend;
  load(data: Uint8Array, options?: { actor?: string }): Backend;
  initSyncState(): PeerSyncState;
  Automerge: abstract new (...args: never[]) => unknown;
}

/** Where `@automerge/automerge` 3.x (ESM, Node) loads its wasm bindings from, relative to its CJS entry. */
const BINDINGS_FROM_CJS_ENTRY = ['..', 'mjs', 'wasm_bindgen_output', 'nodejs', 'automerge_wasm.cjs'];

function loadBindings(): WasmBindings {
  const require = createRequire(import.meta.url);
  const file = path.join(path.dirname(require.resolve('@automerge/automerge')), ...BINDINGS_FROM_CJS_ENTRY);
  let bindings: WasmBindings;
  try {
    bindings = require(file) as WasmBindings;
  } catch (err) {
    throw new Error(`cannot load Automerge's wasm bindings from ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const probe = Automerge.init();
  const same = Automerge.getBackend(probe) instanceof bindings.Automerge;
  Automerge.free(probe);
  if (!same || typeof bindings.create !== 'function' || typeof bindings.load !== 'function' || typeof bindings.initSyncState !== 'function') {
    throw new Error(`Automerge's wasm bindings at ${file} are not the instance @automerge/automerge uses; this @automerge/automerge version is not supported`);
  }
  return bindings;
}

const bindings = loadBindings();

/** An empty document handle writing as `actor` (hex). */
export function createBackend(actor: string): Backend {
  return bindings.create({ actor });
}

/** A document handle from `save()` bytes, writing as `actor`. Throws what Automerge throws on bad bytes. */
export function loadBackend(bytes: Uint8Array, actor: string): Backend {
  return bindings.load(bytes, { actor });
}

/** A fresh sync state for a peer we know nothing about. */
export function newPeerSyncState(): PeerSyncState {
  return bindings.initSyncState();
}

/** Runs one sync step with a wasm sync state (the typings name the JS layer's state type). */
export function generateSyncMessage(backend: Backend, state: PeerSyncState): Uint8Array | null {
  return backend.generateSyncMessage(state as never) ?? null;
}

export function receiveSyncMessage(backend: Backend, state: PeerSyncState, message: Uint8Array): void {
  backend.receiveSyncMessage(state as never, message);
}

type Prop = string | number;

/**
 * Writes plain data as Automerge would from its JS layer: maps and lists as objects (map keys in
 * sorted order), strings as immutable scalars ('str', last writer wins — never text), integers
 * as 'int', other numbers as 'f64'.
 */
export function putValue(backend: Backend, obj: string, prop: Prop, value: JsonValue): void {
  if (Array.isArray(value)) {
    const list = typeof prop === 'number' ? backend.insertObject(obj, prop, []) : backend.putObject(obj, prop, []);
    value.forEach((item, i) => putValue(backend, list, i, item));
  } else if (value !== null && typeof value === 'object') {
    const map = typeof prop === 'number' ? backend.insertObject(obj, prop, {}) : backend.putObject(obj, prop, {});
    for (const key of Object.keys(value).sort()) putValue(backend, map, key, value[key] as JsonValue);
  } else {
    const datatype = value === null ? 'null' : typeof value === 'string' ? 'str' : typeof value === 'boolean' ? 'boolean' : Number.isInteger(value) ? 'int' : 'f64';
    if (typeof prop === 'number') backend.insert(obj, prop, value, datatype);
    else backend.put(obj, prop, value, datatype);
  }
}
