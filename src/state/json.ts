/** JSON-shaped data: what the document's records are made of, and the only thing driver records may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
