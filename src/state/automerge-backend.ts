/**
 * The Automerge document handle (automerge-wasm's `Automerge` object) used directly, without
 * Automerge's JS document layer, and the one wasm instance every PACE module uses.
 *
 * Why the handle: the JS layer keeps a materialized JS object per document and brings it up to
 * date after every sync message and every local change — a patch set over everything received
 * since, which costs most of a large fleet's time (docs/SIMULATION.md, "Where the time goes at
 * scale"). PACE reads through its own typed readers, so it never needs that object. The JS layer
 * also exports and re-imports a peer's sync state (every hash sent to it) on each sync message;
 * here the state stays inside wasm.
 *
 * Why this module instantiates the wasm itself: the handle's constructors (`create`, `load`) and
 * `initSyncState` are not re-exported by `@automerge/automerge`, and the instance's exports (its
 * memory and allocator) are reachable only to whoever instantiates it — which
 * {@link reserveWasmMemory} needs. So the package's web bindings are instantiated here
 * (`initSync`) and handed to its JS layer (`@automerge/automerge/slim`, {@link Automerge}), which
 * then runs on the same instance. The package version is pinned by package-lock.json; the checks
 * below fail loudly, at startup, if an upgrade moves these files.
 *
 * PACE modules take the JS layer from here ({@link Automerge}), never from the package's default
 * entry, which would load a second instance of its own.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as Automerge from '@automerge/automerge/slim';
import type { JsonValue } from './json.js';

export { Automerge };

/** automerge-wasm's document handle. */
export type Backend = ReturnType<typeof Automerge.getBackend>;

/** One peer's sync state, held in wasm memory: {@link PeerSyncState.free} it when dropped. */
export interface PeerSyncState {
  free(): void;
}

/** What the instance exports besides the bindings' wrappers: its memory and its allocator. */
interface WasmExports {
  memory: { readonly buffer: ArrayBuffer };
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
}

interface WasmBindings {
  create(options?: { actor?: string }): Backend;
  load(data: Uint8Array, options?: { actor?: string }): Backend;
  initSyncState(): PeerSyncState;
  initSync(options: { module: Uint8Array }): WasmExports;
  Automerge: abstract new (...args: never[]) => unknown;
}

/** The package's web bindings (the module its JS layer imports), relative to its `automerge.wasm`. */
const WEB_BINDINGS_FROM_WASM = ['mjs', 'wasm_bindgen_output', 'web', 'automerge_wasm.js'];

async function instantiate(): Promise<{ bindings: WasmBindings; wasm: WasmExports }> {
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('@automerge/automerge/automerge.wasm');
  const bindingsFile = path.join(path.dirname(wasmFile), ...WEB_BINDINGS_FROM_WASM);
  const fail = (why: string, cause?: unknown): Error =>
    new Error(`cannot load Automerge's wasm from ${bindingsFile}: ${why}; this @automerge/automerge version is not supported`, cause === undefined ? undefined : { cause });
  let bindings: WasmBindings;
  let wasm: WasmExports;
  try {
    bindings = (await import(pathToFileURL(bindingsFile).href)) as WasmBindings;
    wasm = bindings.initSync({ module: readFileSync(wasmFile) });
    // The instance exists now, so this only hands the bindings to the JS layer.
    await Automerge.initializeWasm(new Uint8Array(0));
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err), err);
  }
  if (typeof bindings.create !== 'function' || typeof bindings.load !== 'function' || typeof bindings.initSyncState !== 'function') throw fail('bindings lack create/load/initSyncState');
  if (!(wasm.memory?.buffer instanceof ArrayBuffer) || typeof wasm.__wbindgen_malloc !== 'function' || typeof wasm.__wbindgen_free !== 'function') throw fail('the instance exports no memory or allocator');
  const probe = Automerge.init();
  const same = Automerge.getBackend(probe) instanceof bindings.Automerge;
  Automerge.free(probe);
  if (!same) throw fail('its JS layer runs on another instance');
  const state = bindings.initSyncState();
  const canForget = typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(state), 'sentHashes')?.set === 'function';
  state.free();
  if (!canForget) throw fail('its sync state has no sentHashes setter');
  return { bindings, wasm };
}

const { bindings, wasm } = await instantiate();

/** Most a wasm32 memory can hold is 4 GiB; reservations stop short of it. */
const MAX_RESERVATION = 3.5 * 2 ** 30;
/**
 * Reservations grow the memory in allocations of this size: each first takes what the allocator
 * has free, so the memory ends at most this much beyond the target.
 */
const RESERVATION_STEP = 64 * 2 ** 20;

/**
 * Grows Automerge's wasm memory to at least `bytes` (at most 3.5 GiB) in a few large steps;
 * returns the memory's size after. For a process that is about to hold many documents — a
 * simulated fleet.
 *
 * Why: Automerge's allocator grows the memory a 64 KiB page at a time as it runs out, and each
 * grow costs V8 milliseconds, more as the memory fills: forking a 1,000-member document into
 * fresh memory took 250 ms, and 0.7 ms once the memory had been grown (docs/SIMULATION.md,
 * "Where the time goes at scale"). Memory allocated and freed here stays with the allocator for
 * later allocations; pages never written cost no physical memory.
 */
export function reserveWasmMemory(bytes: number): number {
  const target = Math.min(bytes, MAX_RESERVATION);
  const blocks: number[] = [];
  try {
    while (wasm.memory.buffer.byteLength < target) blocks.push(wasm.__wbindgen_malloc(RESERVATION_STEP, 1));
  } finally {
    for (const ptr of blocks) wasm.__wbindgen_free(ptr, RESERVATION_STEP, 1);
  }
  return wasm.memory.buffer.byteLength;
}

/** Size of Automerge's wasm memory now, in bytes. */
export function wasmMemoryBytes(): number {
  return wasm.memory.buffer.byteLength;
}

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

/**
 * Forgets which changes `state` records as sent to its peer, keeping what it knows the peer
 * has: the next message computes what to send from the peer's latest `have` and `need` alone.
 */
export function forgetSentChanges(state: PeerSyncState): void {
  (state as PeerSyncState & { sentHashes: string[] }).sentHashes = [];
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
