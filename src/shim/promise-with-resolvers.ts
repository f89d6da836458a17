// libp2p 3 calls Promise.withResolvers (added in Node 22). PACE supports Node 20, so this is the
// one place the polyfill lives; every entry point (bin, tests, scripts, simulator) imports it
// first via `src/shim/index.ts`.
interface PromiseConstructorWithResolvers {
  withResolvers?: <T>() => { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };
}

const ctor = Promise as unknown as PromiseConstructorWithResolvers;
if (typeof ctor.withResolvers !== 'function') {
  ctor.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
