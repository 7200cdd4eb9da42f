// Tables keyed by names users or model files give (method aliases, colormaps, datasets, Resize
// modes): `table[name]` also finds Object.prototype's members, so "constructor" was taken for an
// attribution method and "toString" for a dataset, and both ended in TypeErrors.

/** `table[key]` when the table itself holds `key`, else undefined. */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
