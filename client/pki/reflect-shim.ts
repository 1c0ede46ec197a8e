/**
 * The few `Reflect` metadata functions tsyringe (a dependency of @peculiar/x509) checks for at load time.
 * @peculiar/x509 asks its users to load a Reflect polyfill (reflect-metadata, core-js or
 * @abraham/reflection) first; none is installed in this tree, and x509 uses metadata only for tsyringe's
 * constructor injection, where "no parameter types" is what it would read anyway. Replace this file with
 * `import 'reflect-metadata'` once that package is a dependency.
 */
type MetadataKey = unknown;
const store = new WeakMap<object, Map<string | symbol | undefined, Map<MetadataKey, unknown>>>();

function table(target: object, property: string | symbol | undefined, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let t = byProp.get(property);
  if (!t && create) {
    t = new Map();
    byProp.set(property, t);
  }
  return t;
}

function getOwn(key: MetadataKey, target: object, property?: string | symbol): unknown {
  return table(target, property, false)?.get(key);
}

function get(key: MetadataKey, target: object, property?: string | symbol): unknown {
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
    const t = table(o, property, false);
    if (t?.has(key)) return t.get(key);
  }
  return undefined;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  Object.assign(R, {
    defineMetadata: (key: MetadataKey, value: unknown, target: object, property?: string | symbol) => void table(target, property, true)?.set(key, value),
    getOwnMetadata: getOwn,
    getMetadata: get,
    hasOwnMetadata: (key: MetadataKey, target: object, property?: string | symbol) => table(target, property, false)?.has(key) ?? false,
    hasMetadata: (key: MetadataKey, target: object, property?: string | symbol) => get(key, target, property) !== undefined,
    metadata: (key: MetadataKey, value: unknown) => (target: object, property?: string | symbol) => void table(target, property, true)?.set(key, value),
  });
}
export {};
