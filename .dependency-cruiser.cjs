/**
 * The layer rule, checked by `npm run check:layers` (part of `npm test`) with dependency-cruiser.
 *
 * LAYERS is the layer diagram of docs/ARCHITECTURE.md ("Layers"; a test keeps the two equal),
 * top to bottom. A module may import from its own layer and from layers below it, never from a
 * layer above; layers in the same row stand beside each other and import nothing from each
 * other. Type-only imports count. No import loops, anywhere. The policy layer is pure: it
 * reads no file, network, process or clock. `scripts/` sits on top of
 * everything; `test/` is not checked.
 */
const LAYERS = [
  ['cli'],
  ['daemon', 'simulations'],
  ['api', 'config'],
  ['node'],
  ['drivers'],
  ['roles'],
  ['state', 'membership'],
  ['signing'],
  ['policy'],
  ['mesh'],
  ['seams'],
  ['util'],
  ['shim'],
];

/** Top-level folders; every other name is a folder of src/. */
const TOP_LEVEL = ['simulations', 'scripts', 'test'];
const pathOf = (layer) => (TOP_LEVEL.includes(layer) ? `^${layer}/` : `^src/${layer}/`);
const anyOf = (layers) => `(${layers.map(pathOf).join('|')})`;

const layerRules = LAYERS.flatMap((row, rank) =>
  row.map((layer) => {
    const above = LAYERS.slice(0, rank).flat();
    const beside = row.filter((other) => other !== layer);
    const forbidden = [...above, ...beside, 'scripts', 'test'];
    return {
      name: `layer-${layer}`,
      comment: `${layer} may import only its own layer and those below it (docs/ARCHITECTURE.md, "Layers"); not ${[...above, ...beside].join(', ') || 'anything above'}`,
      severity: 'error',
      from: { path: pathOf(layer) },
      to: { path: anyOf(forbidden) },
    };
  }),
);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'policy-is-pure',
      comment:
        'The policy layer is text in, result out: it imports only itself, src/util, its parsers (yaml, ajv, @bufbuild/cel) and node:path / node:crypto — no file, network, process, clock, mesh or seam.',
      severity: 'error',
      from: { path: '^src/policy/' },
      to: { pathNot: '(^src/(policy|util)/|(^|/)node_modules/(yaml|ajv|@bufbuild/cel|@bufbuild/protobuf)/|^(node:)?(path|crypto)$)' },
    },
    {
      name: 'src-is-self-contained',
      comment: 'src/ imports only src/, its packages and the simulator (the CLI runs it): never bin/, dist/, scripts/ or test/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bin|dist|scripts|test|policies)/' },
    },
    {
      name: 'no-circular',
      comment: 'An import loop ties modules into one unit that cannot be read, tested or layered apart.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unknown-layer',
      comment: 'Every folder under src/ is a layer of the diagram: a new one is placed there first.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.flat().join('|')})/` },
      to: {},
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
  },
};

// Read by test/architecture/layers.test.ts (dependency-cruiser refuses unknown top-level keys).
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
