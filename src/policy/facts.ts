/** Hardware facts a node reports about itself: what CEL expressions read as `node.cpus` etc. */
export interface NodeFacts {
  cpus: number;
  memoryMB: number;
  diskGB: number;
  arch: string;
}
