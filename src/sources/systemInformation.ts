/**
 * systeminformation's own module for each job, each path written out so that a bundler finds it
 * (each path cast to `string`, so that TypeScript does not look for types these files lack).
 */
const PARTS: Readonly<Record<string, () => Promise<unknown>>> = {
  memory: () => import('systeminformation/lib/memory.js' as string),
  graphics: () => import('systeminformation/lib/graphics.js' as string),
};

/**
 * Loads systeminformation's own module for one job (`lib/memory.js`, `lib/graphics.js`): its
 * index loads every module it has, about three times the cost (see bench/). Where that file is
 * missing or gives nothing, the index is loaded, as documented. Rejects when neither loads. The
 * built library, CommonJS, loads them with `require`; its ES module build for bundlers with
 * `import()`, which a bundler follows.
 */
export async function loadSystemInformation<T extends object>(
  part: 'memory' | 'graphics',
): Promise<T> {
  try {
    const module = (await PARTS[part]?.()) as { default?: T } | undefined;
    const loaded = module?.default ?? module;
    if (typeof loaded === 'object' && loaded !== null) return loaded as T;
  } catch {
    // another layout of the package: its index has every part
  }
  const index = (await import('systeminformation' as string)) as { default?: T };
  return (index.default ?? index) as T;
}
