/**
 * Loads systeminformation's own module for one job (`lib/memory.js`, `lib/graphics.js`): its
 * index loads every module it has, about three times the cost (see bench/). Where that file is
 * missing or gives nothing, the index is loaded, as documented.
 */
export async function loadSystemInformation<T extends object>(
  part: 'memory' | 'graphics',
): Promise<T> {
  const specifier = `systeminformation/lib/${part}.js`;
  try {
    const module = (await import(specifier)) as { default?: T };
    if (typeof module.default === 'object' && module.default !== null) return module.default;
  } catch {
    // another layout of the package: its index has every part
  }
  const index: unknown = await import('systeminformation');
  return ((index as { default?: T }).default ?? index) as T;
}
