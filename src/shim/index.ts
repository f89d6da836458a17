// Runtime shims every entry point imports before anything else.
import './promise-with-resolvers.js';
